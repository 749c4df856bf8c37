// Where the output clock is: performance time minus the context time being heard (k, seconds),
// from a stream of getOutputTimestamp() readings.
//
// Measured (bench/sync): for the first ~10 s of a new output stream (PulseAudio: its latency
// interpolation is still learning its rate; most often when two browsers start at once on a
// busy machine) one page's readings creep by 1-25 ms a second and snap back part way every
// ~1.5 s, while the recorded output runs on a steady clock. Following them put the first start
// 5-25 ms off for seconds; no filter of the readings finds the steady clock then (the creep takes
// either sign and the snaps land short of it). Pages whose stream was 10 s old at the first start
// were in step at once, every run. Once settled, the readings' moves are real (underruns), and
// the latest readings (median of 3, against a lone wild one) explain the recorded offsets best.
// So: while the stream is young, hold the estimate from its first readings, following the
// readings at most `slewMsPerS` (the clocks' rate difference, ~0.1 ms a second) or in a step up
// larger than any creep (an underrun); after that, follow the latest readings.

export const OUTPUT_CLOCK_DEFAULTS = Object.freeze({
  youngS: 10, // s from the first reading during which the readings are not trusted
  slewMsPerS: 0.2,
  // A rise this large from one reading to the next is real even while young: an underrun, or the
  // stream's buffer filling up just after it opened (seen: 10 ms). A creep climbs at most ~2.5 ms
  // a reading, and its snaps (up to 40 ms) go the other way then.
  stepMs: 5,
});

function median3(a, b, c) {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

export class OutputClock {
  constructor(options = {}) {
    this.opts = { ...OUTPUT_CLOCK_DEFAULTS, ...options };
    this.reset();
  }

  /** Forget every reading (the first real timestamps replace a nominal estimate). */
  reset() {
    this.raw = []; // the last three raw readings
    this.last = null; // [t, median of 3] of the previous reading
    this.since = null; // t of the first reading
    this.k = null;
  }

  /** A reading at performance time t (s): k = performance time - context time heard then (s). */
  observe(t, k) {
    const o = this.opts;
    this.raw.push(k);
    if (this.raw.length > 3) this.raw.shift();
    const [a, b = a, c = b] = this.raw;
    const m = median3(a, b, c);
    const last = this.last;
    this.last = [t, m];
    if (this.k === null) {
      this.since = t;
      this.k = m;
    } else if (t - this.since >= o.youngS || m - last[1] > o.stepMs / 1000) {
      this.k = m;
    } else {
      const most = (o.slewMsPerS / 1000) * Math.max(0, t - last[0]);
      this.k += Math.min(most, Math.max(-most, m - this.k));
    }
  }

  /** True while readings are held rather than followed. */
  young(t) {
    return this.since === null || t - this.since < this.opts.youngS;
  }

  /** The estimate of k (s), or null before any reading. */
  estimate() {
    return this.k;
  }
}
