// The library browser: search as you type (debounced, stale answers dropped), cover art and
// durations, a page at a time ("Load more" follows the cursor); add to the end or play next.
import { $, fill, h, iconButton, ICONS } from "./dom.js";
import { clock } from "./format.js";
import { toast } from "./toasts.js";

const PAGE = 40;
const DEBOUNCE_MS = 250;

export function setupLibrary({ act }) {
  const input = $("search");
  const list = $("library");
  const empty = $("library-empty");
  const more = $("library-more");
  let query = "";
  let cursor = null;
  let controller = null;
  let timer = null;

  async function load(append) {
    controller?.abort();
    controller = new AbortController();
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (query) params.set("q", query);
    if (append && cursor) params.set("cursor", cursor);
    list.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`/api/tracks?${params}`, { signal: controller.signal });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || response.statusText);
      cursor = body.next_cursor;
      const items = body.tracks.map(item);
      if (append) list.append(...items);
      else fill(list, items);
      empty.hidden = list.children.length > 0;
      more.hidden = !cursor;
    } catch (error) {
      if (error.name !== "AbortError") toast(`Could not search the library: ${error.message}`, "error");
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function item(track) {
    const add = (at, label) => act(`Could not add “${track.title}”`, "queue", { action: "add", track_ids: [track.id], at }).then((reply) => {
      if (reply?.ok) toast(`${label} “${track.title}”`, "info", 2500); // your own action: brief
    });
    const meta = [track.artist || "Unknown artist", track.album].filter(Boolean).join(" · ");
    return h(
      "li",
      { class: "track" },
      h("img", { class: "thumb", src: track.cover_url, alt: "", width: 40, height: 40, loading: "lazy" }),
      h("div", { class: "track-body" }, h("p", { class: "track-title", text: track.title }), h("p", { class: "track-meta muted", text: meta })),
      h("span", { class: "time muted", text: clock(track.duration) }),
      h(
        "div",
        { class: "track-actions" },
        iconButton(`Play ${track.title} next`, ICONS.next, () => add("next", "Playing next:")),
        iconButton(`Add ${track.title} to queue`, ICONS.add, () => add("end", "Queued")),
      ),
    );
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      query = input.value.trim();
      cursor = null;
      load(false);
    }, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value) {
      input.value = "";
      input.dispatchEvent(new Event("input"));
    }
  });
  more.addEventListener("click", () => load(true));

  return { refresh: () => load(false), focus: () => input.focus() };
}
