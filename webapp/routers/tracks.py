"""The library over HTTP: list and search tracks, one track, its cover art, and its audio.

Every library call blocks (SQLite, the file system), so each runs in a worker thread. Audio and
cover bytes go through `webapp.streaming` (ranges, conditional requests, HEAD).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.library import Library, Track

from ..covers import PLACEHOLDER_MIME, placeholder_etag, placeholder_svg
from ..deps import Context
from ..errors import ERROR_SCHEMA, OTHER_ERRORS, ApiError, not_found
from ..streaming import entity_tag, file_response, open_file, static_response, track_response
from ..views import track_view

router = APIRouter(tags=["library"])

MAX_LIMIT = 500

# A stream URL names content (the id is a fingerprint of the file), so while the file is the one
# that was indexed its bytes never change: cache it for a year and never revalidate.
STREAM_CACHE = "public, max-age=31536000, immutable, no-transform"
COVER_CACHE = "public, max-age=86400"
# Shorter: real art may turn up (a cover.jpg added beside the files) at the next scan.
PLACEHOLDER_CACHE = "public, max-age=3600"
# Images are only ever shown, never run: no scripts, no outside references, even if an SVG or a
# file is opened directly in a browser tab.
IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"
}


class TrackOut(BaseModel):
    id: str = Field(description="Stable id derived from the file's content")
    title: str
    artist: str | None
    album: str | None
    album_artist: str | None
    track_no: int | None
    disc_no: int | None
    year: int | None
    duration: float = Field(description="Seconds")
    codec: str
    bitrate: int | None = Field(description="Bits per second")
    sample_rate: int | None = Field(description="Hz")
    mime: str = Field(description="Content-Type of the stream")
    has_cover: bool = Field(description="False: cover_url serves a generated placeholder")
    cover_url: str = Field(description="Relative URL of the cover image")
    stream_url: str = Field(description="Relative URL of the audio")


class TrackPage(BaseModel):
    tracks: list[TrackOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {**ERROR_SCHEMA, "description": "No such track"},
    **OTHER_ERRORS,
}
_AUDIO = {"schema": {"type": "string", "format": "binary"}}
_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The whole file", "content": {"audio/*": _AUDIO}},
    206: {
        "description": "The requested byte range (several: multipart/byteranges)",
        "content": {"audio/*": _AUDIO, "multipart/byteranges": _AUDIO},
    },
    304: {"description": "Not modified (If-None-Match / If-Modified-Since)"},
    404: {**ERROR_SCHEMA, "description": "No such track, or its file is gone"},
    412: {**ERROR_SCHEMA, "description": "If-Match / If-Unmodified-Since failed"},
    416: {**ERROR_SCHEMA, "description": "No requested range starts inside the file"},
    **OTHER_ERRORS,
}
_IMAGE = {"schema": {"type": "string", "format": "binary"}}
_COVER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The cover image, or a generated SVG placeholder when there is none",
        "content": {"image/*": _IMAGE, PLACEHOLDER_MIME: _IMAGE},
    },
    304: {"description": "Not modified (If-None-Match)"},
    **_NOT_FOUND,
}


def _library(context: Context) -> Library:
    return context.catalog.library


@router.get(
    "/api/tracks",
    summary="List or search the library, a page at a time",
    response_model=TrackPage,
    responses={
        200: {"description": "One page of tracks, and the cursor of the next"},
        400: {**ERROR_SCHEMA, "description": "Bad limit or cursor"},
        **OTHER_ERRORS,
    },
)
async def list_tracks(
    context: Context,
    q: Annotated[
        str,
        Query(
            max_length=1000,
            description="Words to search titles, artists and albums for; empty lists all "
            "tracks in library order",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Tracks per page")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page")
    ] = None,
) -> dict[str, Any]:
    try:
        page = await asyncio.to_thread(_library(context).search, q, limit, cursor)
    except ValueError as e:
        raise ApiError(400, "invalid_argument", str(e)) from None
    return {"tracks": [track_view(t) for t in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/api/tracks/{track_id}",
    summary="One track",
    response_model=TrackOut,
    responses={200: {"description": "The track"}, **_NOT_FOUND},
)
async def get_track(track_id: str, context: Context) -> dict[str, Any]:
    return track_view(await _track(context, track_id))


async def _track(context: Context, track_id: str) -> Track:
    track = await asyncio.to_thread(_library(context).get, track_id)
    if track is None:
        raise not_found("track")
    return track


# ------------------------------------------------------------------------------------ covers


@router.get(
    "/api/tracks/{track_id}/cover",
    summary="A track's cover art (a generated placeholder when it has none)",
    response_class=Response,
    responses=_COVER_RESPONSES,
)
async def get_cover(track_id: str, request: Request, context: Context) -> Response:
    return await _cover(track_id, request, context)


@router.head(
    "/api/tracks/{track_id}/cover",
    summary="Headers of a track's cover art",
    response_class=Response,
    responses=_COVER_RESPONSES,
)
async def head_cover(track_id: str, request: Request, context: Context) -> Response:
    return await _cover(track_id, request, context)


async def _cover(track_id: str, request: Request, context: Context) -> Response:
    library = _library(context)
    cover = await asyncio.to_thread(library.cover, track_id)
    if cover is not None:
        file = await open_file(cover.path)
        if file is not None:
            return file_response(
                request,
                file,
                media_type=cover.mime,
                etag=entity_tag(cover.etag),  # the image's content digest
                cache_control=COVER_CACHE,
                headers=IMAGE_HEADERS,
            )
    await _track(context, track_id)  # 404 for an unknown id; else a placeholder
    svg = placeholder_svg(track_id)
    return static_response(
        request,
        svg,
        media_type=PLACEHOLDER_MIME,
        etag=placeholder_etag(svg),
        cache_control=PLACEHOLDER_CACHE,
        headers=IMAGE_HEADERS,
    )


# ------------------------------------------------------------------------------------- audio


@router.get(
    "/api/tracks/{track_id}/stream",
    summary="A track's audio, with byte ranges and conditional requests",
    description="Supports `Range` (single, suffix, open-ended and multiple ranges), `If-Range`, "
    "`If-None-Match`, `If-Modified-Since`, `If-Match` and `If-Unmodified-Since`. Never "
    "compressed. Cached as immutable while the file is the one that was indexed.",
    response_class=Response,
    responses=_STREAM_RESPONSES,
)
async def stream_track(track_id: str, request: Request, context: Context) -> Response:
    return await _stream(track_id, request, context)


@router.head(
    "/api/tracks/{track_id}/stream",
    summary="Headers of a track's audio (size, type, validators)",
    response_class=Response,
    responses=_STREAM_RESPONSES,
)
async def head_track(track_id: str, request: Request, context: Context) -> Response:
    return await _stream(track_id, request, context)


async def _stream(track_id: str, request: Request, context: Context) -> Response:
    track = await _track(context, track_id)
    return await track_response(request, _library(context), track, fresh_cache=STREAM_CACHE)
