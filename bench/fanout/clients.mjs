// The fan-out benchmark's client side: N Socket.IO clients in one room, spread over worker
// processes, and one controller that sends the commands.
//
//   node bench/fanout/clients.mjs --url http://127.0.0.1:8000 --n 1000 --rounds 20
//
// Normally started by `python -m bench.fanout`, which also starts the servers. It writes progress
// to stderr and JSON lines to stdout: {"phase": "joined"}, {"phase": "rounds_begin"},
// {"phase": "rounds_end"} as they happen (the runner samples the server's CPU time there), and
// last {"result": {...}}. On failure it prints one line saying why and exits with status 2.
//
// Scenario, the same for every server: the controller connects, joins room `--room`, fetches one
// track (GET /api/tracks?limit=1), queues it (autoplay starts it) and pauses it. Then the workers
// connect and join their clients. Then rounds: the controller alternates control play / pause,
// noting the send time just before emit; every client notes when its `playback` event arrives.
// A round ends when every client has it; the next starts --gap-ms later. Latency = receive - send,
// both as performance.timeOrigin + performance.now(), which is comparable across processes (a
// ping over the IPC channel checks it at start-up).

import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { io } from 'socket.io-client';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg) => process.stderr.write(`  ${msg}\n`);

class Failure extends Error {}

// The controller stays under Lockstep's per-connection limit on control commands (10/second and
// 120/minute, webapp/realtime/hub.py) by waiting before a play round when a window is nearly full,
// so long runs are not refused halfway, and never while the track plays.
const PACE = [
  [1_000, 8],
  [60_000, 110],
];

// A `play` may come back as `resume` (Lockstep names a restart from pause that way).
const MATCHES = { play: new Set(['play', 'resume']), pause: new Set(['pause']) };
const actionOf = (round) => (round % 2 === 0 ? 'play' : 'pause');

function connect(url, name) {
  return io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 30_000,
    query: { bench: name },
  });
}

function connected(socket, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Failure(`no connection in ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      const d = err.description;
      const why = d?.message ?? d?.error?.message ?? (typeof d === 'object' ? '' : d ?? '');
      reject(new Failure(`connect_error: ${err.message}${why ? ` (${why})` : ''}`));
    });
  });
}

async function request(socket, event, data, timeoutMs) {
  let reply;
  try {
    reply = await socket.timeout(timeoutMs).emitWithAck(event, data);
  } catch {
    throw new Failure(`${event} ${JSON.stringify(data)}: no ack in ${timeoutMs} ms`);
  }
  if (!reply || reply.ok !== true) {
    throw new Failure(`${event} ${JSON.stringify(data)}: ack ${JSON.stringify(reply)}`);
  }
  return reply;
}

function extensionsOf(socket) {
  const ws = socket.io?.engine?.transport?.ws;
  return typeof ws?.extensions === 'string' ? ws.extensions : '';
}

// --- worker: a share of the clients ------------------------------------------------------------

async function worker(opts) {
  const { url, room, indices, totalRounds, connectConcurrency, timeoutMs } = opts;
  const clients = [];
  const send = (msg) => process.send(msg);

  process.on('message', (msg) => {
    if (msg.type === 'ping') send({ type: 'pong', sent: msg.sent, at: now() });
    if (msg.type === 'close') {
      for (const c of clients) c.socket.close();
      setTimeout(() => process.exit(0), 50);
    }
  });
  process.on('disconnect', () => process.exit(0));

  // times[k] = receive times of round k, in client order; each client's events are matched in
  // order: its k-th matching playback event belongs to round k (rounds never overlap).
  const times = Array.from({ length: totalRounds }, () => new Array(indices.length).fill(0));
  const versions = Array.from({ length: totalRounds }, () => new Map());
  const pending = new Array(totalRounds).fill(indices.length);
  let sample = null;
  const events = {}; // every event the clients received, by name (join traffic included)

  const started = now();
  let failed = null;
  let next = 0;
  async function connectOne() {
    while (next < indices.length && !failed) {
      const slot = next++;
      const name = `c${indices[slot]}`;
      const socket = connect(url, name);
      const client = { socket, round: 0 };
      socket.onAny((event) => {
        events[event] = (events[event] ?? 0) + 1;
      });
      socket.on('playback', (payload) => {
        const at = now();
        const k = client.round;
        if (k >= totalRounds || !MATCHES[actionOf(k)].has(payload?.action)) return;
        client.round += 1;
        times[k][slot] = at;
        const v = payload?.version;
        versions[k].set(v, (versions[k].get(v) ?? 0) + 1);
        if (sample === null) sample = payload;
        pending[k] -= 1;
        if (pending[k] === 0) {
          send({ type: 'round', round: k, times: times[k], versions: [...versions[k].entries()] });
          times[k] = null;
        }
      });
      clients[slot] = client;
      try {
        await connected(socket, timeoutMs);
        await request(socket, 'join_room', { room, name }, timeoutMs);
      } catch (err) {
        failed = `client ${name}: ${err.message}`;
      }
    }
  }
  await Promise.all(Array.from({ length: connectConcurrency }, connectOne));
  if (failed) {
    send({ type: 'failed', error: failed });
    return;
  }
  send({
    type: 'ready',
    seconds: (now() - started) / 1000,
    extensions: extensionsOf(clients[0].socket),
  });
  process.on('message', (msg) => {
    if (msg.type === 'sample') send({ type: 'sample', payload: sample, events });
  });
}

// --- driver: the controller, the workers and the rounds -----------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

async function driver(opts) {
  const { url, room, n, workers, rounds, warmup, gapMs, timeoutMs } = opts;
  const totalRounds = warmup + rounds;
  const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  const ackErrors = [];

  // The controller: join, queue a track, pause it, so the room is quiet while the clients join.
  const controller = connect(url, 'controller');
  await connected(controller, timeoutMs).catch((err) => {
    throw new Failure(`controller: ${err.message}`);
  });
  const joinAck = await request(controller, 'join_room', { room, name: 'controller' }, timeoutMs);
  const tracksUrl = new URL('/api/tracks?limit=1', url);
  const tracksRes = await fetch(tracksUrl).catch((err) => {
    throw new Failure(`GET ${tracksUrl.pathname}${tracksUrl.search}: ${err.message}`);
  });
  if (!tracksRes.ok) throw new Failure(`GET /api/tracks?limit=1: HTTP ${tracksRes.status}`);
  const trackId = (await tracksRes.json())?.tracks?.[0]?.id;
  if (trackId === undefined) throw new Failure('GET /api/tracks?limit=1 returned no track');
  await request(controller, 'queue', { action: 'add', track_ids: [trackId] }, timeoutMs);
  await sleep(100);
  await request(controller, 'control', { action: 'pause' }, timeoutMs);
  const ackBytes = JSON.stringify(joinAck).length;
  log(`controller in room ${room} (join ack ${ackBytes} bytes), track queued and paused`);

  // The workers.
  const shares = Array.from({ length: workers }, () => []);
  for (let i = 0; i < n; i++) shares[i % workers].push(i);
  const perWorkerConcurrency = Math.max(1, Math.ceil(opts.connectConcurrency / workers));
  const children = [];
  const received = Array.from({ length: totalRounds }, () => []);
  let onMessage = () => {};
  for (const indices of shares) {
    const child = fork(new URL(import.meta.url).pathname, ['--worker'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (msg) => onMessage(child, msg));
    child.on('exit', (code) => {
      if (code !== 0 && !child.closing) {
        onMessage(child, { type: 'failed', error: `worker exited with ${code}` });
      }
    });
    const connectConcurrency = perWorkerConcurrency;
    child.send({
      type: 'start',
      opts: { url, room, indices, totalRounds, connectConcurrency, timeoutMs },
    });
    children.push(child);
  }
  const closeAll = () => {
    for (const child of children) {
      child.closing = true;
      if (child.connected) child.send({ type: 'close' });
    }
    controller.close();
  };

  try {
    // Wait for every worker to have its clients in the room.
    const joinStarted = now();
    const ready = [];
    const pongs = [];
    await new Promise((resolve, reject) => {
      let lastLog = now();
      onMessage = (child, msg) => {
        if (msg.type === 'failed') reject(new Failure(msg.error));
        if (msg.type === 'ready') {
          ready.push(msg);
          if (now() - lastLog > 2000 || ready.length === workers) {
            lastLog = now();
            log(`workers ready: ${ready.length}/${workers} (${((now() - joinStarted) / 1000).toFixed(1)} s)`);
          }
          if (ready.length === workers) resolve();
        }
      };
      const why = `clients not all joined after ${opts.joinTimeoutS} s`;
      setTimeout(() => reject(new Failure(why)), opts.joinTimeoutS * 1000);
    });
    const joinSeconds = (now() - joinStarted) / 1000;
    emit({ phase: 'joined', seconds: joinSeconds });

    // Clock check: one-way IPC delay, driver -> worker, measured with the two processes' clocks.
    await new Promise((resolve) => {
      onMessage = (child, msg) => {
        if (msg.type === 'pong') {
          pongs.push(msg.at - msg.sent);
          if (pongs.length === workers * 5) resolve();
        }
      };
      (async () => {
        for (let r = 0; r < 5; r++) {
          for (const child of children) child.send({ type: 'ping', sent: now() });
          await sleep(20);
        }
      })();
    });
    await sleep(opts.settleMs);

    // The rounds.
    const results = [];
    let round = 0;
    let finish = () => {};
    onMessage = (child, msg) => {
      if (msg.type === 'failed') finish(new Failure(msg.error));
      if (msg.type === 'round') {
        received[msg.round].push(msg);
        if (msg.round === round && received[round].length === workers) finish(null, 'clients');
      }
    };
    // One command, sent once; resolves with [send time, ack time] once every client has the event
    // and the controller its ack. A rate-limited command changes nothing: it is sent again later.
    const command = (round, action) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const got = received[round].length;
          const why = `${got}/${workers} workers had it after ${timeoutMs} ms`;
          reject(new Failure(`round ${round} (${action}): ${why}`));
        }, timeoutMs);
        const waiting = new Set(['clients', 'ack']);
        let ackAt = null;
        finish = (err, part) => {
          if (err) {
            clearTimeout(timer);
            reject(err);
            return;
          }
          waiting.delete(part);
          if (waiting.size === 0) {
            clearTimeout(timer);
            resolve([sent, ackAt]);
          }
        };
        const sent = now();
        commandTimes.push(sent);
        controller.timeout(timeoutMs).emit('control', { action }, (err, reply) => {
          ackAt = now();
          const ack = err ? { ok: false, error: 'timeout', detail: `no ack in ${timeoutMs} ms` } : reply;
          if (ack?.ok === true) return finish(null, 'ack');
          ackErrors.push({ round, action, ack });
          log(`round ${round} ${action}: ack ${JSON.stringify(ack)}`);
          const failure = new Failure(`control ${action}: ack ${JSON.stringify(ack)}`);
          if (ack?.error === 'rate_limited') failure.retryAfter = Number(ack.retry_after ?? 1);
          return finish(failure);
        });
      });

    const commandTimes = [now()]; // the set-up pause
    const pace = async () => {
      for (;;) {
        const t = now();
        const wait = Math.max(
          0,
          ...PACE.map(([windowMs, most]) => {
            const recent = commandTimes.filter((x) => t - x < windowMs);
            return recent.length + 3 > most ? windowMs - (t - recent[0]) + 20 : 0;
          }),
        );
        if (wait === 0) return;
        if (wait >= 1000) {
          log(`pacing: waiting ${(wait / 1000).toFixed(1)} s (Lockstep's control rate limit)`);
        }
        await sleep(wait);
      }
    };

    let lastPlayback = null;
    controller.on('playback', (payload) => {
      lastPlayback = payload;
    });

    for (round = 0; round < totalRounds; round++) {
      if (round === warmup) emit({ phase: 'rounds_begin' });
      const action = actionOf(round);
      if (action === 'play') await pace();
      let sent;
      let ackAt;
      for (let attempt = 1; ; attempt++) {
        try {
          [sent, ackAt] = await command(round, action);
          break;
        } catch (err) {
          if (err.retryAfter === undefined || attempt >= 5) throw err;
          log(`rate limited: sending again in ${err.retryAfter} s`);
          await sleep(err.retryAfter * 1000 + 100);
        }
      }
      const lat = received[round].flatMap((m) => m.times.map((t) => t - sent)).sort((a, b) => a - b);
      const versions = new Map();
      for (const m of received[round]) {
        for (const [v, c] of m.versions) versions.set(v, (versions.get(v) ?? 0) + c);
      }
      results.push({
        round,
        action,
        warmup: round < warmup,
        ack_ms: ackAt === null ? null : ackAt - sent,
        versions: [...versions.entries()],
        count: lat.length,
        first_ms: lat[0],
        median_ms: percentile(lat, 50),
        p99_ms: percentile(lat, 99),
        last_ms: lat[lat.length - 1],
        latencies_ms: opts.raw ? lat.map((x) => Math.round(x * 1000) / 1000) : undefined,
        _lat: round < warmup ? undefined : lat,
      });
      received[round] = null;
      if (round >= warmup) {
        const r = results[results.length - 1];
        const figures = `median ${r.median_ms.toFixed(1)} ms, last ${r.last_ms.toFixed(1)} ms`;
        log(`round ${round - warmup + 1}/${rounds} ${action}: ${figures}`);
      }
      if (round === totalRounds - 1) emit({ phase: 'rounds_end' });
      await sleep(gapMs);

      // The track only moves during play rounds, but long runs would reach its end: once a pause
      // leaves it past half-way, seek back to 0 (unmeasured; clients ignore 'seek' events).
      const clock = lastPlayback?.clock;
      if (action === 'pause' && clock?.duration && clock.position > clock.duration / 2) {
        commandTimes.push(now());
        await request(controller, 'control', { action: 'seek', position: 0 }, timeoutMs);
        log(`track at ${clock.position.toFixed(1)} of ${clock.duration.toFixed(1)} s: sought back to 0`);
        await sleep(gapMs);
      }
    }

    // A payload as the clients received it, for its size (and for the reference to copy).
    const events = {};
    const sample = await new Promise((resolve) => {
      let answers = 0;
      let first = null;
      onMessage = (child, msg) => {
        if (msg.type !== 'sample') return;
        if (child === children[0]) first = msg.payload;
        for (const [name, count] of Object.entries(msg.events)) events[name] = (events[name] ?? 0) + count;
        if (++answers === workers) resolve(first);
      };
      for (const child of children) child.send({ type: 'sample' });
    });

    const pooled = results.filter((r) => !r.warmup).flatMap((r) => r._lat).sort((a, b) => a - b);
    for (const r of results) delete r._lat;
    const lastPerRound = results.filter((r) => !r.warmup).map((r) => r.last_ms).sort((a, b) => a - b);
    emit({
      result: {
        n,
        workers,
        rounds,
        warmup,
        join_seconds: joinSeconds,
        worker_join_seconds: ready.map((m) => m.seconds),
        extensions: ready[0]?.extensions ?? '',
        clock_check_ms: { min: Math.min(...pongs), max: Math.max(...pongs) },
        payload_bytes: sample ? Buffer.byteLength(JSON.stringify(sample)) : null,
        sample_payload: sample,
        client_events: events,
        ack_errors: ackErrors,
        latency_ms: {
          samples: pooled.length,
          median: percentile(pooled, 50),
          p90: percentile(pooled, 90),
          p99: percentile(pooled, 99),
          max: pooled[pooled.length - 1],
        },
        last_client_ms: {
          median: percentile(lastPerRound, 50),
          p90: percentile(lastPerRound, 90),
          max: lastPerRound[lastPerRound.length - 1],
        },
        per_round: results,
      },
    });
  } finally {
    closeAll();
  }
}

// --- entry -------------------------------------------------------------------------------------

if (process.argv.includes('--worker')) {
  process.once('message', (msg) => {
    worker(msg.opts).catch((err) => {
      process.send({ type: 'failed', error: String(err?.message ?? err) });
    });
  });
} else {
  const { values: a } = parseArgs({
    options: {
      url: { type: 'string' },
      room: { type: 'string', default: 'bench' },
      n: { type: 'string', default: '1000' },
      workers: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      'gap-ms': { type: 'string', default: '200' },
      'settle-ms': { type: 'string', default: '1000' },
      'timeout-ms': { type: 'string', default: '30000' },
      'join-timeout-s': { type: 'string', default: '600' },
      'connect-concurrency': { type: 'string', default: '64' },
      raw: { type: 'boolean', default: false },
    },
  });
  if (!a.url) {
    process.stderr.write('usage: node clients.mjs --url URL [--n 1000] [--rounds 20] ...\n');
    process.exit(64);
  }
  const opts = {
    url: a.url,
    room: a.room,
    n: Number(a.n),
    workers: Math.max(1, Math.min(Number(a.workers), Number(a.n))),
    rounds: Number(a.rounds),
    warmup: Number(a.warmup),
    gapMs: Number(a['gap-ms']),
    settleMs: Number(a['settle-ms']),
    timeoutMs: Number(a['timeout-ms']),
    joinTimeoutS: Number(a['join-timeout-s']),
    connectConcurrency: Number(a['connect-concurrency']),
    raw: a.raw,
  };
  driver(opts).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`fanout: ${err instanceof Failure ? err.message : err?.stack ?? err}\n`);
      process.exit(2);
    },
  );
}
