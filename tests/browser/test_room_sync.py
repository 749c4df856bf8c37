"""Two listeners in one room, each in their own page: what one does, the other sees and hears,
and both play the same moment."""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from typing import Any

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from .conftest import OpenTab, Tab, Web, eventually, join, named, offset_ms, sample, shot, untouched

UPCOMING_IDS = "items => items.filter(i => !i.ariaCurrent).map(i => i.dataset.entry)"
IN_STEP_MS = 30.0  # the bound for this test; bench/sync measures the real figure


async def two_listeners(
    web: Web, open_tab: OpenTab, storage: dict[str, str] | None = None
) -> tuple[Tab, Tab]:
    ana = await open_tab(web.url, storage=storage)
    await join(ana, "Ana", "party")
    bo = await open_tab(f"{web.url}/r/party", storage=storage)
    await join(bo, "Bo")
    await expect(bo.page.get_by_role("heading", level=1)).to_have_text(named("party"))
    for tab in (ana, bo):
        members = tab.page.get_by_role("list", name="Listeners").get_by_role("listitem")
        await expect(members).to_have_count(2)
    return ana, bo


async def add_to_queue(page: Page, title: str) -> None:
    await page.get_by_role("button", name=f"Add {title} to queue").click()


def toasts(tab: Tab) -> Locator:
    return tab.page.get_by_role("log", name="Notifications")


def now_title(page: Page) -> Locator:
    return page.locator("#now-title")


async def seek_value(page: Page) -> float:
    value = await page.get_by_role("slider", name="Seek").get_attribute("aria-valuenow")
    if value is None:
        value = await page.get_by_role("slider", name="Seek").input_value()
    return float(value)


async def expect_playing(tab: Tab) -> None:
    await expect(tab.page.locator("main")).to_have_attribute("data-status", "playing")
    await expect(tab.page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    await expect(tab.page.locator("#sync-state")).to_have_text("In sync")  # not loading now


async def expect_paused(tab: Tab) -> None:
    await expect(tab.page.locator("main")).to_have_attribute("data-status", "paused")
    await expect(tab.page.get_by_role("button", name="Play", exact=True)).to_be_visible()


async def settled_offsets(
    a: Tab, b: Tab, *, samples: int = 10, settle_ms: float = IN_STEP_MS
) -> list[float]:
    """Offsets between the two outputs (ms), sampled over half a second or more once both have
    settled (three samples in a row in step): right after a change an output may still be
    starting or converging. Once settled, every sample counts, and a gap fails."""
    deadline = time.monotonic() + 8
    good = 0
    while good < 3:
        first, second = await sample(a), await sample(b)
        offset = offset_ms(first, second)
        good = good + 1 if offset is not None and abs(offset) < settle_ms else 0
        assert time.monotonic() < deadline, f"never settled: {first} vs {second}"
        await asyncio.sleep(0.05)
    offsets = []
    for _ in range(samples):
        first, second = await sample(a), await sample(b)
        offset = offset_ms(first, second)
        assert offset is not None, f"an output stopped after settling: {first} vs {second}"
        offsets.append(offset)
        await asyncio.sleep(0.05)
    return offsets


async def assert_in_step(a: Tab, b: Tab, *, settle_ms: float = IN_STEP_MS) -> None:
    offsets = await settled_offsets(a, b, settle_ms=settle_ms)
    worst = max(abs(o) for o in offsets)
    print(f"output offsets (ms): {[round(o, 2) for o in offsets]}")  # shown with -s
    assert worst < IN_STEP_MS, (
        f"outputs apart by up to {worst:.1f} ms (median {statistics.median(offsets):.1f}): "
        f"{await sample(a)} vs {await sample(b)}"
    )


async def playing_output(tab: Tab) -> dict[str, Any]:
    """Wait until the page's audio output plays something (the track may still be loading)."""
    return await eventually(
        lambda: sample(tab), lambda s: s["output"] is not None, "audio output playing"
    )


async def assert_audio_advances(tab: Tab) -> None:
    """The audio output itself moves on (a muted headless page still plays)."""
    before = await playing_output(tab)
    await asyncio.sleep(0.3)
    after = await sample(tab)
    moved = after["output"] - before["output"]
    elapsed = after["wall"] - before["wall"]
    assert abs(moved - elapsed) < 0.05, (before, after)


async def test_transport_in_one_page_plays_in_step_in_the_other(
    web: Web, open_tab: OpenTab
) -> None:
    ana, bo = await two_listeners(web, open_tab)
    await add_to_queue(ana.page, "Morning Light")
    await add_to_queue(ana.page, "Night Drive")

    # Queuing into a quiet room starts it (autoplay): both play the first track, in step.
    for tab in (ana, bo):
        await expect_playing(tab)
        await expect(now_title(tab.page)).to_have_text("Morning Light")
    for tab in (ana, bo):
        await assert_audio_advances(tab)
    await assert_in_step(ana, bo)
    await shot(ana, "room-playing")

    # Pause in Bo's page: Ana's stops at the same position.
    await bo.page.get_by_role("button", name="Pause", exact=True).click()
    for tab in (ana, bo):
        await expect_paused(tab)
    await expect(toasts(ana)).to_contain_text("Bo paused")

    async def both_positions() -> tuple[float, float]:
        return (await sample(ana))["position"], (await sample(bo))["position"]

    # The pause takes effect at the server time it carries, a moment later, for both at once.
    await eventually(both_positions, lambda at: abs(at[0] - at[1]) < 0.001, "the same pause point")

    # Seek in Ana's page (the seek bar, as a user drags it): Bo's bar jumps there too.
    await ana.page.get_by_role("slider", name="Seek").fill("20")
    await eventually(
        lambda: seek_value(bo.page), lambda v: abs(v - 20) < 0.5, "Bo's seek bar at 20 s"
    )
    assert abs((await sample(bo))["position"] - 20) < 0.5
    await expect(toasts(bo)).to_contain_text("Ana jumped to 0:20")

    # Resume in Bo's page: both play on from 20 s, in step.
    await bo.page.get_by_role("button", name="Play", exact=True).click()
    for tab in (ana, bo):
        await expect_playing(tab)
    assert 20 <= (await sample(ana))["position"] < 25
    await assert_in_step(ana, bo)

    # Skip in Bo's page: Ana's moves to the next track, and they stay in step.
    await bo.page.get_by_role("button", name="Skip").click()
    for tab in (ana, bo):
        await expect(now_title(tab.page)).to_have_text("Night Drive")
        await expect_playing(tab)
    await expect(toasts(ana)).to_contain_text("Bo skipped to “Night Drive”")
    await eventually(lambda: sample(ana), lambda s: s["position"] < 5, "Night Drive from its start")
    await assert_in_step(ana, bo)

    # Previous in Ana's page (early in the track): back to the first track in both.
    await ana.page.get_by_role("button", name="Previous").click()
    for tab in (ana, bo):
        await expect(now_title(tab.page)).to_have_text("Morning Light")
    await assert_in_step(ana, bo)


async def test_queue_changes_in_one_page_show_in_the_other(web: Web, open_tab: OpenTab) -> None:
    ana, bo = await two_listeners(web, open_tab)
    for title in ("Morning Light", "Night Drive", "Slow Tide"):
        await add_to_queue(ana.page, title)
    queue = bo.page.get_by_role("list", name="Queue").get_by_role("listitem")
    await expect(queue.filter(has_text="Night Drive")).to_contain_text("added by Ana")
    await expect(queue.filter(has_text="Slow Tide")).to_be_visible()

    # Bo moves Slow Tide up: Ana's queue shows the new order.
    await bo.page.get_by_role("button", name="Move Slow Tide up").click()
    ana_queue = ana.page.get_by_role("list", name="Queue").get_by_role("listitem")
    await in_order(ana_queue, ["Slow Tide", "Night Drive"])

    # Ana removes Night Drive: it leaves Bo's queue.
    await ana.page.get_by_role("button", name="Remove Night Drive").click()
    await expect(queue.filter(has_text="Night Drive")).to_have_count(0)
    await expect(queue.filter(has_text="Slow Tide")).to_have_count(1)

    # "Play next" from Bo's library puts the track first in Ana's upcoming list.
    await bo.page.get_by_role("button", name="Play Night Drive next").click()
    await in_order(ana_queue, ["Night Drive", "Slow Tide"])
    await shot(bo, "room-queue")

    # Repeat and shuffle: the same setting and the same new order in both pages.
    await ana.page.get_by_role("combobox", name="Repeat").select_option("all")
    await expect(bo.page.get_by_role("combobox", name="Repeat")).to_have_value("all")
    await bo.page.get_by_role("button", name="Shuffle").click()
    await expect(ana.page.get_by_role("log", name="Notifications")).to_contain_text("shuffled")
    async with httpx.AsyncClient() as http:
        room = (await http.get(f"{web.url}/api/rooms/party")).json()
    shuffled = [entry["id"] for entry in room["queue"]["upcoming"]]
    for items in (ana_queue, queue):
        await eventually(
            functools.partial(items.evaluate_all, UPCOMING_IDS),
            lambda ids: ids == shuffled,
            "the server's shuffled order",
        )

    # Clear in Bo's page empties Ana's upcoming list; the current track plays on.
    await bo.page.get_by_role("button", name="Clear queue").click()
    await expect(ana_queue.filter(has_text="Slow Tide")).to_have_count(0)
    await expect(now_title(ana.page)).to_have_text("Morning Light")
    await expect_playing(ana)


async def in_order(items: Locator, titles: list[str]) -> None:
    """Wait until the titles appear in this order among the list's items."""

    def ordered(texts: list[str]) -> bool:
        return [title for text in texts for title in titles if title in text] == titles

    await eventually(items.all_inner_texts, ordered, f"queue order {titles}")


async def test_a_listener_joining_mid_track_plays_in_step_and_the_system_shows_the_track(
    web: Web, open_tab: OpenTab
) -> None:
    ana = await open_tab(web.url)
    await join(ana, "Ana", "party")
    await add_to_queue(ana.page, "Night Drive")
    await expect_playing(ana)
    await eventually(lambda: sample(ana), lambda s: (s["position"] or 0) > 2, "Night Drive 2 s in")

    bo = await open_tab(f"{web.url}/r/party")
    await join(bo, "Bo")
    await expect_playing(bo)
    await assert_in_step(ana, bo)
    assert (await sample(bo))["position"] > 2  # in step mid-track, not from the start

    for tab in (ana, bo):
        await eventually(
            functools.partial(tab.page.evaluate, "navigator.mediaSession.metadata?.title ?? null"),
            lambda title: title == "Night Drive",
            "the media session's title",
        )
        artist = await tab.page.evaluate("navigator.mediaSession.metadata.artist")
        assert artist == "Neon Harbour"
        artwork = await tab.page.evaluate("navigator.mediaSession.metadata.artwork[0].src")
        assert artwork.startswith(web.url), artwork
        state = await tab.page.evaluate("navigator.mediaSession.playbackState")
        assert state == "playing"

    # Pausing shows in the system's controls too.
    await bo.page.get_by_role("button", name="Pause", exact=True).click()
    await eventually(
        lambda: ana.page.evaluate("navigator.mediaSession.playbackState"),
        lambda state: state == "paused",
        "the media session paused",
    )


SLOW_LINK = {"offline": False, "latency": 50, "downloadThroughput": 12_000, "uploadThroughput": -1}
FAST_LINK = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


async def test_a_listener_on_a_slow_link_shows_as_buffering_and_never_holds_the_room_up(
    web: Web, open_tab: OpenTab
) -> None:
    ana = await open_tab(web.url)
    await join(ana, "Ana", "party")
    await add_to_queue(ana.page, "Morning Light")
    await expect_playing(ana)

    bo = await open_tab(f"{web.url}/r/party")
    link = await bo.context.new_cdp_session(bo.page)
    await link.send("Network.enable")
    await link.send("Network.emulateNetworkConditions", SLOW_LINK)  # the track crawls in
    await join(bo, "Bo")
    bo_in_anas_list = ana.page.get_by_role("list", name="Listeners").get_by_role("listitem")
    bo_in_anas_list = bo_in_anas_list.filter(has_text="Bo")
    await expect(bo_in_anas_list).to_contain_text("buffering")
    await expect(bo.page.locator("#sync-state")).not_to_have_text("In sync")

    # The room does not wait for Bo: Ana hears the track move on.
    await expect_playing(ana)
    await assert_audio_advances(ana)

    await link.send("Network.emulateNetworkConditions", FAST_LINK)
    await expect(bo_in_anas_list).not_to_contain_text("buffering")
    await expect_playing(bo)
    await assert_in_step(ana, bo)


async def test_a_device_offset_plays_this_device_earlier_and_is_remembered(
    web: Web, open_tab: OpenTab
) -> None:
    """Speakers that add latency (Bluetooth) are compensated: with an offset of 40 ms the
    page's output runs 40 ms ahead of the room, so the sound leaves the speaker on time."""
    ana, bo = await two_listeners(web, open_tab)
    await add_to_queue(ana.page, "Morning Light")
    await expect_playing(bo)
    await assert_in_step(ana, bo)

    await bo.page.get_by_text("This device").click()
    field = bo.page.get_by_role("spinbutton", name="Device offset (ms)")
    await field.fill("40")
    await field.press("Enter")

    async def ahead_ms() -> float | None:
        return offset_ms(await sample(bo), await sample(ana))

    await eventually(ahead_ms, lambda ms: ms is not None and abs(ms - 40) < 5, "Bo 40 ms ahead")

    await bo.page.reload()  # kept in this browser
    await expect_playing(bo)
    await bo.page.get_by_text("This device").click()
    await expect(bo.page.get_by_role("spinbutton", name="Device offset (ms)")).to_have_value("40")
    await eventually(ahead_ms, lambda ms: ms is not None and abs(ms - 40) < 5, "still 40 ms ahead")


async def test_pages_playing_through_the_audio_element_stay_in_step_too(
    web: Web, open_tab: OpenTab
) -> None:
    """The fallback for browsers without Web Audio: the <audio> element, steered by rate."""
    ana, bo = await two_listeners(web, open_tab, storage={"lockstep.syncMode": "element"})
    await add_to_queue(ana.page, "Slow Tide")
    for tab in (ana, bo):
        await expect_playing(tab)
        assert (await sample(tab))["mode"] == "element"
        await assert_audio_advances(tab)
    # The element converges by gentle rate changes, a few ms a second: settled means close.
    await assert_in_step(ana, bo, settle_ms=10)


async def test_a_browser_that_holds_sound_back_asks_for_a_click_then_plays_in_step(
    web: Web, open_tab: OpenTab, silent_browser: Browser
) -> None:
    ana = await open_tab(web.url)
    await join(ana, "Ana", "party")
    await add_to_queue(ana.page, "Morning Light")
    await expect_playing(ana)

    # A remembered name joins without a click, so the browser keeps the page silent. (The
    # page is watched without gestures until the click: any would count as that click.)
    cy = await open_tab(
        f"{web.url}/r/party", storage={"lockstep.name": "Cy"}, via=silent_browser, wait=False
    )
    await eventually(
        lambda: untouched(cy, "!document.getElementById('unlock-bar').hidden"),
        lambda shown: shown is True,
        "the Click to listen prompt",
    )
    status = await untouched(cy, "document.getElementById('sync-state').textContent")
    assert "Click to listen" in status, status
    assert not await untouched(cy, "navigator.userActivation.hasBeenActive")
    # Silent by the browser's choice is not buffering: the others are not told so.
    cy_for_ana = ana.page.get_by_role("list", name="Listeners").get_by_role("listitem")
    await expect(cy_for_ana.filter(has_text="Cy")).to_have_attribute("data-buffering", "false")
    await shot(cy, "room-click-to-listen")

    unlock = cy.page.get_by_role("button", name="Click to listen")
    await unlock.click()
    await expect(unlock).to_be_hidden()
    await expect_playing(cy)
    await assert_in_step(ana, cy)
