"""The synthesized demo tracks: real MP3 files, tagged, with valid cover art, written atomically."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from array import array
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from shared.library import demo

FULL_SCALE = 32767


@pytest.fixture(scope="module")
def generation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """One generated demo folder for the module, and the CPU seconds it took."""
    folder = tmp_path_factory.mktemp("demo-original") / "demo"
    start = time.process_time()
    demo.ensure_demo_tracks(folder)
    return folder, time.process_time() - start


@pytest.fixture
def generated(generation: tuple[Path, float]) -> Path:
    return generation[0]  # tests that change files work on a copy (`folder`)


@pytest.fixture
def folder(generated: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(generated, copy)  # copy2 keeps sizes and mtimes, so the marker still holds
    return copy


@pytest.fixture(scope="module")
def pcm() -> dict[int, array[int]]:
    return {t.number: demo.synthesize(t) for t in demo.DEMO_TRACKS}


def _no_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(_: array[int]) -> bytes:
        raise AssertionError("re-encoded a track that was already present")

    monkeypatch.setattr(demo, "encode_mp3", fail)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Parse a PNG into (type, payload) chunks, checking the signature and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload), f"bad CRC in {kind!r}"
        chunks.append((kind, payload))
        pos += 12 + length
    assert pos == len(data)
    return chunks


def _check_png(data: bytes) -> tuple[int, int]:
    chunks = _png_chunks(data)
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour_type, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(p for k, p in chunks if k == b"IDAT"))
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    assert all(raw[row * stride] <= 4 for row in range(height))  # valid filter type per row
    return width, height


# --- files and tags ----------------------------------------------------------------------------


def test_creates_four_tagged_mp3s(generated: Path) -> None:
    paths = demo.ensure_demo_tracks(generated)

    assert [p.name for p in paths] == [t.filename for t in demo.DEMO_TRACKS]
    assert len(paths) == 4
    for track, path in zip(demo.DEMO_TRACKS, paths, strict=True):
        assert re.fullmatch(r"\d\d - [\w ]+\.mp3", path.name)
        audio = MP3(path)
        assert 20.0 <= audio.info.length <= 40.0
        assert audio.info.length == pytest.approx(track.duration, abs=0.2)
        assert audio.info.sample_rate == 44_100
        assert audio.info.bitrate == 128_000
        assert audio.info.channels == demo.CHANNELS

        tags = ID3(path)
        assert tags.version == (2, 4, 0)
        assert str(tags["TIT2"]) == track.title
        assert str(tags["TPE1"]) == track.artist
        assert str(tags["TALB"]) == "Lockstep Demo Tracks"
        assert str(tags["TPE2"]) == demo.ALBUM_ARTIST
        assert str(tags["TRCK"]) == f"{track.number}/4"
        assert str(tags["TDRC"]) == demo.YEAR
        assert str(tags["TCON"]) == track.genre


def test_three_tracks_have_front_cover_art_and_one_has_none(generated: Path) -> None:
    with_art = 0
    for track in demo.DEMO_TRACKS:
        pictures = ID3(generated / track.filename).getall("APIC")
        if track.colour is None:
            assert pictures == []
            continue
        with_art += 1
        (picture,) = pictures
        assert picture.type == 3  # front cover
        assert picture.mime == "image/png"
        assert _check_png(picture.data) == (256, 256)
    assert with_art == 3


def test_cover_png_is_valid_and_uses_the_colour() -> None:
    data = demo.cover_png((200, 40, 40), size=64)
    assert _check_png(data) == (64, 64)
    chunks = dict(_png_chunks(data))
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * 64
    pixels = [
        raw[r * stride + 1 + 3 * c : r * stride + 4 + 3 * c] for r in range(64) for c in range(64)
    ]
    # Predominantly red, as asked, and not a flat fill.
    assert sum(p[0] > p[1] and p[0] > p[2] for p in pixels) == len(pixels)
    assert len(set(pixels)) > 100


def test_track_definitions_are_consistent() -> None:
    for track in demo.DEMO_TRACKS:
        eighths = 2 * track.beats_per_bar
        assert len(track.arp) == len(track.bass) == len(track.kick) == len(track.hat) == eighths
        assert 20.0 <= track.duration <= 40.0
    # A different key and tempo for each, so the four do not blur into one.
    assert len({t.key_hz for t in demo.DEMO_TRACKS}) == 4
    assert len({t.bpm for t in demo.DEMO_TRACKS}) == 4
    assert len({t.filename for t in demo.DEMO_TRACKS}) == 4


# --- the audio itself --------------------------------------------------------------------------


@pytest.mark.parametrize("track", demo.DEMO_TRACKS, ids=lambda t: t.title)
def test_pcm_is_normalized_audible_and_faded(
    track: demo.DemoTrack, pcm: dict[int, array[int]]
) -> None:
    samples = pcm[track.number]
    assert len(samples) == round(track.duration * demo.SAMPLE_RATE)

    peak = max(max(samples), -min(samples))
    assert 0.7 * FULL_SCALE < peak < 0.95 * FULL_SCALE  # normalized, with headroom: never clips
    rms = math.sqrt(math.fsum(s * s for s in samples) / len(samples))
    assert rms > 0.06 * FULL_SCALE  # clearly audible, not near-silence

    # Every second carries sound: no dropouts in the middle.
    second = demo.SAMPLE_RATE
    for start in range(second, len(samples) - 4 * second, second):
        chunk = samples[start : start + second]
        assert max(map(abs, chunk)) > 0.1 * FULL_SCALE, f"quiet second at {start / second:.0f}s"

    # Fades at both ends: the first and last 10 ms sit near zero, so no click on start or stop.
    edge = demo.SAMPLE_RATE // 100
    assert max(map(abs, samples[:edge])) < 0.01 * FULL_SCALE
    assert max(map(abs, samples[-edge:])) < 0.01 * FULL_SCALE
    assert samples[0] == 0
    assert samples[-1] == 0


@pytest.mark.parametrize("track", demo.DEMO_TRACKS, ids=lambda t: t.title)
def test_pcm_has_no_clicks(track: demo.DemoTrack, pcm: dict[int, array[int]]) -> None:
    # Every track opens with a pass of pad + bass only: smooth tones whose steepest slope is a
    # few percent of full scale, so any discontinuity (a click) would stand far above it. That
    # pass covers every chord change, note start and end, and the cycle's wrap-around.
    assert track.sections[0] is False
    intro = pcm[track.number][: track.bar_samples * len(track.chords)]
    steps = map(abs, map(int.__sub__, intro[1:], intro[:-1]))
    assert max(steps) < 0.08 * FULL_SCALE


def test_synthesis_is_deterministic(pcm: dict[int, array[int]]) -> None:
    track = demo.DEMO_TRACKS[-1]
    assert demo.synthesize(track) == pcm[track.number]


def test_generation_is_fast(generation: tuple[Path, float]) -> None:
    # The budget is "well under ~3 s on one core" for all four (about 2 s here); CPU time, not
    # wall time, so a busy machine does not fail it, with slack for a slower one.
    assert generation[1] < 5.0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_decoded_mp3_does_not_clip(generated: Path) -> None:
    # MP3 reconstruction overshoots the input a little; the headroom must absorb it.
    for track in demo.DEMO_TRACKS:
        source = str(generated / track.filename)
        decoded = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", source, "-f", "s16le", "-ac", "1", "-"],
            check=True,
            capture_output=True,
        ).stdout
        samples = array("h", decoded)
        assert max(max(samples), -min(samples)) < 0.98 * FULL_SCALE
        assert len(samples) / demo.SAMPLE_RATE == pytest.approx(track.duration, abs=0.2)


# --- idempotence and crash safety -----------------------------------------------------------


def _stats(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.iterdir())
    }


def test_second_call_is_a_no_op(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _stats(folder)
    _no_encoding(monkeypatch)

    paths = demo.ensure_demo_tracks(folder)

    assert _stats(folder) == before
    assert [p.name for p in paths] == [t.filename for t in demo.DEMO_TRACKS]


def test_stale_marker_version_regenerates(folder: Path, generated: Path) -> None:
    marker = folder / demo.MARKER_NAME
    old = json.loads(marker.read_text())
    old["version"] = demo.DEMO_VERSION - 1
    old["tracks"]["00 - Retired Tune.mp3"] = 5
    marker.write_text(json.dumps(old))
    (folder / "00 - Retired Tune.mp3").write_bytes(b"old")  # a track only the old set had
    (folder / "mine.txt").write_text("not ours")  # never listed in a marker: must survive
    before = _stats(folder)

    paths = demo.ensure_demo_tracks(folder)

    after = _stats(folder)
    for path in paths:
        assert after[path.name][0] != before[path.name][0]  # replaced by a fresh file
        # Same DEMO_VERSION, same bytes: the output is deterministic.
        assert path.read_bytes() == (generated / path.name).read_bytes()
    assert not (folder / "00 - Retired Tune.mp3").exists()
    assert (folder / "mine.txt").read_text() == "not ours"
    assert json.loads(marker.read_text())["version"] == demo.DEMO_VERSION


@pytest.mark.parametrize(
    "content", ["{not json", "[]", "7", '{"version": "1", "tracks": {}}', '{"version": 1}']
)
def test_corrupt_marker_reads_as_absent(tmp_path: Path, content: str) -> None:
    (tmp_path / demo.MARKER_NAME).write_text(content)
    assert demo._read_marker(tmp_path) == (None, {})


def test_tracks_without_a_marker_are_regenerated(folder: Path) -> None:
    # Complete-looking files are not trusted without the marker that vouches for them (the
    # process may have died between writing the tracks and writing the marker).
    (folder / demo.MARKER_NAME).unlink()
    before = _stats(folder)

    paths = demo.ensure_demo_tracks(folder)

    after = _stats(folder)
    assert all(after[p.name][0] != before[p.name][0] for p in paths)
    assert json.loads((folder / demo.MARKER_NAME).read_text())["version"] == demo.DEMO_VERSION


def test_half_written_temp_file_is_not_a_track(folder: Path, generated: Path) -> None:
    # A crash while writing a track leaves only its hidden temp file behind, never a
    # complete-looking track.
    first = folder / demo.DEMO_TRACKS[0].filename
    first.unlink()
    crashed = folder / f".{first.name}.99999-1.lockstep-tmp"
    crashed.write_bytes(b"\xff\xfb\x90\x00" * 100)
    old = time.time() - 3600
    os.utime(crashed, (old, old))
    fresh = folder / f".{first.name}.99998-1.lockstep-tmp"  # a concurrent writer's: left alone
    fresh.write_bytes(b"\xff\xfb")

    paths = demo.ensure_demo_tracks(folder)

    assert paths[0] == first
    assert all(p.suffix == ".mp3" and not p.name.startswith(".") for p in paths)
    assert first.read_bytes() == (generated / first.name).read_bytes()
    assert not crashed.exists()  # stale leftovers are swept
    assert fresh.exists()
    assert sorted(p.name for p in folder.glob("*.mp3")) == [t.filename for t in demo.DEMO_TRACKS]


def test_truncated_track_is_rewritten_alone(folder: Path, generated: Path) -> None:
    # A file that is not the size the marker recorded is not trusted, and only it is redone.
    broken = folder / demo.DEMO_TRACKS[1].filename
    broken.write_bytes(broken.read_bytes()[:1000])
    before = _stats(folder)

    demo.ensure_demo_tracks(folder)

    after = _stats(folder)
    assert broken.read_bytes() == (generated / broken.name).read_bytes()
    for track in demo.DEMO_TRACKS:
        if track.filename != broken.name:
            assert after[track.filename] == before[track.filename]


def test_missing_track_is_recreated(folder: Path) -> None:
    gone = folder / demo.DEMO_TRACKS[2].filename
    gone.unlink()
    demo.ensure_demo_tracks(folder)
    assert MP3(gone).info.length > 20


def test_no_temp_files_remain(generated: Path) -> None:
    assert not [p for p in generated.iterdir() if p.name.endswith(".lockstep-tmp")]


def test_ready_only_when_every_current_track_is_intact(folder: Path, tmp_path: Path) -> None:
    assert demo.demo_tracks_ready(folder)
    assert not demo.demo_tracks_ready(tmp_path / "empty")
    victim = folder / demo.DEMO_TRACKS[2].filename
    victim.write_bytes(victim.read_bytes()[:1000])  # truncated
    assert not demo.demo_tracks_ready(folder)


def test_the_module_makes_the_tracks_when_run_as_a_program(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    subprocess.run([sys.executable, "-m", "shared.library.demo", str(target)], check=True)
    assert demo.demo_tracks_ready(target)
    assert sorted(p.name for p in target.glob("*.mp3")) == sorted(
        t.filename for t in demo.DEMO_TRACKS
    )
