"""What the library hands out: tracks, pages of search results, cover images, scan reports.

Plain frozen values, safe to pass between threads and to cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cover", "Page", "ScanReport", "Track"]


@dataclass(frozen=True, slots=True)
class Track:
    id: str
    title: str
    artist: str | None
    album: str | None
    album_artist: str | None
    track_no: int | None
    disc_no: int | None
    year: int | None
    duration: float
    codec: str
    bitrate: int | None
    sample_rate: int | None
    mime: str
    size: int
    mtime_ns: int
    has_cover: bool
    root: str
    relpath: str


@dataclass(frozen=True, slots=True)
class ScanReport:
    seen: int
    added: int
    updated: int
    moved: int
    removed: int
    unchanged: int
    skipped: int
    seconds: float
    covers: int = 0  # cover images newly written to the cover store
    missing_roots: tuple[str, ...] = ()  # configured roots not found (their tracks are kept)
    stopped: bool = False  # stop_scan() cut it short: the rest waits for the next scan


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[Track, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Cover:
    path: Path
    mime: str
    etag: str
