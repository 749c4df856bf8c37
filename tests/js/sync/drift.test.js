import assert from "node:assert/strict";
import { test } from "node:test";

import { DriftController } from "../../../webapp/static/js/sync/drift.js";
import { random } from "./fakes.js";

/**
 * A fake <audio>: plays at `playbackRate` (times its own clock error `skew`), reports
 * currentTime with `jitter` of noise, and takes `seekDelay` seconds after a seek before it plays
 * on (audible silence, position held), like a real element refilling its buffers.
 */
class FakeElement {
  constructor({ position = 0, skew = 0, jitter = 0, seekDelay = 0, seed = 3 } = {}) {
    Object.assign(this, { pos: position, skew, jitter, seekDelay });
    this.playbackRate = 1;
    this.holdUntil = -Infinity;
    this.rnd = random(seed);
    this.seeks = [];
  }

  step(t, dt) {
    if (t >= this.holdUntil) this.pos += dt * this.playbackRate * (1 + this.skew);
  }

  reading() {
    return this.pos + (this.rnd() * 2 - 1) * this.jitter;
  }

  seek(t, position) {
    this.seeks.push(t);
    this.pos = position;
    this.holdUntil = t + this.seekDelay;
  }
}

/** Run the controller against the element on a 50 ms timer; the room plays from `roomAt0` at 0. */
function simulate(el, controller, seconds, { roomAt0 = 0, dt = 0.05 } = {}) {
  const room = (t) => roomAt0 + t;
  const errors = [];
  const rates = [];
  for (let t = dt; t < seconds; t += dt) {
    el.step(t - dt, dt);
    if (t < el.holdUntil) continue; // readings while it refills would be thrown away
    controller.observe(t, el.reading());
    const action = controller.update(t, room);
    if (action.kind === "rate") el.playbackRate = action.rate;
    if (action.kind === "seek") {
      el.playbackRate = 1;
      el.seek(t, action.position);
    }
    rates.push(el.playbackRate);
    errors.push([t, el.pos - room(t)]);
  }
  return { errors, rates };
}

const after = (errors, t0) => errors.filter(([t]) => t >= t0).map(([, e]) => Math.abs(e));

test("inside the dead band nothing is touched", () => {
  const el = new FakeElement({ position: 0.001 }); // 1 ms ahead
  const c = new DriftController({ deadBandMs: 2 });
  const { rates } = simulate(el, c, 10);
  assert.ok(rates.every((r) => r === 1));
  assert.equal(c.seeks, 0);
});

test("a small error is played away with gentle rate changes, never a seek", () => {
  const el = new FakeElement({ position: 0.04 }); // 40 ms ahead
  const c = new DriftController({ maxRate: 0.01 });
  const { errors, rates } = simulate(el, c, 20);
  assert.equal(c.seeks, 0);
  assert.ok(rates.every((r) => Math.abs(r - 1) <= 0.01 + 1e-12), "rate stayed within ±1 %");
  assert.ok(Math.max(...after(errors, 12)) < 0.002, "error under 2 ms after 12 s");
  assert.ok(rates.some((r) => r < 1), "it slowed down to let the room catch up");
});

test("a clock that runs fast is held in step by a steady rate offset", () => {
  const el = new FakeElement({ skew: 0.001 }); // 1 ms per second fast
  const c = new DriftController();
  const { errors } = simulate(el, c, 60);
  assert.equal(c.seeks, 0);
  assert.ok(Math.max(...after(errors, 20)) < 0.004);
});

test("jittery readings are filtered: no seeks, error stays small", () => {
  const el = new FakeElement({ jitter: 0.008 }); // ±8 ms of reading noise
  const c = new DriftController();
  const { errors } = simulate(el, c, 30);
  assert.equal(c.seeks, 0);
  assert.ok(Math.max(...after(errors, 2)) < 0.004);
});

test("a large error is fixed by a seek that allows for its own delay, learned from the last", () => {
  // An element that takes 250 ms after each seek before it plays on; the first guess is 50 ms.
  const el = new FakeElement({ seekDelay: 0.25 });
  const c = new DriftController({ seekDelayS: 0.05, seekIntervalMs: 3000 });
  const room = (t) => 2 + t; // we start 2 s behind the room
  const landed = [];
  let seeks = 0;
  for (let t = 0.05; t < 24; t += 0.05) {
    el.step(t - 0.05, 0.05);
    if (Math.abs(t % 6) < 0.025 && t > 1) el.pos -= 1.0; // every 6 s something throws us 1 s back
    if (el.seeks.length > seeks && t >= el.seeks[seeks] + 0.25 + 0.2) {
      landed.push(Math.abs(el.pos - room(t)));
      seeks += 1;
    }
    if (t < el.holdUntil) continue;
    c.observe(t, el.reading());
    const a = c.update(t, room);
    if (a.kind === "seek") el.seek(t, a.position);
    if (a.kind === "rate") el.playbackRate = a.rate;
  }
  assert.ok(landed.length >= 4, `seeks: ${landed.length}`);
  assert.ok(landed[0] > 0.1, "the first seek, with the wrong guess, lands far off");
  assert.ok(landed[landed.length - 1] < 0.03, `the last landed ${landed[landed.length - 1] * 1e3} ms off`);
  assert.ok(Math.abs(c.seekDelay - 0.25) < 0.05, `learned ${c.seekDelay}`);
});

test("seeks are rate-limited when the output cannot keep up", () => {
  // An output that loses 0.5 s every second (stalling): seeking cannot fix it, and must not spin.
  const el = new FakeElement({ skew: -0.5 });
  const c = new DriftController({ seekIntervalMs: 3000 });
  simulate(el, c, 15);
  assert.ok(el.seeks.length >= 2);
  for (let i = 1; i < el.seeks.length; i++) assert.ok(el.seeks[i] - el.seeks[i - 1] >= 3 - 1e-9);
});
