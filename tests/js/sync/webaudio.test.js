import assert from "node:assert/strict";
import { test } from "node:test";

import { createPlayer } from "../../../webapp/static/js/sync/index.js";
import { FrameIndex } from "../../../webapp/static/js/sync/mp3.js";
import { FakeTime, fakeAudioContext, fakeFetch, fakeServer, mp3, slowFetch } from "./fakes.js";

// The server's clock is 1000 s ahead of this page's performance clock.
const OFFSET = 1000;
const entry = (id) => ({ id, track_id: `t${id}`, stream_url: `/api/tracks/t${id}/stream`, available: true });
const clock = (position, anchor, playing = true) => ({ position, anchor, playing, rate: 1, duration: 200 });

async function setup({ storage = null } = {}) {
  const time = new FakeTime(100);
  const server = fakeServer(time, { offset: OFFSET });
  const audio = fakeAudioContext(time);
  const socket = { emitWithAck: (_event, payload) => server.ping(payload) };
  const env = { ...timersOf(time), now: time.now, fetch: fakeFetch(mp3({ frames: 8000 })), AudioContext: audio.AudioContext };
  const player = createPlayer({ socket, storage, env, mode: "webaudio" });
  player.start();
  await time.advance(1); // the ping burst
  // The context time at which server time s is heard.
  const ctxAt = (s) => audio.ctxAtPerf(s - OFFSET);
  return { time, audio, player, ctxAt, serverNow: () => time.now() + OFFSET };
}

function timersOf(time) {
  return {
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    setInterval: time.setInterval,
    clearInterval: time.clearInterval,
  };
}

const us = (x) => Math.round(x * 1e6); // compare times to the microsecond

test("a start scheduled ahead is heard exactly at its effect time, from its position", async () => {
  const { time, audio, player, ctxAt, serverNow } = await setup();
  const at = serverNow() + 0.3;
  player.load({ version: 1, clock: clock(42, at), queue: { current: entry("1"), upcoming: [] } });
  await time.advance(0.2);
  const [first] = audio.sources;
  assert.ok(first, "scheduled before the effect time");
  assert.ok(Math.abs(first.when - ctxAt(at)) < 1e-4, `start off by ${(first.when - ctxAt(at)) * 1e3} ms`);
  // The buffer's offset is the room position within the decoded segment (which starts earlier).
  const seg = player.debug();
  assert.equal(seg.position, 42);
  await time.advance(1);
  assert.ok(Math.abs(player.debug().outputPosition - player.position()) < 1e-4);
  player.destroy();
});

test("a listener joining mid-track starts where the room is, at once", async () => {
  const { time, audio, player, ctxAt, serverNow } = await setup();
  // The room started 30 s ago from position 10.
  const anchor = serverNow() - 30;
  player.load({ version: 1, clock: clock(10, anchor), queue: { current: entry("1"), upcoming: [] } });
  await time.advance(0.2);
  const [first] = audio.sources;
  assert.ok(first);
  // Starts within a tick of now, never waiting for a later point.
  assert.ok(first.when - ctxAt(serverNow()) < 0.1);
  await time.advance(0.5);
  const d = player.debug();
  assert.ok(Math.abs(d.outputPosition - d.position) < 1e-4, `output ${d.outputPosition}, room ${d.position}`);
  assert.ok(Math.abs(d.position - (10 + serverNow() - anchor)) < 1e-6);
  player.destroy();
});

test("segments follow one another without a gap or an overlap", async () => {
  const { time, audio, player } = await setup();
  player.load({ version: 1, clock: clock(0, time.now() + OFFSET + 0.3), queue: { current: entry("1") } });
  await time.advance(25);
  const starts = audio.sources.map((s) => s);
  assert.ok(starts.length >= 3);
  for (let i = 1; i < 3; i++) {
    const prev = starts[i - 1];
    // The previous source plays `duration` seconds of buffer from `when`; the next begins then.
    assert.equal(us(starts[i].when), us(prev.when + prev.duration));
  }
  player.destroy();
});

test("a pause is heard at its effect time, not when the message arrives", async () => {
  const { time, audio, player, ctxAt, serverNow } = await setup();
  player.load({ version: 1, clock: clock(0, serverNow() + 0.3), queue: { current: entry("1") } });
  await time.advance(2);
  const at = serverNow() + 0.4;
  player.playback({ version: 2, at, clock: clock(2.1, at, false), entry: entry("1"), status: "paused" });
  await time.advance(0.1);
  const playing = audio.sources.filter((s) => s.when <= ctxAt(at));
  assert.ok(playing.length > 0);
  for (const s of playing) assert.ok(Math.abs(s.stopAt - ctxAt(at)) < 1e-4, `stops at ${s.stopAt}`);
  await time.advance(1);
  assert.equal(player.debug().outputPosition, null); // silent
  player.destroy();
});

test("a device offset plays that much earlier, and is kept in storage", async () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const { time, audio, player, ctxAt, serverNow } = await setup({ storage });
  player.setDeviceOffset(120);
  const at = serverNow() + 0.5;
  player.load({ version: 1, clock: clock(5, at), queue: { current: entry("1") } });
  await time.advance(0.3);
  const [first] = audio.sources;
  assert.ok(Math.abs(first.when - (ctxAt(at) - 0.12)) < 1e-4);
  assert.equal(store.get("lockstep.deviceOffsetMs"), "120");
  player.destroy();
  const again = createPlayer({ socket: { emitWithAck: () => new Promise(() => {}) }, storage, env: { ...timersOf(time), now: time.now } });
  assert.equal(again.deviceOffset(), 120);
  again.destroy();
});

test("the next track is fetched and decoded ahead, so a track change starts on time", async () => {
  const { time, audio, player, ctxAt, serverNow } = await setup();
  player.load({ version: 1, clock: clock(0, serverNow() + 0.3), queue: { current: entry("1"), upcoming: [entry("2")] } });
  await time.advance(3);
  const at = serverNow() + 0.25; // the shortest lead the server gives
  player.playback({ version: 2, at, clock: clock(0, at), entry: entry("2"), status: "playing" });
  await time.advance(0.01); // one turn of the event loop: no time to fetch and decode
  const next = audio.sources.find((s) => Math.abs(s.when - ctxAt(at)) < 1e-4);
  assert.ok(next, "the new track's first source starts at the effect time");
  player.destroy();
});

test("a failed download is reported, then tried again", async () => {
  const time = new FakeTime(100);
  const server = fakeServer(time, { offset: OFFSET });
  const audio = fakeAudioContext(time);
  const good = fakeFetch(mp3({ frames: 2000 }));
  let calls = 0;
  const fetch = async (url) => (++calls === 1 ? { ok: false, status: 503 } : good(url));
  const socket = { emitWithAck: (_e, payload) => server.ping(payload) };
  const player = createPlayer({ socket, env: { ...timersOf(time), now: time.now, fetch, AudioContext: audio.AudioContext }, mode: "webaudio" });
  const statuses = [];
  player.on("status", (s) => statuses.push(s));
  player.start();
  await time.advance(1);
  player.load({ version: 1, clock: clock(3, time.now() + OFFSET - 1), queue: { current: entry("1") } });
  await time.advance(0.5);
  assert.equal(audio.sources.length, 0);
  assert.ok(statuses.some((s) => /503/.test(s.error ?? "") && s.buffering), "buffering, with the reason");
  await time.advance(3);
  assert.ok(audio.sources.length > 0, "playing after the retry");
  assert.ok(Math.abs(player.debug().outputPosition - player.position()) < 1e-4);
  player.destroy();
});

test("joining late into a long track on a slow link fetches the segment it needs by range", async () => {
  const time = new FakeTime(100);
  const server = fakeServer(time, { offset: OFFSET });
  const audio = fakeAudioContext(time);
  const file = mp3({ frames: 12000, padded: true }); // ~5 min at 128 kbps, constant bitrate
  const slow = slowFetch(file, 64 * 1024); // the first 64 KB, then the link stalls
  const socket = { emitWithAck: (_e, payload) => server.ping(payload) };
  const env = { ...timersOf(time), now: time.now, fetch: slow.fetch, AudioContext: audio.AudioContext };
  const player = createPlayer({ socket, env, mode: "webaudio" });
  player.start();
  await time.advance(1);
  const anchor = time.now() + OFFSET - 100; // the room has played 100 s from 150 s
  const long = { ...clock(150, anchor), duration: 300 };
  player.load({ version: 1, clock: long, queue: { current: entry("1") } });
  await time.advance(0.3);
  assert.ok(slow.ranges.length >= 1, "asked for a byte range");
  const [first] = audio.sources;
  assert.ok(first, "playing before the download got there");
  await time.advance(0.3);
  const d = player.debug();
  assert.ok(Math.abs(d.outputPosition - d.position) < 1e-4);
  assert.ok(Math.abs(d.position - 250) < 1);
  // What was decoded starts on a frame boundary and is whole frames.
  const whole = new FrameIndex().push(file, file.length, true);
  const bytes = audio.decoded[0];
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfb]);
  // Exactly the frames of the segment holding 250 s, with its 4 primer frames.
  const k = Math.floor(whole.frameAt(250) / 384); // the first run starts at ~250.3 s, in it too
  const want = file.subarray(whole.offsets[k * 384 - 4], whole.offsets[(k + 1) * 384]);
  assert.equal(bytes.length, want.length);
  assert.deepEqual(bytes, want);
  slow.release();
  player.destroy();
});
