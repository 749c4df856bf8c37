// Output through Web Audio: decoded segments scheduled with source.start(when, offset) on the
// audio context's clock, which is the output's own clock. getOutputTimestamp() tells which context
// time is being heard at which performance.now(), so a server time maps to the exact context time
// at which it must be heard. Measured (design brief, bench/sync): well under a millisecond between
// two browsers, where <audio> with a correction loop manages milliseconds.

import { DriftController } from "./drift.js";
import { OutputClock } from "./outputclock.js";
import { positionAt } from "./timeline.js";
import { Track } from "./track.js";

const START_MARGIN = 0.03; // s: the earliest a source can be scheduled after the render clock
const HORIZON = 3; // s of sources kept scheduled ahead
const FADE = 0.004; // s: fades at starts and stops keep cuts from clicking
const CROSSFADE = 0.012; // s: a corrective restart crossfades from the old run into the new one
const MAX_TRACKS = 3; // current, next, and the one just left
const RETRY_MS = 2000;

/** A continuous stretch of one track: track position p0 at context time c0, at piecewise rates. */
class Run {
  constructor(out, track, phase, c0, p0, fadeIn = FADE) {
    Object.assign(this, { out, track, phase, c0, p0 });
    this.pieces = [{ c: c0, p: p0, r: 1 }];
    this.sources = []; // {node, seg, cStart, pStart}
    this.stopAt = Infinity;
    this.stopFor = null;
    this.gain = out.ctx.createGain();
    this.gain.connect(out.master);
    this.gain.gain.setValueAtTime(0, 0);
    this.gain.gain.setValueAtTime(0, c0);
    this.gain.gain.linearRampToValueAtTime(1, c0 + fadeIn);
    this.drift = new DriftController({
      deadBandMs: 0.5,
      gain: 1.0,
      maxRate: 0.005, // ±0.5 %: under 9 cents for a moment, not heard as a change of pitch
      minRateStep: 0.00005,
      // A restart is exact here and crossfaded: cheaper than minutes of rate change. The output
      // loses time in bursts when the machine is starved (an underrun), so react quickly.
      seekAboveMs: 4,
      seekIntervalMs: 400,
    });
    this.end = null; // track position where the last scheduled source ends
  }

  pieceAt(c) {
    let piece = this.pieces[0];
    for (const p of this.pieces) if (p.c <= c) piece = p;
    return piece;
  }

  posAt(c) {
    const piece = this.pieceAt(c);
    return piece.p + (c - piece.c) * piece.r;
  }

  ctxAt(p) {
    let piece = this.pieces[0];
    for (const q of this.pieces) if (q.p <= p) piece = q;
    return piece.c + (p - piece.p) / piece.r;
  }

  get rate() {
    return this.pieces[this.pieces.length - 1].r;
  }

  /** Keep sources scheduled until `until` (context time); false when audio for now is missing. */
  fill(ctxNow, until) {
    let covered = true;
    for (;;) {
      const last = this.sources[this.sources.length - 1];
      const p = last ? last.seg.end : this.p0;
      const c = last ? this.ctxAt(p) : this.c0;
      if (c >= this.stopAt || c > until) break;
      const seg = last ? this.track.nextSegment(last.seg) : this.track.segmentAt(p);
      if (!seg) {
        if (c <= ctxNow + START_MARGIN && !(this.track.complete && last)) covered = false;
        break;
      }
      const buffer = this.track.buffer(seg);
      if (!buffer) {
        if (c <= ctxNow + START_MARGIN) covered = false;
        break;
      }
      if (c < ctxNow + 0.005) {
        // Too late for this piece of audio: give up the run, a fresh one starts from now.
        covered = false;
        this.late = true;
        break;
      }
      const node = this.out.ctx.createBufferSource();
      node.buffer = buffer;
      node.playbackRate.value = this.rate;
      node.connect(this.gain);
      const offset = Math.max(0, p - this.track.bufferStart(seg));
      const length = Math.max(0, seg.end - p);
      node.start(c, offset, length);
      if (this.stopAt !== Infinity) node.stop(this.stopAt);
      this.sources.push({ node, seg, cStart: c, pStart: p });
      this.end = seg.end;
      // Decode the following segment while this one plays.
      const next = this.track.nextSegment(seg);
      if (next) this.track.buffer(next);
    }
    return covered;
  }

  /** Change the rate from context time c on; sources not started yet are re-made to suit. */
  setRate(r, c) {
    const p = this.posAt(c);
    this.pieces = this.pieces.filter((q) => q.c < c);
    this.pieces.push({ c, p, r });
    const keep = [];
    for (const s of this.sources) {
      if (s.cStart >= c) {
        s.node.onended = null;
        s.node.stop();
        s.node.disconnect();
      } else {
        s.node.playbackRate.setValueAtTime(r, c);
        keep.push(s);
      }
    }
    this.sources = keep;
  }

  /** Silent from context time c on (fading out just before it, or after it for a crossfade). */
  stop(c, crossfade = false) {
    if (c >= this.stopAt) return;
    const ctxNow = this.out.ctx.currentTime;
    const from = crossfade ? Math.max(c, ctxNow) : Math.max(ctxNow, Math.max(c, ctxNow + 0.005) - FADE);
    const at = crossfade ? from + CROSSFADE : Math.max(c, ctxNow + 0.005);
    this.stopAt = at;
    this.gain.gain.cancelScheduledValues(from);
    this.gain.gain.setValueAtTime(1, from);
    this.gain.gain.linearRampToValueAtTime(0, at);
    for (const s of this.sources) s.node.stop(Math.max(at, s.cStart));
  }

  /** Stop for good at context time c (replaced, restarted or late), not at its phase's end. */
  retire(c, crossfade = false) {
    this.retired = true;
    this.stop(c, crossfade);
  }

  dispose() {
    for (const s of this.sources) {
      try {
        s.node.stop();
      } catch {
        // never started
      }
      s.node.disconnect();
    }
    this.gain.disconnect();
    this.sources = [];
  }
}

export class WebAudioOutput {
  constructor({ env, baseUrl = "", log = () => {} }) {
    this.env = env;
    this.baseUrl = baseUrl;
    this.log = log;
    this.mode = "webaudio";
    this.ctx = null;
    this.tracks = new Map(); // url -> Track
    this.runs = []; // current and scheduled runs
    this.clock = new OutputClock(); // performance s - context s heard: the context clock's place
    this.volume = 1;
    this.muted = false;
    this.restarts = 0;
    this.state = { sounding: false, buffering: false, loading: false, error: null };
  }

  ensureContext() {
    if (this.ctx) return this.ctx;
    const AC = this.env.AudioContext;
    // "playback": larger output buffers ride out a busy CPU without underruns; the extra latency
    // costs nothing, since every change is known ahead of its effect time.
    this.ctx = new AC({ latencyHint: "playback" });
    this.master = this.ctx.createGain();
    this.master.connect(this.ctx.destination);
    this.applyVolume();
    return this.ctx;
  }

  unlock() {
    const ctx = this.ensureContext();
    if (ctx.state !== "running") return ctx.resume().catch(() => {});
    return Promise.resolve();
  }

  track(entry) {
    const url = this.baseUrl + entry.stream_url;
    let track = this.tracks.get(url);
    // A download that failed (network gone, server restarting) is tried again after a while.
    if (track?.failedAt !== undefined && this.env.now() * 1000 - track.failedAt > RETRY_MS) track = null;
    if (!track) {
      const ctx = this.ensureContext();
      track = new Track(url, {
        fetch: (u, init) => this.env.fetch(u, init),
        decode: (bytes) => ctx.decodeAudioData(bytes),
        now: () => this.env.now() * 1000,
      });
      this.tracks.set(url, track);
      track.load();
      this.trimTracks();
    }
    return track;
  }

  trimTracks() {
    if (this.tracks.size <= MAX_TRACKS) return;
    const inUse = new Set(this.runs.map((r) => r.track));
    for (const [url, t] of this.tracks) {
      if (this.tracks.size <= MAX_TRACKS) break;
      if (!inUse.has(t) && t !== this.preloaded) this.tracks.delete(url);
    }
  }

  /** Fetch the next track and decode its first segment, so a track change starts on time. */
  preload(entry) {
    if (!entry) return;
    const track = this.track(entry);
    this.preloaded = track;
    const first = () => {
      const seg = track.segmentAt(0);
      if (seg) track.buffer(seg);
      else if (!track.complete && !track.error) track.progress().then(first);
    };
    first();
  }

  prepare(entry) {
    if (entry) this.track(entry);
  }

  /** Context time <-> performance time (s), from getOutputTimestamp (see outputclock.js). */
  perfMinusCtx() {
    const ctx = this.ctx;
    const ts = ctx.getOutputTimestamp?.();
    let k;
    let t;
    const real = !!(ts && ts.performanceTime > 0 && ts.contextTime > 0);
    if (real) {
      t = ts.performanceTime / 1000;
      k = t - ts.contextTime;
    } else {
      const latency = ctx.outputLatency || ctx.baseLatency || 0;
      t = this.env.now();
      k = t - ctx.currentTime + latency;
    }
    // The first real timestamps replace the estimate from the nominal latency at once.
    if (real && !this.kReal) this.clock.reset();
    this.kReal = this.kReal || real;
    this.clock.observe(t, k);
    this.kRaw = k;
    return this.clock.estimate();
  }

  /**
   * Bring the output in line with the timeline. `clock.toServer(perfS)` and `clock.fromServer`
   * convert between local and server seconds; `lead` (s) is the device offset: audio leaves the
   * browser that much before it is due at the listener's ears.
   */
  sync({ timeline, clock, lead = 0, ready }) {
    const ctx = this.ensureContext();
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    const k = this.perfMinusCtx();
    const serverAt = (c) => clock.toServer(c + k) + lead; // heard-at server time of context time c
    const ctxAt = (s) => clock.fromServer(s - lead) - k;
    const ctxNow = ctx.currentTime;
    const sNow = serverAt(ctxNow);
    if (!ready || ctx.state !== "running") {
      this.state = { ...this.state, sounding: false, buffering: timeline.stateAt(sNow).sounding };
      return;
    }

    // The phases that sound from now until the horizon, with their sounding intervals.
    const phases = [timeline.phaseAt(sNow), ...timeline.upcoming(sNow)].filter(Boolean);
    const wanted = [];
    for (let i = 0; i < phases.length; i++) {
      const ph = phases[i];
      if (ph.pending || !ph.entry || !ph.clock.playing || ph.entry.available === false) continue;
      const from = Math.max(ph.at, ph.clock.anchor);
      const until = phases[i + 1]?.at ?? Infinity;
      if (from >= until) continue;
      if (ctxAt(from) > ctxNow + HORIZON) continue;
      wanted.push({ ph, from, until });
    }

    // Runs whose phase is gone (replaced by a newer change) stop now.
    const wantedIds = new Set(wanted.map((w) => w.ph.id));
    for (const run of this.runs) if (!wantedIds.has(run.phase.id)) run.retire(ctxNow);

    let buffering = false;
    let loading = false;
    let error = null;
    for (const { ph, from, until } of wanted) {
      const track = this.track(ph.entry);
      if (track.error) error = track.error;
      let run = this.runs.find((r) => r.phase.id === ph.id && !r.retired);
      const target = (c) => positionAt(ph.clock, serverAt(c));
      if (run && (run.late || run.stopAt <= ctxNow)) {
        run.retire(ctxNow);
        run = null;
      }
      if (!run) {
        let c0 = ctxAt(from);
        if (c0 < ctxNow + START_MARGIN) c0 = ctxNow + START_MARGIN; // late: catch up, never wait
        const p0 = target(c0);
        const seg = track.segmentAt(p0);
        if (!seg || !track.buffer(seg)) {
          // By the time a far segment has arrived the room may have played into the next one.
          if (!seg) track.segmentAt(p0 + 3);
          if (c0 <= ctxNow + START_MARGIN + 0.2) {
            loading = true;
            buffering = buffering || from <= sNow + 0.2;
          }
          continue;
        }
        run = new Run(this, track, ph, c0, p0);
        this.runs.push(run);
      } else if (run.c0 <= ctxNow) {
        // Drift: the run's own schedule against where the room is, at the next rendered time.
        const c = ctxNow + START_MARGIN;
        const action = run.drift.update(c, target, run.posAt(c));
        if (action.kind === "rate") run.setRate(action.rate, c);
        else if (action.kind === "seek") {
          // A restart lands exactly: schedule a fresh run from the room's position.
          this.restarts += 1;
          run.retire(c, true);
          const fresh = new Run(this, track, ph, c, target(c), CROSSFADE);
          fresh.drift = run.drift;
          this.runs.push(fresh);
          run = fresh;
        }
      }
      if (until !== Infinity) {
        const stopC = ctxAt(until);
        if (run.stopFor !== until) {
          run.stopFor = until;
          run.stop(stopC);
        }
      }
      const covered = run.fill(ctxNow, ctxNow + HORIZON);
      if (!covered && from <= sNow) buffering = true;
    }

    // Forget runs that have finished.
    this.runs = this.runs.filter((run) => {
      const over = run.stopAt + 0.1 < ctxNow || (run.end !== null && run.ctxAt(run.end) + 0.1 < ctxNow);
      if (over) run.dispose();
      return !over;
    });
    // Decoded audio is only kept for tracks that play or come next (it is the bulk of memory).
    const inUse = new Set(this.runs.map((r) => r.track));
    for (const { ph } of wanted) inUse.add(this.track(ph.entry));
    for (const t of this.tracks.values()) {
      if (!inUse.has(t) && t !== this.preloaded && t.decoded.size) t.decoded.clear();
    }
    const heard = this.heardRun();
    this.state = { sounding: !!heard, buffering, loading, error };
  }

  /** Context time being heard now. */
  heardCtx() {
    const k = this.ctx ? this.clock.estimate() : null;
    if (k === null) return null;
    return this.env.now() - k;
  }

  heardRun() {
    const c = this.heardCtx();
    if (c === null) return null;
    return (
      this.runs.find(
        (r) => r.c0 <= c && c < r.stopAt && r.sources.some((s) => s.cStart <= c && c < r.ctxAt(s.seg.end)),
      ) ?? null
    );
  }

  /** Track position being heard now, or null when silent. */
  outputPosition() {
    const run = this.heardRun();
    return run ? run.posAt(this.heardCtx()) : null;
  }

  driftMs() {
    const run = this.heardRun();
    return run?.drift.error == null ? null : run.drift.error * 1000;
  }

  corrections() {
    return this.runs.reduce((n, r) => Math.max(n, r.drift.corrections), 0);
  }

  buffered(entry) {
    if (!entry) return [];
    const track = this.tracks.get(this.baseUrl + entry.stream_url);
    return track ? track.ranges() : [];
  }

  /** The output clock mapping, for debug(): performance minus context time (ms). */
  mapping() {
    const k = this.ctx ? this.clock.estimate() : null;
    if (k === null) return null;
    return {
      kMs: k * 1000,
      young: this.clock.young(this.env.now()),
      kRawMs: this.kRaw * 1000,
      real: !!this.kReal,
      baseLatencyMs: (this.ctx.baseLatency ?? 0) * 1000,
      outputLatencyMs: (this.ctx.outputLatency ?? 0) * 1000,
      sampleRate: this.ctx.sampleRate,
      runs: this.runs.length,
    };
  }

  /** Bytes held: decoded audio, and the compressed files it is decoded from. */
  memory() {
    let decoded = 0;
    let compressed = 0;
    for (const t of this.tracks.values()) {
      decoded += t.decodedBytes();
      compressed += t.length;
    }
    return { decoded, compressed };
  }

  setVolume(x) {
    this.volume = x;
    this.applyVolume();
  }

  setMuted(m) {
    this.muted = m;
    this.applyVolume();
  }

  applyVolume() {
    if (!this.master) return;
    const v = this.muted ? 0 : this.volume;
    this.master.gain.setTargetAtTime(v, this.ctx.currentTime, 0.01);
  }

  destroy() {
    for (const run of this.runs) run.dispose();
    this.runs = [];
    this.tracks.clear();
    this.ctx?.close?.().catch(() => {});
    this.ctx = null;
  }
}
