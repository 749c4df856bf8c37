"""The prototype's endpoints, kept for its clients: GET /songs (every track in the music folder)
and GET /music/<path> (a file by its path relative to that folder).

A requested path never reaches the file system: it is checked as text, then looked up in the
library index, which only holds non-hidden audio files that were inside the folder when it was
scanned. The file the index names is then resolved again (symlinks and all) and must still be a
regular file inside the folder. Anything else, whatever it contains, is 404.

While the music folder has no audio the service plays the demo tracks, and so do these
endpoints: /songs lists them and /music/<name> serves them, as if they were in the folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.library import AUDIO_EXTENSIONS, Library, Track

from ..deps import Context
from ..errors import ERROR_SCHEMA, OTHER_ERRORS, ApiError, not_found
from ..streaming import NO_CACHE, track_response

router = APIRouter(tags=["legacy"])

_PAGE = 500  # the library's largest page
_MAX_PATH = 4096
# Percent-encoded separators (and NUL) in the raw request path: a real file name holds none of
# them, so they are only ever an attempt to smuggle a separator past the router.
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c|00)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


class Song(BaseModel):
    id: str = Field(description="The track id, as in /api/tracks")
    filename: str = Field(description="Path relative to the music folder, '/'-separated")
    title: str
    artist: str | None
    album: str | None
    duration: float = Field(description="Seconds")
    url: str = Field(description="Relative URL of the audio: /music/<url-quoted filename>")


class SongList(BaseModel):
    songs: list[Song]


_AUDIO = {"schema": {"type": "string", "format": "binary"}}
_MUSIC_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The whole file", "content": {"audio/*": _AUDIO}},
    206: {"description": "The requested byte range", "content": {"audio/*": _AUDIO}},
    304: {"description": "Not modified (If-None-Match / If-Modified-Since)"},
    404: {
        **ERROR_SCHEMA,
        "description": "No such audio file in the music folder (also for any path that is "
        "hidden, not audio, absolute, or tries to leave the folder)",
    },
    412: {**ERROR_SCHEMA, "description": "If-Match / If-Unmodified-Since failed"},
    416: {**ERROR_SCHEMA, "description": "No requested range starts inside the file"},
    **OTHER_ERRORS,
}


def _roots(context: Context) -> dict[str, Path]:
    """Library root name -> folder, for the roots these endpoints show."""
    catalog = context.catalog
    roots = {"music": catalog.music_dir}
    if catalog.demo:
        roots["demo"] = catalog.demo_dir
    return roots


def _all_tracks(library: Library, roots: frozenset[str]) -> list[Track]:
    tracks: list[Track] = []
    cursor: str | None = None
    while True:
        page = library.search("", _PAGE, cursor)
        tracks.extend(t for t in page.items if t.root in roots)
        if page.next_cursor is None:
            return tracks
        cursor = page.next_cursor


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: no URL can name it
        return False
    return True


def _song(track: Track) -> dict[str, Any]:
    return {
        "id": track.id,
        "filename": track.relpath,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "duration": track.duration,
        "url": "/music/" + quote(track.relpath, safe="/"),
    }


@router.get(
    "/songs",
    summary="Every track in the music folder (the prototype's list)",
    response_model=SongList,
    responses={200: {"description": "All tracks, in library order"}, **OTHER_ERRORS},
)
async def list_songs(context: Context) -> dict[str, Any]:
    roots = frozenset(_roots(context))
    tracks = await asyncio.to_thread(_all_tracks, context.catalog.library, roots)
    return {"songs": [_song(t) for t in tracks if _encodable(t.relpath)]}


def _checked_relpath(filename: str) -> str | None:
    """`filename` if it can name an audio file inside the folder: relative, '/'-separated, no
    empty, '.', '..' or hidden segment, no backslash or control character, audio extension."""
    if not filename or len(filename) > _MAX_PATH or _CONTROL.search(filename):
        return None
    parts = filename.split("/")
    if any(not part or part.startswith(".") for part in parts):  # also '', '.', '..', '/x'
        return None
    if os.path.splitext(parts[-1])[1].lower() not in AUDIO_EXTENSIONS:
        return None
    return filename


def _find(library: Library, roots: dict[str, Path], relpath: str) -> Track | None:
    # A browser sends NFC; a file written on macOS may be named in NFD: try both spellings.
    spellings = dict.fromkeys(
        [relpath, unicodedata.normalize("NFC", relpath), unicodedata.normalize("NFD", relpath)]
    )
    for root in roots:
        for spelling in spellings:
            track = library.find_by_relpath(root, spelling)
            if track is not None:
                return track
    return None


async def _music(filename: str, request: Request, context: Context) -> Response:
    missing = not_found("file")
    raw_path: bytes = request.scope.get("raw_path") or b""
    relpath = _checked_relpath(filename)
    if relpath is None or _ENCODED_SEPARATOR.search(raw_path):
        raise missing
    roots = _roots(context)
    library = context.catalog.library
    track = await asyncio.to_thread(_find, library, roots, relpath)
    if track is None:
        raise missing
    try:
        return await track_response(
            request, library, track, fresh_cache=NO_CACHE, root=roots[track.root]
        )
    except ApiError as e:
        raise missing from e


FilenameParam = Annotated[
    str, PathParam(description="Path relative to the music folder, '/'-separated, URL-quoted")
]


@router.get(
    "/music/{filename:path}",
    summary="An audio file by its path in the music folder (the prototype's URLs)",
    description="Same byte-range and conditional-request support as /api/tracks/{id}/stream; "
    "revalidated on every use, since a path can come to name another file.",
    response_class=Response,
    responses=_MUSIC_RESPONSES,
)
async def music_file(filename: FilenameParam, request: Request, context: Context) -> Response:
    return await _music(filename, request, context)


@router.head(
    "/music/{filename:path}",
    summary="Headers of an audio file by its path in the music folder",
    response_class=Response,
    responses=_MUSIC_RESPONSES,
)
async def music_file_head(filename: FilenameParam, request: Request, context: Context) -> Response:
    return await _music(filename, request, context)
