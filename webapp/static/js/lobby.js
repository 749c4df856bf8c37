// The lobby: the live list of public rooms, and the join form (display name, room name,
// private). Also the name prompt of a direct room link (/r/<room>).
import { $, fill, h } from "./dom.js";
import { plural, slug } from "./format.js";
import * as store from "./store.js";

export function setupLobby({ onJoin }) {
  const el = {
    lobby: $("lobby"),
    form: $("join-form"),
    name: $("name"),
    room: $("room-name"),
    roomField: $("room-field"),
    privateField: $("private-field"),
    private: $("private"),
    error: $("join-error"),
    title: $("lobby-title"),
    lead: $("lobby-lead"),
    rooms: $("rooms"),
    roomsPanel: $("rooms-panel"),
    roomsEmpty: $("rooms-empty"),
    join: $("join"),
  };
  let direct = null; // {room, token} when the page was opened at /r/<room>
  let picked = null; // {room, name}: a room chosen in the list before a display name was typed
  let busy = false;

  // Only when empty: someone may have started typing before the scripts finished loading.
  if (!el.name.value) el.name.value = store.get("name", "");

  const fail = (text, field) => {
    el.error.textContent = text;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  };
  const clearError = () => {
    el.error.textContent = "";
    el.name.removeAttribute("aria-invalid");
    el.room.removeAttribute("aria-invalid");
  };
  el.name.addEventListener("input", clearError);
  el.room.addEventListener("input", () => {
    clearError();
    if (picked && el.room.value.trim() !== picked.name) picked = null;
  });

  async function submit(target) {
    if (busy) return;
    clearError();
    const name = el.name.value.trim();
    if (!name && target) {
      // Chosen from the list first: keep the choice, and ask for the name.
      picked = target;
      el.room.value = target.name;
      el.private.checked = false;
      return fail(`Pick a display name to join ${target.name}.`, el.name);
    }
    if (!name) return fail("Pick a display name first.", el.name);
    if (name.length > 32) return fail("A display name is at most 32 characters.", el.name);
    let request;
    if (target) request = { room: target.room, token: target.token ?? null };
    else if (direct) request = { ...direct };
    else if (picked) request = { room: picked.room };
    else {
      const roomName = el.room.value.trim();
      if (!roomName) return fail("Name the room to join or create.", el.room);
      const id = slug(roomName);
      request = { roomName, room: id || null, private: el.private.checked };
    }
    store.set("name", name);
    busy = true;
    el.join.disabled = true;
    el.join.textContent = "Joining…";
    try {
      const reply = await onJoin({ ...request, name });
      if (reply && !reply.ok) fail(reply.detail || "Could not join.", null);
    } finally {
      busy = false;
      el.join.disabled = false;
      el.join.textContent = "Join";
    }
  }

  // Enter in either field submits the form (that is what a form does), which joins.
  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(null);
  });

  function renderRooms(rooms) {
    // Busy rooms first: that is where the party is.
    const sorted = [...rooms].sort((a, b) => b.listeners - a.listeners || a.name.localeCompare(b.name));
    const items = sorted.map((room) => {
      const playing = room.now_playing;
      const detail = playing
        ? `${room.status === "paused" ? "Paused" : "Playing"}: ${playing.title}${playing.artist ? ` — ${playing.artist}` : ""}`
        : "Nothing playing";
      return h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "room-link", "aria-label": room.name, "aria-describedby": null, onclick: () => submit({ room: room.id, name: room.name }) },
          h("span", { class: "room-link-name", text: room.name }),
          h("span", { class: "room-link-count badge", text: plural(room.listeners, "listener", "listeners") }),
          h("span", { class: "room-link-now muted", text: detail }),
        ),
      );
    });
    fill(el.rooms, items);
    el.roomsEmpty.textContent = "No public rooms yet. Name one and press Join to start a party.";
    el.roomsEmpty.hidden = items.length > 0;
  }

  function showDirect(room, token) {
    direct = { room, token };
    el.title.textContent = `Join ${room}`;
    el.lead.textContent = token ? "You have an invite to this private room." : "Pick a display name to join this room.";
    el.roomField.hidden = true;
    el.privateField.hidden = true;
    el.roomsPanel.hidden = true;
  }

  function showLobby() {
    direct = null;
    picked = null;
    el.title.textContent = "Listen together";
    el.lead.textContent = "Everyone in a room hears the same moment of the same track.";
    el.roomField.hidden = false;
    el.privateField.hidden = false;
    el.roomsPanel.hidden = false;
  }

  return {
    renderRooms,
    showDirect,
    showLobby,
    storedName: () => store.get("name", ""),
    focus: () => (el.name.value ? (direct ? el.join : el.room) : el.name).focus(),
    error: (text) => fail(text, null),
  };
}
