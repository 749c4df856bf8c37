// The room as this page holds it: the snapshot from the join (or sync_request), kept current by
// versioned updates applied in order, with a fresh snapshot on a gap (docs/protocol.md,
// "Versions"). Also the rejoin after a reconnect, the buffering status this listener reports,
// and the notices (toasts) about what others did.
import { request } from "./ack.js";
import { clock } from "./format.js";
import { policyChange } from "./policy.js";
import * as store from "./store.js";
import { ackError, toast } from "./toasts.js";

const VERSIONED = ["playback", "queue_update", "member_joined", "member_left", "member_renamed", "role_changed", "policy_changed"];
const STATUS_EVERY_MS = 500; // listener_status at most twice a second, always the latest value

export class RoomSession {
  constructor({ socket, player, onChange, onLeft }) {
    this.socket = socket;
    this.player = player;
    this.onChange = onChange; // (state, me, what) -> void
    this.onLeft = onLeft; // (reason) -> void
    this.state = null;
    this.me = null;
    this.joinArgs = null; // {room, name, token, roomName}: what a reconnect rejoins with
    this.syncing = false;
    this.pending = [];
    this.buffering = false;
    this.sentBuffering = false;
    this.statusTimer = null;
    this.lastStatusAt = 0;
    this.wasConnected = false;
    this.listen();
  }

  get inRoom() {
    return this.state !== null;
  }

  // -- joining -----------------------------------------------------------------------------
  async join({ room, name, token = null, roomName = null }) {
    const payload = { room, name };
    if (token) payload.token = token;
    if (roomName) payload.room_name = roomName;
    const session = store.get("session", null, "session");
    if (session) payload.session = session;
    const reply = await request(this.socket, "join_room", payload);
    if (!reply.ok) return reply;
    store.set("session", reply.session, "session");
    this.joinArgs = { room: reply.room.id, name: reply.you.name, token, roomName: null };
    this.invite = reply.invite;
    this.me = reply.you;
    this.load(reply.room, "join");
    this.sentBuffering = false;
    this.sendStatus();
    return reply;
  }

  async leave() {
    if (!this.inRoom) return;
    this.joinArgs = null;
    const reply = await request(this.socket, "leave_room", {});
    if (!reply.ok && reply.error !== "not_connected") ackError("Could not leave", reply);
    this.reset();
  }

  reset() {
    this.state = null;
    this.me = null;
    this.joinArgs = null;
    this.pending = [];
    this.syncing = false;
  }

  load(state, what = "snapshot") {
    this.state = state;
    this.me = this.me && { ...this.me, role: roleOf(state, this.me.id) ?? this.me.role };
    this.player.load(state);
    this.player.queue(state.queue);
    this.onChange(this.state, this.me, what);
  }

  async resync() {
    if (!this.inRoom || this.syncing) return;
    this.syncing = true;
    const reply = await request(this.socket, "sync_request", {});
    this.syncing = false;
    if (!reply.ok) {
      ackError("Could not catch up with the room", reply);
      return;
    }
    this.load(reply.room);
    const later = this.pending.filter((e) => e.data.version > this.state.version);
    this.pending = [];
    for (const { name, data } of later) this.update(name, data);
  }

  // -- server events -----------------------------------------------------------------------
  listen() {
    const s = this.socket;
    for (const name of VERSIONED) s.on(name, (data) => this.update(name, data));
    s.on("batch", (data) => {
      for (const item of data.events || []) this.update(item.event, item.data);
    });
    s.on("room_state", (state) => {
      if (this.inRoom && state.id === this.state.id && state.version >= this.state.version) this.load(state);
    });
    s.on("member_status", (data) => this.memberStatus(data));
    s.on("room_closed", (data) => {
      if (this.inRoom && data.room === this.state.id) {
        toast("The room was closed", "error");
        this.reset();
        this.onLeft("closed");
      }
    });
    s.on("kicked", (data) => toast(`Disconnected by the server: ${data.detail}`, "error"));
    s.on("connect", () => this.connected());
    s.on("disconnect", (reason) => {
      if (this.inRoom && reason !== "io client disconnect") toast("Connection lost — reconnecting…", "error");
    });
  }

  async connected() {
    const again = this.wasConnected;
    this.wasConnected = true;
    if (again) this.player.resync(); // the first connect starts the engine (player.start)
    if (!this.joinArgs) return;
    // Back after a drop or a server restart: rejoin with the session (same listener, same role)
    // and take the snapshot; the engine re-estimates the clock (server time restarts with it).
    const reply = await this.join(this.joinArgs);
    if (reply.ok) {
      if (again) toast("Reconnected: back in sync");
    } else {
      ackError("Could not rejoin the room", reply);
      this.reset();
      this.onLeft("rejoin_failed");
    }
  }

  update(name, data) {
    if (!this.inRoom || data.room !== this.state.id) return;
    if (this.syncing) {
      this.pending.push({ name, data });
      return;
    }
    const have = this.state.version;
    if (data.version <= have) return; // already in the snapshot
    if (data.version > have + 1) {
      this.pending.push({ name, data });
      this.resync();
      return;
    }
    const before = this.state.policy; // for the notice of what a policy change changed
    this.apply(name, data);
    this.state.version = data.version;
    this.onChange(this.state, this.me, name);
    this.notice(name, data, before);
  }

  apply(name, data) {
    const st = this.state;
    switch (name) {
      case "playback":
        st.status = data.status;
        st.clock = data.clock;
        st.queue.current = data.entry;
        st.now_playing = data.status === "idle" ? null : data.entry;
        this.player.playback(data);
        break;
      case "queue_update":
        st.queue = data.queue;
        this.player.queue(data.queue);
        break;
      case "member_joined":
        st.members = st.members.filter((m) => m.id !== data.member.id);
        st.members.push({ buffering: false, ...data.member });
        st.listeners = st.members.length;
        break;
      case "member_left":
        st.members = st.members.filter((m) => m.id !== data.member.id);
        st.listeners = st.members.length;
        break;
      case "member_renamed":
        for (const m of st.members) if (m.id === data.member.id) m.name = data.member.name;
        if (this.me?.id === data.member.id) this.me.name = data.member.name;
        break;
      case "role_changed":
        st.host = data.host;
        for (const m of st.members) {
          if (m.id === data.user_id) m.role = data.role;
          else if (data.role === "host" && m.role === "host") m.role = "listener";
        }
        if (this.me) this.me.role = roleOf(st, this.me.id) ?? this.me.role;
        break;
      case "policy_changed":
        st.policy = data.policy;
        break;
      default:
    }
  }

  memberStatus(data) {
    if (!this.inRoom || data.room !== this.state.id) return;
    const member = this.state.members.find((m) => m.id === data.member.id);
    if (!member) return;
    member.buffering = data.buffering;
    this.onChange(this.state, this.me, "member_status");
  }

  // -- what others did ---------------------------------------------------------------------
  notice(name, data, before = null) {
    const mine = data.by?.id === this.me?.id;
    const who = data.by?.name || "Someone";
    if (name === "member_joined" && data.member.id !== this.me?.id) toast(`${data.member.name} joined`);
    else if (name === "member_left") toast(`${data.member.name} left`);
    else if (name === "role_changed" && data.user_id === this.me?.id && !mine) toast(`You are now ${data.role === "dj" ? "a DJ" : data.role === "host" ? "the host" : "a listener"}`);
    if (mine) return;
    if (name === "policy_changed") {
      const what = policyChange(who, before, data.policy);
      if (what) toast(what);
    } else if (name === "playback") {
      const title = data.entry ? `“${data.entry.title}”` : "";
      if (data.by?.id === "system") {
        if (data.action === "skip") toast(`Skipped ${title || "a track"}: its file is not in the library any more`);
        return;
      }
      const what = {
        play: `${who} played ${title}`,
        resume: `${who} resumed`,
        pause: `${who} paused`,
        seek: `${who} jumped to ${clock(data.clock.position)}`,
        stop: `${who} stopped playback`,
        skip: `${who} skipped to ${title || "the end of the queue"}`,
        previous: `${who} went back to ${title}`,
        jump: `${who} played ${title}`,
      }[data.action];
      if (what) toast(what.trim());
    } else if (name === "queue_update") {
      const entries = data.entries || [];
      const first = entries[0] ? `“${entries[0].title}”` : "";
      const what = {
        add: entries.length > 1 ? `${who} queued ${entries.length} tracks` : `${who} queued ${first}`,
        remove: `${who} removed ${first}`,
        move: `${who} moved ${first}`,
        clear: `${who} cleared the queue`,
        shuffle: `${who} shuffled the queue`,
        repeat: `${who} set repeat to ${data.queue.repeat}`,
      }[data.action];
      if (what) toast(what);
    }
  }

  // -- this listener's buffering, for the others --------------------------------------------
  setBuffering(buffering) {
    this.buffering = Boolean(buffering);
    this.sendStatus();
  }

  sendStatus() {
    if (!this.inRoom || !this.socket.connected || this.sentBuffering === this.buffering) return;
    if (this.statusTimer) return; // a send is already scheduled and will take the latest value
    const wait = Math.max(0, this.lastStatusAt + STATUS_EVERY_MS - Date.now());
    this.statusTimer = setTimeout(async () => {
      this.statusTimer = null;
      if (!this.inRoom || this.sentBuffering === this.buffering) return;
      const value = this.buffering;
      this.lastStatusAt = Date.now();
      const reply = await request(this.socket, "listener_status", { buffering: value });
      if (reply.ok) this.sentBuffering = value;
      this.sendStatus();
    }, wait);
  }
}

function roleOf(state, id) {
  return state.members.find((m) => m.id === id)?.role ?? null;
}
