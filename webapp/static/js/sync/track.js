// One track's audio for Web Audio output: fetched once (the compressed file is small: about 1 MB a
// minute), indexed frame by frame as it arrives, and decoded a segment (~10 s) at a time so the
// first sound needs one short decode and memory stays bounded (decoded audio is ~21 MB a minute
// of stereo float32; a few segments are ~15 MB whatever the track's length). A constant-bitrate
// MP3's far segments are fetched ahead of the download by byte range. Files that are not MP3 are
// decoded whole once they have arrived.

import { FrameIndex, Segments, cbrLayout, framesInChunk } from "./mp3.js";

const KEEP_SEGMENTS = 3; // decoded segments kept per track: the one playing, the next, one spare
// A segment the download will not reach for this many more bytes is fetched on its own (a Range
// request), so a listener joining late into a long track on a slow link starts at once.
const JUMP_AHEAD_BYTES = 256 * 1024;

export class Track {
  constructor(url, { fetch, decode, now = performance_now, segmentFrames = 384 }) {
    this.url = url;
    this.now = now; // ms
    this.fetchImpl = fetch;
    this.decodeImpl = decode; // (ArrayBuffer) => Promise<AudioBuffer>
    this.index = new FrameIndex();
    this.segments = new Segments(this.index, { size: segmentFrames });
    this.bytes = new Uint8Array(0);
    this.length = 0;
    this.complete = false;
    this.error = null;
    this.whole = null; // {buffer} for files decoded whole (not MP3)
    this.decoded = new Map(); // segment k -> {buffer, used} | {promise}
    this.waiters = [];
    this.loading = null;
    this.size = 0; // the file's length, from Content-Length
    this.islands = new Map(); // segment k -> {offsets, bytes, base} | {pending} | {failed}
  }

  load() {
    this.loading ??= this.fetchAll().catch((err) => {
      this.error = String(err?.message ?? err);
      this.failedAt = this.now();
      this.wake();
    });
    return this.loading;
  }

  async fetchAll() {
    const res = await this.fetchImpl(this.url);
    if (!res.ok) throw new Error(`track ${this.url}: HTTP ${res.status}`);
    const total = Number(res.headers.get("content-length")) || 0;
    this.size = total;
    this.bytes = new Uint8Array(total || 1 << 20);
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      this.append(value);
      this.index.push(this.bytes, this.length);
      this.wake();
    }
    this.complete = true;
    this.index.push(this.bytes, this.length, true);
    if (this.index.invalid || !this.index.format) {
      const copy = this.bytes.slice(0, this.length).buffer;
      this.whole = { buffer: await this.decodeImpl(copy) };
    }
    this.wake();
  }

  append(chunk) {
    if (this.length + chunk.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + chunk.length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves on the next progress (bytes, a decode finishing, an error). */
  progress() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get isMp3() {
    return !!this.index.format && !this.index.invalid;
  }

  /** Duration known from what has arrived, in seconds (null before anything is known). */
  duration() {
    if (this.whole) return this.whole.buffer.duration;
    if (!this.isMp3 || !this.complete) return null;
    return this.index.timeOfFrame(this.index.frames);
  }

  /** The segment covering track time t: {k, start, end, bufferStart}, or null if not known yet. */
  segmentAt(t) {
    if (this.whole) return { k: 0, start: 0, end: this.whole.buffer.duration, bufferStart: 0 };
    if (!this.isMp3) return null;
    return this.segment(this.segments.at(t));
  }

  /** The segment after `seg`, or null at the end / not yet known. */
  nextSegment(seg) {
    if (this.whole) return null;
    return this.segment(seg.k + 1);
  }

  segment(k) {
    if (this.complete && k >= this.segments.count()) return null; // past the end
    if (this.segments.available(k)) return this.segments.range(k);
    const island = this.island(k);
    return island?.offsets ? { ...this.segments.range(k, this.layout.frames), island } : null;
  }

  /** Segment k fetched on its own by byte range, when the download is far from it. */
  island(k) {
    const held = this.islands.get(k);
    if (held) return held;
    this.layout ??= cbrLayout(this.index, this.size, this.bytes);
    const layout = this.layout;
    if (!layout || k >= this.segments.count(layout.frames)) return null;
    const seg = this.segments.range(k, layout.frames);
    const slack = 4 * Math.ceil(layout.bytesPerFrame);
    const from = Math.max(0, Math.floor(layout.first + seg.decodeFrom * layout.bytesPerFrame) - slack);
    if (from < this.length + JUMP_AHEAD_BYTES) return null; // the download gets there soon
    const to = Math.min(this.size, Math.ceil(layout.first + seg.last * layout.bytesPerFrame) + slack);
    const entry = { pending: true };
    this.islands.set(k, entry);
    // no-store: a request for a URL the cache is still filling would wait for that download.
    this.fetchImpl(this.url, { headers: { Range: `bytes=${from}-${to - 1}` }, cache: "no-store" })
      .then(async (res) => {
        if (res.status !== 206) throw new Error(`range: HTTP ${res.status}`);
        const chunk = new Uint8Array(await res.arrayBuffer());
        const found = framesInChunk(chunk, from, layout, this.index.format, seg.decodeFrom, seg.last);
        if (!found) throw new Error("range: frames not where a constant bitrate puts them");
        const start = found.offsets[0] - from;
        Object.assign(entry, {
          pending: false,
          offsets: found.offsets,
          bytes: chunk.subarray(start, found.end - from),
        });
      })
      .catch(() => {
        entry.pending = false;
        entry.failed = true; // the download will get there
      })
      .finally(() => this.wake());
    return entry;
  }

  /** Track time of the first sample of a segment's decoded buffer. */
  bufferStart(seg) {
    return seg.bufferStart + (this.decoded.get(seg.k)?.shift ?? 0);
  }

  /** The decoded AudioBuffer of a segment if ready; starts decoding it otherwise. */
  buffer(seg) {
    if (this.whole) return this.whole.buffer;
    const held = this.decoded.get(seg.k);
    if (held?.buffer) {
      held.used = this.now();
      return held.buffer;
    }
    if (!held) {
      const source = seg.island ? seg.island.bytes : this.index.bytesOf(this.bytes, seg.decodeFrom, seg.last);
      const bytes = source.slice().buffer;
      const entry = { promise: null, used: this.now() };
      entry.promise = this.decodeImpl(bytes).then(
        (buffer) => {
          // Decoded bit-exact with the whole file in Chromium (bench/sync checks); should a decoder
          // drop undecodable primer frames, they are missing from the start: align by the end.
          const expected = ((seg.last - seg.decodeFrom) * this.index.samplesPerFrame) / this.index.sampleRate;
          entry.shift = Math.max(0, expected - buffer.duration);
          entry.buffer = buffer;
          this.evict();
          this.wake();
        },
        (err) => {
          this.decoded.delete(seg.k);
          this.error = `decode failed: ${err?.message ?? err}`;
          this.wake();
        },
      );
      this.decoded.set(seg.k, entry);
    }
    return null;
  }

  evict() {
    if (this.decoded.size <= KEEP_SEGMENTS) return;
    const byAge = [...this.decoded.entries()]
      .filter(([, e]) => e.buffer)
      .sort((a, b) => a[1].used - b[1].used);
    for (const [k] of byAge.slice(0, this.decoded.size - KEEP_SEGMENTS)) this.decoded.delete(k);
  }

  /** Track time ranges decoded and ready, [[start, end], ...]. */
  ranges() {
    if (this.whole) return [[0, this.whole.buffer.duration]];
    const out = [];
    for (const [k, e] of [...this.decoded.entries()].sort((a, b) => a[0] - b[0])) {
      if (!e.buffer) continue;
      const frames = this.complete ? this.index.frames : (this.layout?.frames ?? this.index.frames);
      const { start, end } = this.segments.range(k, frames);
      const last = out[out.length - 1];
      if (last && Math.abs(last[1] - start) < 1e-6) last[1] = end;
      else out.push([start, end]);
    }
    return out;
  }

  /** Decoded bytes held, for the memory figure in debug(). */
  decodedBytes() {
    let n = 0;
    const all = this.whole ? [this.whole] : [...this.decoded.values()];
    for (const e of all) if (e.buffer) n += e.buffer.length * e.buffer.numberOfChannels * 4;
    return n;
  }
}

function performance_now() {
  return globalThis.performance?.now?.() ?? Date.now();
}
