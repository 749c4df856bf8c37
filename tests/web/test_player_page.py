"""The web player as the server delivers it: the page at / and /r/<room> with its Content
Security Policy, the static files, and the vendored socket.io ES module from the npm package."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from .conftest import Web

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "webapp" / "static"
NPM = ROOT / "node_modules" / "socket.io-client" / "dist"


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _csp(response: httpx.Response) -> dict[str, str]:
    directives = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


async def test_the_page_is_served_with_a_policy_that_allows_only_our_own_scripts(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        page = await http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/static/js/app.js">' in page.text
    csp = _csp(page)
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no other host
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in page.headers["content-security-policy"]
    # ... and the policy holds for the page as written: no inline script, no inline handler.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert not re.search(r"\son[a-z]+=", page.text)
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"


async def test_a_room_link_serves_the_same_page_and_a_bad_one_is_404(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        home = await http.get("/")
        room = await http.get("/r/friday-party", params={"invite": "abc.def"})
        bad = await http.get("/r/Not%20A%20Room")
    assert room.status_code == 200
    assert room.text == home.text
    assert "content-security-policy" in room.headers
    assert bad.status_code == 404
    assert bad.json()["error"] == "not_found"


async def test_head_answers_the_headers_without_the_body(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        page = await http.get("/")
        head = await http.head("/")
        script = await http.head("/static/js/app.js")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(page.content))
    assert head.headers["content-security-policy"] == page.headers["content-security-policy"]
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"


async def test_an_unchanged_page_or_file_is_a_304(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        first = await http.get("/static/js/app.js")
        again = await http.get(
            "/static/js/app.js", headers={"If-None-Match": first.headers["etag"]}
        )
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, no-cache"  # revalidated: names never change
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/js/app.js", "text/javascript; charset=utf-8"),
        ("/static/css/app.css", "text/css; charset=utf-8"),
        ("/static/img/icon.svg", "image/svg+xml"),
    ],
)
async def test_static_files_have_their_types(web: Web, path: str, media_type: str) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == _bytes(STATIC / path.removeprefix("/static/"))


async def test_the_socket_io_client_comes_from_the_npm_package(web: Web) -> None:
    npm = _bytes(NPM / "socket.io.esm.min.js")
    if npm is None:
        pytest.fail("needs the npm packages: run `make node-deps` (make test does)")
    async with httpx.AsyncClient(base_url=web.url) as http:
        module = await http.get("/static/vendor/socket.io.esm.min.js")
        other = await http.get("/static/vendor/socket.io.js")
    assert module.status_code == 200
    assert module.headers["content-type"] == "text/javascript; charset=utf-8"
    assert module.content == npm
    assert b"export" in module.content  # the ES module build, importable by the page
    assert other.status_code == 404  # only the files the page uses are served


@pytest.mark.parametrize(
    "path",
    [
        "/static/js/missing.js",
        "/static/SELECTORS.md",  # not a type the page uses
        "/static/index.html",  # the page is at / (with its policy), not here
        "/static/../routers/player.py",
        "/static/%2e%2e/routers/player.py",
        "/static/js/.hidden.js",
        "/static/js//app.js",
        "/static/vendor/../../pyproject.toml",
        "/static/vendor/socket.io-client/package.json",
    ],
)
async def test_nothing_else_is_served_from_static(web: Web, path: str) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        response = await http.get(path)
    assert response.status_code == 404, path
    assert response.json()["error"] == "not_found"


def test_no_script_of_the_page_inserts_markup() -> None:
    """User text is only ever set as text: no innerHTML, outerHTML, insertAdjacentHTML,
    document.write or eval in the page's own modules."""
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(")
    scripts = [p for p in (STATIC / "js").rglob("*.js") if "sync" not in p.parts]
    assert scripts
    for script in scripts:
        assert not forbidden.search(script.read_text()), script
