import assert from "node:assert/strict";
import { test } from "node:test";

import { createPlayer } from "../../../webapp/static/js/sync/index.js";
import { FakeTime, fakeAudioElement, fakeServer } from "./fakes.js";

const OFFSET = 1000;
const entry = { id: "e1", track_id: "t1", stream_url: "/api/tracks/t1/stream", available: true };
const clock = (position, anchor, playing = true) => ({ position, anchor, playing, rate: 1, duration: 300 });

async function setup(options) {
  const time = new FakeTime(100);
  const server = fakeServer(time, { offset: OFFSET });
  const elements = [];
  const env = {
    now: time.now,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    setInterval: time.setInterval,
    clearInterval: time.clearInterval,
    createAudio: () => {
      const el = fakeAudioElement(time, options);
      elements.push(el);
      return el;
    },
  };
  const socket = { emitWithAck: (_e, payload) => server.ping(payload) };
  const player = createPlayer({ socket, env, mode: "element" });
  player.start();
  await time.advance(1);
  return { time, elements, player, serverNow: () => time.now() + OFFSET };
}

test("<audio>: a start scheduled ahead plays from the right position, then stays in step", async () => {
  const { time, elements, player, serverNow } = await setup({ startDelay: 0.2 });
  const at = serverNow() + 0.3;
  player.load({ version: 1, clock: clock(30, at), queue: { current: entry } });
  await time.advance(0.2);
  const [el] = elements;
  assert.ok(el.paused, "silent before the effect time");
  assert.ok(Math.abs(el.currentTime - 30) < 0.06, "prepared at the start position");
  await time.advance(8);
  assert.ok(!el.paused);
  const err = el.currentTime - player.position();
  assert.ok(Math.abs(err) < 0.003, `off by ${err * 1e3} ms after 8 s`);
  player.destroy();
});

test("<audio>: a pause pauses at its effect time, a seek lands within a few ms", async () => {
  const { time, elements, player, serverNow } = await setup({ startDelay: 0.1, seekDelay: 0.08 });
  player.load({ version: 1, clock: clock(0, serverNow() + 0.3), queue: { current: entry } });
  await time.advance(6);
  const [el] = elements;
  const at = serverNow() + 0.4;
  player.playback({ version: 2, at, clock: clock(5.95, at, false), entry, status: "paused" });
  await time.advance(1);
  assert.ok(el.paused);
  const pausedAt = el.calls.filter(([c]) => c === "pause").at(-1)[1] + OFFSET;
  assert.ok(Math.abs(pausedAt - at) < 0.002, `paused ${(pausedAt - at) * 1e3} ms from its time`);
  const at2 = serverNow() + 0.3;
  player.playback({ version: 3, at: at2, clock: clock(120, at2), entry, status: "playing" });
  await time.advance(10);
  const err = el.currentTime - player.position();
  assert.ok(Math.abs(err) < 0.005, `off by ${err * 1e3} ms after the resume at 120 s`);
  player.destroy();
});
