// The queue: the current entry, then the upcoming ones, each with who added it; move up/down,
// remove, play now; shuffle, repeat off/one/all, clear. Entries whose file left the library
// are marked (the server skips them when they come up).
import { $, fill, h, iconButton, ICONS } from "./dom.js";
import { clock } from "./format.js";

export function setupQueue({ act }) {
  const list = $("queue");
  const empty = $("queue-empty");
  const repeat = $("repeat");
  const shuffle = $("shuffle");
  const clear = $("clear");

  shuffle.addEventListener("click", () => act("Could not shuffle", "queue", { action: "shuffle" }));
  clear.addEventListener("click", () => act("Could not clear the queue", "queue", { action: "clear" }));
  repeat.addEventListener("change", () => act("Could not set repeat", "queue", { action: "repeat", mode: repeat.value }));

  // Dragging an upcoming entry onto another moves it there (the buttons do the same by keyboard).
  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    const li = event.target.closest?.("li[data-index]");
    if (!li) return;
    dragged = li.dataset.entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
    li.classList.add("dragging");
  });
  list.addEventListener("dragend", () => {
    dragged = null;
    for (const li of list.querySelectorAll(".dragging, .drop-target")) li.classList.remove("dragging", "drop-target");
  });
  list.addEventListener("dragover", (event) => {
    const li = event.target.closest?.("li[data-index]");
    if (!dragged || !li) return;
    event.preventDefault();
    for (const other of list.querySelectorAll(".drop-target")) if (other !== li) other.classList.remove("drop-target");
    li.classList.add("drop-target");
  });
  list.addEventListener("drop", (event) => {
    const li = event.target.closest?.("li[data-index]");
    if (!dragged || !li) return;
    event.preventDefault();
    const to = Number(li.dataset.index);
    const entryId = dragged;
    dragged = null;
    if (li.dataset.entry !== entryId) act("Could not move it", "queue", { action: "move", entry_id: entryId, to });
  });

  function item(entry, index, count, current) {
    const actions = h("div", { class: "track-actions" });
    if (!current) {
      actions.append(
        iconButton(`Play ${entry.title} now`, ICONS.play, () => act("Could not play that", "control", { action: "jump", entry_id: entry.id }), { "data-key": `jump:${entry.id}` }),
        iconButton(`Move ${entry.title} up`, ICONS.up, () => act("Could not move it", "queue", { action: "move", entry_id: entry.id, to: index - 1 }), { disabled: index === 0, "data-key": `up:${entry.id}` }),
        iconButton(`Move ${entry.title} down`, ICONS.down, () => act("Could not move it", "queue", { action: "move", entry_id: entry.id, to: index + 1 }), { disabled: index === count - 1, "data-key": `down:${entry.id}` }),
      );
    }
    actions.append(
      iconButton(`Remove ${entry.title}`, ICONS.remove, () => act("Could not remove it", "queue", { action: "remove", entry_id: entry.id }), { "data-key": `remove:${entry.id}` }),
    );
    const meta = h(
      "p",
      { class: "track-meta muted" },
      h("span", { text: entry.artist || "Unknown artist" }),
      h("span", { class: "sep", "aria-hidden": "true", text: "·" }),
      h("span", { text: `added by ${entry.added_by?.name ?? "someone"}` }),
    );
    return h(
      "li",
      {
        class: `track${current ? " current" : ""}${entry.available === false ? " unavailable" : ""}`,
        "aria-current": current ? "true" : null,
        "data-entry": entry.id,
        "data-index": current ? null : index,
        draggable: current ? null : "true",
      },
      h("img", { class: "thumb", src: entry.cover_url, alt: "", width: 40, height: 40, loading: "lazy" }),
      h(
        "div",
        { class: "track-body" },
        h(
          "p",
          { class: "track-title" },
          current ? h("span", { class: "badge now-badge", text: "Now" }) : null,
          h("span", { text: entry.title }),
          entry.available === false ? h("span", { class: "badge warn", text: "unavailable" }) : null,
        ),
        meta,
      ),
      h("span", { class: "time muted", text: clock(entry.duration) }),
      actions,
    );
  }

  function render(state) {
    const queue = state?.queue;
    if (!queue) return;
    // Keep keyboard focus on the same button across the re-render (e.g. "Move up" twice).
    const focused = document.activeElement?.closest?.("#queue [data-key]")?.dataset.key;
    const upcoming = queue.upcoming;
    const items = [];
    if (queue.current) items.push(item(queue.current, -1, upcoming.length, true));
    upcoming.forEach((entry, i) => items.push(item(entry, i, upcoming.length, false)));
    fill(list, items);
    empty.hidden = items.length > 0;
    repeat.value = queue.repeat;
    shuffle.disabled = upcoming.length < 2;
    clear.disabled = upcoming.length === 0;
    if (focused) {
      const again = list.querySelector(`[data-key="${CSS.escape(focused)}"]`);
      if (again && !again.disabled) again.focus();
      else list.querySelector("button:not(:disabled)")?.focus();
    }
  }

  return { render };
}

