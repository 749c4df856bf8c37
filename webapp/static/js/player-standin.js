// A small stand-in for the sync engine (js/sync/index.js), with the same API, used only while
// that module is not there: an <audio> element that follows the room clock within ~0.25 s.
// app.js imports the real engine first and falls back to this.

export function createPlayer({ socket, storage }) {
  const audio = new Audio();
  audio.preload = "auto";
  const listeners = { status: [], ended: [] };
  let offset = 0; // server - client, seconds
  let rtt = null;
  let clock = null;
  let entry = null;
  let unlocked = false;
  let timer = null;
  let status = { loading: false, buffering: false, playing: false, offsetMs: 0, rttMs: null, driftMs: 0, mode: "element", error: null };
  const emit = (patch) => {
    const next = { ...status, ...patch };
    if (Object.keys(next).some((k) => next[k] !== status[k])) {
      status = next;
      for (const fn of listeners.status) fn(status);
    }
  };
  const now = () => performance.now() / 1000;
  const serverNow = () => now() + offset;

  async function ping() {
    const t0 = now();
    try {
      const r = await socket.timeout(3000).emitWithAck("time_ping", rtt === null ? { t0 } : { t0, rtt });
      const t3 = now();
      const sample = t3 - t0 - (r.t2 - r.t1);
      if (rtt === null || sample <= rtt * 1.5) {
        offset = (r.t1 - t0 + (r.t2 - t3)) / 2;
        rtt = rtt === null ? sample : Math.min(rtt * 1.1, sample);
      }
    } catch {
      /* dropped ping */
    }
  }
  async function burst() {
    for (let i = 0; i < 16; i++) await ping();
    emit({ offsetMs: offset * 1000, rttMs: rtt === null ? null : rtt * 1000 });
  }

  function target() {
    if (!clock) return null;
    const t = serverNow();
    if (!clock.playing || t < clock.anchor) return { pos: clock.position, playing: clock.playing && t >= clock.anchor };
    return { pos: Math.min(clock.duration, clock.position + (t - clock.anchor) * clock.rate), playing: true };
  }
  function tick() {
    if (!entry || !clock) return;
    const want = target();
    const devOffset = Number(storage?.getItem("lockstep.deviceOffsetMs") || 0) / 1000;
    const pos = want.pos + (want.playing ? devOffset : 0);
    if (want.playing) {
      if (Math.abs(audio.currentTime - pos) > 0.25) audio.currentTime = Math.max(0, pos);
      if (audio.paused) {
        audio.play().then(() => emit({ error: null }), (e) => emit({ error: e.name }));
      }
    } else {
      if (!audio.paused) audio.pause();
      if (Math.abs(audio.currentTime - pos) > 0.05) audio.currentTime = Math.max(0, pos);
    }
    const buffering = want.playing && (audio.readyState < 3 || audio.paused);
    emit({ playing: want.playing && !audio.paused, buffering, loading: audio.readyState < 2, driftMs: (audio.currentTime - pos) * 1000 });
  }
  function setEntry(next) {
    if ((next?.id ?? null) === (entry?.id ?? null)) return;
    entry = next;
    if (entry && entry.available !== false) {
      audio.src = entry.stream_url;
      emit({ loading: true });
    } else {
      audio.removeAttribute("src");
      audio.load();
    }
  }
  audio.addEventListener("ended", () => listeners.ended.forEach((fn) => fn()));

  return {
    start() {
      burst();
      timer ??= setInterval(tick, 200);
      setInterval(ping, 5000);
    },
    resync: burst,
    unlock() {
      if (unlocked) return;
      unlocked = true;
      const probe = new Audio();
      probe.play().catch(() => {});
      if (entry && audio.paused && target()?.playing) audio.play().catch(() => {});
    },
    load(state) {
      clock = state.clock;
      setEntry(state.queue.current);
    },
    playback(event) {
      clock = event.clock;
      setEntry(event.entry);
    },
    queue() {},
    setVolume(x) {
      audio.volume = Math.min(1, Math.max(0, x));
    },
    setMuted(m) {
      audio.muted = m;
    },
    setDeviceOffset(ms) {
      storage?.setItem("lockstep.deviceOffsetMs", String(ms));
    },
    deviceOffset() {
      return Number(storage?.getItem("lockstep.deviceOffsetMs") || 0);
    },
    position() {
      return target()?.pos ?? null;
    },
    buffered() {
      const out = [];
      for (let i = 0; i < audio.buffered.length; i++) out.push([audio.buffered.start(i), audio.buffered.end(i)]);
      return out;
    },
    on(name, fn) {
      listeners[name]?.push(fn);
    },
    destroy() {
      clearInterval(timer);
      audio.pause();
    },
    debug() {
      return { serverNow: serverNow(), offsetMs: offset * 1000, rttMs: rtt * 1000, position: target()?.pos ?? null, outputPosition: audio.currentTime, mode: "element", driftMs: status.driftMs, corrections: 0, seeks: 0 };
    },
  };
}
