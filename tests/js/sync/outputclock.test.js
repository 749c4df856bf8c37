import assert from "node:assert/strict";
import { test } from "node:test";

import { OutputClock } from "../../../webapp/static/js/sync/outputclock.js";

// Readings every 100 ms (the engine's tick), of k = performance time - context time heard (s).
const TRUE_K = 0.5;
const TICK = 0.1;
const ms = (s) => s * 1000;

function feed(clock, from, to, reading) {
  const errors = [];
  for (let t = from; t < to - 1e-9; t += TICK) {
    clock.observe(t, reading(t));
    errors.push({ t, err: ms(clock.estimate() - TRUE_K) });
  }
  return errors;
}

const worst = (errors) => Math.max(...errors.map((e) => Math.abs(e.err)));
// A tiny deterministic jitter of ±0.05 ms, like a settled stream's readings.
const jitter = (t) => 0.00005 * Math.sin(t * 37.1);

test("a settled stream's readings give the output clock within their jitter", () => {
  const clock = new OutputClock();
  const errors = feed(clock, 0, 20, (t) => TRUE_K + jitter(t));
  assert.ok(worst(errors) < 0.1, `off by ${worst(errors)} ms`);
});

test("a young stream's readings creeping 2.5 ms/s and snapping back do not move the estimate", () => {
  const clock = new OutputClock();
  // The sawtooth measured on a fresh PulseAudio stream: +2.5 ms a second, snapping back every 1.6 s.
  const creep = (t) => TRUE_K + 0.0025 * (t % 1.6) + jitter(t);
  const errors = feed(clock, 0, 9.5, creep);
  assert.ok(worst(errors) < 1.5, `followed the creep: ${worst(errors)} ms`);
});

test("a creep downwards with small snaps up is not followed either", () => {
  const clock = new OutputClock();
  const creep = (t) => TRUE_K - 0.002 * (t % 1.5) + jitter(t);
  const errors = feed(clock, 0, 9.5, creep);
  assert.ok(worst(errors) < 1.5, `followed the creep: ${worst(errors)} ms`);
});

test("an underrun in a young stream (the output loses 30 ms) is followed at once", () => {
  const clock = new OutputClock();
  feed(clock, 0, 3, (t) => TRUE_K + jitter(t));
  clock.observe(3.0, TRUE_K + 0.03);
  clock.observe(3.1, TRUE_K + 0.03);
  assert.ok(Math.abs(ms(clock.estimate() - TRUE_K) - 30) < 0.1, "the loss is taken two readings after it");
});

test("the stream's buffer filling just after it opened is followed, not held", () => {
  const clock = new OutputClock();
  // The first half second reads 10 ms early, then the stream settles at its real latency.
  const errors = feed(clock, 0, 5, (t) => (t < 0.5 ? TRUE_K - 0.01 : TRUE_K) + jitter(t));
  const late = errors.filter((e) => e.t >= 0.75);
  assert.ok(worst(late) < 0.2, `held the early reading: ${worst(late)} ms`);
});

test("once the stream is settled, a move of the output clock is followed promptly", () => {
  const clock = new OutputClock();
  feed(clock, 0, 12, (t) => TRUE_K + jitter(t));
  const errors = feed(clock, 12, 13, (t) => TRUE_K + 0.003 + jitter(t));
  const after = errors.filter((e) => e.t >= 12.25);
  assert.ok(after.every((e) => Math.abs(e.err - 3) < 0.2), "the 3 ms move is followed within three readings");
});

test("a lone wild reading is ignored", () => {
  const clock = new OutputClock();
  feed(clock, 0, 12, (t) => TRUE_K + jitter(t));
  clock.observe(12.0, TRUE_K + 0.05);
  assert.ok(Math.abs(ms(clock.estimate() - TRUE_K)) < 0.1);
  clock.observe(12.1, TRUE_K);
  assert.ok(Math.abs(ms(clock.estimate() - TRUE_K)) < 0.1);
});
