"""Audio over HTTP as players and caches use it, against a real server: byte ranges, If-Range,
conditional requests, HEAD, no compression, and files that change or vanish under the index."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from webapp.streaming import parse_range

from .conftest import Web, WebFactory


@pytest.fixture
async def client(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web.url) as client:
        yield client


def first_track(web: Web) -> tuple[str, Path]:
    track = web.library.search("", limit=1).items[0]
    return track.id, web.music / track.relpath


async def test_the_whole_file_with_validators_and_caching(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    data = path.read_bytes()
    r = await client.get(f"/api/tracks/{track_id}/stream")
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "audio/mpeg"
    assert r.headers["content-length"] == str(len(data))
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"].startswith('"') and r.headers["etag"].endswith('"')
    assert r.headers["last-modified"] == formatdate(path.stat().st_mtime, usegmt=True)
    assert "immutable" in r.headers["cache-control"]
    assert "max-age=31536000" in r.headers["cache-control"]
    assert "no-transform" in r.headers["cache-control"]


@pytest.mark.parametrize("encoding", ["gzip", "gzip, deflate, br", "*"])
async def test_audio_is_never_compressed(
    web: Web, client: httpx.AsyncClient, encoding: str
) -> None:
    track_id, _ = first_track(web)
    for headers in ({}, {"Range": "bytes=0-9999"}):
        r = await client.get(
            f"/api/tracks/{track_id}/stream", headers={"Accept-Encoding": encoding, **headers}
        )
        assert r.status_code in (200, 206)
        assert "content-encoding" not in r.headers
        assert int(r.headers["content-length"]) == len(r.content)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", slice(0, 100)),  # the start
        ("bytes=0-0", slice(0, 1)),
        ("bytes=1000-1999", slice(1000, 2000)),  # the middle
        ("bytes=-100", slice(-100, None)),  # the last 100
        ("bytes=100-", slice(100, None)),  # from 100 to the end
        ("bytes=0-", slice(0, None)),  # what a browser's first request asks for
        ("bytes=-999999999", slice(0, None)),  # more than the file: all of it
        ("bytes=300000-999999999", slice(300000, None)),  # past the end: clipped
        ("BYTES = 5-9", None),  # not valid syntax: ignored
        ("bytes=5-9", slice(5, 10)),
        ("bytes= 5-9 , 6-7", slice(5, 10)),  # whitespace around list elements
        ("bytes=5-9,", slice(5, 10)),  # empty list elements are allowed
        ("bytes=0-9,5-14", slice(0, 15)),  # overlapping: merged into one
        ("bytes=10-19,0-9", slice(0, 20)),  # adjacent: merged into one
    ],
)
async def test_a_range_returns_exactly_those_bytes(
    web: Web, client: httpx.AsyncClient, header: str, expected: slice | None
) -> None:
    track_id, path = first_track(web)
    data = path.read_bytes()
    r = await client.get(f"/api/tracks/{track_id}/stream", headers={"Range": header})
    if expected is None:
        assert r.status_code == 200 and r.content == data
        return
    want = data[expected]
    start = expected.start % len(data) if expected.start is not None else 0
    assert r.status_code == 206, r.text
    assert r.content == want
    assert r.headers["content-range"] == f"bytes {start}-{start + len(want) - 1}/{len(data)}"
    assert r.headers["content-length"] == str(len(want))
    assert r.headers["content-type"] == "audio/mpeg"
    assert r.headers["etag"]


@pytest.mark.parametrize(
    "header",
    [
        "items=0-5",  # another unit
        "bytes=abc-",  # not numbers
        "bytes=9-5",  # last before first
        "bytes=1_0-20",  # Python's int() would read 10
        "bytes=--5",
        "bytes=+5-10",
        "bytes=5",
        "bytes=",
        ",".join(["bytes=0-0"] + [f"{i}-{i}" for i in range(2, 300, 2)]),  # too many
    ],
)
async def test_a_range_header_that_is_not_valid_is_ignored(
    web: Web, client: httpx.AsyncClient, header: str
) -> None:
    track_id, path = first_track(web)
    r = await client.get(f"/api/tracks/{track_id}/stream", headers={"Range": header})
    assert r.status_code == 200
    assert r.content == path.read_bytes()


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{size}", "bytes=-0"])
async def test_a_range_past_the_end_is_416(
    web: Web, client: httpx.AsyncClient, header: str
) -> None:
    track_id, path = first_track(web)
    size = path.stat().st_size
    r = await client.get(
        f"/api/tracks/{track_id}/stream", headers={"Range": header.format(size=size)}
    )
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    assert r.json()["error"] == "range_not_satisfiable"


async def test_one_satisfiable_range_among_unsatisfiable_ones_is_served(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    size = path.stat().st_size
    r = await client.get(
        f"/api/tracks/{track_id}/stream", headers={"Range": f"bytes={size + 10}-,-50"}
    )
    assert r.status_code == 206
    assert r.content == path.read_bytes()[-50:]


async def test_several_ranges_come_as_multipart_byteranges(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    data = path.read_bytes()
    size = len(data)
    r = await client.get(
        f"/api/tracks/{track_id}/stream", headers={"Range": "bytes=0-9,1000-1099,-20"}
    )
    assert r.status_code == 206
    content_type = r.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.content.endswith(b"--" + boundary + b"--\r\n")
    parts = r.content.split(b"--" + boundary)[1:-1]
    got = []
    for part in parts:
        head, _, body = part.partition(b"\r\n\r\n")
        headers = dict(line.split(b": ", 1) for line in head.strip(b"\r\n").split(b"\r\n") if line)
        assert headers[b"Content-Type"] == b"audio/mpeg"
        got.append((headers[b"Content-Range"].decode(), body.removesuffix(b"\r\n")))
    assert got == [
        (f"bytes 0-9/{size}", data[:10]),
        (f"bytes 1000-1099/{size}", data[1000:1100]),
        (f"bytes {size - 20}-{size - 1}/{size}", data[-20:]),
    ]


async def test_if_range_with_the_current_etag_gets_the_range_and_a_stale_one_the_file(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    data = path.read_bytes()
    url = f"/api/tracks/{track_id}/stream"
    etag = (await client.head(url)).headers["etag"]
    fresh = await client.get(url, headers={"Range": "bytes=100-199", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.content == data[100:200]
    for stale in ('"an-old-version"', f"W/{etag}"):  # a weak tag never matches If-Range
        r = await client.get(url, headers={"Range": "bytes=100-199", "If-Range": stale})
        assert r.status_code == 200 and r.content == data


async def test_if_range_with_a_date(web: Web, client: httpx.AsyncClient) -> None:
    track_id, path = first_track(web)
    old = time.time() - 3600
    os.utime(path, (old, old))
    await web.catalog.rescan()  # the index now knows the file as it is
    data = path.read_bytes()
    url = f"/api/tracks/{track_id}/stream"
    last_modified = (await client.head(url)).headers["last-modified"]
    assert last_modified == formatdate(int(old), usegmt=True)
    r = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": last_modified})
    assert r.status_code == 206 and r.content == data[:10]
    earlier = formatdate(old - 60, usegmt=True)
    r = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": earlier})
    assert r.status_code == 200 and r.content == data


async def test_conditional_requests_get_304_without_a_body(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    url = f"/api/tracks/{track_id}/stream"
    first = await client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},  # weak comparison, any of a list
        {"If-None-Match": "*"},
        {"If-Modified-Since": last_modified},
        {"If-Modified-Since": formatdate(time.time() + 60, usegmt=True)},
        {"If-None-Match": etag, "Range": "bytes=0-9"},  # 304 beats the range
    ):
        r = await client.get(url, headers=headers)
        assert r.status_code == 304, headers
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["cache-control"] == first.headers["cache-control"]
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": formatdate(path.stat().st_mtime - 60, usegmt=True)},
        {"If-None-Match": '"other"', "If-Modified-Since": last_modified},  # INM decides
        {"If-Modified-Since": "not a date"},
    ):
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, headers
        assert r.content == first.content


async def test_if_match_and_if_unmodified_since(web: Web, client: httpx.AsyncClient) -> None:
    track_id, path = first_track(web)
    url = f"/api/tracks/{track_id}/stream"
    etag = (await client.head(url)).headers["etag"]
    ok = await client.get(url, headers={"If-Match": etag, "Range": "bytes=0-3"})
    assert ok.status_code == 206 and ok.content == path.read_bytes()[:4]
    for headers in (
        {"If-Match": '"something-else"'},
        {"If-Match": f"W/{etag}"},  # If-Match compares strongly
        {"If-Unmodified-Since": formatdate(path.stat().st_mtime - 60, usegmt=True)},
    ):
        r = await client.get(url, headers=headers)
        assert r.status_code == 412, headers
        assert r.json()["error"] == "precondition_failed"


async def test_head_has_the_headers_of_get_and_no_body(web: Web, client: httpx.AsyncClient) -> None:
    track_id, path = first_track(web)
    url = f"/api/tracks/{track_id}/stream"
    get = await client.get(url)
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == get.headers[name]
    ranged = await client.head(url, headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == b""
    assert ranged.headers["content-range"] == f"bytes 10-19/{path.stat().st_size}"
    assert ranged.headers["content-length"] == "10"


async def test_a_track_whose_file_was_deleted_is_404(web: Web, client: httpx.AsyncClient) -> None:
    track_id, path = first_track(web)
    path.unlink()
    for method in ("GET", "HEAD"):
        r = await client.request(method, f"/api/tracks/{track_id}/stream")
        assert r.status_code == 404
    r = await client.get(f"/api/tracks/{track_id}/stream", headers={"Range": "bytes=0-9"})
    assert r.json()["error"] == "not_found"
    # the other tracks still play
    others = [t for t in web.track_ids() if t != track_id]
    assert (await client.get(f"/api/tracks/{others[0]}/stream")).status_code == 200


async def test_a_file_swapped_for_a_link_out_of_the_library_is_404(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    outside = web.music.parent / "outside.mp3"
    outside.write_bytes(b"ID3 not yours")
    path.unlink()
    path.symlink_to(outside)
    r = await client.get(f"/api/tracks/{track_id}/stream")
    assert r.status_code == 404
    assert b"not yours" not in r.content


async def test_a_file_swapped_for_a_fifo_is_404_at_once(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    path.unlink()
    os.mkfifo(path)
    r = await asyncio.wait_for(client.get(f"/api/tracks/{track_id}/stream"), 5)
    assert r.status_code == 404


async def test_a_file_changed_since_the_scan_is_served_as_it_is_now(
    web: Web, client: httpx.AsyncClient
) -> None:
    track_id, path = first_track(web)
    url = f"/api/tracks/{track_id}/stream"
    before = await client.get(url, headers={"Range": "bytes=0-99"})
    with path.open("ab") as f:
        f.write(b"\0" * 5000)
    data = path.read_bytes()
    # a player resuming with the old validator must get the new file whole, not spliced
    r = await client.get(url, headers={"Range": "bytes=100-", "If-Range": before.headers["etag"]})
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["etag"] != before.headers["etag"]
    # and until a rescan, caches must come back and check
    assert "immutable" not in r.headers["cache-control"]
    assert "no-cache" in r.headers["cache-control"]
    # a cache holding the old version is told it has changed
    assert (
        await client.get(url, headers={"If-None-Match": before.headers["etag"]})
    ).status_code == 200


def open_descriptors(folder: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
async def test_no_file_stays_open_after_finished_refused_or_abandoned_requests(
    start_web: WebFactory,
) -> None:
    web = await start_web(http_rate_limit="1000/second")
    track_id, path = first_track(web)
    # big enough that an abandoned download is really cut off mid-file
    with path.open("ab") as f:
        f.write(os.urandom(8 * 1024 * 1024))
    url = f"{web.url}/api/tracks/{track_id}/stream"
    size = path.stat().st_size
    for _ in range(5):
        async with httpx.AsyncClient() as client:
            etag = (await client.head(url)).headers["etag"]
            await client.get(url, headers={"Range": "bytes=0-99"})
            await client.get(url, headers={"Range": f"bytes={size}-"})
            await client.get(url, headers={"If-None-Match": etag})
            await client.get(url, headers={"If-Match": '"nope"'})
            async with client.stream("GET", url) as r:
                assert r.status_code == 200
                async for _chunk in r.aiter_raw():
                    break  # walk away after the first chunk
    deadline = time.monotonic() + 5
    while open_descriptors(web.music) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert open_descriptors(web.music) == []
    # and the server is none the worse for it
    async with httpx.AsyncClient() as client:
        r = await client.get(url, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == path.read_bytes()[-10:]


def test_parse_range_edge_cases() -> None:
    assert parse_range("bytes=0-0", 0) == []  # an empty file has no satisfiable range
    assert parse_range("bytes=-5", 0) == []
    assert parse_range("bytes=0-", 10) == [(0, 10)]
    assert parse_range("bytes=5-" + "9" * 40, 10) == [(5, 10)]  # huge numbers are fine
    assert parse_range("bytes=" + "9" * 40 + "-", 10) == []
    assert parse_range("bytes=0-1, 4-5 ,\t8-9", 10) == [(0, 2), (4, 6), (8, 10)]
    assert parse_range("Bytes=0-1", 10) == [(0, 2)]  # the unit is case-insensitive
    assert parse_range("bytes 0-1", 10) is None
    assert parse_range("bytes=\u0665-\u0669", 10) is None  # digits, but not ASCII ones
    assert parse_range(" bytes=1-2 ", 10) == [(1, 3)]
