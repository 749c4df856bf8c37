import assert from "node:assert/strict";
import { test } from "node:test";

import { ClockEstimator, ClockSync, sampleFromPing } from "../../../webapp/static/js/sync/clock.js";
import { FakeTime, fakeServer, random } from "./fakes.js";

test("a ping gives the NTP offset and round trip", () => {
  // Sent at 10.000 local, 4.5 ms each way, 1 ms in the server, with the server 1000 s ahead.
  const s = sampleFromPing({ t0: 10, t1: 1010.0045, t2: 1010.0055 }, 10.01);
  assert.ok(Math.abs(s.rtt - 0.009) < 1e-9);
  assert.ok(Math.abs(s.offset - 1000) < 1e-9);
  assert.equal(sampleFromPing({ t0: 10, t1: 5, t2: 4 }, 11), null); // answered before received
});

test("the lowest round trip of the window wins, not the latest or the average", () => {
  const est = new ClockEstimator({ windowS: 30 });
  // True offset 1000; a slow sample's error is up to half its round trip.
  est.add({ offset: 1000.02, rtt: 0.05, at: 1 });
  est.add({ offset: 1000.0004, rtt: 0.001, at: 2 });
  est.add({ offset: 999.99, rtt: 0.03, at: 3 });
  assert.ok(Math.abs(est.offsetAt(3) - 1000) < 0.001);
  assert.equal(est.rttAt(3), 0.001);
});

test("samples older than the window stop counting", () => {
  const est = new ClockEstimator({ windowS: 30 });
  est.add({ offset: 1000.0, rtt: 0.001, at: 0 });
  est.add({ offset: 1000.005, rtt: 0.01, at: 20 });
  assert.equal(est.rttAt(25), 0.001);
  assert.equal(est.rttAt(40), 0.01); // the tight sample aged out: the clock may have moved since
});

test("a lone wild sample is ignored; a server restart (repeated jump) resets the estimate", () => {
  const est = new ClockEstimator();
  est.add({ offset: 1000, rtt: 0.002, at: 1 });
  est.add({ offset: 5, rtt: 0.001, at: 2 });
  assert.ok(Math.abs(est.offsetAt(2) - 1000) < 1e-9);
  est.add({ offset: 5, rtt: 0.002, at: 3 });
  est.add({ offset: 5, rtt: 0.002, at: 4 });
  assert.ok(Math.abs(est.offsetAt(4) - 5) < 1e-9);
});

test("skew between the clocks is fitted over minutes and extrapolated", () => {
  const est = new ClockEstimator({ windowS: 30 });
  const skew = 50e-6; // the server clock gains 50 us per second
  for (let t = 0; t <= 300; t += 3) est.add({ offset: 1000 + skew * t, rtt: 0.002, at: t });
  // 29 s after the best sample in the window, the skew alone would be 1.45 ms of error.
  const guess = est.offsetAt(329);
  assert.ok(Math.abs(guess - (1000 + skew * 329)) < 0.0002, `off by ${(guess - 1000 - skew * 329) * 1e3} ms`);
  assert.ok(Math.abs(est.skew - skew) < 5e-6);
});

test("start sends a burst of 16 pings one at a time, then one every interval", async () => {
  const time = new FakeTime();
  const server = fakeServer(time);
  const sync = new ClockSync({ ping: server.ping, now: time.now, timers: time, intervalMs: 3000 });
  sync.start();
  await time.advance(1.0);
  assert.equal(server.pings.length, 16);
  // Never two in flight: each ping leaves after the previous answer came back.
  for (let i = 1; i < 16; i++) assert.ok(server.pings[i].at - server.pings[i - 1].at >= 0.004);
  assert.ok(sync.ready);
  await time.advance(9.5);
  assert.equal(server.pings.length, 19);
  // Later pings tell the server our best round trip, which sets the room's lead.
  assert.ok(Math.abs(server.pings[18].payload.rtt - 0.0041) < 0.0005);
  sync.stop();
});

test("with jittery, asymmetric delays the estimate lands within a millisecond", async () => {
  const time = new FakeTime();
  const rnd = random(7);
  // Most pings are delayed 5-60 ms one way or the other; a few go through quickly.
  const server = fakeServer(time, {
    offset: 1234.5,
    up: () => (rnd() < 0.2 ? 0.001 : 0.005 + rnd() * 0.055),
    down: () => (rnd() < 0.2 ? 0.001 : 0.005 + rnd() * 0.055),
  });
  const sync = new ClockSync({ ping: server.ping, now: time.now, timers: time });
  sync.start();
  await time.advance(2);
  assert.ok(Math.abs(sync.offset() - 1234.5) < 0.001, `offset error ${(sync.offset() - 1234.5) * 1e3} ms`);
  assert.ok(Math.abs(sync.serverNow() - (time.now() + 1234.5)) < 0.001);
  sync.stop();
});

test("resync after a reconnect starts a fresh burst and forgets the old server clock", async () => {
  const time = new FakeTime();
  let offset = 1000;
  const server = fakeServer(time);
  const ping = (p) => server.ping(p).then((ack) => (ack.ok ? { ...ack, t1: ack.t1 - 1000 + offset, t2: ack.t2 - 1000 + offset } : ack));
  const sync = new ClockSync({ ping, now: time.now, timers: time });
  sync.start();
  await time.advance(1);
  offset = 7; // the server restarted: its monotonic clock began again
  const before = server.pings.length;
  sync.resync({ fresh: true });
  assert.ok(!sync.ready);
  await time.advance(1);
  assert.ok(server.pings.length - before >= 16);
  assert.ok(Math.abs(sync.offset() - 7) < 0.001);
  sync.stop();
});

test("a return to a visible tab shortly after a burst sends no second burst", async () => {
  const time = new FakeTime();
  const server = fakeServer(time);
  const sync = new ClockSync({ ping: server.ping, now: time.now, timers: time, minResyncMs: 5000 });
  sync.start();
  await time.advance(1);
  sync.resync();
  await time.advance(1);
  assert.equal(server.pings.length, 16);
  await time.advance(5);
  sync.resync();
  await time.advance(1);
  assert.ok(server.pings.length >= 32);
  sync.stop();
});

test("a rate-limited ping waits as long as the server asks", async () => {
  const time = new FakeTime();
  const server = fakeServer(time);
  server.refuse = (n) => n === 3;
  const sync = new ClockSync({ ping: server.ping, now: time.now, timers: time });
  sync.start();
  await time.advance(0.3);
  const refusedAt = server.pings[3].at;
  assert.ok(server.pings.length === 4 || server.pings[4].at - refusedAt >= 0.5);
  await time.advance(2);
  assert.ok(server.pings[4].at - refusedAt >= 0.5);
  sync.stop();
});

test("however often resync is called, pings stay under the server's 20 a second", async () => {
  const time = new FakeTime();
  const server = fakeServer(time, { up: () => 0.0005, down: () => 0.0005 });
  const sync = new ClockSync({ ping: server.ping, now: time.now, timers: time, burstGapMs: 5 });
  sync.start();
  for (let i = 0; i < 20; i++) {
    await time.advance(0.1);
    sync.resync({ fresh: i % 2 === 0 }); // reconnects and tab switches, in a storm
  }
  await time.advance(3);
  const at = server.pings.map((p) => p.at);
  for (let i = 0; i < at.length; i++) {
    const inSecond = at.filter((t) => t >= at[i] && t < at[i] + 1).length;
    assert.ok(inSecond <= 18, `${inSecond} pings in the second from ${at[i]}`);
  }
  assert.ok(sync.ready, "and the estimate is still made");
  sync.stop();
});
