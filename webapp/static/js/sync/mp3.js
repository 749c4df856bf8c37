// MPEG audio frame index: where each frame of an MP3 starts, so that any stretch of the track can
// be cut out at frame boundaries and decoded on its own (Web Audio's decodeAudioData wants whole
// files; a run of frames is one). Every frame holds the same number of samples, so frame i begins
// at sample i * samplesPerFrame exactly, for CBR and VBR alike: seeking by the index is exact where
// an <audio> element's seek in a VBR MP3 is not.
//
// Time 0 of the track is where the browser's own decoder puts it: FFmpeg (Chromium's decoder)
// drops the encoder delay written in a LAME tag plus its own 529-sample decoder delay, and drops
// nothing when there is no such tag.

const BITRATES = {
  // [version MPEG1?][layer] kbps by index
  v1: {
    1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  },
  v2: {
    1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  },
};
const SAMPLE_RATES = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };
export const DECODER_DELAY = 529; // samples FFmpeg's mp3 decoder adds, and drops with a LAME tag

/** Parse the 4-byte frame header at `pos`; null if there is no valid header there. */
export function parseHeader(bytes, pos) {
  if (pos + 4 > bytes.length) return null;
  const b1 = bytes[pos + 1];
  const b2 = bytes[pos + 2];
  if (bytes[pos] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const version = (b1 >> 3) & 3; // 3 MPEG1, 2 MPEG2, 0 MPEG2.5
  const layerBits = (b1 >> 1) & 3;
  if (version === 1 || layerBits === 0) return null;
  const layer = 4 - layerBits; // 1, 2 or 3
  const brIndex = b2 >> 4;
  const srIndex = (b2 >> 2) & 3;
  if (brIndex === 0 || brIndex === 15 || srIndex === 3) return null; // free format unsupported
  const bitrate = BITRATES[version === 3 ? "v1" : "v2"][layer][brIndex] * 1000;
  const sampleRate = SAMPLE_RATES[version][srIndex];
  const padding = (b2 >> 1) & 1;
  const mono = bytes[pos + 3] >> 6 === 3;
  let samples;
  let length;
  if (layer === 1) {
    samples = 384;
    length = (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  } else if (layer === 2 || version === 3) {
    samples = 1152;
    length = Math.floor((144 * bitrate) / sampleRate) + padding;
  } else {
    samples = 576;
    length = Math.floor((72 * bitrate) / sampleRate) + padding;
  }
  return { version, layer, bitrate, sampleRate, samples, length, mono };
}

/** Size of an ID3v2 tag at the start of the file, 0 if none. */
export function id3v2Size(bytes) {
  if (bytes.length < 10 || bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x33) return 0;
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  const footer = bytes[5] & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

/** The Xing/Info (or VBRI) header in a frame, with a LAME tag's encoder delay if present. */
export function parseInfoFrame(bytes, pos, header) {
  const side = header.version === 3 ? (header.mono ? 17 : 32) : header.mono ? 9 : 17;
  const at = pos + 4 + side;
  const tag = String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag === "Xing" || tag === "Info") {
    const flags = readU32(bytes, at + 4);
    let p = at + 8;
    const frames = flags & 1 ? readU32(bytes, p) : null;
    if (flags & 1) p += 4;
    if (flags & 2) p += 4;
    if (flags & 4) p += 100;
    if (flags & 8) p += 4;
    const lame = String.fromCharCode(...bytes.subarray(p, p + 4));
    let encoderDelay = null;
    if (lame === "LAME" || lame === "Lavf" || lame === "Lavc") {
      encoderDelay = (bytes[p + 21] << 4) | (bytes[p + 22] >> 4);
    }
    return { tag, encoderDelay, frames };
  }
  if (String.fromCharCode(...bytes.subarray(pos + 36, pos + 40)) === "VBRI") {
    return { tag: "VBRI", encoderDelay: null, frames: null };
  }
  return null;
}

function readU32(bytes, p) {
  return ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0;
}

function sameStream(a, b) {
  return a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

/**
 * Builds the frame index as bytes arrive: push(bytes, length) with the bytes received so far.
 * `offsets[i]` is the byte offset of audio frame i; `end` the byte after the last complete frame.
 */
export class FrameIndex {
  constructor() {
    this.offsets = [];
    this.format = null; // first frame's header: sampleRate, samples per frame, layer
    this.delay = 0; // samples before track time 0, as the browser's decoder drops them
    this.pos = null; // scan position
    this.end = 0;
    this.complete = false;
    this.invalid = false; // not MPEG audio
    this.info = null; // the Xing/Info/VBRI tag, if any
  }

  get frames() {
    return this.offsets.length;
  }

  /** Scan what `bytes[0:length]` adds; `final` once the whole file is in. */
  push(bytes, length = bytes.length, final = false) {
    const view = length === bytes.length ? bytes : bytes.subarray(0, length);
    if (this.pos === null) {
      if (view.length < 10) return this;
      const skip = id3v2Size(view);
      if (view.length < skip + 4) return this;
      this.pos = skip;
    }
    while (this.pos + 4 <= view.length) {
      const h = parseHeader(view, this.pos);
      if (h && (!this.format || sameStream(h, this.format))) {
        if (this.pos + h.length > view.length && !final) break; // frame not complete yet
        if (!this.format) {
          // The first frame must be followed by another frame, or it is noise that looks like one.
          const next = parseHeader(view, this.pos + h.length);
          if (!next && this.pos + h.length + 4 <= view.length) {
            this.pos += 1;
            continue;
          }
          if (!next && !final) break;
          this.format = h;
          const info = parseInfoFrame(view, this.pos, h);
          this.info = info;
          if (info) {
            // FFmpeg treats the tag frame as a header, not audio.
            this.delay = info.encoderDelay === null ? 0 : info.encoderDelay + DECODER_DELAY;
            this.pos += h.length;
            this.end = this.pos;
            continue;
          }
        }
        this.offsets.push(this.pos);
        this.pos += h.length;
        this.end = Math.min(this.pos, view.length);
        continue;
      }
      if (!this.format && this.pos > 64 * 1024) {
        this.invalid = true; // no MPEG audio in the first 64 KB
        break;
      }
      // Lost sync (junk, a tag at the end): find the next header.
      if (view[this.pos] === 0x54 && view[this.pos + 1] === 0x41 && view[this.pos + 2] === 0x47) break; // ID3v1
      this.pos += 1;
    }
    if (final) this.complete = true;
    return this;
  }

  get sampleRate() {
    return this.format?.sampleRate ?? null;
  }

  get samplesPerFrame() {
    return this.format?.samples ?? null;
  }

  /** Track time (seconds) at which audio frame i starts. */
  timeOfFrame(i) {
    return (i * this.format.samples - this.delay) / this.format.sampleRate;
  }

  /** The audio frame holding track time t. */
  frameAt(t) {
    const i = Math.floor((t * this.format.sampleRate + this.delay) / this.format.samples);
    return Math.max(0, i);
  }

  /** Bytes of frames [a, b) (b clamped), for decoding on their own. */
  bytesOf(bytes, a, b) {
    const end = b < this.offsets.length ? this.offsets[b] : this.end;
    return bytes.subarray(this.offsets[a], end);
  }
}

/**
 * Fixed-size segments of a track for decoding one at a time: segment k holds frames
 * [k*size, (k+1)*size), decoded together with `prime` frames before it (the decoder needs them
 * to rebuild its state; their output is thrown away). Pure arithmetic on a FrameIndex.
 */
export class Segments {
  constructor(index, { size = 384, prime = 4 } = {}) {
    this.index = index;
    this.size = size; // 384 frames of 1152 samples at 44.1 kHz: about 10 s
    this.prime = prime;
  }

  count(frames = this.index.frames) {
    return Math.ceil(frames / this.size);
  }

  /** Segment holding track time t. */
  at(t) {
    return Math.floor(this.index.frameAt(t) / this.size);
  }

  /** {first, last, decodeFrom, start, end}: frames, and the track times the segment covers. */
  range(k, frames = this.index.frames) {
    const first = k * this.size;
    const last = Math.min(first + this.size, frames); // exclusive
    const decodeFrom = Math.max(0, first - this.prime);
    const start = Math.max(0, this.index.timeOfFrame(first));
    const end = this.index.timeOfFrame(last);
    // Track time of the first decoded sample: where the decoded buffer's offset 0 lies.
    const bufferStart = this.index.timeOfFrame(decodeFrom);
    return { k, first, last, decodeFrom, start, end, bufferStart };
  }

  /** True when the frames (and the primer) of segment k have arrived. */
  available(k) {
    const { last } = this.range(k);
    return this.index.complete || last < this.index.frames;
  }
}

/**
 * Where frames lie in a constant-bitrate file, from its first frames: frame i starts within a
 * byte of `first + i * bytesPerFrame` (the encoder pads frames to keep exactly to the bitrate).
 * Null for VBR (only a scan finds its frames). `size` is the file's length in bytes.
 */
export function cbrLayout(index, size, bytes) {
  const f = index.format;
  if (!f || index.invalid || !index.offsets.length || !size) return null;
  const tag = index.info?.tag;
  if (tag === "Xing" || tag === "VBRI") return null;
  if (tag !== "Info") {
    // No tag: believe CBR when the first frames all have one bitrate.
    if (index.frames < 16) return null;
    for (let i = 1; i < 16; i++) {
      if (parseHeader(bytes, index.offsets[i])?.bitrate !== f.bitrate) return null;
    }
  }
  const bytesPerFrame = (f.samples / 8) * (f.bitrate / f.sampleRate);
  const first = index.offsets[0];
  const frames = index.info?.frames ?? Math.floor((size - first) / bytesPerFrame);
  return { first, bytesPerFrame, frames };
}

/**
 * Frames [from, to) found in `chunk` (the file's bytes from offset `base`) of a CBR file laid out
 * as `layout`: {offsets (absolute, one per frame from `from`), end}. Null when the chunk does
 * not hold them all.
 */
export function framesInChunk(chunk, base, layout, format, from, to) {
  for (let pos = 0; pos + 4 <= chunk.length; pos++) {
    const h = parseHeader(chunk, pos);
    if (!h || !sameStream(h, format) || !parseHeader(chunk, pos + h.length)) continue;
    const j = Math.round((base + pos - layout.first) / layout.bytesPerFrame);
    if (Math.abs(base + pos - layout.first - j * layout.bytesPerFrame) > 2) continue;
    if (j > from) return null; // the chunk starts too late
    const offsets = [];
    let p = pos;
    for (let i = j; i < to; i++) {
      const hi = parseHeader(chunk, p);
      if (!hi || p + hi.length > chunk.length) return null;
      if (i >= from) offsets.push(base + p);
      p += hi.length;
    }
    return { offsets, end: base + p };
  }
  return null;
}
