// A bare listener: the sync engine, a Socket.IO connection, the room protocol. No UI.
import { io } from "/node_modules/socket.io-client/dist/socket.io.esm.min.js";
import { createPlayer } from "/webapp/static/js/sync/index.js";

const q = new URLSearchParams(location.search);
const server = q.get("server");
const room = q.get("room");
const name = q.get("name") ?? "bench";
const socket = io(server, { transports: ["websocket"] });
const player = createPlayer({ socket, storage: localStorage, baseUrl: server, mode: q.get("mode") });
window.__lockstepSync = player;
const statusEl = document.getElementById("status");
player.on("status", (s) => (statusEl.textContent = JSON.stringify(s)));
let session = null;
let joined = false;

socket.on("connect", async () => {
  const ack = await socket.emitWithAck("join_room", session ? { room, name, session } : { room, name });
  if (!ack.ok) {
    statusEl.textContent = `join failed: ${ack.error}`;
    return;
  }
  session = ack.session;
  if (joined) player.resync();
  else player.start();
  joined = true;
  player.load(ack.room);
  window.__joinedAt = performance.now();
});
socket.on("playback", (e) => player.playback(e));
socket.on("queue_update", (e) => player.queue(e.queue));
socket.on("room_state", (s) => player.load(s));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") player.resync({ fresh: false });
});
