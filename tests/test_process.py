"""The real service process: start-up, /health, and rooms that survive `kill -9`."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import lameenc
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


class Server:
    """`python -m lockstep` on a free port, as `make run` starts it."""

    def __init__(self, music: Path, data: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MUSIC_DIR": str(music),
            "DATA_DIR": str(data),
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
        }
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lockstep"], env=env, stdout=out, stderr=out
            )

    def wait_scanned(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until the first library scan has finished (the server answers before that)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.wait_ready()
            if health["library"]["last_scan"] is not None:
                return health
            time.sleep(0.05)
        raise AssertionError(f"library never scanned:\n{self.log.read_text()}")

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log.read_text()}")
            try:
                response = httpx.get(f"{self.url}/health", timeout=1.0)
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.log.read_text()}")

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=5.0)

    def kill(self, sig: int = signal.SIGKILL) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=15)


@pytest.fixture
def stop_all() -> Iterator[list[subprocess.Popen[Any]]]:
    processes: list[subprocess.Popen[Any]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_fresh_start_with_an_empty_music_folder_plays_demo_tracks(
    tmp_path: Path, free_port: int, stop_all: list[subprocess.Popen[Any]]
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    server = Server(music, tmp_path / "data", free_port, tmp_path / "server.log")
    stop_all.append(server.process)

    health = server.wait_scanned()
    assert health["status"] == "healthy"
    assert health["library"]["demo"] is True
    assert health["library"]["tracks"] >= 3
    assert health["active_rooms"] == 0 and health["connected_users"] == 0
    assert health["database"] is True
    assert "timestamp" in health and health["uptime"] >= 0
    assert server.get("/rooms").json() == {"rooms": []}

    assert server.kill(signal.SIGTERM) == 0  # a clean stop on SIGTERM
    log = server.log.read_text()
    assert "demo tracks" in log and str(music) in log  # says where to put real music
    assert "DISCORD_TOKEN is not set" in log
    assert "Traceback" not in log
    assert '"GET /rooms' not in log  # no line per request at INFO: audio ranges would drown it


def test_rooms_and_queues_survive_kill_9_and_resume_at_the_right_position(
    tmp_path: Path,
    free_port: int,
    stop_all: list[subprocess.Popen[Any]],
    demo_tracks: list[Path],
) -> None:
    music, data = tmp_path / "music", tmp_path / "data"
    music.mkdir()
    for track in demo_tracks:
        shutil.copy(track, music / track.name)

    # 1. A process drives two rooms through the real service, then dies without warning.
    driver = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "room_driver.py"), str(music), str(data)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    stop_all.append(driver)
    assert driver.stdout is not None
    before = json.loads(driver.stdout.readline())
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=10)
    driver.stdout.close()
    time.sleep(0.5)

    # 2. The real server starts on the same data: both rooms are back.
    server = Server(music, data, free_port, tmp_path / "server.log")
    stop_all.append(server.process)
    server.wait_ready()
    party = server.get("/api/rooms/party").json()
    elapsed = time.time() - before["wall"]
    assert party["status"] == "playing"
    entries = [*party["queue"]["history"], *party["queue"]["upcoming"]]
    assert [party["queue"]["current"]["id"]] + [e["id"] for e in entries] == before["entries"]
    assert party["now_playing"]["track_id"] == before["tracks"][0]
    assert party["position"] == pytest.approx(before["position"] + elapsed, abs=0.3)
    quiet = server.get("/api/rooms/quiet").json()
    assert quiet["status"] == "paused"
    assert quiet["position"] == pytest.approx(before["paused_at"], abs=1e-9)
    assert before["paused_at"] == pytest.approx(7.0, abs=0.05)

    # 3. The server itself is killed and restarted: still there, still moving.
    assert server.kill() == -signal.SIGKILL
    time.sleep(1.0)
    again = Server(music, data, free_port, tmp_path / "server2.log")
    stop_all.append(again.process)
    again.wait_ready()
    party = again.get("/api/rooms/party").json()
    elapsed = time.time() - before["wall"]
    assert party["status"] == "playing"
    assert party["position"] == pytest.approx(before["position"] + elapsed, abs=0.3)
    quiet = again.get("/api/rooms/quiet").json()
    assert quiet["position"] == pytest.approx(before["paused_at"], abs=1e-9)
    assert {r["id"] for r in again.get("/rooms").json()["rooms"]} == {"party", "quiet"}


def tiny_mp3() -> bytes:
    """A fifth of a second of tone, as MP3: a real file that is quick to copy many times."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(22050)
    encoder.set_channels(1)
    samples = array("h", (int(8000 * math.sin(i / 10)) for i in range(4410)))
    return bytes(encoder.encode(samples.tobytes()) + encoder.flush())


def test_stopping_during_a_long_first_scan_is_prompt_and_keeps_the_progress(
    tmp_path: Path, free_port: int, stop_all: list[subprocess.Popen[Any]]
) -> None:
    music, data = tmp_path / "music", tmp_path / "data"
    data_mp3 = tiny_mp3()
    for album in range(200):
        folder = music / f"Artist {album % 20}" / f"Album {album}"
        folder.mkdir(parents=True)
        for n in range(100):
            (folder / f"{n:02d} Track.mp3").write_bytes(data_mp3)

    server = Server(music, data, free_port, tmp_path / "server.log")
    stop_all.append(server.process)
    health = server.wait_ready()  # it answers while the first scan of 20,000 files runs
    assert health["library"]["last_scan"] is None
    time.sleep(0.5)
    started = time.monotonic()
    assert server.kill(signal.SIGTERM) == 0
    assert time.monotonic() - started < 3.0

    with contextlib.closing(sqlite3.connect(data / "library.db")) as db:
        (partial,) = db.execute("SELECT count(*) FROM tracks").fetchone()
    assert 0 < partial < 20_000  # what the stopped scan indexed was kept

    again = Server(music, data, free_port, tmp_path / "server2.log")
    stop_all.append(again.process)
    health = again.wait_scanned(timeout=120)
    assert health["library"]["tracks"] == 20_000


def test_scan_command_indexes_once_and_exits(tmp_path: Path, demo_tracks: list[Path]) -> None:
    music = tmp_path / "music"
    (music / "Album").mkdir(parents=True)
    for track in demo_tracks[:3]:
        shutil.copy(track, music / "Album" / track.name)
    (music / "Album" / "notes.txt").write_text("not audio")
    (music / "Album" / "broken.mp3").write_bytes(b"ID3 but nothing else")
    result = subprocess.run(
        [sys.executable, "-m", "lockstep", "scan"],
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MUSIC_DIR": str(music),
            "DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 tracks in the library")
    assert "Album/broken.mp3" in result.stderr  # one line naming the unreadable file
    assert "notes.txt" not in result.stderr
