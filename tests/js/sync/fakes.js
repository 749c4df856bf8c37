import { FrameIndex } from "../../../webapp/static/js/sync/mp3.js";

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

// A synthetic MP3: an ID3v2 tag, a LAME info frame (encoder delay 576), `frames` frames of
// MPEG-1 layer III at 128 kbps / 44.1 kHz (their audio is filler), and an ID3v1 tag.
export const FRAME = 417; // MPEG-1 layer III, 128 kbps, 44.1 kHz, no padding
export const HEADER = [0xff, 0xfb, 0x90, 0x00];

function frame(fill = 0x55) {
  const f = new Uint8Array(FRAME).fill(fill);
  f.set(HEADER);
  return f;
}

function infoFrame(delay, padding) {
  const f = new Uint8Array(FRAME);
  f.set(HEADER);
  const at = 4 + 32; // after the stereo side info
  f.set([..."Info"].map((c) => c.charCodeAt(0)), at);
  // flags 0: no frame count, byte count, TOC or quality; the LAME tag follows directly
  const lame = at + 8;
  f.set([..."LAME3.100"].map((c) => c.charCodeAt(0)), lame);
  f[lame + 21] = delay >> 4;
  f[lame + 22] = ((delay & 0xf) << 4) | (padding >> 8);
  f[lame + 23] = padding & 0xff;
  return f;
}

export function mp3({ frames, id3 = 100, info = true, junkAfter = -1, padded = false }) {
  const parts = [];
  if (id3) {
    const tag = new Uint8Array(10 + id3);
    tag.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, id3]);
    parts.push(tag);
  }
  if (info) parts.push(infoFrame(576, 1000));
  // An encoder pads frames so that n frames take floor(n * 144 * bitrate / rate) bytes exactly.
  const exact = (144 * 128000) / 44100;
  for (let i = 0; i < frames; i++) {
    const pad = padded && Math.floor((i + 1) * exact) - Math.floor(i * exact) > FRAME;
    const f = pad ? new Uint8Array(FRAME + 1).fill(0x55) : frame();
    if (pad) f.set([0xff, 0xfb, 0x92, 0x00]); // the padding bit
    parts.push(f);
    if (i === junkAfter) parts.push(new Uint8Array([1, 2, 3, 0xff, 0x00, 7]));
  }
  parts.push(new Uint8Array([..."TAG"].map((c) => c.charCodeAt(0)).concat(new Array(125).fill(32))));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}


class FakeParam {
  constructor(value) {
    this.value = value;
    this.events = [];
  }
  setValueAtTime(v, t) {
    this.events.push(["set", v, t]);
  }
  linearRampToValueAtTime(v, t) {
    this.events.push(["ramp", v, t]);
  }
  setTargetAtTime(v, t) {
    this.events.push(["target", v, t]);
    this.value = v;
  }
  cancelScheduledValues(t) {
    this.events.push(["cancel", t]);
  }
}

/**
 * A Web Audio context on a FakeTime: context time runs `epoch` seconds behind performance time,
 * and what it renders is heard `latency` seconds later. Records every source it is asked to play.
 * Decoding a run of the synthetic MP3's frames gives a buffer of frames x 1152 samples.
 */
export function fakeAudioContext(time, { epoch = 50, latency = 0.04 } = {}) {
  const sources = [];
  const decoded = []; // the bytes handed to decodeAudioData
  class Ctx {
    constructor() {
      this.sampleRate = 48000;
      this.state = "running";
      this.baseLatency = 0.01;
      this.outputLatency = latency;
      this.destination = {};
    }
    get currentTime() {
      return time.now() - epoch;
    }
    getOutputTimestamp() {
      return { contextTime: this.currentTime - latency, performanceTime: time.now() * 1000 };
    }
    createGain() {
      return { gain: new FakeParam(1), connect() {}, disconnect() {} };
    }
    createBufferSource() {
      const node = {
        buffer: null,
        playbackRate: new FakeParam(1),
        connect() {},
        disconnect() {},
        start(when, offset, duration) {
          Object.assign(node, { when, offset, duration });
          sources.push(node);
        },
        stop(when = 0) {
          node.stopAt = when;
        },
      };
      return node;
    }
    decodeAudioData(bytes) {
      const view = new Uint8Array(bytes);
      decoded.push(view);
      const frames = new FrameIndex().push(view, view.length, true).frames;
      const duration = (frames * 1152) / 44100;
      return Promise.resolve({ duration, length: Math.round(duration * 48000), numberOfChannels: 2 });
    }
    resume() {
      return Promise.resolve();
    }
    close() {
      return Promise.resolve();
    }
  }
  return { AudioContext: Ctx, sources, decoded, ctxAtPerf: (perf) => perf - epoch - latency };
}

/**
 * fetch() for a file served slowly: the download delivers `firstBytes` and then nothing until
 * `release()`; byte ranges are answered at once. `ranges` lists the ranges asked for.
 */
export function slowFetch(bytes, firstBytes) {
  let release;
  const held = new Promise((r) => (release = r));
  const ranges = [];
  const fetch = async (_url, init = {}) => {
    const range = init.headers?.Range;
    if (range) {
      const [, a, b] = /bytes=(\d+)-(\d+)/.exec(range).map(Number);
      ranges.push([a, b]);
      const part = bytes.slice(a, b + 1);
      return { ok: true, status: 206, arrayBuffer: async () => part.buffer };
    }
    let step = 0;
    return {
      ok: true,
      status: 200,
      headers: { get: (h) => (h.toLowerCase() === "content-length" ? String(bytes.length) : null) },
      body: {
        getReader: () => ({
          read: async () => {
            step += 1;
            if (step === 1) return { done: false, value: bytes.subarray(0, firstBytes) };
            if (step === 2) {
              await held;
              return { done: false, value: bytes.subarray(firstBytes) };
            }
            return { done: true };
          },
        }),
      },
    };
  };
  return { fetch, ranges, release: () => release() };
}

/** fetch() answering every URL with the given bytes in one chunk. */
export function fakeFetch(bytes) {
  return async () => ({
    ok: true,
    status: 200,
    headers: { get: (h) => (h.toLowerCase() === "content-length" ? String(bytes.length) : null) },
    body: {
      getReader() {
        let done = false;
        return {
          read: async () => {
            if (done) return { done: true };
            done = true;
            return { done: false, value: bytes };
          },
        };
      },
    },
  });
}

/**
 * An <audio> element on a FakeTime: after play() it stays silent for `startDelay` seconds (its
 * currentTime held, as Chromium's is), then advances at playbackRate. Seeking while playing
 * holds it for `seekDelay`. Records play/pause calls with the time.
 */
export function fakeAudioElement(time, { startDelay = 0.2, seekDelay = 0.05 } = {}) {
  const calls = [];
  const el = {
    readyState: 4,
    seeking: false,
    paused: true,
    playbackRate: 1,
    volume: 1,
    muted: false,
    calls,
    pos: 0,
    since: null, // local time from which pos advances
    get currentTime() {
      if (el.paused || el.since === null || time.now() < el.since) return el.pos;
      return el.pos + (time.now() - el.since) * el.playbackRate;
    },
    set currentTime(v) {
      el.pos = v;
      if (!el.paused) el.since = time.now() + seekDelay;
      calls.push(["seek", time.now(), v]);
    },
    play() {
      if (el.paused) {
        el.paused = false;
        el.since = time.now() + startDelay;
      }
      calls.push(["play", time.now()]);
      return Promise.resolve();
    },
    pause() {
      if (!el.paused) el.pos = el.currentTime;
      el.paused = true;
      calls.push(["pause", time.now()]);
    },
    addEventListener() {},
    removeAttribute() {},
  };
  // Wrap playbackRate so a rate change keeps the position continuous.
  let rate = 1;
  Object.defineProperty(el, "playbackRate", {
    get: () => rate,
    set: (r) => {
      if (!el.paused && el.since !== null && time.now() >= el.since) {
        el.pos = el.currentTime;
        el.since = time.now();
      }
      rate = r;
    },
  });
  return el;
}
