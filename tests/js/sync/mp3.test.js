import assert from "node:assert/strict";
import { test } from "node:test";

import { DECODER_DELAY, FrameIndex, Segments, cbrLayout, framesInChunk, parseHeader } from "../../../webapp/static/js/sync/mp3.js";

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

test("in a constant-bitrate file any frame is found from a byte range alone", () => {
  const bytes = mp3({ frames: 3000, padded: true });
  const whole = new FrameIndex().push(bytes, bytes.length, true);
  const head = new FrameIndex().push(bytes, 20_000); // only the start has arrived
  const layout = cbrLayout(head, bytes.length, bytes);
  assert.ok(layout);
  for (const from of [1, 777, 2500]) {
    const a = Math.max(0, Math.floor(layout.first + from * layout.bytesPerFrame) - 2000);
    const chunk = bytes.subarray(a, a + 30 * 420);
    const found = framesInChunk(chunk, a, layout, head.format, from, from + 20);
    assert.deepEqual(found.offsets, whole.offsets.slice(from, from + 20));
  }
  // A range that starts after the frames asked for finds nothing rather than the wrong frames.
  const late = Math.floor(layout.first + 100 * layout.bytesPerFrame) + 10;
  assert.equal(framesInChunk(bytes.subarray(late, late + 20_000), late, layout, head.format, 100, 110), null);
});

test("a VBR file (Xing tag) has no layout to jump by", () => {
  const bytes = mp3({ frames: 100 });
  bytes.set([..."Xing"].map((c) => c.charCodeAt(0)), 110 + 36);
  const idx = new FrameIndex().push(bytes, bytes.length, true);
  assert.equal(cbrLayout(idx, bytes.length, bytes), null);
});
