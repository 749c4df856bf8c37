// The offset between this browser's clock and the server's, from time_ping round trips.
//
// Each ping gives an offset bounded by half its round trip; the sample with the lowest round
// trip in a recent window is the tightest bound we have (NTP's and Jellyfin's choice). Over
// minutes the two clocks also run at slightly different rates (tens of ppm: a few ms a minute),
// so the estimator fits that skew from the best sample of each interval and extrapolates the
// chosen sample to "now" instead of letting it age.

export const DEFAULTS = Object.freeze({
  windowS: 30, // keep the lowest-RTT sample of the last 30 s
  maxSamples: 256,
  skewBucketS: 10, // one best sample per 10 s feeds the skew fit
  skewHistoryS: 600,
  skewMinSpanS: 60, // fit skew only over at least a minute of history
  maxSkew: 200e-6, // clocks of real machines differ by tens of ppm; more means a bad fit
  resetJumpS: 1, // an offset this far from the estimate: the server restarted (new monotonic clock)
});

/** One time_ping exchange as an offset sample; null when it makes no sense (clock went back). */
export function sampleFromPing({ t0, t1, t2 }, t3) {
  const rtt = t3 - t0 - (t2 - t1);
  if (![t0, t1, t2, t3].every(Number.isFinite) || rtt < 0 || t2 < t1) return null;
  return { offset: (t1 - t0 + (t2 - t3)) / 2, rtt, at: (t0 + t3) / 2 };
}

const MAX_PER_SECOND = 18;

export class ClockEstimator {
  constructor(options = {}) {
    this.opts = { ...DEFAULTS, ...options };
    this.reset();
  }

  reset() {
    this.samples = []; // recent samples, oldest first
    this.buckets = new Map(); // bucket index -> best sample, for the skew fit
    this.skew = 0;
  }

  get count() {
    return this.samples.length;
  }

  /** Add a sample {offset, rtt, at} (seconds; `at` on the local clock). */
  add(sample) {
    if (!sample) return;
    const current = this.best(sample.at);
    if (current && Math.abs(sample.offset - this.offsetAt(sample.at)) > this.opts.resetJumpS) {
      // Only believe a jump once it is not a lone outlier: a server restart repeats it.
      this.jumps = (this.jumps ?? 0) + 1;
      if (this.jumps < 3) return;
      this.reset();
    }
    this.jumps = 0;
    this.samples.push(sample);
    if (this.samples.length > this.opts.maxSamples) this.samples.shift();
    const key = Math.floor(sample.at / this.opts.skewBucketS);
    const held = this.buckets.get(key);
    if (!held || sample.rtt < held.rtt) this.buckets.set(key, sample);
    for (const k of this.buckets.keys()) {
      if (k < key - this.opts.skewHistoryS / this.opts.skewBucketS) this.buckets.delete(k);
    }
    this.skew = this.fitSkew();
  }

  /** The lowest-RTT sample of the window ending at `now`, or the newest one if none is in it. */
  best(now) {
    let best = null;
    for (const s of this.samples) {
      if (s.at < now - this.opts.windowS) continue;
      if (!best || s.rtt < best.rtt) best = s;
    }
    return best ?? this.samples[this.samples.length - 1] ?? null;
  }

  /** Server time minus local time at local time `now`, or null before the first sample. */
  offsetAt(now) {
    const best = this.best(now);
    if (!best) return null;
    return best.offset + this.skew * (now - best.at);
  }

  rttAt(now) {
    return this.best(now)?.rtt ?? null;
  }

  // Least squares of offset against time over the best sample of each bucket, weighted towards
  // tight samples; the RTT bounds each sample's error.
  fitSkew() {
    const pts = [...this.buckets.values()];
    if (pts.length < 4) return 0;
    const span = pts[pts.length - 1].at - pts[0].at;
    if (span < this.opts.skewMinSpanS) return 0;
    let sw = 0;
    let sx = 0;
    let sy = 0;
    for (const p of pts) {
      const w = 1 / (p.rtt + 1e-4) ** 2;
      sw += w;
      sx += w * p.at;
      sy += w * p.offset;
    }
    const mx = sx / sw;
    const my = sy / sw;
    let sxx = 0;
    let sxy = 0;
    for (const p of pts) {
      const w = 1 / (p.rtt + 1e-4) ** 2;
      sxx += w * (p.at - mx) ** 2;
      sxy += w * (p.at - mx) * (p.offset - my);
    }
    if (sxx <= 0) return 0;
    const skew = sxy / sxx;
    return Math.max(-this.opts.maxSkew, Math.min(this.opts.maxSkew, skew));
  }
}

/**
 * Keeps a ClockEstimator fed: a burst of `burst` pings on start() and resync(), then one every
 * `intervalMs`. `ping(payload)` resolves with the ack ({ok, t0, t1, t2} or an error ack);
 * `now()` is the local clock in seconds. Pings go one at a time so they never queue behind each
 * other (a queued ping only measures the queue).
 */
export class ClockSync {
  constructor({
    ping,
    now,
    timers = globalThis,
    burst = 16,
    burstGapMs = 25, // 16 pings in ~0.5 s: inside the server's 20 per second
    intervalMs = 3000,
    minResyncMs = 5000, // a tab flicking visible/hidden must not exhaust the ping budget
    onUpdate = () => {},
    estimator = new ClockEstimator(),
  }) {
    Object.assign(this, { ping, now, timers, burst, burstGapMs, intervalMs, minResyncMs });
    this.onUpdate = onUpdate;
    this.estimator = estimator;
    this.timer = null;
    this.running = false;
    this.pending = 0; // pings left in the current burst
    this.lastBurst = -Infinity;
    this.sent = []; // send times (ms) within the last second
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.beginBurst();
  }

  /** After a reconnect (fresh: the server may have restarted) or a return to a visible tab. */
  resync({ fresh = false } = {}) {
    if (!this.running) return this.start();
    if (fresh) this.estimator.reset();
    else if (this.now() * 1000 - this.lastBurst < this.minResyncMs) return;
    if (this.pending > 0) {
      this.pending = this.burst; // a burst is under way: make it a full one, not a second one
      return;
    }
    this.beginBurst();
  }

  stop() {
    this.running = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** True once a burst has completed since the last reset: the estimate is as good as it gets. */
  get ready() {
    return this.estimator.count >= this.burst / 2;
  }

  offset() {
    return this.estimator.offsetAt(this.now());
  }

  rtt() {
    return this.estimator.rttAt(this.now());
  }

  /** Server time now (seconds), or null before the first sample. */
  serverNow() {
    const now = this.now();
    const offset = this.estimator.offsetAt(now);
    return offset === null ? null : now + offset;
  }

  beginBurst() {
    this.lastBurst = this.now() * 1000;
    this.pending = this.burst;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (!this.inFlight) this.sendOne();
  }

  // The server allows 20 pings a second and counts refusals towards disconnecting a flooding
  // client: however often resync() is called, stay under 18 in any second.
  schedule(ms) {
    if (!this.running) return;
    const now = this.now() * 1000;
    this.sent = this.sent.filter((t) => t > now - 1000);
    if (this.sent.length >= MAX_PER_SECOND) ms = Math.max(ms, this.sent[0] + 1000 - now);
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.sendOne();
    }, ms);
  }

  async sendOne() {
    if (!this.running || this.inFlight) return;
    const t0 = this.now();
    this.sent = this.sent.filter((t) => t > t0 * 1000 - 1000);
    if (this.sent.length >= MAX_PER_SECOND) return this.schedule(0);
    this.sent.push(t0 * 1000);
    this.inFlight = true;
    const rtt = this.estimator.rttAt(t0);
    let ack = null;
    try {
      ack = await this.ping(rtt === null ? { t0 } : { t0, rtt: Math.min(60, rtt) });
    } catch {
      ack = null; // timeout or disconnect: try again on schedule
    }
    const t3 = this.now();
    this.inFlight = false;
    if (!this.running) return;
    let retryMs = null;
    if (ack?.ok && ack.t0 === t0) {
      this.estimator.add(sampleFromPing(ack, t3));
      this.onUpdate(this);
    } else if (ack?.error === "rate_limited") {
      retryMs = Math.max(100, (ack.retry_after ?? 1) * 1000);
    }
    if (this.pending > 0) this.pending -= 1;
    this.schedule(retryMs ?? (this.pending > 0 ? this.burstGapMs : this.intervalMs));
  }
}
