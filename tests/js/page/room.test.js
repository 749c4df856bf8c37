// RoomSession (webapp/static/js/room.js) with a socket and a player we control: versioned
// updates in order, gaps answered with a fresh snapshot, presence, buffering reports, rejoin.
import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomSession } from "../../../webapp/static/js/room.js";

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}
globalThis.window = { sessionStorage: new MemoryStorage(), localStorage: new MemoryStorage() };

class FakeSocket {
  constructor(replies) {
    this.connected = true;
    this.handlers = new Map();
    this.sent = []; // [event, payload]
    this.replies = replies; // event -> (payload) => ack
  }
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, []);
    this.handlers.get(name).push(fn);
  }
  off() {}
  timeout() {
    return this;
  }
  async emitWithAck(event, payload) {
    this.sent.push([event, payload]);
    const reply = this.replies[event];
    return reply ? reply(payload) : { ok: true };
  }
  fire(name, data) {
    for (const fn of this.handlers.get(name) || []) fn(data);
  }
  sentOf(event) {
    return this.sent.filter(([e]) => e === event).map(([, p]) => p);
  }
}

class FakePlayer {
  constructor() {
    this.calls = [];
  }
  load(state) {
    this.calls.push(["load", state.version]);
  }
  playback(event) {
    this.calls.push(["playback", event.version]);
  }
  queue() {}
  resync() {
    this.calls.push(["resync"]);
  }
}

const entry = (id, title) => ({ id, title, artist: "A", duration: 30, available: true });

function snapshot(version, extra = {}) {
  return {
    id: "party",
    name: "Party",
    version,
    status: "idle",
    listeners: 1,
    clock: { position: 0, anchor: 0, playing: false, rate: 1, duration: 0 },
    queue: { current: null, repeat: "off", history: [], upcoming: [] },
    members: [{ id: "u1", name: "Ana", role: "host", buffering: false }],
    host: "u1",
    policy: {},
    ...extra,
  };
}

function joined(room = snapshot(5)) {
  return { ok: true, room, you: { id: "u1", name: "Ana", role: "host" }, session: "s1", invite: "/r/party" };
}

function setup(replies = {}) {
  const socket = new FakeSocket({ join_room: () => joined(), ...replies });
  const player = new FakePlayer();
  const changes = [];
  const session = new RoomSession({
    socket,
    player,
    onChange: (state, me, what) => changes.push(what),
    onLeft: () => changes.push("left"),
  });
  return { socket, player, session, changes };
}

const playback = (version, status = "playing") => ({
  room: "party",
  version,
  by: { id: "u2", name: "Bo" },
  action: status === "playing" ? "play" : "pause",
  status,
  clock: { position: 0, anchor: 1, playing: status === "playing", rate: 1, duration: 30 },
  at: 1,
  entry: entry("e1", "Song"),
});

test("updates apply in version order; old ones are ignored", async () => {
  const { socket, player, session } = setup();
  await session.join({ room: "party", name: "Ana" });
  socket.fire("playback", playback(6));
  socket.fire("playback", playback(6, "paused")); // a repeat of version 6: already applied
  socket.fire("playback", playback(4, "paused")); // older than the snapshot
  assert.equal(session.state.version, 6);
  assert.equal(session.state.status, "playing");
  assert.equal(session.state.queue.current.id, "e1");
  assert.deepEqual(player.calls, [["load", 5], ["playback", 6]]);
});

test("a gap asks for a snapshot and replays what came after it", async () => {
  let release;
  const answered = new Promise((resolve) => (release = resolve));
  const { socket, session } = setup({
    sync_request: async () => {
      await answered;
      return { ok: true, room: snapshot(8, { status: "playing" }) };
    },
  });
  await session.join({ room: "party", name: "Ana" });
  socket.fire("playback", playback(8)); // 6 and 7 are missing
  assert.equal(socket.sentOf("sync_request").length, 1);
  socket.fire("playback", playback(9, "paused")); // arrives while the snapshot is on its way
  socket.fire("playback", playback(10)); // and another: no second sync_request
  assert.equal(socket.sentOf("sync_request").length, 1);
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(session.state.version, 10);
  assert.equal(session.state.status, "playing");
});

test("presence: joins, leaves and bundles keep the member list", async () => {
  const { socket, session } = setup();
  await session.join({ room: "party", name: "Ana" });
  socket.fire("batch", {
    room: "party",
    events: [
      { event: "member_joined", data: { room: "party", version: 6, by: {}, member: { id: "u2", name: "<b>Bo</b>", role: "listener", buffering: false } } },
      { event: "member_joined", data: { room: "party", version: 7, by: {}, member: { id: "u3", name: "Cy", role: "listener", buffering: false } } },
      { event: "member_left", data: { room: "party", version: 8, by: {}, member: { id: "u3", name: "Cy" } } },
    ],
  });
  assert.deepEqual(
    session.state.members.map((m) => m.name),
    ["Ana", "<b>Bo</b>"],
  );
  assert.equal(session.state.listeners, 2);
  socket.fire("member_status", { room: "party", member: { id: "u2", name: "<b>Bo</b>" }, buffering: true });
  assert.equal(session.state.members[1].buffering, true);
  assert.equal(session.state.version, 8); // member_status is not a room change
});

test("buffering is reported once per change, at most twice a second, latest value wins", async () => {
  const { socket, session } = setup();
  await session.join({ room: "party", name: "Ana" });
  session.setBuffering(true);
  session.setBuffering(false);
  session.setBuffering(true);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(socket.sentOf("listener_status"), [{ buffering: true }]);
  session.setBuffering(false);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(socket.sentOf("listener_status").length, 1); // held back: too soon after the last
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(socket.sentOf("listener_status"), [{ buffering: true }, { buffering: false }]);
});

test("after a reconnect the page rejoins with its session and re-syncs the clock", async () => {
  const { socket, player, session } = setup();
  socket.fire("connect"); // the first connection: nothing to rejoin
  await session.join({ room: "party", name: "Ana", token: "invite-token" });
  socket.fire("disconnect", "transport close");
  socket.fire("connect");
  await new Promise((r) => setTimeout(r, 0));
  const joins = socket.sentOf("join_room");
  assert.equal(joins.length, 2);
  // The tab's session from the first join: the server knows it is the same listener (and host).
  assert.deepEqual(joins[1], { room: "party", name: "Ana", token: "invite-token", session: "s1" });
  assert.ok(player.calls.some(([call]) => call === "resync"));
  assert.ok(session.inRoom);
});

test("a room that closes sends the page back to the lobby", async () => {
  const { socket, session, changes } = setup();
  await session.join({ room: "party", name: "Ana" });
  socket.fire("room_closed", { room: "party" });
  assert.equal(session.inRoom, false);
  assert.equal(changes.at(-1), "left");
});
