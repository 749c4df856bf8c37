// A listener written with the npm socket.io-client, as the web player is: joins a room, reports
// every update as a JSON line on stdout, and resumes playback when someone else pauses it. On every
// (re)connection it joins again with the session from its last join, as the web player does.
// Usage: node listener.mjs <server url> <room> <name>
import { io } from "socket.io-client";

const [url, room, name] = process.argv.slice(2);
const say = (type, data) => process.stdout.write(JSON.stringify({ type, ...data }) + "\n");

const socket = io(url, { transports: ["websocket", "polling"], reconnectionDelayMax: 2000 });
let session = null; // from the last join ack: come back as the same listener after a reconnect
for (const event of ["playback", "queue_update", "member_joined", "member_left", "role_changed"]) {
  socket.on(event, async (data) => {
    say(event, { data });
    if (event === "playback" && data.action === "pause" && data.by.name !== name) {
      const ack = await socket.emitWithAck("control", { action: "play" });
      say("resumed", { ack });
    }
  });
}

socket.on("connect", async () => {
  const t0 = performance.timeOrigin + performance.now();
  const ping = await socket.emitWithAck("time_ping", { t0: t0 / 1000 });
  const t3 = (performance.timeOrigin + performance.now()) / 1000;
  say("ping", { ping, rtt: t3 - ping.t0 - (ping.t2 - ping.t1) });
  const bad = await socket.emitWithAck("control", { action: "seek", position: "far" });
  say("bad", { ack: bad });
  const joined = await socket.emitWithAck("join_room", session ? { room, name, session } : { room, name });
  if (joined.ok) session = joined.session;
  say("joined", { ack: joined, transport: socket.io.engine.transport.name });
});

process.stdin.on("data", (chunk) => {
  if (chunk.toString().includes("quit")) {
    socket.disconnect();
    process.exit(0);
  }
});
