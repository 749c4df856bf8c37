"""Library scan benchmark: how fast the index takes in a folder of real, tagged MP3s.

    .venv/bin/python -m bench.scan [--n 2000] [--rescan-n 10000] [--keep DIR]

It generates N distinct MP3 files (a few short lameenc encodes, each copy with its own ID3v2.4
tags written by mutagen, half the albums with embedded art shared per album), then measures in
one run, side by side:

* a reference: mutagen alone reading every file's tags and length, one core;
* a cold scan of the index, and its ratio to the reference;
* an incremental rescan with nothing changed;
* a rescan after touching 1 % of the files and deleting another 1 %;
* peak RSS of each scanning process, against a process that only imports the library;
* an unchanged rescan of --rescan-n files (target: well under 1 s).

Every measurement runs in a fresh child process (`--child ...` of this module), pinned to one
CPU, so peak RSS belongs to that measurement alone. The files were just written, so all
phases read from a warm page cache: this measures CPU cost, not the disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import platform
import random
import resource
import shlex
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRACKS_PER_ALBUM = 10
ALBUMS_PER_ARTIST = 4
TEMPLATE_SECONDS = (1.0, 2.0, 3.0)
SAMPLE_RATE = 44_100
COVER_SIDE = 128  # noise pixels: ~49 KB of PNG, about what a real embedded cover weighs
_WORDS = [
    "amber",
    "cinder",
    "delta",
    "ember",
    "fable",
    "gossamer",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
    "meadow",
    "nectar",
    "orchid",
    "prism",
    "quartz",
    "raven",
    "saffron",
    "tundra",
    "umbra",
    "velvet",
    "willow",
    "xenon",
    "yonder",
    "zephyr",
    "Ærø",
    "Łódź",
    "Müller",
    "Sigur",
    "Beyoncé",
    "Ωmega",
    "Café",
]


# --- the corpus ----------------------------------------------------------------------------


def _tone(seconds: float, freq: float) -> bytes:
    """Mono 16-bit PCM: a soft sine with short fades (content is irrelevant, validity is not)."""
    n = int(seconds * SAMPLE_RATE)
    fade = SAMPLE_RATE // 50
    w = 2.0 * math.pi * freq / SAMPLE_RATE
    pcm = array(
        "h",
        (int(8000 * min(1.0, k / fade, (n - k) / fade) * math.sin(w * k)) for k in range(n)),
    )
    if sys.byteorder != "little":
        pcm.byteswap()
    return pcm.tobytes()


def _templates() -> list[bytes]:
    import lameenc

    out = []
    for i, seconds in enumerate(TEMPLATE_SECONDS):
        enc = lameenc.Encoder()
        enc.set_bit_rate(128)
        enc.set_in_sample_rate(SAMPLE_RATE)
        enc.set_channels(1)
        enc.set_quality(7)
        out.append(bytes(enc.encode(_tone(seconds, 220.0 * (i + 2))) + enc.flush()))
    return out


def _png(seed: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rnd = random.Random(seed)
    stride = 3 * COVER_SIDE
    raw = b"".join(b"\x00" + rnd.randbytes(stride) for _ in range(COVER_SIDE))
    ihdr = struct.pack(">IIBBBBB", COVER_SIDE, COVER_SIDE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def _name(seed: int, words: int) -> str:
    rnd = random.Random(seed)
    return " ".join(rnd.choice(_WORDS).capitalize() for _ in range(words))


def _layout(i: int) -> tuple[int, int, int]:
    """File index -> (artist, album, track number): albums of 10 tracks, 4 albums per artist."""
    album = i // TRACKS_PER_ALBUM
    return album // ALBUMS_PER_ARTIST, album, i % TRACKS_PER_ALBUM + 1


def _relpath(i: int) -> str:
    artist, album, track = _layout(i)
    return (
        f"{artist:04d} {_name(artist, 2)}/{album:05d} {_name(10**6 + album, 3)}/"
        f"{track:02d} {_name(2 * 10**6 + i, 2)}.mp3"
    )


def generate(root: Path, count: int, templates: Sequence[bytes]) -> tuple[int, int]:
    """Make files 0..count-1 under `root` (existing ones are kept). Returns (written, bytes)."""
    import mutagen.id3

    id3: Any = mutagen.id3  # mutagen's frame constructors are untyped
    written = 0
    total = 0
    art: dict[int, bytes] = {}
    for i in range(count):
        path = root / _relpath(i)
        if path.exists():
            total += path.stat().st_size
            continue
        artist, album, track = _layout(i)
        tags = id3.ID3()
        tags.add(id3.TIT2(encoding=3, text=f"{_name(3 * 10**6 + i, 3)} #{i}"))
        tags.add(id3.TPE1(encoding=3, text=_name(artist, 2)))
        tags.add(id3.TPE2(encoding=3, text=_name(artist, 2)))
        tags.add(id3.TALB(encoding=3, text=_name(10**6 + album, 3)))
        tags.add(id3.TRCK(encoding=3, text=f"{track}/{TRACKS_PER_ALBUM}"))
        tags.add(id3.TDRC(encoding=3, text=str(1970 + album % 55)))
        tags.add(id3.TCON(encoding=3, text=("Rock", "Jazz", "Ambient", "Folk")[album % 4]))
        if album % 2 == 0:  # half the albums carry art, the same image in each of their tracks
            if album not in art:
                art = {album: _png(album)}  # one album at a time: files are made album by album
            tags.add(id3.APIC(encoding=3, mime="image/png", type=3, desc="", data=art[album]))
        # Tag the template in memory: one write per file, and every file is distinct.
        buf = io.BytesIO(templates[i % len(templates)])
        tags.save(buf, v2_version=4)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = buf.getvalue()
        path.write_bytes(data)
        written += 1
        total += len(data)
    return written, total


# --- child processes ---------------------------------------------------------------------------


def _maxrss() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, KiB on Linux


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(args: argparse.Namespace) -> dict[str, Any]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, literally
    if args.child == "baseline":
        import shared.library  # noqa: F401  (the import is what is measured)

        return {"rss": _maxrss()}
    if args.child == "reference":
        import mutagen

        cpu, started = _cpu(), time.perf_counter()
        files = 0
        for dirpath, _dirs, names in os.walk(args.root):
            for name in names:
                if not name.endswith(".mp3"):
                    continue
                audio = mutagen.File(os.path.join(dirpath, name))
                tags = audio.tags
                _ = (tags.get("TIT2"), tags.get("TPE1"), tags.get("TALB"), audio.info.length)
                files += 1
        return {
            "files": files,
            "seconds": time.perf_counter() - started,
            "cpu": _cpu() - cpu,
            "rss": _maxrss(),
        }
    from shared.library import Library

    lib = Library(Path(args.db), {"music": Path(args.root)}, Path(args.covers))
    try:
        cpu, started = _cpu(), time.perf_counter()
        report = lib.scan()
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        count = lib.count()
    finally:
        lib.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "count": count,
        "report": dataclasses.asdict(report),
        "rss": _maxrss(),
    }


def run_child(mode: str, root: Path | None = None, state: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.scan", "--child", mode]
    if root is not None:
        cmd += ["--root", str(root)]
    if state is not None:
        cmd += ["--db", str(state / "library.sqlite3"), "--covers", str(state / "covers")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"child {mode!r} failed with exit code {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the report --------------------------------------------------------------------------------


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


def _machine() -> list[str]:
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import mutagen

    return [
        f"machine : {platform.system()} {platform.release()} {platform.machine()}; {model}",
        f"cpus    : {cpus} ({usable} usable); each measurement pinned to one",
        f"python  : {platform.python_implementation()} {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; mutagen {mutagen.version_string}",
    ]


class Table:
    HEAD = (
        f"{'phase':<34} {'files':>6} {'wall s':>7} {'cpu s':>6} {'files/s':>8} "
        f"{'vs ref':>6} {'peak RSS':>9} {'+base':>8}  result"
    )

    def __init__(self, baseline_rss: int, reference: dict[str, Any]) -> None:
        self.baseline = baseline_rss
        self.reference = reference
        self.ref_rate = reference["files"] / reference["seconds"]
        print(self.HEAD)
        print("-" * len(self.HEAD))

    def row(self, phase: str, files: int, r: dict[str, Any], rate: bool, note: str) -> None:
        per_s = files / r["seconds"] if r["seconds"] > 0 else math.inf
        rate_s = f"{per_s:8.0f}" if rate else f"{'':>8}"
        ratio = f"{per_s / self.ref_rate:5.2f}x" if rate and self.ref_rate else f"{'':>6}"
        # The reference does not import the library, so "+base" means nothing for it.
        extra = "" if r is self.reference else f"{(r['rss'] - self.baseline) / 2**20:+.1f} MB"
        print(
            f"{phase:<34} {files:>6} {r['seconds']:7.3f} {r['cpu']:6.2f} {rate_s} {ratio} "
            f"{_mb(r['rss']):>9} {extra:>8}  {note}"
        )


def _scan_note(r: dict[str, Any]) -> str:
    rep = r["report"]
    parts = [f"{k} {rep[k]}" for k in ("added", "updated", "moved", "removed", "skipped") if rep[k]]
    if rep.get("covers"):
        parts.append(f"new covers {rep['covers']}")
    parts.append(f"unchanged {rep['unchanged']}")
    return f"{', '.join(parts)}; index holds {r['count']}"


def bench(n: int, rescan_n: int, work: Path) -> None:
    root, state = work / "music", work / "state"
    print(f"corpus  : {work}")

    started = time.perf_counter()
    templates = _templates()
    _, size = generate(root, n, templates)
    albums = math.ceil(n / TRACKS_PER_ALBUM)
    print(
        f"files   : {n} MP3s ({'/'.join(f'{s:g}' for s in TEMPLATE_SECONDS)} s, 128 kbps CBR, "
        f"ID3v2.4), {math.ceil(albums / ALBUMS_PER_ARTIST)} artists, {albums} albums, "
        f"{math.ceil(albums / 2)} with embedded art; {_mb(size)}; "
        f"generated in {time.perf_counter() - started:.1f} s"
    )
    print()

    base = run_child("baseline")
    ref = run_child("reference", root)
    if ref["files"] != n:
        raise SystemExit(f"reference read {ref['files']} files, expected {n}")
    table = Table(base["rss"], ref)
    print(f"{'import baseline (shared.library)':<34} {'':>6} {'':>7} {'':>6} {'':>8} {'':>6} "
          f"{_mb(base['rss']):>9}")  # fmt: skip
    table.row("reference: mutagen tags + length", n, ref, True, "mutagen only, no index")

    cold = run_child("scan", root, state)
    table.row("cold scan", n, cold, True, _scan_note(cold))
    same = run_child("scan", root, state)
    table.row("rescan, nothing changed", n, same, False, _scan_note(same))

    # 1 % touched (new mtime, same bytes: the index must look again) and 1 % deleted.
    step = 100
    touched = [root / _relpath(i) for i in range(7, n, step)]
    deleted = [root / _relpath(i) for i in range(57, n, step)]
    for path in touched:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    for path in deleted:
        path.unlink()
    changed = run_child("scan", root, state)
    table.row(
        f"rescan, {len(touched)} touched + {len(deleted)} deleted",
        n - len(deleted),
        changed,
        False,
        _scan_note(changed),
    )

    if rescan_n > 0:
        big = max(rescan_n, n)
        started = time.perf_counter()
        made, _ = generate(root, big, templates)  # reuses the first N, restores the deleted
        note = f"{made} more files generated in {time.perf_counter() - started:.1f} s"
        big_state = work / "state-rescan"
        cold_big = run_child("scan", root, big_state)
        table.row(
            f"cold scan ({big} files)", big, cold_big, True, f"{note}; {_scan_note(cold_big)}"
        )
        same_big = run_child("scan", root, big_state)
        verdict = "under 1 s: yes" if same_big["seconds"] < 1.0 else "under 1 s: NO"
        table.row(
            f"rescan, nothing changed ({big})",
            big,
            same_big,
            False,
            f"{verdict}; {_scan_note(same_big)}",
        )

    print()
    print("wall s / cpu s: the scan() call (or the reference's read loop) alone, not start-up.")
    print("files/s, vs ref: throughput, and its ratio to mutagen alone reading the same files.")
    print(
        "peak RSS: the child process's ru_maxrss; +base: what that adds over the import baseline."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scan", description="Library scan benchmark."
    )
    parser.add_argument("--n", type=int, default=2000, help="files to generate (default 2000)")
    parser.add_argument(
        "--rescan-n",
        type=int,
        default=10_000,
        help="files for the large unchanged rescan (0: skip)",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="generate into DIR (new or empty) and keep it"
    )
    parser.add_argument(
        "--child", choices=["baseline", "reference", "scan"], help=argparse.SUPPRESS
    )
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--covers", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(_child(args)))
        return 0
    if args.n < 1:
        parser.error("--n must be at least 1")

    command = shlex.join(
        [sys.executable, "-m", "bench.scan", *(sys.argv[1:] if argv is None else argv)]
    )
    print("Lockstep library scan benchmark")
    print(f"command : {command}")
    for line in _machine():
        print(line)

    if args.keep is not None:
        work = args.keep.resolve()
        if work.exists() and any(work.iterdir()):
            parser.error(f"--keep {work}: directory is not empty")
        work.mkdir(parents=True, exist_ok=True)
        bench(args.n, args.rescan_n, work)
        print(f"kept    : {work}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-"))
    try:
        bench(args.n, args.rescan_n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
