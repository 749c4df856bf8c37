"""The library over HTTP, against a real server: listing, search, paging, one track, cover art
(stored and generated), and the OpenAPI description of it all."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from webapp.covers import placeholder_svg

from .conftest import Web

TRACK_FIELDS = {
    "id", "title", "artist", "album", "album_artist", "track_no", "disc_no", "year", "duration",
    "codec", "bitrate", "sample_rate", "mime", "has_cover", "cover_url", "stream_url",
}  # fmt: skip
DEMO_TITLES = ["Morning Light", "Night Drive", "Slow Tide", "Paper Kites"]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
async def client(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web.url) as client:
        yield client


async def all_pages(client: httpx.AsyncClient, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/tracks", params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body["tracks"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging never ends"


# ------------------------------------------------------------------------------- listing


async def test_the_whole_library_in_album_order(web: Web, client: httpx.AsyncClient) -> None:
    r = await client.get("/api/tracks")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["next_cursor"] is None
    tracks = body["tracks"]
    assert [t["title"] for t in tracks] == DEMO_TITLES
    for n, track in enumerate(tracks, start=1):
        assert set(track) == TRACK_FIELDS
        assert track["track_no"] == n
        assert track["artist"] and track["album"] == "Lockstep Demo Tracks"
        assert track["mime"] == "audio/mpeg" and track["codec"] == "mp3"
        assert track["duration"] > 5 and track["sample_rate"] and track["bitrate"]
        assert track["stream_url"] == f"/api/tracks/{track['id']}/stream"
        assert track["cover_url"] == f"/api/tracks/{track['id']}/cover"
    assert [t["has_cover"] for t in tracks] == [True, True, True, False]
    assert sorted(t["id"] for t in tracks) == sorted(web.track_ids())


async def test_no_file_system_path_is_ever_shown(web: Web, client: httpx.AsyncClient) -> None:
    listing = await client.get("/api/tracks")
    one = await client.get(f"/api/tracks/{web.track_ids()[0]}")
    for text in (listing.text, one.text):
        assert str(web.music) not in text
        assert str(web.settings.data_dir) not in text
        assert ".mp3" not in text  # not even the relative file name
    assert not {"path", "relpath", "root"} & set(one.json())


async def test_paging_one_track_at_a_time_sees_every_track_once(
    web: Web, client: httpx.AsyncClient
) -> None:
    pages = await all_pages(client, limit=1)
    assert [len(p) for p in pages] == [1, 1, 1, 1]
    ids = [t["id"] for page in pages for t in page]
    assert len(set(ids)) == len(ids) == 4
    assert set(ids) == set(web.track_ids())
    assert [t["title"] for page in pages for t in page] == DEMO_TITLES


async def test_search_pages_through_every_match(client: httpx.AsyncClient) -> None:
    # "lockstep" is in every demo track's album: 4 matches over pages of 3
    pages = await all_pages(client, q="lockstep", limit=3)
    assert [len(p) for p in pages] == [3, 1]
    titles = [t["title"] for page in pages for t in page]
    assert sorted(titles) == sorted(DEMO_TITLES)


@pytest.mark.parametrize(
    ("q", "titles"),
    [
        ("morning", ["Morning Light"]),
        ("TIDE", ["Slow Tide"]),  # any case
        ("neon harb", ["Night Drive"]),  # the artist, by word prefixes
        ("paper", ["Paper Kites"]),
        ("nothing matches this", []),
        ('"morning" OR *', []),  # FTS5 syntax is just words to look for
        ("NEAR(morning light)", []),
        ("   ", DEMO_TITLES),  # blank: everything
    ],
)
async def test_search_finds_titles_and_artists(
    client: httpx.AsyncClient, q: str, titles: list[str]
) -> None:
    r = await client.get("/api/tracks", params={"q": q})
    assert r.status_code == 200, r.text
    assert [t["title"] for t in r.json()["tracks"]] == titles


@pytest.mark.parametrize("limit", ["1", "500"])
async def test_limits_at_the_bounds_are_accepted(client: httpx.AsyncClient, limit: str) -> None:
    r = await client.get("/api/tracks", params={"limit": limit})
    assert r.status_code == 200
    assert len(r.json()["tracks"]) == min(int(limit), 4)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "-3"},
        {"limit": "ten"},
        {"limit": "2.5"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJhIjoxfQ"},  # base64 JSON, but not a cursor
        {"cursor": "%%%"},
    ],
)
async def test_a_bad_limit_or_cursor_is_a_400(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    r = await client.get("/api/tracks", params=params)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_argument"
    assert next(iter(params)) in body["detail"]


async def test_a_cursor_only_continues_its_own_search(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/tracks", params={"q": "lockstep", "limit": 1})).json()
    assert first["next_cursor"]
    r = await client.get("/api/tracks", params={"q": "paper", "cursor": first["next_cursor"]})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_argument"
    browse = await client.get("/api/tracks", params={"cursor": first["next_cursor"]})
    assert browse.status_code == 400


# ------------------------------------------------------------------------------ one track


async def test_one_track_is_the_same_as_in_the_list(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/api/tracks")).json()["tracks"]
    for track in listed:
        r = await client.get(f"/api/tracks/{track['id']}")
        assert r.status_code == 200
        assert r.json() == track


@pytest.mark.parametrize(
    "path",
    [
        "/api/tracks/aaaaaaaaaaaaaaaa",
        "/api/tracks/aaaaaaaaaaaaaaaa/cover",
        "/api/tracks/aaaaaaaaaaaaaaaa/stream",
        "/api/tracks/' OR 1=1 --",
        "/api/tracks/%00",
    ],
)
async def test_unknown_tracks_are_404(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": "no such track"}
    if path.endswith(("/cover", "/stream")):
        assert (await client.head(path)).status_code == 404


# ---------------------------------------------------------------------------------- covers


def ids_by_cover(web: Web) -> tuple[list[str], str]:
    tracks = web.library.search("", limit=10).items
    with_art = [t.id for t in tracks if t.has_cover]
    without = [t.id for t in tracks if not t.has_cover]
    assert len(with_art) == 3 and len(without) == 1
    return with_art, without[0]


async def test_a_cover_is_the_stored_image_with_caching(
    web: Web, client: httpx.AsyncClient
) -> None:
    with_art, _ = ids_by_cover(web)
    for track_id in with_art:
        cover = web.library.cover(track_id)
        assert cover is not None
        r = await client.get(f"/api/tracks/{track_id}/cover")
        assert r.status_code == 200
        assert r.content == cover.path.read_bytes()
        assert r.content.startswith(b"\x89PNG")
        assert r.headers["content-type"] == "image/png"
        assert r.headers["cache-control"] == "public, max-age=86400"
        assert r.headers["etag"] == f'"{cover.etag}"'
        assert "content-encoding" not in r.headers

        again = await client.get(
            f"/api/tracks/{track_id}/cover", headers={"If-None-Match": r.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == r.headers["etag"]

        head = await client.head(f"/api/tracks/{track_id}/cover")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(r.content))


async def test_a_track_without_art_gets_a_generated_placeholder(
    web: Web, client: httpx.AsyncClient
) -> None:
    _, bare = ids_by_cover(web)
    r = await client.get(f"/api/tracks/{bare}/cover")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"
    assert "max-age" in r.headers["cache-control"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    root = ET.fromstring(r.content)  # noqa: S314 - our own server's output
    assert root.tag == f"{SVG}svg"
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "defs", "linearGradient", "stop", "rect", "circle"}
    assert not any("href" in key for el in root.iter() for key in el.attrib)  # nothing fetched
    # the same picture every time, and a 304 for a client that has it
    assert (await client.get(f"/api/tracks/{bare}/cover")).content == r.content
    cached = await client.get(
        f"/api/tracks/{bare}/cover", headers={"If-None-Match": r.headers["etag"]}
    )
    assert cached.status_code == 304 and cached.content == b""
    head = await client.head(f"/api/tracks/{bare}/cover")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(r.content))
    assert head.headers["etag"] == r.headers["etag"]


async def test_placeholders_differ_between_tracks_and_contain_no_text() -> None:
    seeds = ["aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaab", "<script>alert(1)</script>", "x&y\"'"]
    pictures = [placeholder_svg(s) for s in seeds]
    assert len(set(pictures)) == len(seeds)
    for seed, svg in zip(seeds, pictures, strict=True):
        assert seed.encode() not in svg
        root = ET.fromstring(svg)  # noqa: S314 - well-formed whatever the seed
        assert all(not (el.text or "").strip() for el in root.iter())


async def test_a_cover_image_deleted_from_the_store_falls_back_to_the_placeholder(
    web: Web, client: httpx.AsyncClient
) -> None:
    with_art, _ = ids_by_cover(web)
    cover = web.library.cover(with_art[0])
    assert cover is not None
    cover.path.unlink()
    r = await client.get(f"/api/tracks/{with_art[0]}/cover")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"


# --------------------------------------------------------------------------------- OpenAPI


async def test_openapi_describes_every_library_and_legacy_endpoint(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    expected = {
        ("/api/tracks", "get"): "library",
        ("/api/tracks/{track_id}", "get"): "library",
        ("/api/tracks/{track_id}/cover", "get"): "library",
        ("/api/tracks/{track_id}/cover", "head"): "library",
        ("/api/tracks/{track_id}/stream", "get"): "library",
        ("/api/tracks/{track_id}/stream", "head"): "library",
        ("/songs", "get"): "legacy",
        ("/music/{filename}", "get"): "legacy",
        ("/music/{filename}", "head"): "legacy",
    }
    for (path, method), tag in expected.items():
        operation = spec["paths"][path][method]
        assert operation["tags"] == [tag]
        assert operation["summary"]
        for status, response in operation["responses"].items():
            assert response["description"], (path, method, status)
        assert "422" not in operation["responses"]  # validation errors are 400 here
        if path != "/songs":
            error = operation["responses"]["404" if "{" in path else "400"]
            schema = error["content"]["application/json"]["schema"]
            assert schema["required"] == ["error", "detail"]
    stream = spec["paths"]["/api/tracks/{track_id}/stream"]["get"]["responses"]
    assert {"200", "206", "304", "404", "416"} <= set(stream)
    assert "audio/*" in stream["200"]["content"]
    page = spec["paths"]["/api/tracks"]["get"]["responses"]["200"]["content"]["application/json"]
    assert page["schema"]["$ref"].endswith("/TrackPage")
    assert set(spec["components"]["schemas"]["TrackOut"]["properties"]) == TRACK_FIELDS
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
