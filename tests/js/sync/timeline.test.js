import assert from "node:assert/strict";
import { test } from "node:test";

import { Timeline, positionAt, soundingAt } from "../../../webapp/static/js/sync/timeline.js";

const A = { id: "e1", track_id: "t1", stream_url: "/a" };
const B = { id: "e2", track_id: "t2", stream_url: "/b" };
const playing = (position, anchor, duration = 200) => ({ position, anchor, playing: true, rate: 1, duration });
const paused = (position, anchor, duration = 200) => ({ position, anchor, playing: false, rate: 1, duration });
const near = (a, b) => Math.abs(a - b) < 1e-9;

test("the room position follows the anchor, holds before a future anchor, stops at the end", () => {
  const c = playing(10, 500);
  assert.ok(near(positionAt(c, 503.5), 13.5));
  assert.ok(near(positionAt(c, 499), 10)); // scheduled start: holds until the anchor
  assert.equal(soundingAt(c, 499.999), false);
  assert.equal(soundingAt(c, 500), true);
  assert.equal(positionAt(c, 10_000), 200);
  assert.equal(soundingAt(c, 10_000), false);
  assert.ok(near(positionAt(paused(42, 500), 900), 42));
});

test("a seek scheduled ahead keeps the old position running until its effect time", () => {
  const tl = new Timeline();
  tl.load({ version: 5, clock: playing(0, 100), queue: { current: A } });
  assert.ok(tl.apply({ version: 6, at: 130.3, clock: playing(90, 130.3), entry: A }));
  const before = tl.stateAt(130.2);
  assert.ok(near(before.position, 30.2)); // still the old run
  assert.equal(before.sounding, true);
  const after = tl.stateAt(131);
  assert.ok(near(after.position, 90.7));
});

test("a pause takes effect at its time, not when the message arrives", () => {
  const tl = new Timeline();
  tl.load({ version: 1, clock: playing(0, 100), queue: { current: A } });
  tl.apply({ version: 2, at: 110.25, clock: paused(10.25, 110.25), entry: A });
  assert.equal(tl.stateAt(110.2).sounding, true);
  assert.equal(tl.stateAt(110.25).sounding, false);
  assert.ok(near(tl.stateAt(120).position, 10.25));
});

test("a track change switches the entry exactly at its effect time", () => {
  const tl = new Timeline();
  tl.load({ version: 1, clock: playing(0, 100), queue: { current: A } });
  tl.apply({ version: 2, at: 150, clock: playing(0, 150, 180), entry: B });
  assert.equal(tl.stateAt(149.99).entry.id, "e1");
  assert.equal(tl.stateAt(150).entry.id, "e2");
  assert.ok(near(tl.stateAt(151).position, 1));
  assert.deepEqual(
    tl.upcoming(149).map((c) => c.entry.id),
    ["e2"],
  );
});

test("updates older than what we hold are ignored", () => {
  const tl = new Timeline();
  tl.load({ version: 9, clock: playing(0, 100), queue: { current: A } });
  assert.equal(tl.apply({ version: 9, at: 101, clock: paused(1, 101), entry: A }), false);
  assert.equal(tl.stateAt(105).sounding, true);
});

test("a newer change replaces one scheduled after it", () => {
  const tl = new Timeline();
  tl.load({ version: 1, clock: playing(0, 100), queue: { current: A } });
  tl.apply({ version: 2, at: 120, clock: paused(20, 120), entry: A });
  tl.apply({ version: 3, at: 119.5, clock: playing(60, 119.5), entry: A });
  assert.equal(tl.stateAt(125).sounding, true);
  assert.ok(near(tl.stateAt(125).position, 65.5));
});

test("a snapshot whose start is still ahead is silent until then", () => {
  const tl = new Timeline();
  tl.load({ version: 3, clock: playing(30, 200), queue: { current: A } });
  assert.equal(tl.stateAt(199.9).sounding, false);
  assert.equal(tl.stateAt(200).sounding, true);
});

test("a snapshot of what we already hold keeps the change, so nothing restarts", () => {
  const tl = new Timeline();
  tl.load({ version: 1, clock: playing(0, 100), queue: { current: A } });
  const id = tl.stateAt(110).phase.id;
  tl.load({ version: 1, clock: playing(0, 100), queue: { current: A } });
  assert.equal(tl.stateAt(110).phase.id, id);
  tl.load({ version: 2, clock: playing(5, 108), queue: { current: A } });
  assert.notEqual(tl.stateAt(110).phase.id, id);
});
