"""Cover-art storage: content-addressed image files, and the folder-art naming rules.

An image is stored once under `<cover_dir>/<2 hex>/<32 hex digest><ext>`, so the twelve tracks
of an album that all embed the same picture share one file, and the digest doubles as an ETag.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_COVER_BYTES",
    "CoverStore",
    "StoredImage",
    "folder_art_rank",
    "sniff_image_mime",
]

# Art above this size is ignored: it is not a cover, and we never want it in memory.
MAX_COVER_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024

EXT_FOR_MIME = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
MIME_FOR_EXT = {ext: mime for mime, ext in EXT_FOR_MIME.items()}
_STORED_NAME = re.compile(r"^([0-9a-f]{32})(\.[a-z]+)$")

# Folder art beside the audio files, best first: cover.* beats folder.* beats front.*.
_ART_STEMS = ("cover", "folder", "front")
_ART_EXTS = (".jpg", ".jpeg", ".png", ".webp")
_ART_RANK = {
    stem + ext: i * len(_ART_EXTS) + j
    for i, stem in enumerate(_ART_STEMS)
    for j, ext in enumerate(_ART_EXTS)
}


def folder_art_rank(name: str) -> int | None:
    """Lower is better; None if the file name is not a folder-art name (case-insensitive)."""
    return _ART_RANK.get(name.lower())


def sniff_image_mime(head: bytes) -> str | None:
    """The image type from its magic bytes (at least 12 bytes of the start of the file)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


@dataclass(frozen=True, slots=True)
class StoredImage:
    digest: str
    mime: str
    size: int


class CoverStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str, mime: str) -> Path:
        return self.root / digest[:2] / (digest + EXT_FOR_MIME.get(mime, ".img"))

    def put_bytes(self, data: bytes) -> StoredImage | None:
        """Store an embedded image; None if it is not an image we serve."""
        mime = sniff_image_mime(data[:16])
        if mime is None or len(data) > MAX_COVER_BYTES:
            return None
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        target = self.path_for(digest, mime)
        if target.is_file():
            return StoredImage(digest, mime, len(data))
        tmp = self._tmp_path(target)
        try:
            with open(tmp, "wb") as out:
                out.write(data)
            # write-then-rename: a reader never sees half an image under its final name
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredImage(digest, mime, len(data))

    def put_file(self, path: str) -> StoredImage | None:
        """Store a folder image, streaming it so a big file is never held in memory."""
        with open(path, "rb") as src:
            head = src.read(_CHUNK)
            mime = sniff_image_mime(head[:16])
            if mime is None:
                return None
            size = os.fstat(src.fileno()).st_size
            if size > MAX_COVER_BYTES:
                return None
            self.root.mkdir(parents=True, exist_ok=True)
            staging = self._tmp_path(self.root / "staging")
            try:
                hasher = hashlib.blake2b(digest_size=16)
                total = 0
                with open(staging, "wb") as out:
                    chunk = head
                    while chunk:
                        hasher.update(chunk)
                        out.write(chunk)
                        total += len(chunk)
                        chunk = src.read(_CHUNK)
                digest = hasher.hexdigest()
                target = self.path_for(digest, mime)
                if not target.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging, target)
            finally:
                staging.unlink(missing_ok=True)
        return StoredImage(digest, mime, total)

    def prune(self, keep: Container[str]) -> int:
        """Delete stored images whose digest is not in `keep` (and stray temp files)."""
        removed = 0
        try:
            buckets = list(os.scandir(self.root))
        except FileNotFoundError:
            return 0
        for bucket in buckets:
            if not bucket.is_dir(follow_symlinks=False) or len(bucket.name) != 2:
                if bucket.name.endswith(".tmp"):
                    _unlink(bucket.path)
                continue
            with os.scandir(bucket.path) as entries:
                for entry in entries:
                    m = _STORED_NAME.match(entry.name)
                    if m is None or m.group(1) not in keep:
                        removed += _unlink(entry.path)
        return removed

    def _tmp_path(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
    except OSError:
        return 0
    return 1
