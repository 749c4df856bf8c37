"""The web player: the page at `/` and `/r/<room>` (the invite-link target), its static files
under `/static/`, and the socket.io ES module from the npm package at
`/static/vendor/socket.io.esm.min.js`.

No build step: the files are plain ES modules, CSS and SVG. They are revalidated on every use
(`no-cache` with a content ETag, so an unchanged file costs a 304), since their names do not
change when their content does. The page may only run scripts from this origin (the CSP below):
nothing a user typed can become a script, even if it ever reached the DOM as markup.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from ..errors import ERROR_SCHEMA, OTHER_ERRORS, ApiError, not_found
from ..streaming import entity_tag, resolve_inside, static_response

router = APIRouter(tags=["player"])

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# `make node-deps` installs the npm packages beside the project's pyproject.toml.
VENDOR_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "socket.io-client" / "dist"
VENDORED = {"socket.io.esm.min.js", "socket.io.esm.min.js.map"}

STATIC_CACHE = "public, no-cache"
PAGE_CACHE = "no-cache"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",  # CSP3: 'self' includes ws:/wss: to this host
        "worker-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
}
ROOM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The web player page", "content": {"text/html": {}}},
    304: {"description": "Not modified (If-None-Match)"},
    **OTHER_ERRORS,
}
_ROOM_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_PAGE_RESPONSES,
    404: {**ERROR_SCHEMA, "description": "Not a room id: lower-case letters, digits, - and _"},
}
_STATIC_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file"},
    304: {"description": "Not modified (If-None-Match)"},
    404: {**ERROR_SCHEMA, "description": "No such file"},
    **OTHER_ERRORS,
}


def _read(path: Path) -> bytes:
    return path.read_bytes()


async def _serve(
    request: Request, path: Path, media_type: str, cache: str, headers: dict[str, str]
) -> Response:
    try:
        body = await asyncio.to_thread(_read, path)
    except OSError:
        raise not_found("file") from None
    etag = entity_tag(hashlib.blake2b(body, digest_size=12).hexdigest())
    return static_response(
        request, body, media_type=media_type, etag=etag, cache_control=cache, headers=headers
    )


async def _page(request: Request) -> Response:
    return await _serve(
        request, STATIC_DIR / "index.html", "text/html; charset=utf-8", PAGE_CACHE, PAGE_HEADERS
    )


@router.get("/", summary="The web player", response_class=Response, responses=_PAGE_RESPONSES)
@router.head("/", summary="Headers of the web player page", response_class=Response)
async def home(request: Request) -> Response:
    return await _page(request)


@router.get(
    "/r/{room_id}",
    summary="The web player, opening one room (the invite link; `?invite=` for private rooms)",
    response_class=Response,
    responses=_ROOM_PAGE_RESPONSES,
)
@router.head(
    "/r/{room_id}",
    summary="Headers of a room's page",
    response_class=Response,
    responses=_ROOM_PAGE_RESPONSES,
)
async def room_page(room_id: str, request: Request) -> Response:
    if not ROOM_ID.match(room_id):
        raise not_found("room link")
    return await _page(request)


StaticPath = Annotated[str, PathParam(description="Path under webapp/static")]


@router.get(
    "/static/{path:path}",
    summary="The web player's scripts, styles and images",
    response_class=Response,
    responses=_STATIC_RESPONSES,
)
@router.head(
    "/static/{path:path}",
    summary="Headers of one of the web player's files",
    response_class=Response,
    responses=_STATIC_RESPONSES,
)
async def static_file(path: StaticPath, request: Request) -> Response:
    if path.startswith("vendor/"):
        name = path.removeprefix("vendor/")
        if name not in VENDORED:
            raise not_found("file")
        root, target = VENDOR_DIR, VENDOR_DIR / name
    else:
        parts = path.split("/")
        if any(not part or part.startswith(".") for part in parts):
            raise not_found("file")
        root, target = STATIC_DIR, STATIC_DIR / path
    media_type = MEDIA_TYPES.get(target.suffix.lower())
    resolved = await resolve_inside(target, root) if media_type else None
    if media_type is None or resolved is None:
        if root is VENDOR_DIR:  # the npm packages are not installed
            missing = "the socket.io client is not installed: run `make node-deps`"
            raise ApiError(404, "not_found", missing)
        raise not_found("file")
    return await _serve(request, resolved, media_type, STATIC_CACHE, {})
