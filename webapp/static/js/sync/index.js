// The sync engine of the web player: keeps this browser's audio output on the room's clock.
//
//   const player = createPlayer({ socket, storage: localStorage });
//   player.start(); player.load(roomState); player.playback(event); ...
//
// Pieces: clock.js (offset to the server clock from time_ping), timeline.js (what plays at any
// server time, scheduled changes included), webaudio.js / element.js (the two outputs), drift.js
// (keeping an output on time). Browser globals are looked up lazily (or injected as `env`) so the
// modules load in node for the tests.

import { ClockSync } from "./clock.js";
import { ElementOutput } from "./element.js";
import { Timeline, positionAt } from "./timeline.js";
import { WebAudioOutput } from "./webaudio.js";

export { ClockEstimator, ClockSync, sampleFromPing } from "./clock.js";
export { DriftController } from "./drift.js";
export { Timeline, positionAt } from "./timeline.js";

export const DEVICE_OFFSET_KEY = "lockstep.deviceOffsetMs";
export const MODE_KEY = "lockstep.syncMode"; // "webaudio" | "element": override, for comparisons
const TICK_MS = 100;
const PING_TIMEOUT_MS = 2000;

function browserEnv() {
  const g = globalThis;
  return {
    now: () => g.performance.now() / 1000,
    setTimeout: (f, ms) => g.setTimeout(f, ms),
    clearTimeout: (id) => g.clearTimeout(id),
    setInterval: (f, ms) => g.setInterval(f, ms),
    clearInterval: (id) => g.clearInterval(id),
    fetch: (...a) => g.fetch(...a),
    get AudioContext() {
      return g.AudioContext ?? g.webkitAudioContext;
    },
    createAudio: () => new g.Audio(),
  };
}

function readStorage(storage, key) {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null; // storage refused (privacy mode)
  }
}

export function createPlayer({ socket, storage = null, env = {}, mode = null, baseUrl = "" } = {}) {
  const e = { ...browserEnv(), ...env };
  const timers = { setTimeout: e.setTimeout, clearTimeout: e.clearTimeout };
  const listeners = new Map();
  const emit = (name, value) => {
    for (const fn of listeners.get(name) ?? []) {
      try {
        fn(value);
      } catch (err) {
        console.error(err); // a listener's bug must not stop the engine
      }
    }
  };

  const chosen = mode ?? readStorage(storage, MODE_KEY) ?? (e.AudioContext ? "webaudio" : "element");
  const Output = chosen === "element" || !e.AudioContext ? ElementOutput : WebAudioOutput;
  const output = new Output({ env: e, baseUrl });

  const ping = (payload) =>
    socket.timeout ? socket.timeout(PING_TIMEOUT_MS).emitWithAck("time_ping", payload) : socket.emitWithAck("time_ping", payload);
  const clockSync = new ClockSync({ ping, now: e.now, timers, onUpdate: () => kick() });
  const timeline = new Timeline();
  const clock = {
    toServer: (t) => t + (clockSync.offset() ?? 0),
    fromServer: (s) => s - (clockSync.offset() ?? 0),
  };

  let deviceOffsetMs = Number(readStorage(storage, DEVICE_OFFSET_KEY)) || 0;
  let interval = null;
  let changeTimer = null;
  let lastStatus = "";
  let destroyed = false;

  function sync() {
    if (destroyed) return;
    output.sync({ timeline, clock, lead: deviceOffsetMs / 1000, ready: clockSync.ready });
    scheduleNextChange();
    report();
  }

  // A tick at a change's effect time, so outputs that act on the main thread (<audio>) act then
  // rather than up to a tick late.
  function scheduleNextChange() {
    const now = serverNow();
    if (now === null) return;
    const next = timeline.upcoming(now + deviceOffsetMs / 1000)[0];
    if (changeTimer !== null) e.clearTimeout(changeTimer);
    changeTimer = null;
    if (!next) return;
    const ms = (next.at - now - deviceOffsetMs / 1000) * 1000;
    if (ms < TICK_MS) changeTimer = e.setTimeout(() => ((changeTimer = null), sync()), Math.max(0, ms));
  }

  let kickPending = false;
  function kick() {
    if (kickPending) return;
    kickPending = true;
    Promise.resolve().then(() => {
      kickPending = false;
      sync();
    });
  }

  function serverNow() {
    const offset = clockSync.offset();
    return offset === null ? null : e.now() + offset;
  }

  function status() {
    const s = output.state;
    const now = serverNow();
    const room = now === null ? null : timeline.stateAt(now);
    return {
      loading: !!s.loading,
      buffering: !!(room?.sounding && !s.sounding && (s.buffering || s.loading || clockSync.ready)),
      playing: !!s.sounding,
      offsetMs: clockSync.offset() === null ? null : clockSync.offset() * 1000,
      rttMs: clockSync.rtt() === null ? null : clockSync.rtt() * 1000,
      driftMs: output.driftMs(),
      mode: output.mode,
      error: s.error ?? null,
    };
  }

  function report() {
    const s = status();
    // Emit on changes of state, not on every drift reading.
    const key = JSON.stringify([s.loading, s.buffering, s.playing, s.mode, s.error]);
    if (key !== lastStatus) {
      lastStatus = key;
      emit("status", s);
    }
  }

  const player = {
    start() {
      clockSync.start();
      interval ??= e.setInterval(sync, TICK_MS);
    },
    resync({ fresh = true } = {}) {
      clockSync.resync({ fresh });
    },
    unlock() {
      return output.unlock();
    },
    load(roomState) {
      if (!roomState) return;
      timeline.load(roomState);
      if (roomState.queue) player.queue(roomState.queue);
      output.prepare(roomState.queue?.current ?? null);
      kick();
    },
    playback(event) {
      if (!event || !timeline.apply(event)) return;
      output.prepare(event.entry ?? null);
      kick();
    },
    queue(view) {
      if (!view) return;
      let next = view.upcoming?.[0] ?? null;
      if (view.repeat === "one") next = view.current ?? next;
      else if (!next && view.repeat === "all") next = view.history?.[0] ?? null;
      if (next && next.available !== false) output.preload(next);
    },
    setVolume(x) {
      output.setVolume(Math.min(1, Math.max(0, Number(x) || 0)));
    },
    setMuted(m) {
      output.setMuted(!!m);
    },
    setDeviceOffset(ms) {
      const v = Number(ms);
      if (!Number.isFinite(v)) return;
      deviceOffsetMs = Math.min(2000, Math.max(-2000, v));
      try {
        storage?.setItem(DEVICE_OFFSET_KEY, String(deviceOffsetMs));
      } catch {
        // not persisted; still applied
      }
      kick();
    },
    deviceOffset() {
      return deviceOffsetMs;
    },
    position() {
      const now = serverNow();
      if (now === null) {
        const ph = timeline.changes[timeline.changes.length - 1];
        return ph?.entry ? ph.clock.position : null;
      }
      const st = timeline.stateAt(now);
      return st.entry ? st.position : null;
    },
    buffered() {
      const now = serverNow();
      const st = now === null ? null : timeline.stateAt(now);
      return output.buffered(st?.entry ?? null);
    },
    on(name, fn) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(fn);
      return () => listeners.get(name).delete(fn);
    },
    status,
    debug() {
      const now = serverNow();
      const st = now === null ? null : timeline.stateAt(now);
      return {
        serverNow: now,
        localNow: e.now(),
        offsetMs: clockSync.offset() === null ? null : clockSync.offset() * 1000,
        rttMs: clockSync.rtt() === null ? null : clockSync.rtt() * 1000,
        samples: clockSync.estimator.count,
        ready: clockSync.ready,
        position: st?.entry ? st.position : null,
        // The room position due at the listener's ears now, device offset included.
        target: st?.entry && now !== null ? positionAt(st.phase.clock, now) : null,
        outputPosition: output.outputPosition(),
        entry: st?.entry?.id ?? null,
        mode: output.mode,
        driftMs: output.driftMs(),
        corrections: output.corrections(),
        seeks: output.restarts,
        memoryBytes: output.memory().decoded + output.memory().compressed,
        decodedBytes: output.memory().decoded,
        output: output.mapping?.() ?? null,
        deviceOffsetMs,
      };
    },
    destroy() {
      destroyed = true;
      clockSync.stop();
      if (interval !== null) e.clearInterval(interval);
      if (changeTimer !== null) e.clearTimeout(changeTimer);
      interval = null;
      output.destroy();
      listeners.clear();
    },
  };
  return player;
}
