// Output through an <audio> element: the fallback where Web Audio is missing. The element plays
// on its own clock; the engine's timer reads currentTime, and the drift controller nudges the
// playback rate (pitch preserved) or seeks. Good to a few milliseconds at best (design brief);
// bench/sync compares it with Web Audio.

import { DriftController } from "./drift.js";
import { positionAt } from "./timeline.js";

const SETTLE_S = 0.15; // readings right after a start or seek are the decoder catching up

export class ElementOutput {
  constructor({ env, baseUrl = "", log = () => {} }) {
    this.env = env;
    this.baseUrl = baseUrl;
    this.log = log;
    this.mode = "element";
    this.elements = new Map(); // url -> HTMLAudioElement
    this.current = null; // {el, phaseId, startedAt, moved}
    this.volume = 1;
    this.muted = false;
    // Seek sooner than the defaults: an element's rate can only play away ~10 ms a second.
    this.drift = new DriftController({ seekAboveMs: 60, seekIntervalMs: 2000, maxRate: 0.015 });
    this.startDelay = 0.1; // s from play() to sound; a fresh Chromium takes ~0.24 s
    this.pendingStart = false;
    this.state = { sounding: false, buffering: false, loading: false, error: null };
  }

  element(entry) {
    const url = this.baseUrl + entry.stream_url;
    let el = this.elements.get(url);
    if (!el) {
      el = this.env.createAudio();
      el.crossOrigin = "anonymous";
      el.preload = "auto";
      el.preservesPitch = true;
      el.src = url;
      el.addEventListener?.("error", () => {
        this.state.error = `cannot play ${url}`;
      });
      this.elements.set(url, el);
      this.trim();
    }
    el.volume = this.volume;
    el.muted = this.muted;
    return el;
  }

  trim() {
    if (this.elements.size <= 3) return;
    for (const [url, el] of this.elements) {
      if (this.elements.size <= 3) break;
      if (el !== this.current?.el && el !== this.preloaded) {
        el.pause();
        el.removeAttribute?.("src");
        this.elements.delete(url);
      }
    }
  }

  unlock() {
    // A gesture lets every element we own play later.
    for (const el of this.elements.values()) {
      if (el.paused) el.play().then(() => el.pause(), () => {});
    }
    return Promise.resolve();
  }

  prepare(entry) {
    if (entry) this.element(entry);
  }

  preload(entry) {
    if (entry) this.preloaded = this.element(entry);
  }

  sync({ timeline, clock, lead = 0, ready }) {
    const now = this.env.now();
    const sNow = clock.toServer(now) + lead;
    const state = timeline.stateAt(sNow);
    const el = state.entry ? this.element(state.entry) : null;
    for (const other of this.elements.values()) if (other !== el && !other.paused) other.pause();
    if (!el || !ready) {
      this.current = null;
      this.state = { ...this.state, sounding: false, buffering: state.sounding };
      return;
    }
    const target = (t) => positionAt(state.phase.clock, clock.toServer(t) + lead);
    if (!state.sounding) {
      if (!el.paused) el.pause();
      // Prepare: sit at the position the next start will need.
      const next = timeline.upcoming(sNow)[0];
      const want = next && next.entry?.id === state.entry.id ? next.clock.position : state.position;
      if (Math.abs(el.currentTime - want) > 0.05 && el.readyState >= 1) el.currentTime = want;
      this.current = null;
      this.state = { sounding: false, buffering: false, loading: el.readyState < 3, error: this.state.error };
      return;
    }
    const cur = this.current;
    if (!cur || cur.el !== el || cur.phaseId !== state.phase.id || el.paused) {
      if (el.readyState < 1) {
        this.state = { sounding: false, buffering: true, loading: true, error: this.state.error };
        return;
      }
      // Start ahead by as long as starting takes: learned apart from a seek while playing, which
      // Chromium does several times faster.
      const from = target(now + this.startDelay);
      el.playbackRate = 1;
      el.currentTime = from;
      this.drift.reset();
      this.pendingStart = true;
      this.current = { el, phaseId: state.phase.id, from, startedAt: now, moved: null };
      if (el.paused) el.play().catch((err) => (this.state.error = String(err?.message ?? err)));
      this.state = { sounding: false, buffering: true, loading: false, error: this.state.error };
      return;
    }
    // Readings only count once the element has visibly started moving from where it was put.
    const t = el.currentTime;
    if (cur.moved === null) {
      if (Math.abs(t - cur.from) > 0.001) cur.moved = now;
    } else if (now - cur.moved > SETTLE_S) {
      this.drift.observe(now, t);
      const est = this.pendingStart ? this.drift.estimate(now) : null;
      if (est !== null) {
        // Landed early (ahead) or late: start that much later or earlier next time.
        const err = est - target(now);
        if (Math.abs(err) < 1) this.startDelay = Math.min(1, Math.max(0, this.startDelay - 0.7 * err));
        this.pendingStart = false;
      }
      const action = this.drift.update(now, target);
      if (action.kind === "rate") el.playbackRate = action.rate;
      else if (action.kind === "seek") {
        el.playbackRate = 1;
        el.currentTime = action.position;
        cur.from = action.position;
        cur.moved = null;
      }
    }
    const buffering = el.readyState < 3 || el.seeking;
    this.state = { sounding: cur.moved !== null && !buffering, buffering, loading: false, error: this.state.error };
  }

  outputPosition() {
    if (!this.current || this.current.moved === null) return null;
    return this.drift.estimate(this.env.now()) ?? this.current.el.currentTime;
  }

  driftMs() {
    return this.drift.error == null ? null : this.drift.error * 1000;
  }

  corrections() {
    return this.drift.corrections;
  }

  get restarts() {
    return this.drift.seeks;
  }

  buffered(entry) {
    if (!entry) return [];
    const el = this.elements.get(this.baseUrl + entry.stream_url);
    if (!el?.buffered) return [];
    const out = [];
    for (let i = 0; i < el.buffered.length; i++) out.push([el.buffered.start(i), el.buffered.end(i)]);
    return out;
  }

  /** What the controller has learned, for debug(). */
  mapping() {
    return { seekDelayMs: this.drift.seekDelay * 1000, startDelayMs: this.startDelay * 1000 };
  }

  memory() {
    return { decoded: 0, compressed: 0 }; // the browser's media cache, not ours to count
  }

  setVolume(x) {
    this.volume = x;
    for (const el of this.elements.values()) el.volume = x;
  }

  setMuted(m) {
    this.muted = m;
    for (const el of this.elements.values()) el.muted = m;
  }

  destroy() {
    for (const el of this.elements.values()) {
      el.pause();
      el.removeAttribute?.("src");
    }
    this.elements.clear();
  }
}
