"""Demo tracks: a few short pieces Lockstep synthesizes itself for an empty music folder.

Everything is pure Python (math, array, zlib) plus lameenc for MP3 and mutagen for tags, so a
newcomer gets something pleasant to play without shipping audio files. Speed comes from two
tricks rather than per-sample maths:

* every voice in a chord is tuned to an integer harmonic of a common fundamental whose period is
  a whole number of samples (just intonation makes that possible), so each voice is computed for
  one period only and then tiled with C-speed list repetition;
* one cycle of the chord progression is rendered once per arrangement and the track is built by
  repeating it; note tails wrap around the cycle so the repeats join seamlessly.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import operator
import os
import random
import struct
import sys
import threading
import time
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any

import lameenc
import mutagen.id3

__all__ = [
    "ALBUM",
    "ALBUM_ARTIST",
    "CHANNELS",
    "DEMO_TRACKS",
    "DEMO_VERSION",
    "MARKER_NAME",
    "SAMPLE_RATE",
    "DemoTrack",
    "cover_png",
    "encode_mp3",
    "ensure_demo_tracks",
    "synthesize",
]

DEMO_VERSION = 1
SAMPLE_RATE = 44_100
CHANNELS = 1
BITRATE_KBPS = 128
ALBUM = "Lockstep Demo Tracks"
ALBUM_ARTIST = "Lockstep Demo"
YEAR = "2024"
MARKER_NAME = ".lockstep-demo.json"
# Temp files are hidden and do not end in an audio extension, so neither a library scan nor the
# fast path below can take a half-written one for a track.
_TMP_SUFFIX = ".lockstep-tmp"
_STALE_TMP_SECONDS = 300.0
# Peak target below full scale: MP3 reconstruction overshoots the input peak a little.
_PEAK = 0.85
_COVER_SIZE = 256

F = Fraction
_MAJOR = (F(1), F(5, 4), F(3, 2))
_MINOR = (F(1), F(6, 5), F(3, 2))
_MAJ7 = (*_MAJOR, F(15, 8))
_MIN7 = (*_MINOR, F(9, 5))
_ADD9 = (*_MAJOR, F(9, 4))


@dataclass(frozen=True, slots=True)
class Chord:
    degree: Fraction  # chord root relative to the key root (just intonation)
    tones: tuple[Fraction, ...]  # chord tones relative to the chord root


@dataclass(frozen=True, slots=True)
class DemoTrack:
    number: int
    title: str
    artist: str
    genre: str
    key_hz: float  # pad register; bass sits an octave below, arpeggio an octave above
    bpm: float
    beats_per_bar: int
    chords: tuple[Chord, ...]  # one chord per bar; the progression is one cycle
    # Patterns run per eighth note of a bar. arp: index into the arpeggio tones (chord tones an
    # octave up, then the root two octaves up), None = rest. Drum/bass strings: "x" = hit.
    arp: tuple[int | None, ...]
    bass: str
    kick: str
    hat: str
    hat_tau: float  # seconds; longer sounds like a shaker, shorter like a closed hi-hat
    bell: bool  # a soft high chime on each downbeat
    sections: tuple[bool, ...]  # per cycle: True = full arrangement, False = pad + bass only
    colour: tuple[int, int, int] | None  # cover art colour; None = no embedded art

    @property
    def filename(self) -> str:
        return f"{self.number:02d} - {self.title}.mp3"

    @property
    def eighth_samples(self) -> int:
        # Integer eighth length keeps every onset on an exact sample and cycles from drifting.
        return round(SAMPLE_RATE * 30.0 / self.bpm)

    @property
    def bar_samples(self) -> int:
        return self.eighth_samples * 2 * self.beats_per_bar

    @property
    def duration(self) -> float:
        return self.bar_samples * len(self.chords) * len(self.sections) / SAMPLE_RATE


DEMO_TRACKS: tuple[DemoTrack, ...] = (
    DemoTrack(
        number=1,
        title="Morning Light",
        artist="The Quiet Hours",
        genre="Ambient Pop",
        key_hz=196.0,  # G major: I - V - vi - IV
        bpm=92,
        beats_per_bar=4,
        chords=(
            Chord(F(1), _MAJOR),
            Chord(F(3, 2), _MAJOR),
            Chord(F(5, 3), _MINOR),
            Chord(F(4, 3), _ADD9),
        ),
        arp=(0, 1, 2, 3, 2, 1, 0, 1),
        bass="x..x.x..",
        kick="x...x...",
        hat="..x...x.",
        hat_tau=0.03,
        bell=True,
        sections=(False, True, True),
        colour=(236, 150, 70),
    ),
    DemoTrack(
        number=2,
        title="Night Drive",
        artist="Neon Harbour",
        genre="Synthwave",
        key_hz=220.0,  # A minor: i - VI - III - VII
        bpm=108,
        beats_per_bar=4,
        chords=(
            Chord(F(1), _MINOR),
            Chord(F(8, 5), _MAJOR),
            Chord(F(6, 5), _MAJOR),
            Chord(F(9, 5), _MAJOR),
        ),
        arp=(0, 2, 1, 3, 0, 2, 1, 2),
        bass="x.xxx.xx",
        kick="x...x...",
        hat=".x.x.x.x",
        hat_tau=0.02,
        bell=False,
        sections=(False, True, True, False),
        colour=(70, 80, 200),
    ),
    DemoTrack(
        number=3,
        title="Slow Tide",
        artist="Tidepool",
        genre="Ambient",
        key_hz=174.6,  # F major with sevenths: Imaj7 - vi7 - IVmaj7 - Vadd9
        bpm=72,
        beats_per_bar=4,
        chords=(
            Chord(F(1), _MAJ7),
            Chord(F(5, 3), _MIN7),
            Chord(F(4, 3), _MAJ7),
            Chord(F(3, 2), _ADD9),
        ),
        arp=(0, None, 2, None, 4, None, 3, 1),
        bass="x.......",
        kick="x.......",
        hat="xxxxxxxx",
        hat_tau=0.04,
        bell=True,
        sections=(False, True),
        colour=(40, 160, 150),
    ),
    DemoTrack(
        number=4,
        title="Paper Kites",
        artist="Paper Orchestra",
        genre="Folktronica",
        key_hz=164.8,  # E major waltz: I - iii - IV - V - I - vi - ii - V
        bpm=132,
        beats_per_bar=3,
        chords=(
            Chord(F(1), _MAJOR),
            Chord(F(5, 4), _MINOR),
            Chord(F(4, 3), _MAJOR),
            Chord(F(3, 2), _MAJOR),
            Chord(F(1), _MAJOR),
            Chord(F(5, 3), _MINOR),
            Chord(F(9, 8), _MINOR),
            Chord(F(3, 2), _MAJOR),
        ),
        arp=(0, 2, 1, 2, 3, 2),
        bass="x.....",
        kick="x.....",
        hat="..x.x.",
        hat_tau=0.025,
        bell=False,
        sections=(False, True, True),
        colour=None,  # deliberately without art so the "no cover" path has a real example
    ),
)


# --- synthesis --------------------------------------------------------------------------------


def _frac_gcd(values: Iterable[Fraction]) -> Fraction:
    num = 0
    den = 1
    for v in values:
        num = math.gcd(num, v.numerator)
        den = den * v.denominator // math.gcd(den, v.denominator)
    return Fraction(num, den)


def _period(length: int, partials: Iterable[tuple[int, float]]) -> list[float]:
    """One period (`length` samples) of a sum of sines at integer harmonics of 1/length."""
    out = [0.0] * length
    step = 2.0 * math.pi / length
    for harmonic, amp in partials:
        w = step * harmonic
        out = list(map(operator.add, out, [amp * math.sin(w * k) for k in range(length)]))
    return out


def _tile(period: list[float], length: int) -> list[float]:
    return (period * (length // len(period) + 1))[:length]


def _rise(length: int) -> list[float]:
    """Raised-cosine ramp 0 -> 1: no corner at either end, so no click."""
    return [0.5 * (1.0 - math.cos(math.pi * k / length)) for k in range(length)]


def _envelope(length: int, attack: int, tau: float, release: int, gain: float) -> list[float]:
    """Raised-cosine attack, exponential decay (time constant `tau` s), raised-cosine release."""
    attack = max(1, min(attack, length))
    env = [gain * r for r in _rise(attack)]
    ratio = math.exp(-1.0 / (tau * SAMPLE_RATE))
    # accumulate() computes the whole decay in C instead of one exp() per sample.
    env += accumulate(repeat(ratio, length - attack), operator.mul, initial=gain)
    del env[length:]
    release = max(1, min(release, length))
    tail = length - release
    env[tail:] = map(operator.mul, env[tail:], reversed(_rise(release)))
    return env


def _mix(buf: list[float], src: Sequence[float], at: int) -> None:
    """Add `src` into the cyclic buffer `buf` at `at`, wrapping past the end."""
    n = len(buf)
    at %= n
    while src:
        end = min(n, at + len(src))
        buf[at:end] = map(operator.add, buf[at:end], src[: end - at])
        src = src[end - at :]
        at = 0


def _shaped(wave: list[float], env: list[float]) -> list[float]:
    return list(map(operator.mul, _tile(wave, len(env)), env))


@functools.cache
def _kick() -> tuple[float, ...]:
    # A soft, round thump: sine sweeping from ~120 Hz down to 48 Hz with a quick decay.
    out: list[float] = []
    phase = 0.0
    attack = 0.002 * SAMPLE_RATE
    for k in range(int(0.3 * SAMPLE_RATE)):
        t = k / SAMPLE_RATE
        phase += 2.0 * math.pi * (48.0 + 72.0 * math.exp(-t / 0.03)) / SAMPLE_RATE
        out.append(0.5 * min(1.0, k / attack) * math.exp(-t / 0.1) * math.sin(phase))
    return tuple(out)


def _hat(tau: float, seed: int) -> list[float]:
    rnd = random.Random(seed)  # seeded: output must be identical run to run
    n = int(tau * 5 * SAMPLE_RATE)
    noise = [rnd.uniform(-1.0, 1.0) for _ in range(n + 2)]
    # x[n] - x[n-2]: a band-pass peaking at a quarter of the sample rate, so it hisses softly
    # instead of rumbling (plain noise) or fizzing (a first difference keeps the harshest top).
    hiss = list(map(operator.sub, noise[2:], noise[:-2]))
    return list(map(operator.mul, hiss, _envelope(n, 88, tau, 441, 0.12)))


_BASS = F(1, 2)  # the bass plays chord roots an octave below the pad


def _arp_tones(chord: Chord) -> list[Fraction]:
    # What the arpeggio patterns index: the chord tones an octave up, then the root two up.
    return [t * 2 for t in chord.tones] + [F(4)]


def _bell(chord: Chord) -> Fraction:
    return chord.tones[1] * 4  # the third, two octaves up: the chord's colour note


def _render_cycle(track: DemoTrack) -> tuple[list[float], list[float]]:
    """Render one pass of the progression: (pad + bass only, full arrangement)."""
    sr = SAMPLE_RATE
    eighth = track.eighth_samples
    bar = track.bar_samples
    bars = len(track.chords)

    # Drums are the same every bar: render one bar (tails wrap within it) and repeat it.
    drums = [0.0] * bar
    hat = _hat(track.hat_tau, track.number)
    for step in range(2 * track.beats_per_bar):
        if track.kick[step] == "x":
            _mix(drums, _kick(), step * eighth)
        if track.hat[step] == "x":
            _mix(drums, hat, step * eighth)
    extra = drums * bars  # everything the full arrangement adds on top of pad + bass
    base = [0.0] * (bar * bars)

    pad_att, pad_rel = int(0.35 * sr), int(0.6 * sr)
    pad_in, pad_out = _rise(pad_att), _rise(pad_rel)[::-1]
    # The bass is monophonic: each note lasts until the next hit (capped), so notes never
    # overlap and beat against each other.
    hits = [step for step, hit in enumerate(track.bass) if hit == "x"]
    gaps = [
        (nxt - step) % len(track.bass) or len(track.bass)
        for step, nxt in zip(hits, hits[1:] + hits[:1], strict=True)
    ]
    bass_envs = {
        gap: _envelope(min(int(0.7 * sr), gap * eighth), 441, 0.3, int(0.05 * sr), 0.45)
        for gap in set(gaps)
    }
    pluck_body = _envelope(int(0.45 * sr), 176, 0.25, int(0.05 * sr), 0.15)
    pluck_bite = _envelope(int(0.2 * sr), 176, 0.05, int(0.05 * sr), 0.09)
    bell_env = _envelope(int(1.2 * sr), 132, 0.45, int(0.2 * sr), 0.05)

    voiced: list[tuple[int, int, Fraction]] = []  # per chord: (start, period, fundamental)
    pads: list[list[float]] = []
    for index, chord in enumerate(track.chords):
        start = index * bar
        root = track.key_hz * float(chord.degree)
        while root >= track.key_hz * 1.45:  # keep voice leading compact around the key
            root /= 2.0
        g = _frac_gcd([*chord.tones, *_arp_tones(chord), _BASS, _bell(chord)])
        # Whole-sample period of the chord's common fundamental; retunes by < 0.1 %.
        period = round(sr / (root * float(g)))
        pad = _tile(
            _period(
                period,
                [
                    (int(t / g) * m, 0.2 * amp / m**2)
                    for t, amp in zip(chord.tones, (1.0, 0.8, 0.8, 0.6), strict=False)
                    for m in (1, 2, 3)
                ],
            ),
            bar + pad_rel,
        )
        # The sustained middle is copied straight in (before anything else is mixed, which it
        # would overwrite); only the ends need shaping.
        base[start + pad_att : start + bar] = pad[pad_att:bar]
        voiced.append((start, period, g))
        pads.append(pad)

    for chord, (start, period, g) in zip(track.chords, voiced, strict=True):
        bass_wave = _period(period, [(int(_BASS / g), 1.0), (int(_BASS / g) * 2, 0.35)])
        bass_notes = {gap: _shaped(bass_wave, env) for gap, env in bass_envs.items()}
        for step, gap in zip(hits, gaps, strict=True):
            _mix(base, bass_notes[gap], start + step * eighth)

        arp_tones = _arp_tones(chord)
        plucks: dict[int, list[float]] = {}
        for step, tone in enumerate(track.arp):
            if tone is None:
                continue
            if tone not in plucks:
                n = int(arp_tones[tone] / g)
                note = _shaped(_period(period, [(n, 1.0)]), pluck_body)
                # Overtones die faster than the fundamental, as on a plucked string.
                _mix(note, _shaped(_period(period, [(n * 2, 0.6), (n * 3, 0.3)]), pluck_bite), 0)
                plucks[tone] = note
            _mix(extra, plucks[tone], start + step * eighth)

        if track.bell:
            n = int(_bell(chord) / g)
            _mix(extra, _shaped(_period(period, [(n, 1.0), (n * 3, 0.2)]), bell_env), start)

    for (start, _, _), pad in zip(voiced, pads, strict=True):
        # Swell in, and let the release overlap the next chord's swell: a soft crossfade.
        _mix(base, list(map(operator.mul, pad[:pad_att], pad_in)), start)
        _mix(base, list(map(operator.mul, pad[bar:], pad_out)), start + bar)

    return base, list(map(operator.add, base, extra))


@functools.cache
def _ramp(seconds: float) -> tuple[float, ...]:
    # Squared ramp: gentle start, so the cycle's wrapped-around tails are inaudible at t=0.
    n = int(seconds * SAMPLE_RATE)
    return tuple((k / n) ** 2 for k in range(n))


def _to_pcm(samples: Iterable[float]) -> array[int]:
    # int() truncates rather than rounds: 1 LSB at most, far below MP3's own quantisation, and
    # noticeably quicker than round() on a million samples.
    return array("h", map(int, samples))


def synthesize(track: DemoTrack) -> array[int]:
    """The track's PCM: 16-bit signed mono at SAMPLE_RATE, peak at _PEAK of full scale."""
    quiet, full = _render_cycle(track)
    peak = max(max(quiet), -min(quiet), max(full), -min(full))
    scale = _PEAK * 32767.0 / peak
    # Mono: halves both the pure-Python work and the encode time; a demo loses nothing by it.
    variants = {
        False: _to_pcm(map(scale.__mul__, quiet)),
        True: _to_pcm(map(scale.__mul__, full)),
    }
    pcm = array("h")
    for full_section in track.sections:
        pcm.extend(variants[full_section])

    fade_in = _ramp(0.8)
    fade_out = _ramp(3.0)[::-1]
    pcm[: len(fade_in)] = _to_pcm(map(operator.mul, pcm[: len(fade_in)], fade_in))
    pcm[-len(fade_out) :] = _to_pcm(map(operator.mul, pcm[-len(fade_out) :], fade_out))
    return pcm


def encode_mp3(pcm: array[int]) -> bytes:
    """Mono PCM -> 128 kbps CBR MP3 (CBR so browsers seek it exactly)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(CHANNELS)
    encoder.set_quality(5)  # LAME's "good, fast"; 2 doubles the time for no audible gain here
    if sys.byteorder != "little":  # lameenc wants little-endian samples
        pcm = array("h", pcm)
        pcm.byteswap()
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


# --- cover art ----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def _cover_geometry(size: int) -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
    """Per row: (shade, glow) per pixel. Colour-independent, so shared by every cover."""
    cx, cy = size * 0.2, size * 0.8
    ring = 2.0 * math.pi / (size / 9.0)
    reach = size * 0.6
    xs = range(size)
    rows = []
    for y in xs:
        shade = tuple(0.775 + 0.45 * (y - x) / (2.0 * size) for x in xs)  # diagonal gradient
        dists = [math.hypot(x - cx, y - cy) for x in xs]
        # Rings spreading from the lower-left corner and fading out, like sound.
        glow = tuple(0.35 * (0.5 + 0.5 * math.cos(d * ring)) * math.exp(-d / reach) for d in dists)
        rows.append((shade, glow))
    return tuple(rows)


def cover_png(colour: tuple[int, int, int], size: int = _COVER_SIZE) -> bytes:
    """A square 8-bit RGB PNG: a gradient in `colour` with soft light rings."""
    rows = []
    for shade, glow in _cover_geometry(size):
        row = bytearray(1 + 3 * size)  # leading 0 = filter type None
        for offset, c in enumerate(colour):
            # Whole-row comprehension per channel, not a per-pixel loop: several times faster.
            row[1 + offset :: 3] = bytes(
                [int(c * s + (255 - c * s) * g) for s, g in zip(shade, glow, strict=True)]
            )
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


# --- files --------------------------------------------------------------------------------------


def _tags(track: DemoTrack) -> Any:  # mutagen.id3.ID3; mutagen's constructors are untyped
    id3: Any = mutagen.id3
    tags = id3.ID3()
    tags.add(id3.TIT2(encoding=3, text=track.title))  # encoding 3 = UTF-8
    tags.add(id3.TPE1(encoding=3, text=track.artist))
    tags.add(id3.TALB(encoding=3, text=ALBUM))
    tags.add(id3.TPE2(encoding=3, text=ALBUM_ARTIST))
    tags.add(id3.TRCK(encoding=3, text=f"{track.number}/{len(DEMO_TRACKS)}"))
    tags.add(id3.TDRC(encoding=3, text=YEAR))
    tags.add(id3.TCON(encoding=3, text=track.genre))
    if track.colour is not None:
        tags.add(
            id3.APIC(
                encoding=3,
                mime="image/png",
                type=id3.PictureType.COVER_FRONT,
                desc="Cover",
                data=cover_png(track.colour),
            )
        )
    return tags


def _temp_path(folder: Path, name: str) -> Path:
    # Unique per process and thread, so concurrent writers never share a temp file.
    return folder / f".{name.lstrip('.')}.{os.getpid()}-{threading.get_ident()}{_TMP_SUFFIX}"


def _write_track(folder: Path, track: DemoTrack) -> Path:
    final = folder / track.filename
    tmp = _temp_path(folder, track.filename)
    try:
        with tmp.open("wb") as f:
            f.write(encode_mp3(synthesize(track)))
        _tags(track).save(tmp, v2_version=4)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return final


def _write_marker(folder: Path, sizes: dict[str, int]) -> None:
    marker = folder / MARKER_NAME
    tmp = _temp_path(folder, MARKER_NAME)
    tmp.write_text(json.dumps({"version": DEMO_VERSION, "tracks": sizes}, indent=1) + "\n")
    os.replace(tmp, marker)


def _read_marker(folder: Path) -> tuple[int | None, dict[str, int]]:
    try:
        data = json.loads((folder / MARKER_NAME).read_text())
        version = data["version"]
        tracks = data["tracks"]
        if not isinstance(version, int) or not isinstance(tracks, dict):
            return None, {}
        return version, {str(k): int(v) for k, v in tracks.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None, {}


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _clean_temp_files(folder: Path) -> None:
    # Leftovers from a crash; skip fresh ones, which may belong to a concurrent writer.
    cutoff = time.time() - _STALE_TMP_SECONDS
    for tmp in folder.glob(f".*{_TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()


def demo_tracks_ready(folder: Path) -> bool:
    """True when `folder` holds the current demo tracks, intact (no file is read)."""
    folder = Path(folder)
    version, recorded = _read_marker(folder)
    return version == DEMO_VERSION and all(
        _size(folder / t.filename) == recorded.get(t.filename, -1) for t in DEMO_TRACKS
    )


def ensure_demo_tracks(folder: Path) -> list[Path]:
    """Create the demo tracks in `folder` if they are missing or from an older DEMO_VERSION;
    idempotent and fast when already present (no re-encoding). Returns the track paths. Writes
    atomically (temp file + os.replace) so a crash never leaves a half-written track that looks
    complete."""
    folder = Path(folder)
    paths = [folder / t.filename for t in DEMO_TRACKS]
    version, recorded = _read_marker(folder)
    current = version == DEMO_VERSION
    # A track counts as present only if the marker vouches for its exact size: that catches
    # truncated or replaced files without reading them.
    if current and all(_size(p) == recorded.get(p.name, -1) for p in paths):
        return paths

    folder.mkdir(parents=True, exist_ok=True)
    _clean_temp_files(folder)
    if not current:
        wanted = {p.name for p in paths}
        for name in recorded:  # tracks an older version made that this one no longer has
            if name not in wanted and Path(name).name == name and not name.startswith("."):
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
    sizes: dict[str, int] = {}
    for track, path in zip(DEMO_TRACKS, paths, strict=True):
        if not current or _size(path) != recorded.get(path.name, -1):
            _write_track(folder, track)
        sizes[path.name] = path.stat().st_size
    _write_marker(folder, sizes)
    return paths


if __name__ == "__main__":  # python -m shared.library.demo FOLDER (the catalog runs it this way)
    import sys

    ensure_demo_tracks(Path(sys.argv[1]))
