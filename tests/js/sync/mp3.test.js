import assert from "node:assert/strict";
import { test } from "node:test";

import { DECODER_DELAY, FrameIndex, Segments, parseHeader } from "../../../webapp/static/js/sync/mp3.js";

import { FRAME, HEADER, mp3 } from "./fakes.js";

test("frame headers: layer III at 128 kbps / 44.1 kHz is 417 bytes of 1152 samples", () => {
  const h = parseHeader(new Uint8Array(HEADER), 0);
  assert.equal(h.length, FRAME);
  assert.equal(h.samples, 1152);
  assert.equal(h.sampleRate, 44100);
  assert.equal(parseHeader(new Uint8Array([0xff, 0xfb, 0xf0, 0]), 0), null); // bad bitrate index
});

test("the index skips ID3 and the LAME info frame, and takes the encoder delay from it", () => {
  const bytes = mp3({ frames: 50 });
  const idx = new FrameIndex().push(bytes, bytes.length, true);
  assert.equal(idx.frames, 50);
  assert.equal(idx.offsets[0], 110 + FRAME);
  assert.equal(idx.offsets[49], 110 + 50 * FRAME);
  assert.equal(idx.delay, 576 + DECODER_DELAY);
  // Track time 0 is the first sample after the delay; each frame is 1152 samples later.
  assert.ok(Math.abs(idx.timeOfFrame(1) - (1152 - 1105) / 44100) < 1e-12);
  assert.equal(idx.frameAt(idx.timeOfFrame(17) + 1e-6), 17);
});

test("without a LAME tag nothing is dropped from the start", () => {
  const bytes = mp3({ frames: 10, info: false, id3: 0 });
  const idx = new FrameIndex().push(bytes, bytes.length, true);
  assert.equal(idx.frames, 10);
  assert.equal(idx.delay, 0);
  assert.equal(idx.timeOfFrame(0), 0);
});

test("indexing as the bytes arrive gives the same index as all at once", () => {
  const bytes = mp3({ frames: 40, junkAfter: 20 });
  const whole = new FrameIndex().push(bytes, bytes.length, true);
  const growing = new FrameIndex();
  for (let n = 0; n < bytes.length; n += 333) growing.push(bytes, n);
  growing.push(bytes, bytes.length, true);
  assert.deepEqual(growing.offsets, whole.offsets);
  assert.equal(whole.frames, 40); // the junk after frame 20 is skipped, every frame found
});

test("segments cover the track back to back, each decoded with primer frames before it", () => {
  const bytes = mp3({ frames: 1000 });
  const idx = new FrameIndex().push(bytes, bytes.length, true);
  const segs = new Segments(idx, { size: 384, prime: 4 });
  assert.equal(segs.count(), 3);
  const s0 = segs.range(0);
  const s1 = segs.range(1);
  assert.equal(s0.start, 0);
  assert.equal(s0.end, s1.start); // no gap, no overlap
  assert.equal(s1.decodeFrom, 380);
  assert.ok(s1.bufferStart < s1.start);
  assert.equal(segs.at(s1.start + 0.001), 1);
  assert.equal(idx.bytesOf(bytes, s1.decodeFrom, s1.last).length, (s1.last - s1.decodeFrom) * FRAME);
  const last = segs.range(2);
  assert.equal(last.last, 1000);
});

test("a segment is available only once its frames have arrived", () => {
  const bytes = mp3({ frames: 1000 });
  const idx = new FrameIndex();
  const segs = new Segments(idx, { size: 384 });
  idx.push(bytes, 110 + FRAME * 500);
  assert.equal(segs.available(0), true);
  assert.equal(segs.available(1), false);
  idx.push(bytes, bytes.length, true);
  assert.equal(segs.available(2), true);
});
