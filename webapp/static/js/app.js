// The web player: wires the connection, the sync engine, the room session and the views.
import { $ } from "./dom.js";
import { connected, request } from "./ack.js";
import { connect } from "./connection.js";
import { setupKeys } from "./keys.js";
import { setupLibrary } from "./library.js";
import { setupListening } from "./listening.js";
import { setupLobby } from "./lobby.js";
import { setupMediaSession, showInMediaSession } from "./media-session.js";
import { setupMembers } from "./members.js";
import { setupQueue } from "./queue.js";
import { RoomSession } from "./room.js";
import { setupSettings } from "./settings.js";
import { localArea } from "./store.js";
import { setupTheme } from "./theme.js";
import { ackError, setupToasts, toast } from "./toasts.js";
import { setupTransport } from "./transport.js";
import { createPlayer } from "./sync/index.js";

// Updates that touch one part of the room (anything else redraws it all).
const UPDATES = new Set(["playback", "queue_update", "member_joined", "member_left", "member_renamed", "member_status", "role_changed", "policy_changed"]);
const ROOM_PATH = /^\/r\/([a-z0-9][a-z0-9_-]{0,63})\/?$/;

function main() {
  setupToasts($("toasts"));
  setupTheme($("theme"));
  const socket = connect($("connection-text"));
  const player = createPlayer({ socket, storage: localArea() });
  window.__lockstepSync = player;

  const act = async (what, event, payload) => {
    const reply = await request(socket, event, payload);
    if (!reply.ok) ackError(what, reply);
    return reply;
  };

  const transport = setupTransport({ player, act, getState: () => session.state });
  const queue = setupQueue({ act });
  const members = setupMembers({ act });
  const settings = setupSettings({ act });
  const library = setupLibrary({ act });
  const lobby = setupLobby({ onJoin: join });
  const help = $("help");
  const views = { lobby: $("lobby"), room: $("room") };

  const session = new RoomSession({
    socket,
    player,
    onChange: (state, me, what) => {
      // Redraw what the update touched: a buffering flag must not rebuild the queue under
      // someone's pointer. A snapshot ("join", "snapshot") touches everything.
      const all = !UPDATES.has(what);
      if (all || what === "playback") transport.render(state);
      if (all || what === "playback" || what === "queue_update") queue.render(state);
      if (all || what.startsWith("member") || what === "role_changed") members.render(state, me);
      if (all || what === "policy_changed" || what === "role_changed") settings.render(state, me);
      if (what === "join") enterRoom(state);
      showInMediaSession(state.queue.current, state.status, player.position() ?? state.position);
      const track = state.status === "idle" ? null : state.queue.current;
      document.title = track ? `${track.title} · ${state.name} · Lockstep` : `${state.name} · Lockstep`;
      listening.update();
    },
    onLeft: () => showLobby(true),
  });
  const listening = setupListening({ player, session, transport });
  window.__lockstep = {
    room: () => session.state,
    me: () => session.me,
  };

  // -- joining and leaving -----------------------------------------------------------------
  async function join({ room, name, token = null, roomName = null, private: isPrivate = false }) {
    player.unlock(); // this runs inside the Join click or key press: the browser's gesture
    await connected(socket); // a click in the first moments after the page opened waits for it
    let invite = token;
    if (isPrivate || !room) {
      const created = await request(socket, "create_room", { name: roomName || `${name}'s room`, private: isPrivate });
      if (!created.ok) return created;
      room = created.room;
      invite = created.token;
    }
    const reply = await session.join({ room, name, token: invite, roomName });
    if (reply.ok) {
      const url = new URL(reply.invite, location.href);
      const path = url.pathname + (invite ? `?invite=${encodeURIComponent(invite)}` : "");
      if (location.pathname + location.search !== path) history.pushState({ room }, "", path);
      $("invite-url").textContent = reply.invite;
      $("invite-url").hidden = !invite;
      if (isPrivate) toast("Private room created: share the invite link to let friends in");
    }
    return reply;
  }

  function enterRoom(state) {
    views.lobby.hidden = true;
    views.room.hidden = false;
    $("room-title").textContent = state.name;
    $("room-private").hidden = !state.private;
    document.title = `${state.name} · Lockstep`;
    library.refresh();
    // The Join button is gone: put focus on the room's name, so it is announced and the
    // shortcuts work at once.
    if (!document.activeElement || document.activeElement === document.body || views.lobby.contains(document.activeElement)) {
      $("room-title").focus();
    }
  }

  function showLobby(pushUrl) {
    views.room.hidden = true;
    views.lobby.hidden = false;
    $("main").dataset.status = "idle";
    document.title = "Lockstep";
    lobby.showLobby();
    if (pushUrl && location.pathname !== "/") history.pushState({}, "", "/");
    showInMediaSession(null, "idle");
    request(socket, "rooms", {}).then((r) => r.ok && lobby.renderRooms(r.rooms));
    lobby.focus();
  }

  $("leave").addEventListener("click", async () => {
    await session.leave();
    showLobby(true);
  });

  $("invite").addEventListener("click", async () => {
    const reply = await request(socket, "invite", {});
    if (!reply.ok) return ackError("Could not get the invite link", reply);
    const box = $("invite-url");
    box.textContent = reply.url;
    box.hidden = false;
    try {
      await navigator.clipboard.writeText(reply.url);
      toast("Invite link copied");
    } catch {
      // No clipboard here (plain http on another host): select the link so it can be copied.
      const range = document.createRange();
      range.selectNodeContents(box);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      toast("Copy the selected invite link");
    }
  });

  window.addEventListener("popstate", async () => {
    const room = location.pathname.match(ROOM_PATH)?.[1];
    if (!room && session.inRoom) {
      await session.leave();
      showLobby(false);
    } else if (room && !session.inRoom) {
      openRoomLink(room); // forward again to a room page
    }
  });

  // -- lobby updates -----------------------------------------------------------------------
  socket.on("rooms_update", (data) => lobby.renderRooms(data.rooms));
  socket.on("library_changed", () => session.inRoom && library.refresh());
  socket.on("connect", () => {
    if (!session.inRoom && !session.joinArgs) request(socket, "rooms", {}).then((r) => r.ok && lobby.renderRooms(r.rooms));
  });
  socket.once("connect", () => player.start());

  // -- keys, media session, help -----------------------------------------------------------
  const openHelp = () => {
    if (!help.open) help.showModal();
  };
  $("help-open").addEventListener("click", openHelp);
  setupKeys({
    inRoom: () => session.inRoom,
    help: openHelp,
    actions: { ...transport, focusSearch: library.focus },
  });
  setupMediaSession(transport);

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && socket.connected) player.resync();
  });

  // -- where the page was opened -----------------------------------------------------------
  // A room link joins at once when the name is known, else asks for it (the same form).
  function openRoomLink(room) {
    const token = new URLSearchParams(location.search).get("invite");
    lobby.showDirect(room, token);
    const name = lobby.storedName();
    if (!name) {
      lobby.focus();
      return;
    }
    join({ room, name, token }).then((reply) => {
      if (!reply.ok) {
        lobby.error(reply.detail || "Could not join this room.");
        lobby.focus();
      }
    });
  }

  const direct = location.pathname.match(ROOM_PATH);
  if (direct) openRoomLink(direct[1]);
  else lobby.focus();
}

main();
