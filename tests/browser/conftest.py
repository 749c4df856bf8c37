"""The web player in Debian's headless Chromium, driven by Playwright, against a real Lockstep
server (uvicorn on a free port, demo tracks, real SQLite files).

One browser process per test and one context per listener: contexts share nothing (cookies,
localStorage, cache), so two pages are two listeners without a second browser process on a
two-core machine (bench/sync uses two processes for its measurement). Autoplay is allowed, so
audio may start without a click; Playwright's default `--mute-audio` stays: a muted page still
plays (its clock and `currentTime` still advance), it only sends silence to the sound card.

Every page is checked on the way out: no uncaught exception, nothing its Content Security
Policy had to block (a script, style or request it should not have made), no request to
another host.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    async_playwright,
    expect,
)
from web.conftest import Web, WebFactory, start_web, web  # the real server, as tests/web has it

__all__ = ["Web", "WebFactory", "start_web", "web"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
# The test server's own names (an invite link names it PUBLIC_URL's way: localhost).
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
WAIT_MS = 15_000  # generous: two cores shared with a server and two pages (and more)

expect.set_options(timeout=WAIT_MS)

T = TypeVar("T")


@dataclass
class Tab:
    """One listener: a page in its own browser context, and what the page said."""

    page: Page
    context: BrowserContext
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page
    console: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # requests to any other host
    refused: list[str] = field(default_factory=list)  # what the page's CSP blocked


OpenTab = Callable[..., Awaitable[Tab]]


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium: run `make browser-deps` (make test does)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def silent_browser(chromium_path: Path) -> AsyncIterator[Browser]:
    """A browser as people have it: no sound until the page gets a click or a key press."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path),
            headless=True,
            args=[arg for arg in CHROMIUM_ARGS if not arg.startswith("--autoplay-policy")],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def open_tab(browser: Browser) -> AsyncIterator[OpenTab]:
    """Open `url` in a fresh context: `width`/`height` set the viewport, `mobile` makes it a
    touch phone that honours the page's viewport meta tag, `color_scheme` the system theme,
    `storage` what the page's localStorage holds on the first visit, `via` another browser;
    `wait=False` returns without looking at the page (see `untouched`)."""
    tabs: list[Tab] = []

    async def open_(
        url: str,
        *,
        width: int = 1280,
        height: int = 800,
        mobile: bool = False,
        color_scheme: Any = "light",
        storage: dict[str, str] | None = None,
        via: Browser | None = None,
        wait: bool = True,
    ) -> Tab:
        context = await (via or browser).new_context(
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
            color_scheme=color_scheme,
        )
        context.set_default_timeout(WAIT_MS)
        if storage:  # localStorage entries the page finds on its first load
            await context.add_init_script(
                f"""for (const [k, v] of Object.entries({json.dumps(storage)}))
                    if (localStorage.getItem(k) === null) localStorage.setItem(k, v);"""
            )
        page = await context.new_page()
        tab = Tab(page, context)
        tabs.append(tab)

        async def on_dialog(dialog: Dialog) -> None:
            tab.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        def on_console(message: ConsoleMessage) -> None:
            tab.console.append(f"{message.type}: {message.text}")
            if "Content Security Policy" in message.text:
                tab.refused.append(message.text)

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: tab.errors.append(str(error)))

        def on_request(request: Request) -> None:
            if urlsplit(request.url).hostname not in LOCAL_HOSTS | {None}:
                tab.elsewhere.append(request.url)

        page.on("console", on_console)
        page.on("request", on_request)
        await page.goto(url)
        if wait:
            # The page is usable once it is connected (the indicator says so); typing sooner
            # can race the script that fills in the remembered name.
            await expect(page.locator("body")).to_have_attribute("data-connection", "connected")
        return tab

    yield open_
    for tab in tabs:
        for line in tab.console:
            print(f"[{tab.page.url}] {line}")  # shown with a failing test's output
        await tab.context.close()
    errors = [error for tab in tabs for error in tab.errors]
    assert not errors, f"uncaught exceptions in the page: {errors}"
    refused = [text for tab in tabs for text in tab.refused]
    assert not refused, f"the page broke its own Content Security Policy: {refused}"
    elsewhere = [url for tab in tabs for url in tab.elsewhere]
    assert not elsewhere, f"the page fetched from other hosts (no CDN at run time): {elsewhere}"


async def shot(tab: Tab, name: str) -> None:
    """Keep a screenshot of a state worth looking at (artifacts/browser/, git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await tab.page.screenshot(path=ARTIFACTS / f"{name}.png")


def named(text: str) -> re.Pattern[str]:
    """An accessible name that is exactly `text`, whatever the case."""
    return re.compile(f"^{re.escape(text)}$", re.IGNORECASE)


async def join(tab: Tab, name: str, room: str | None = None, *, private: bool = False) -> None:
    """Join as a user does: type the display name (and, in the lobby, the room name), press
    Join, and wait until the room's heading is shown."""
    page = tab.page
    await page.get_by_role("textbox", name="Display name").fill(name)
    if room is not None:
        await page.get_by_role("textbox", name="Room name").fill(room)
    if private:
        await page.get_by_role("checkbox", name="Private room").check()
    await page.get_by_role("button", name="Join").click()
    await expect(page.locator("#room")).to_be_visible()
    if room is not None:
        await expect(page.get_by_role("heading", level=1)).to_have_text(named(room))


# What the audio output plays now (s), read in the page together with the wall clock. Both
# pages run in one browser process on one machine, so the wall clock is shared and the
# difference of `output - wall` between two pages is the offset between what they play.
_SAMPLE = """() => {
    const wall = (performance.timeOrigin + performance.now()) / 1000;
    const d = window.__lockstepSync.debug();
    return { wall, output: d.outputPosition, position: d.position, serverNow: d.serverNow,
             mode: d.mode,
             offsetMs: d.offsetMs, rttMs: d.rttMs, driftMs: d.driftMs, seeks: d.seeks,
             corrections: d.corrections, entry: d.entry };
}"""


async def sample(tab: Tab) -> dict[str, Any]:
    result: dict[str, Any] = await tab.page.evaluate(_SAMPLE)
    return result


def offset_ms(first: dict[str, Any], second: dict[str, Any]) -> float | None:
    """How far one page's audio output is ahead of another's (ms), from a sample of each;
    None while either plays nothing."""
    if first["output"] is None or second["output"] is None:
        return None
    ahead = (first["output"] - first["wall"]) - (second["output"] - second["wall"])
    return float(ahead) * 1000


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str = ""
) -> T:
    """Poll `probe` until `check` holds of its value (as `expect` does for locators), for
    values read with JavaScript."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        value = await probe()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} never held; last value: {value!r}")
        await asyncio.sleep(0.05)


async def untouched(tab: Tab, expression: str) -> Any:
    """Evaluate without counting as a user gesture. Playwright's own evaluations and `expect`
    polls run as gestures, which a browser takes as the click it waits for before sound."""
    session = await tab.context.new_cdp_session(tab.page)
    try:
        reply = await session.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "userGesture": False},
        )
    finally:
        await session.detach()
    return reply["result"].get("value")
