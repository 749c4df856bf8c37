"""The catalog: the library as the running service uses it.

It picks the library's folders (the music folder, or synthesized demo tracks while that folder has
no audio), runs scans off the event loop one at a time, remembers the last scan for /health, and
turns track ids into the `TrackRef`s rooms need.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.core import TrackRef
from shared.library import Library, ScanReport, has_audio
from shared.library.demo import demo_tracks_ready, ensure_demo_tracks

log = logging.getLogger("lockstep.library")


@dataclass(frozen=True, slots=True)
class CatalogStatus:
    tracks: int
    scanning: bool
    demo: bool
    last_scan: ScanReport | None
    last_scan_at: float | None  # wall-clock seconds


class Catalog:
    def __init__(self, library: Library, music_dir: Path, demo_dir: Path) -> None:
        self.library = library
        self.music_dir = music_dir
        self.demo_dir = demo_dir
        self.demo = False
        self._scan_lock = asyncio.Lock()
        self._last: ScanReport | None = None
        self._last_at: float | None = None
        self._stopping = False
        self._ids: frozenset[str] | None = None  # None until the first scan has finished
        self._listeners: list[Callable[[ScanReport], None]] = []

    def on_change(self, listener: Callable[[ScanReport], None]) -> None:
        """Call `listener` after every scan that added, changed, moved or removed tracks."""
        self._listeners.append(listener)

    def available(self, track_id: str) -> bool:
        """Whether the library still has this track (a queue entry may outlive its file: deleted,
        or a demo track once real music arrived). Entries are kept, not dropped: a folder that is
        briefly missing (an unmounted disk) must not empty every queue, and a file that comes back
        has the same id again. Before the first scan has finished, everything counts."""
        return self._ids is None or track_id in self._ids

    async def rescan(self) -> ScanReport | None:
        """Re-pick the folders, then scan. Concurrent calls wait for the running scan.
        Returns None once the catalog is stopping."""
        async with self._scan_lock:
            if self._stopping:
                return None
            await asyncio.to_thread(self._pick_roots)
            report = await asyncio.to_thread(self.library.scan)
            self._last, self._last_at = report, time.time()
            self._ids = await asyncio.to_thread(self.library.ids)
        if report.added or report.updated or report.moved or report.removed:
            for listener in list(self._listeners):
                try:
                    listener(report)
                except Exception:  # one broken listener must not stop the others
                    log.exception("library change listener failed")
        return report

    def _pick_roots(self) -> None:
        roots = {"music": self.music_dir}
        demo = not has_audio(self.music_dir)
        if demo:
            if not demo_tracks_ready(self.demo_dir):
                _synthesize_apart(self.demo_dir)
            tracks = ensure_demo_tracks(self.demo_dir)
            roots["demo"] = self.demo_dir
            if not self.demo:
                log.warning(
                    "the music folder %s has no audio yet: playing %d demo tracks instead. "
                    "Put your own files there (mp3, flac, ogg, opus, m4a, wav, aiff; subfolders "
                    "are fine) and they are picked up at the next rescan or start.",
                    self.music_dir,
                    len(tracks),
                )
        elif self.demo:
            log.info("music found in %s: the demo tracks are no longer listed", self.music_dir)
        self.demo = demo
        self.library.set_roots(roots)

    async def stop(self) -> None:
        """Ask a running scan to stop (it keeps what it indexed) and wait until it has."""
        self._stopping = True
        # Repeat the request: one made just before the worker thread starts the scan is reset
        # by the scan itself, so keep asking until the running scan has returned.
        while self._scan_lock.locked():
            self.library.stop_scan()
            await asyncio.sleep(0.02)

    @property
    def scanning(self) -> bool:
        return self._scan_lock.locked()

    async def status(self) -> CatalogStatus:
        count = await asyncio.to_thread(self.library.count)
        return CatalogStatus(count, self.scanning, self.demo, self._last, self._last_at)

    async def healthy(self) -> bool:
        return await asyncio.to_thread(self.library.check)

    async def refs(self, track_ids: Sequence[str]) -> dict[str, TrackRef]:
        """The `TrackLookup` the room service uses: SQLite reads happen off the event loop."""
        tracks = await asyncio.to_thread(self.library.get_many, list(track_ids))
        return {
            track.id: TrackRef(track.id, track.duration, track.title, track.artist)
            for track in tracks.values()
        }


def _synthesize_apart(folder: Path) -> None:
    """Make the demo tracks in a child process. Synthesis works on lists of floats, and the
    ~65 MB it touches would otherwise stay with the server for good (CPython keeps freed
    arenas): a first start measured 139 MB resident instead of 74 MB. If the child fails, the
    caller makes them in-process as before."""
    command = [sys.executable, "-m", "shared.library.demo", str(folder)]
    try:
        subprocess.run(command, check=True, timeout=300, capture_output=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("making the demo tracks in a child process failed (%s); making them here", exc)
