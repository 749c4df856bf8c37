// Test doubles the engine's modules take as arguments: a clock with timers we advance by hand,
// and a server answering time_ping on its own clock across a link with chosen delays.

export class FakeTime {
  constructor(start = 100) {
    this.t = start; // seconds
    this.timers = [];
    this.seq = 0;
  }

  now = () => this.t;

  setTimeout = (fn, ms) => {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + Math.max(0, ms) / 1000, fn });
    return id;
  };

  clearTimeout = (id) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };

  setInterval = (fn, ms) => {
    const id = ++this.seq;
    const tick = () => {
      fn();
      this.timers.push({ id, at: this.t + ms / 1000, fn: tick });
    };
    this.timers.push({ id, at: this.t + ms / 1000, fn: tick });
    return id;
  };

  clearInterval = (id) => this.clearTimeout(id);

  /** Run everything due within the next `seconds`, in time order, letting promises settle. */
  async advance(seconds) {
    const end = this.t + seconds;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }
}

async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A server whose clock reads local time + `offset`, reached over a link that takes `up(n)` and
 * `down(n)` seconds for the n-th ping. `ping` has the shape of socket.emitWithAck for time_ping.
 */
export function fakeServer(time, { offset = 1000, up = () => 0.002, down = () => 0.002 } = {}) {
  const server = { pings: [], limited: 0, refuse: () => false };
  server.ping = (payload) =>
    new Promise((resolve) => {
      const n = server.pings.length;
      server.pings.push({ at: time.now(), payload });
      time.setTimeout(() => {
        if (server.refuse(n)) {
          time.setTimeout(() => resolve({ ok: false, error: "rate_limited", retry_after: 0.5 }), 0);
          return;
        }
        const t1 = time.now() + offset;
        const t2 = t1 + 0.0001;
        time.setTimeout(() => resolve({ ok: true, t0: payload.t0, t1, t2 }), down(n) * 1000 + 0.1);
      }, up(n) * 1000);
    });
  return server;
}

/** A deterministic pseudo-random sequence in [0, 1). */
export function random(seed = 1) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
