"""The prototype's endpoints against a real server: GET /songs and GET /music/<path>, including
every way of trying to read a file that is not an audio file in the music folder."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from .conftest import Web, WebFactory

SONG_FIELDS = {"id", "filename", "title", "artist", "album", "duration", "url"}
FIRST = "01 - Morning Light.mp3"
SECRET = b"TOP SECRET: not for listeners"


@pytest.fixture
async def client(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web.url) as client:
        yield client


async def songs(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await client.get("/songs")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"songs"}
    result: list[dict[str, Any]] = body["songs"]
    return result


async def test_songs_lists_every_track_in_the_music_folder(
    web: Web, client: httpx.AsyncClient
) -> None:
    listed = await songs(client)
    assert [s["filename"] for s in listed] == sorted(p.name for p in web.music.iterdir())
    for song in listed:
        assert set(song) == SONG_FIELDS
        assert song["url"] == "/music/" + quote(song["filename"])
        track = web.library.get(song["id"])
        assert track is not None
        assert (song["title"], song["artist"], song["album"]) == (
            track.title, track.artist, track.album,
        )  # fmt: skip
        assert song["duration"] == pytest.approx(track.duration)
    assert listed[0]["url"] == "/music/01%20-%20Morning%20Light.mp3"


async def test_a_song_url_streams_the_file(web: Web, client: httpx.AsyncClient) -> None:
    for song in await songs(client):
        data = (web.music / song["filename"]).read_bytes()
        r = await client.get(song["url"])
        assert r.status_code == 200
        assert r.content == data
        assert r.headers["content-type"] == "audio/mpeg"
        assert r.headers["accept-ranges"] == "bytes"
        assert "content-encoding" not in r.headers
        # a path can come to name another file: caches must check back
        assert "no-cache" in r.headers["cache-control"]


async def test_music_supports_ranges_validators_and_head(
    web: Web, client: httpx.AsyncClient
) -> None:
    data = (web.music / FIRST).read_bytes()
    url = "/music/" + quote(FIRST)
    r = await client.get(url, headers={"Range": "bytes=-100", "Accept-Encoding": "gzip"})
    assert r.status_code == 206 and r.content == data[-100:]
    assert r.headers["content-range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"
    assert "content-encoding" not in r.headers
    cached = await client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == data
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(data))
    past = await client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(data)}"


async def test_subfolders_and_awkward_names(web: Web, client: httpx.AsyncClient) -> None:
    source = web.music / FIRST
    names = [
        "Live & Rare/100% #1 ?.mp3",  # characters that mean something in a URL
        "Björk/Jóga.mp3",
        "a/b/c/deep.mp3",
        "semi;colon=equals+plus.mp3",
    ]
    for name in names:
        (web.music / name).parent.mkdir(parents=True, exist_ok=True)
        with (web.music / name).open("wb") as f:  # not identical copies: distinct ids
            f.write(source.read_bytes() + name.encode())
    await web.catalog.rescan()
    listed = {s["filename"]: s for s in await songs(client)}
    for name in names:
        song = listed[name]
        assert song["url"] == "/music/" + quote(name)  # '/' kept, everything else quoted
        r = await client.get(song["url"])
        assert r.status_code == 200, name
        assert r.content == (web.music / name).read_bytes()
    assert listed["Live & Rare/100% #1 ?.mp3"]["url"] == (
        "/music/Live%20%26%20Rare/100%25%20%231%20%3F.mp3"
    )


async def test_a_name_stored_decomposed_is_found_by_its_composed_spelling(
    web: Web, client: httpx.AsyncClient
) -> None:
    decomposed = unicodedata.normalize("NFD", "Café.mp3")
    shutil.copy(web.music / FIRST, web.music / decomposed)
    await web.catalog.rescan()
    composed = quote(unicodedata.normalize("NFC", "Café.mp3"))
    assert composed != quote(decomposed)
    r = await client.get(f"/music/{composed}")
    assert r.status_code == 200
    assert r.content == (web.music / decomposed).read_bytes()


async def test_the_demo_tracks_are_listed_and_served_while_the_folder_has_no_audio(
    web: Web, client: httpx.AsyncClient
) -> None:
    for path in web.music.iterdir():
        path.unlink()
    await web.catalog.rescan()
    listed = await songs(client)
    assert [s["title"] for s in listed] == [
        "Morning Light", "Night Drive", "Slow Tide", "Paper Kites",
    ]  # fmt: skip
    r = await client.get(listed[0]["url"])
    assert r.status_code == 200
    assert r.content == (web.settings.demo_dir / listed[0]["filename"]).read_bytes()


async def test_a_file_deleted_after_the_scan_is_404(web: Web, client: httpx.AsyncClient) -> None:
    (web.music / FIRST).unlink()
    r = await client.get("/music/" + quote(FIRST))
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": "no such file"}


async def test_a_link_repointed_out_of_the_folder_after_the_scan_is_404(
    web: Web, client: httpx.AsyncClient
) -> None:
    outside = web.music.parent / "outside.mp3"
    outside.write_bytes(SECRET)
    link = web.music / "alias.mp3"
    link.symlink_to(web.music / FIRST)  # inside the folder: indexed and served
    await web.catalog.rescan()
    assert (await client.get("/music/alias.mp3")).content == (web.music / FIRST).read_bytes()
    link.unlink()
    link.symlink_to(outside)
    r = await client.get("/music/alias.mp3")
    assert r.status_code == 404
    assert SECRET not in r.content


# ------------------------------------------------------------------------------- traversal

Spy = Callable[[], list[bytes]]


@pytest.fixture
async def attack_web(start_web: WebFactory) -> Web:
    """The demo folder plus tempting files: an audio file beside the folder, a hidden one, one
    in a hidden folder, a text file, and a link that leads out of the folder."""
    web = await start_web()
    outside = web.music.parent / "secret.mp3"
    outside.write_bytes(SECRET)
    (web.music / ".secret.mp3").write_bytes(SECRET)
    (web.music / ".private").mkdir()
    (web.music / ".private" / "track.mp3").write_bytes(SECRET)
    (web.music / "notes.txt").write_bytes(SECRET)
    (web.music / "link-out.mp3").symlink_to(outside)
    (web.music / "sub").mkdir()
    shutil.copy(web.music / FIRST, web.music / "sub" / "song.mp3")
    await web.catalog.rescan()
    return web


@pytest.fixture
def received(attack_web: Web, monkeypatch: pytest.MonkeyPatch) -> Spy:
    """What the server really received as the request path (before any decoding)."""
    seen: list[bytes] = []
    app = attack_web.server.api
    inner = app.middleware_stack or app.build_middleware_stack()

    async def spy(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http":
            seen.append(scope["raw_path"])
        await inner(scope, receive, send)

    monkeypatch.setattr(app, "middleware_stack", spy)
    return lambda: seen


ATTACKS = [
    b"/music/../secret.mp3",
    b"/music/sub/../../secret.mp3",
    b"/music/..%2Fsecret.mp3",
    b"/music/..%2fsecret.mp3",
    b"/music/%2e%2e/secret.mp3",
    b"/music/%2E%2E%2Fsecret.mp3",
    b"/music/.%2e/secret.mp3",
    b"/music/%252e%252e%252fsecret.mp3",  # double-encoded
    b"/music/%25252e%25252e/secret.mp3",  # triple-encoded
    b"/music/%c0%ae%c0%ae/secret.mp3",  # overlong UTF-8 dots
    b"/music/..%e2%88%95secret.mp3",  # a division slash, not a slash
    b"/music/..\\secret.mp3",
    b"/music/..%5csecret.mp3",
    b"/music/..%5Csecret.mp3",
    b"/music/sub%5c..%5c..%5csecret.mp3",
    b"/music//etc/passwd",
    b"/music/%2Fetc%2Fpasswd",
    b"/music/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/music/{OUTSIDE}",  # the absolute path of the file beside the folder
    b"/music/{OUTSIDE_QUOTED}",
    b"/music/file:{OUTSIDE}",
    b"/music/C:%5cWindows%5cwin.ini",
    b"/music/01%20-%20Morning%20Light.mp3%00.txt",
    b"/music/secret%00/../01%20-%20Morning%20Light.mp3",
    b"/music/notes.txt%00.mp3",
    b"/music/link-out.mp3",  # a symlink inside the folder to the file outside it
    b"/music/.secret.mp3",  # hidden
    b"/music/%2esecret.mp3",
    b"/music/.private/track.mp3",  # in a hidden folder
    b"/music/notes.txt",  # not audio
    b"/music/./01%20-%20Morning%20Light.mp3",
    b"/music/sub/./song.mp3",
    b"/music/sub//song.mp3",
    b"/music/01%20-%20Morning%20Light.mp3/..",
    b"/music/",
]


@pytest.mark.parametrize("target", ATTACKS, ids=lambda t: t.decode("latin-1"))
async def test_nothing_but_an_audio_file_in_the_folder_is_served(
    attack_web: Web, received: Spy, target: bytes
) -> None:
    outside = str(attack_web.music.parent / "secret.mp3")
    target = target.replace(b"{OUTSIDE}", outside.encode()).replace(
        b"{OUTSIDE_QUOTED}", quote(outside, safe="").encode()
    )
    async with httpx.AsyncClient() as client:
        for method in ("GET", "HEAD"):
            # the raw target goes on the wire as it is: httpx would tidy '..' away
            r = await client.request(method, attack_web.url, extensions={"target": target})
            assert received()[-1] == target
            assert r.status_code == 404, (method, r.status_code)
            assert SECRET not in r.content and b"root:" not in r.content
            if method == "GET":
                assert r.json() == {"error": "not_found", "detail": "no such file"}


async def test_the_raw_target_helper_reaches_real_files(attack_web: Web, received: Spy) -> None:
    """The control for the test above: the same way of sending finds what does exist."""
    async with httpx.AsyncClient() as client:
        for target, path in [
            (b"/music/01%20-%20Morning%20Light.mp3", attack_web.music / FIRST),
            (b"/music/sub/song.mp3", attack_web.music / "sub" / "song.mp3"),
            (b"/music/01%20-%20Morning%20Light%2Emp3", attack_web.music / FIRST),  # any escape
        ]:
            r = await client.get(attack_web.url, extensions={"target": target})
            assert received()[-1] == target
            assert r.status_code == 200
            assert r.content == path.read_bytes()
    assert (attack_web.music / "link-out.mp3").is_symlink()  # the trap was really there
