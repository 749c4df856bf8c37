"""Walking a music root, and the cheap per-file facts the index keys on.

The walk streams one directory at a time, in a deterministic (name-sorted, depth-first)
order, so that re-indexing the same tree always meets files in the same order.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .covers import folder_art_rank

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioFile",
    "DirListing",
    "Fingerprinted",
    "fingerprint_file",
    "has_audio",
    "inside",
    "track_id",
    "walk",
]

log = logging.getLogger("lockstep.library")

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp3",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".m4a",
        ".m4b",
        ".mp4",
        ".wav",
        ".wave",
        ".aiff",
        ".aif",
        ".aifc",
        ".webm",
        ".weba",
    }
)

# Fingerprint = blake2b(size, first 64 KiB, last 64 KiB) (the whole file when that is no more):
# enough to tell files apart and to recognise a moved file, without reading whole albums.
_EDGE = 64 * 1024
_ID_PERSON = b"lockstep-track"


@dataclass(frozen=True, slots=True)
class AudioFile:
    path: str  # absolute path as walked (may pass through an in-root symlink)
    relpath: str  # POSIX, relative to the root
    size: int
    mtime_ns: int


@dataclass(slots=True)
class DirListing:
    relpath: str  # "" for the root itself
    files: list[AudioFile] = field(default_factory=list)
    art: AudioFile | None = None  # the best folder-art image beside the files


def inside(path: str, root: str) -> bool:
    """True if the resolved `path` is `root` or below it (both already realpath'd)."""
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def walk(root: Path, unreadable: list[str] | None = None) -> Iterator[DirListing]:
    """Yield every directory under `root` that holds audio files. Hidden names are skipped;
    symlinks are followed only to targets inside the root, and each real directory is
    entered once, so link loops end. Directories that cannot be listed are appended to
    `unreadable` (relative paths, "" for the root)."""
    for rel, entries in _dirs(root, unreadable):
        listing = DirListing(rel)
        art_rank = 99
        for entry in entries:
            name = entry.name
            ext = os.path.splitext(name)[1].lower()
            rank = folder_art_rank(name) if ext not in AUDIO_EXTENSIONS else None
            if ext not in AUDIO_EXTENSIONS and (rank is None or rank >= art_rank):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue  # vanished or dangling since listing
            if not stat.S_ISREG(st.st_mode):
                continue
            item = AudioFile(
                entry.path, f"{rel}/{name}" if rel else name, st.st_size, st.st_mtime_ns
            )
            if rank is None:
                listing.files.append(item)
            else:
                listing.art, art_rank = item, rank
        if listing.files:
            yield listing


def has_audio(folder: Path) -> bool:
    """True as soon as one non-hidden file with an audio extension is found under `folder`."""
    for _rel, entries in _dirs(folder):
        for entry in entries:
            if os.path.splitext(entry.name)[1].lower() in AUDIO_EXTENSIONS:
                return True
    return False


def _dirs(
    root: Path, unreadable: list[str] | None = None
) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """Depth-first, name-sorted walk yielding (relpath, entries that are not directories)."""
    try:
        root_real = os.path.realpath(root, strict=True)
        root_st = os.stat(root_real)
    except OSError:
        return
    if not stat.S_ISDIR(root_st.st_mode):
        return
    seen: set[tuple[int, int]] = {(root_st.st_dev, root_st.st_ino)}
    stack: list[tuple[str, str]] = [(root_real, "")]
    while stack:
        path, rel = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            log.warning("cannot list %s: %s", rel or ".", e.strerror or e)
            if unreadable is not None:
                unreadable.append(rel)
            continue
        files: list[os.DirEntry[str]] = []
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_symlink() and not inside(os.path.realpath(entry.path), root_real):
                    continue
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                try:
                    st = entry.stat()
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key not in seen:  # a link back to a directory we walk anyway, or a loop
                    seen.add(key)
                    subdirs.append((entry.path, f"{rel}/{name}" if rel else name))
            else:
                files.append(entry)
        yield rel, files
        stack.extend(reversed(subdirs))


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    digest: bytes
    data: IO[bytes]  # positioned at 0: the whole file in memory when small, else the open file


def fingerprint_file(f: IO[bytes], size: int) -> Fingerprinted:
    """Content fingerprint of an open file. A small file is read whole once and handed back in
    memory, so tag parsing costs no further system calls. `f` may be unbuffered (opened with
    buffering=0, which saves making a buffer a small file does not need): a large one is then
    handed back buffered, for the tag reader's many small reads."""
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    if size <= 2 * _EDGE:
        data = f.read()  # to the end, buffered or not
        h.update(data)
        return Fingerprinted(h.digest(), io.BytesIO(data))
    if isinstance(f, io.RawIOBase):
        f = io.BufferedReader(f)
    h.update(f.read(_EDGE))
    f.seek(size - _EDGE)
    h.update(f.read(_EDGE))
    f.seek(0)
    return Fingerprinted(h.digest(), f)


def track_id(fingerprint: bytes, salt: str = "") -> str:
    """16 URL-safe characters derived from content (plus `salt` to tell identical copies apart),
    so re-indexing from scratch gives an unmodified file its old id."""
    h = hashlib.blake2b(fingerprint, digest_size=10, person=_ID_PERSON)
    if salt:
        h.update(salt.encode("utf-8", "surrogateescape"))
    return base64.b32encode(h.digest()).decode("ascii").lower()
