// Who is in the room: names (as text), roles, and who is buffering right now.
import { $, fill, h } from "./dom.js";

const ROLE = { host: "host", dj: "DJ", listener: "listener" };
const ORDER = { host: 0, dj: 1, listener: 2 };

export function setupMembers({ act }) {
  const list = $("members");
  const title = $("members-title");

  // Only the host hands out roles (the server checks; this only offers it where it would work).
  function roleControl(member, me) {
    if (member.id === me?.id || me?.role !== "host") return null;
    const select = h(
      "select",
      { class: "role-select", "aria-label": `Role of ${member.name}`, title: `Role of ${member.name}` },
      ...["listener", "dj", "host"].map((role) => h("option", { value: role, selected: role === member.role, text: ROLE[role] })),
    );
    select.addEventListener("change", () => act("Could not change the role", "set_role", { user_id: member.id, role: select.value }));
    return select;
  }

  function render(state, me) {
    if (!state) return;
    const focused = document.activeElement?.closest?.("#members select")?.getAttribute("aria-label");
    const members = [...state.members].sort((a, b) => (ORDER[a.role] ?? 3) - (ORDER[b.role] ?? 3) || a.name.localeCompare(b.name));
    fill(
      list,
      members.map((m) => {
        const control = roleControl(m, me);
        return h(
          "li",
          { class: `member${m.buffering ? " buffering" : ""}`, "data-member": m.id, "data-buffering": String(Boolean(m.buffering)) },
          h("span", { class: "avatar", "aria-hidden": "true", text: initial(m.name) }),
          h(
            "span",
            { class: "member-body" },
            h("span", { class: "member-name", text: m.name }),
            h(
              "span",
              { class: "member-tags" },
              m.id === me?.id ? h("span", { class: "muted you", text: "(you)" }) : null,
              control ? null : h("span", { class: `badge role-${m.role}`, text: ROLE[m.role] ?? m.role }),
              m.buffering ? h("span", { class: "badge buffering-badge", text: "buffering" }) : null,
            ),
          ),
          control,
        );
      }),
    );
    title.textContent = `Listeners (${members.length})`;
    if (focused) [...list.querySelectorAll("select")].find((s) => s.getAttribute("aria-label") === focused)?.focus();
  }

  return { render };
}

function initial(name) {
  const first = [...name.trim()][0] || "?";
  return first.toUpperCase();
}
