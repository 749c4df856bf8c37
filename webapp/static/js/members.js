// Who is in the room: names (as text), roles, and who is buffering right now.
import { $, fill, h } from "./dom.js";

const ROLE = { host: "host", dj: "DJ", listener: "listener" };
const ORDER = { host: 0, dj: 1, listener: 2 };

export function setupMembers() {
  const list = $("members");
  const title = $("members-title");

  function render(state, me) {
    if (!state) return;
    const members = [...state.members].sort((a, b) => (ORDER[a.role] ?? 3) - (ORDER[b.role] ?? 3) || a.name.localeCompare(b.name));
    fill(
      list,
      members.map((m) =>
        h(
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
              h("span", { class: `badge role-${m.role}`, text: ROLE[m.role] ?? m.role }),
              m.buffering ? h("span", { class: "badge buffering-badge", text: "buffering" }) : null,
            ),
          ),
        ),
      ),
    );
    title.textContent = `Listeners (${members.length})`;
  }

  return { render };
}

function initial(name) {
  const first = [...name.trim()][0] || "?";
  return first.toUpperCase();
}
