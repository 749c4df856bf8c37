// Keeps an output on the room's position: a dead band, gentle rate changes for small errors, a
// seek (that allows for its own delay) for large ones, seeks rate-limited.
//
// Rate changes stay within a percent or two: Sendspin found ±4 % audible as warble on music and
// ±1-2 % fine, and with pitch preserved a listener does not hear them. Position readings of an
// <audio> element jitter by 5-10 ms, so decisions act on a straight line fitted to the recent
// readings, not on the latest one.

export const DEFAULTS = Object.freeze({
  deadBandMs: 2, // below this the error is left alone
  gain: 0.5, // rate offset per second of error: a 20 ms error starts at 1 % fast/slow
  maxRate: 0.01, // ±1 %: inaudible with preservesPitch
  minRateStep: 0.0005, // do not touch the rate for changes smaller than this
  seekAboveMs: 120, // errors above this are cheaper to seek than to play away
  seekIntervalMs: 3000, // at most one corrective seek per 3 s: each one is audible
  filterWindowS: 1.0, // fit readings of the last second
  minSamples: 4,
  seekDelayS: 0.08, // first guess of how long a seek takes to be heard; learned from each seek
  maxSeekDelayS: 1.0,
});

/** Least-squares line through [t, y] points, evaluated at t: the filtered reading. */
export function fitAt(points, t) {
  const n = points.length;
  if (n === 0) return null;
  if (n === 1) return points[0][1] + (t - points[0][0]);
  let mx = 0;
  let my = 0;
  for (const [x, y] of points) {
    mx += x;
    my += y;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 1;
  return my + slope * (t - mx);
}

export class DriftController {
  constructor(options = {}) {
    this.opts = { ...DEFAULTS, ...options };
    this.points = [];
    this.rate = 1;
    this.correcting = false;
    this.lastSeek = -Infinity; // local seconds
    this.seekDelay = this.opts.seekDelayS;
    this.pendingSeek = null; // {at} while we wait to learn how the last seek landed
    this.corrections = 0; // rate changes made
    this.seeks = 0;
    this.error = null; // last filtered error, seconds (positive: output ahead of the room)
  }

  /** Forget readings: the output jumped (a seek, a new track, a restart). */
  reset() {
    this.points = [];
    this.error = null;
  }

  /** A raw position reading (seconds into the track) of the output at local time `now`. */
  observe(now, position) {
    this.points.push([now, position]);
    const since = now - this.opts.filterWindowS;
    while (this.points.length && this.points[0][0] < since) this.points.shift();
  }

  /** The filtered output position at local time `now`, or null without enough readings. */
  estimate(now) {
    if (this.points.length < this.opts.minSamples) return null;
    return fitAt(this.points, now);
  }

  /**
   * Decide what to do at local time `now`, where `targetAt(t)` is the room position the output
   * should be at at local time t. `measured` (optional) is an exact output position at `now`,
   * for outputs that know theirs (Web Audio) and need no filtering.
   * Returns {kind: "none"} | {kind: "rate", rate} | {kind: "seek", position}.
   */
  update(now, targetAt, measured = null) {
    const o = this.opts;
    const pos = measured ?? this.estimate(now);
    if (pos === null) return { kind: "none" };
    const err = pos - targetAt(now);
    this.error = err;
    if (this.pendingSeek && measured === null && this.points.length >= o.minSamples) {
      // The seek has landed: a residual error means it took longer (behind) or shorter (ahead)
      // than we allowed for. Learn most of it for next time.
      if (Math.abs(err) < o.maxSeekDelayS) {
        this.seekDelay = clamp(this.seekDelay - 0.7 * err, 0, o.maxSeekDelayS);
      }
      this.pendingSeek = null;
    }
    const errMs = Math.abs(err) * 1000;
    if (errMs > o.seekAboveMs && (now - this.lastSeek) * 1000 >= o.seekIntervalMs) {
      this.lastSeek = now;
      this.seeks += 1;
      this.pendingSeek = { at: now };
      this.reset();
      this.correcting = false;
      this.setRate(1);
      return { kind: "seek", position: targetAt(now + this.seekDelay), rate: 1 };
    }
    // Hysteresis: start correcting outside the dead band, stop once well inside it.
    if (errMs > o.deadBandMs) this.correcting = true;
    else if (errMs < o.deadBandMs / 2) this.correcting = false;
    const wanted = this.correcting ? 1 - clamp(o.gain * err, -o.maxRate, o.maxRate) : 1;
    const changed = Math.abs(wanted - this.rate) >= o.minRateStep || (wanted === 1 && this.rate !== 1);
    if (!changed) return { kind: "none" };
    this.setRate(wanted);
    this.corrections += 1;
    return { kind: "rate", rate: wanted };
  }

  setRate(rate) {
    this.rate = rate;
  }
}

function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}
