"""The audio side of the sync bench: a private PulseAudio with one recording sink whose left and
right channels are two browsers, `parec` recording it, and the cross-correlation that turns the
recording into the offset between the two outputs over time."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RATE = 48_000

SINKS = """\
load-module module-native-protocol-unix
load-module module-null-sink sink_name=rec format=s16le rate=48000 channels=2 \
channel_map=front-left,front-right
load-module module-remap-sink sink_name=left master=rec channels=1 channel_map=mono \
master_channel_map=front-left remix=no
load-module module-remap-sink sink_name=right master=rec channels=1 channel_map=mono \
master_channel_map=front-right remix=no
set-default-sink rec
"""


class Pulse:
    """A PulseAudio daemon of our own (own runtime dir and socket), torn down afterwards."""

    def __init__(self, work: Path) -> None:
        self.dir = work / "pulse"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        runtime = self.dir / "run"
        return {
            "XDG_RUNTIME_DIR": str(runtime),
            "HOME": str(self.dir / "home"),
            "PULSE_SERVER": f"unix:{runtime}/pulse/native",
        }

    def start(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "run").mkdir(parents=True, mode=0o700)
        (self.dir / "home").mkdir(parents=True)
        script = self.dir / "sinks.pa"
        script.write_text(SINKS)
        self.proc = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--system=false",  # a user daemon, even as root: nothing else shares it
                "-n",
                f"--file={script}",
                "--log-target=stderr",
                "--log-level=error",
            ],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done = subprocess.run(
                ["pactl", "list", "short", "sinks"],
                env={**os.environ, **self.env},
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0 and "right" in done.stdout:
                return
            if self.proc.poll() is not None:
                raise RuntimeError("pulseaudio exited at start-up")
            time.sleep(0.2)
        raise RuntimeError("pulseaudio did not come up")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Recorder:
    """`parec` from the recording sink's monitor; sample i was captured at monotonic `t0 + i/RATE`
    (to within the capture latency, ~10-20 ms: plenty for settle times measured in 100s of ms;
    offsets between the channels come from the samples themselves and are exact)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.chunks: list[bytes] = []
        self.t0: float | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "parec",
                "-d",
                "rec.monitor",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=2",
                "--latency-msec=10",
                "--raw",
            ],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while self.t0 is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.t0 is None:
            raise RuntimeError("parec recorded nothing")

    def _read(self) -> None:
        assert self.proc
        assert self.proc.stdout
        out: Any = self.proc.stdout
        total = 0
        while True:
            chunk = out.read1(65536)
            if not chunk:
                return
            now = time.monotonic()
            total += len(chunk)
            if self.t0 is None:
                self.t0 = now - len(chunk) / 4 / RATE
            self.chunks.append(chunk)

    def stop(self) -> np.ndarray:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)
        if self.thread:
            self.thread.join(5)
        raw = b"".join(self.chunks)
        raw = raw[: len(raw) // 4 * 4]
        return np.frombuffer(raw, dtype="<i2").reshape(-1, 2).astype(np.float32) / 32768.0


@dataclass
class Window:
    t: float  # monotonic (= server) time of the window's middle
    kind: str  # "both" (both play: offset valid), "silent", "left" / "right" (only that one plays)
    offset_ms: float | None  # right minus left: positive when the right browser is later
    peak: float  # normalised correlation peak: ~1 for a clean match


def offsets(
    rec: np.ndarray,
    t0: float,
    win: float = 0.1,
    hop: float = 0.05,
    max_lag: float = 0.25,
    floor: float = 0.003,
) -> list[Window]:
    """Offset between the channels over short windows, by cross-correlation (pink noise has one
    sharp peak), refined between samples by a parabola through the peak."""
    left = rec[:, 0].astype(np.float64)
    right = rec[:, 1].astype(np.float64)
    w = int(win * RATE)
    m = int(max_lag * RATE)
    h = int(hop * RATE)
    n = 1 << int(np.ceil(np.log2(w + 2 * m)))
    sq = np.concatenate([[0.0], np.cumsum(right**2)])
    out: list[Window] = []
    for start in range(m, len(left) - w - m, h):
        a = left[start : start + w]
        b = right[start - m : start + w + m]
        t = t0 + (start + w / 2) / RATE
        ra = float(np.sqrt(np.mean(a**2)))
        rb = float(np.sqrt(np.mean(right[start : start + w] ** 2)))
        if ra < floor or rb < floor:
            kind = "silent" if ra < floor and rb < floor else ("left" if ra >= floor else "right")
            out.append(Window(t, kind, None, 0.0))
            continue
        spec = np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n))
        corr = np.fft.irfft(spec, n)[: 2 * m + 1]
        energy = sq[start - m + np.arange(2 * m + 1) + w] - sq[start - m + np.arange(2 * m + 1)]
        norm = corr / (np.sqrt(np.sum(a**2) * np.maximum(energy, 1e-12)))
        j = int(np.argmax(norm))
        peak = float(norm[j])
        frac = 0.0
        if 0 < j < 2 * m:
            y0, y1, y2 = norm[j - 1], norm[j], norm[j + 1]
            den = y0 - 2 * y1 + y2
            frac = float(0.5 * (y0 - y2) / den) if den else 0.0
        lag = j + frac - m  # b[m + lag] lines up with a[0]: right plays it `lag` samples later
        out.append(Window(t, "both", lag / RATE * 1000, peak))
    return out


def pink_noise(path: Path, seconds: int, seed: int) -> Path:
    """A test track without repetition: pink noise, MP3 (mono, 192 kbps, LAME tag)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp" + path.suffix)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=color=pink:duration={seconds}:sample_rate=44100:seed={seed}:amplitude=0.5",
            "-ac",
            "1",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "192k",
            "-metadata",
            f"title=Pink noise {seed}",
            "-metadata",
            "artist=Lockstep bench",
            str(tmp),
        ],
        check=True,
    )
    tmp.rename(path)
    return path
