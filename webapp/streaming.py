"""Serving files the way media players and caches expect: conditional requests (RFC 9110 §13:
If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range), byte ranges (§14:
single ranges, suffix and open-ended ranges, multipart/byteranges, 416), and HEAD.

Starlette's `FileResponse` is not used: it answers no conditional request with 304, rejects a
Range header it cannot parse with 400 where RFC 9110 says to ignore it and send the whole file,
lets `int()` read ranges such as `bytes=1_0-` or `bytes=--5`, answers 416 when only one of
several ranges is unsatisfiable, and opens the file by name after the headers have gone out, so
a file deleted in between makes a 500 or a cut-off response.

Here the file is opened (never following a final symlink, never blocking on a FIFO) before
anything is decided; every header comes from that open file, and the body is read from the same
descriptor with `pread`, so a file deleted, replaced or renamed while it is being sent is
harmless. The body is never compressed: audio and images do not shrink, and a range of
compressed bytes would be meaningless.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import secrets
import stat
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from shared.library import Library, Track

from .errors import ApiError, error_response

__all__ = [
    "NO_CACHE",
    "OpenFile",
    "entity_tag",
    "file_response",
    "open_file",
    "parse_range",
    "resolve_inside",
    "static_response",
    "track_response",
]

log = logging.getLogger("lockstep.web")

# Revalidate every time (cheap with ETag / Last-Modified: a 304 has no body), and let no proxy
# re-encode the bytes.
NO_CACHE = "public, no-cache, no-transform"

CHUNK_SIZE = 256 * 1024
MAX_RANGE_SPECS = 100  # more than this in one Range header is abuse: the header is ignored

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)  # the path is already resolved: a symlink now is a swap
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not hang the worker thread
    | getattr(os, "O_BINARY", 0)
)
_GONE = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EISDIR, errno.ENXIO}


# ------------------------------------------------------------------------------------ files


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class OpenFile:
    """An open regular file and its stat, owned by whoever holds it: `close()` is idempotent,
    and a descriptor that is dropped without it is closed by the garbage collector."""

    def __init__(self, fd: int, st: os.stat_result) -> None:
        self.fd = fd
        self.size = st.st_size
        self.mtime = st.st_mtime
        self.mtime_ns = st.st_mtime_ns
        self._finalizer = weakref.finalize(self, _close_quietly, fd)

    def close(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def _open(path: Path) -> OpenFile | None:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        if e.errno not in _GONE:
            log.warning("cannot open %s: %s", path, e.strerror or e)
        return None
    try:
        st = os.fstat(fd)
    except OSError:  # pragma: no cover - fstat on an open descriptor does not fail
        _close_quietly(fd)
        return None
    if not stat.S_ISREG(st.st_mode):
        _close_quietly(fd)
        return None
    return OpenFile(fd, st)


async def open_file(path: Path) -> OpenFile | None:
    """Open a regular file for serving, off the event loop; None if it is gone, is not a regular
    file, is (now) a symlink, or cannot be read."""
    return await asyncio.to_thread(_open, path)


def _inside(path: Path, root: Path) -> Path | None:
    try:
        real_root = os.path.realpath(root, strict=True)
        real = os.path.realpath(path, strict=True)
    except OSError:
        return None
    if os.path.commonpath([real_root, real]) != real_root:
        return None
    return Path(real)


async def resolve_inside(path: Path, root: Path) -> Path | None:
    """`path` fully resolved (symlinks and all), if it exists and is inside `root`."""
    return await asyncio.to_thread(_inside, path, root)


# --------------------------------------------------------------------------------- validators


def entity_tag(opaque: str) -> str:
    """A strong entity tag (quoted) for an opaque value; quotes and backslashes are dropped."""
    return '"' + re.sub(r'["\\\s]', "", opaque) + '"'


_ETAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


def _etags(value: str) -> list[tuple[bool, str]] | None:
    """(weak, tag) for each entity tag of an If-Match / If-None-Match value; None for `*`."""
    if value.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    pos = 0
    value = value.strip()
    while pos < len(value):
        m = _ETAG.match(value, pos)
        if m is None:
            break  # malformed: keep what parsed so far, which is the lenient reading
        tags.append((m[1] is not None, m[2]))
        pos = m.end()
    return tags


def _http_date(value: str | None) -> int | None:
    """Seconds since the epoch of an HTTP-date, or None if absent or not a date."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by definition
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _joined(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    return ", ".join(values) if values else None


@dataclass(frozen=True, slots=True)
class _Validators:
    etag: str  # quoted, strong
    mtime: int  # whole seconds, as Last-Modified carries them

    def matches_strongly(self, value: str) -> bool:
        tags = _etags(value)
        return tags is None or any(not weak and tag == self.etag for weak, tag in tags)

    def matches_weakly(self, value: str) -> bool:
        tags = _etags(value)
        return tags is None or any(tag == self.etag for _weak, tag in tags)

    def if_range_holds(self, value: str) -> bool:
        """If-Range: an entity tag must match strongly; a date must equal Last-Modified, and
        only counts if that is at least a second in the past (else it is a weak validator)."""
        value = value.strip()
        if value.startswith(('"', "W/")):
            return value == self.etag
        date = _http_date(value)
        return date is not None and date == self.mtime and self.mtime < time.time() - 1


def _precondition(request: Request, v: _Validators) -> int | None:
    """RFC 9110 §13.2.2 in order, for GET and HEAD: 412, 304, or None to go on."""
    if_match = _joined(request, "if-match")
    if if_match is not None:
        if not v.matches_strongly(if_match):
            return 412
    else:
        since = _http_date(request.headers.get("if-unmodified-since"))
        if since is not None and v.mtime > since:
            return 412
    if_none_match = _joined(request, "if-none-match")
    if if_none_match is not None:
        if v.matches_weakly(if_none_match):
            return 304
    else:
        since = _http_date(request.headers.get("if-modified-since"))
        if since is not None and v.mtime <= since:
            return 304
    return None


# ------------------------------------------------------------------------------------ ranges

_UNIT = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # an RFC 9110 token
_RANGES = re.compile(rf"({_UNIT})=(.*)", re.DOTALL)
_SPEC = re.compile(r"([0-9]+)-([0-9]*)|-([0-9]+)")
_BIG = 10**18  # beyond any file: longer digit strings are not worth converting


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 19 else _BIG


def parse_range(value: str, size: int) -> list[tuple[int, int]] | None:
    """The byte ranges of a Range header as sorted, merged [start, end) pairs within `size`.

    None means "ignore the header and send the whole file": not a bytes range, bad syntax, a
    range whose last byte comes before its first, or more than MAX_RANGE_SPECS ranges (RFC 9110
    §14.2 lets a server ignore Range). An empty list means that none of the ranges is
    satisfiable (416)."""
    m = _RANGES.fullmatch(value.strip(" \t"))
    if m is None or m[1].lower() != "bytes":
        return None
    specs = [s.strip(" \t") for s in m[2].split(",")]
    specs = [s for s in specs if s]  # a list may have empty elements
    if not specs or len(specs) > MAX_RANGE_SPECS:
        return None
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        sm = _SPEC.fullmatch(spec)
        if sm is None:
            return None
        if sm[3] is not None:  # suffix: the last n bytes
            n = _number(sm[3])
            if n > 0 and size > 0:
                ranges.append((max(0, size - n), size))
            continue
        first = _number(sm[1])
        last = _number(sm[2]) if sm[2] else None
        if last is not None and last < first:
            return None
        if first < size:
            ranges.append((first, size if last is None else min(last + 1, size)))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:  # overlapping or adjacent
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --------------------------------------------------------------------------------- responses


def _raw(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class _FileBody(Response):
    """Sends a status, headers and the given byte spans of an open file (with optional bytes
    between and after them, for multipart/byteranges), then closes the file. Stops reading as
    soon as the client goes away."""

    def __init__(
        self,
        file: OpenFile,
        status: int,
        headers: Mapping[str, str],
        segments: Sequence[tuple[bytes, int, int]],
        trailer: bytes,
        head: bool,
    ) -> None:
        self.status_code = status
        self.background = None
        self.raw_headers = _raw(headers)
        self._file = file
        self._segments = segments  # (bytes to send first, start, end) in order
        self._trailer = trailer
        self._head = head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher: asyncio.Task[None] | None = None
        try:
            await _emit(
                send,
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                },
            )
            if not self._head:
                gone = asyncio.Event()
                watcher = asyncio.create_task(_watch_disconnect(receive, gone))
                await self._send_body(send, gone)
            else:
                await _emit(send, {"type": "http.response.body", "body": b"", "more_body": False})
        except _ClientGone:
            return
        finally:
            if watcher is not None:
                watcher.cancel()
            self._file.close()
        if self.background is not None:
            await self.background()

    async def _send_body(self, send: Send, gone: asyncio.Event) -> None:
        fd = self._file.fd
        for prefix, start, end in self._segments:
            if prefix:
                await _emit(send, {"type": "http.response.body", "body": prefix, "more_body": True})
            pos = start
            while pos < end:
                if gone.is_set():
                    raise _ClientGone
                data = await asyncio.to_thread(os.pread, fd, min(CHUNK_SIZE, end - pos), pos)
                if not data:
                    # Truncated while being sent: the promised length cannot be kept, and
                    # raising makes the server close the connection rather than hang it.
                    raise RuntimeError("the file became shorter while it was being sent")
                pos += len(data)
                await _emit(send, {"type": "http.response.body", "body": data, "more_body": True})
        await _emit(send, {"type": "http.response.body", "body": self._trailer, "more_body": False})


class _ClientGone(Exception):
    pass


async def _emit(send: Send, message: Message) -> None:
    try:
        await send(message)
    except OSError as e:  # how an ASGI 2.4 server says the client has gone
        raise _ClientGone from e


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


def _multipart(
    ranges: Sequence[tuple[int, int]], size: int, content_type: str
) -> tuple[str, list[tuple[bytes, int, int]], bytes, int]:
    boundary = secrets.token_hex(16)
    segments: list[tuple[bytes, int, int]] = []
    length = 0
    for i, (start, end) in enumerate(ranges):
        head = (
            ("\r\n" if i else "") + f"--{boundary}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
        ).encode("latin-1")
        segments.append((head, start, end))
        length += len(head) + end - start
    trailer = f"\r\n--{boundary}--\r\n".encode("latin-1")
    return f"multipart/byteranges; boundary={boundary}", segments, trailer, length + len(trailer)


def file_response(
    request: Request,
    file: OpenFile,
    *,
    media_type: str,
    etag: str,
    cache_control: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The answer to a GET or HEAD of `file` (which this takes over and closes): 200, 206 (one
    range, or multipart/byteranges for several), 304, 412 or 416. `etag` is a quoted strong
    entity tag that must change whenever the bytes do."""
    size = file.size
    validators = _Validators(etag, int(file.mtime))
    common = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": formatdate(file.mtime, usegmt=True),
        "Cache-Control": cache_control,
        **(headers or {}),
    }
    verdict = _precondition(request, validators)
    if verdict is not None:
        file.close()
        if verdict == 304:
            return Response(status_code=304, headers=common)
        return error_response(
            412, "precondition_failed", "the file does not match If-Match / If-Unmodified-Since",
            {"ETag": etag},
        )  # fmt: skip
    head = request.method == "HEAD"
    ranges: list[tuple[int, int]] | None = None
    range_values = request.headers.getlist("range")
    if len(range_values) == 1:
        if_range = request.headers.get("if-range")
        if if_range is None or validators.if_range_holds(if_range):
            ranges = parse_range(range_values[0], size)
    if ranges is None:
        full = {**common, "Content-Type": media_type, "Content-Length": str(size)}
        return _FileBody(file, 200, full, [(b"", 0, size)], b"", head)
    if not ranges:
        file.close()
        return error_response(
            416, "range_not_satisfiable", f"no requested range starts inside the {size} bytes",
            {"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes", "ETag": etag},
        )  # fmt: skip
    if len(ranges) == 1:
        start, end = ranges[0]
        part = {
            **common,
            "Content-Type": media_type,
            "Content-Range": f"bytes {start}-{end - 1}/{size}",
            "Content-Length": str(end - start),
        }
        return _FileBody(file, 206, part, [(b"", start, end)], b"", head)
    content_type, segments, trailer, length = _multipart(ranges, size, media_type)
    parts = {**common, "Content-Type": content_type, "Content-Length": str(length)}
    return _FileBody(file, 206, parts, segments, trailer, head)


def static_response(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    etag: str,
    cache_control: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A small generated body (no Last-Modified, no ranges), with 304 for a matching
    If-None-Match. HEAD gets the same headers, Content-Length included, and no body."""
    common = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if_none_match = _joined(request, "if-none-match")
    if if_none_match is not None and _Validators(etag, 0).matches_weakly(if_none_match):
        return Response(status_code=304, headers=common)
    full = {**common, "Content-Length": str(len(body))}
    return Response(b"" if request.method == "HEAD" else body, 200, full, media_type)


async def track_response(
    request: Request,
    library: Library,
    track: Track,
    *,
    fresh_cache: str,
    root: Path | None = None,
) -> Response:
    """A library track's file as a (ranged, conditional) response; 404 if the file has gone (or,
    with `root`, if it does not resolve to a file inside that folder). `fresh_cache` is the
    Cache-Control while the file is still the one that was indexed; a file changed since the
    last scan is always revalidated."""
    path = await asyncio.to_thread(library.path_of, track.id)  # resolved, inside its root
    if path is not None and root is not None:
        path = await resolve_inside(path, root)
    file = await open_file(path) if path is not None else None
    if file is None:
        raise ApiError(404, "not_found", "the track's file is no longer in the library")
    fresh = file.size == track.size and file.mtime_ns == track.mtime_ns
    return file_response(
        request,
        file,
        media_type=track.mime,
        # changes whenever the bytes can have, so If-Range never splices two versions
        etag=entity_tag(f"{track.id}-{file.size:x}-{file.mtime_ns:x}"),
        cache_control=fresh_cache if fresh else NO_CACHE,
    )
