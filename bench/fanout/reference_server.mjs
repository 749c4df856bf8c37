// The fan-out benchmark's reference: the least a Socket.IO server can do for the same scenario.
//
//   node bench/fanout/reference_server.mjs --port 8123 [--payload FILE] [--deflate]
//
// It speaks just the part of Lockstep's protocol that the benchmark uses, so the harness runs the
// same code against both servers:
//
//   GET /health                      -> 200 {"status": "healthy", "library": {"tracks": 1}}
//   GET /api/tracks?limit=1          -> {"tracks": [{"id": "..."}]}
//   join_room {room, name}, ack      -> joins the Socket.IO room, acks {ok: true, ...}
//   queue {action: 'add', ...}, ack  -> like autoplay into a silent room: broadcasts 'play'
//   control {action}, ack            -> io.to(room).emit('playback', payload), acks {ok: true}
//
// No state beyond a version counter, no validation, no persistence: it only rebroadcasts. The
// playback payload is a template (--payload FILE: a payload captured from Lockstep in the same
// run, else a built-in one shaped like Lockstep's) with `version` and `action` (and, if present,
// `server_time`, `status` and `clock.playing`) filled in per event, so both servers send a message
// of the same size and shape.
//
// --deflate turns on WebSocket per-message deflate for every message (threshold 0), as uvicorn
// does when it is on; Socket.IO's default, and this server's, is off.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { Server } from 'socket.io';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8124' },
    host: { type: 'string', default: '127.0.0.1' },
    payload: { type: 'string' },
    deflate: { type: 'boolean', default: false },
  },
});

const TRACK_ID = '5f0c2a9d41b7e3c8a6d1f04b92e7c35a';

// Shaped like Lockstep's PlaybackChanged event (shared/core/events.py) as the web side shows it.
const BUILTIN_PAYLOAD = {
  room: 'bench',
  version: 0,
  action: 'pause',
  by: { id: 'u_3k9x2m7q', name: 'controller' },
  status: 'paused',
  server_time: 0,
  clock: { position: 12.345678, playing: false, duration: 187.5, rate: 1.0 },
  entry: {
    id: 1,
    track_id: TRACK_ID,
    title: 'Morning Light',
    artist: 'The Quiet Hours',
    album: 'Lockstep Demo',
    duration: 187.5,
    added_by: { id: 'u_3k9x2m7q', name: 'controller' },
  },
};

const template = args.payload ? JSON.parse(readFileSync(args.payload, 'utf8')) : BUILTIN_PAYLOAD;
let version = typeof template.version === 'number' ? template.version : 0;

function payload(action) {
  version += 1;
  const out = { ...template, version, action };
  const playing = action !== 'pause';
  if ('server_time' in out) out.server_time = performance.now() / 1000;
  if ('status' in out) out.status = playing ? 'playing' : 'paused';
  if (out.clock && typeof out.clock === 'object') out.clock = { ...out.clock, playing };
  return out;
}

function json(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

const http = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/health') return json(res, 200, { status: 'healthy', library: { tracks: 1 } });
  if (path === '/api/tracks') return json(res, 200, { tracks: [{ id: TRACK_ID }] });
  return json(res, 404, { error: 'not_found' });
});

const io = new Server(http, {
  path: '/socket.io',
  serveClient: false,
  perMessageDeflate: args.deflate ? { threshold: 0 } : false,
});

function reply(ack, body) {
  if (typeof ack === 'function') ack(body);
}

io.on('connection', (socket) => {
  socket.on('join_room', (data, ack) => {
    const room = String(data?.room ?? '');
    if (!room) return reply(ack, { ok: false, error: 'bad_request', detail: 'room is required' });
    socket.join(room);
    socket.data.room = room;
    return reply(ack, { ok: true, room: { id: room, version }, you: { id: socket.id } });
  });
  socket.on('queue', (_data, ack) => {
    const room = socket.data.room;
    if (!room) return reply(ack, { ok: false, error: 'not_in_room', detail: 'join a room first' });
    io.to(room).emit('playback', payload('play'));
    return reply(ack, { ok: true, version });
  });
  socket.on('control', (data, ack) => {
    const room = socket.data.room;
    if (!room) return reply(ack, { ok: false, error: 'not_in_room', detail: 'join a room first' });
    io.to(room).emit('playback', payload(String(data?.action ?? '')));
    return reply(ack, { ok: true, version });
  });
});

http.listen(Number(args.port), args.host, () => {
  const mode = args.deflate ? 'on' : 'off';
  console.error(`reference server on http://${args.host}:${args.port} (deflate ${mode})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
