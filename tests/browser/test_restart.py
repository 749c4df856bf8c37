"""The server restarts under two listening pages: they reconnect by themselves, come back as
the same listeners and play on in step, without a reload."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from .conftest import OpenTab, Tab, Web, WebFactory, join, sample
from .test_room_sync import assert_in_step, expect_playing, toasts

ME = "window.__lockstep.me()"


async def test_the_page_rides_out_a_server_restart(
    start_web: WebFactory, open_tab: OpenTab
) -> None:
    web = await start_web()
    ana = await open_tab(web.url)
    await join(ana, "Ana", "party")
    bo = await open_tab(f"{web.url}/r/party")
    await join(bo, "Bo")
    await ana.page.get_by_role("button", name="Add Morning Light to queue").click()
    for tab in (ana, bo):
        await expect_playing(tab)
        await tab.page.evaluate("window.__notReloaded = true")
    await assert_in_step(ana, bo)
    before = [await tab.page.evaluate(ME) for tab in (ana, bo)]

    await web.stop()
    for tab in (ana, bo):
        await expect(tab.page.locator("body")).not_to_have_attribute("data-connection", "connected")
        await expect(tab.page.get_by_role("status", name="Connection")).not_to_have_text(
            "connected"
        )

    for tab in (ana, bo):
        await expect(toasts(tab)).to_contain_text("reconnecting")
    again = await start_web()  # same port, same data folder
    assert again.url == web.url
    for tab, me in zip((ana, bo), before, strict=True):
        await expect(tab.page.locator("body")).to_have_attribute("data-connection", "connected")
        await expect(tab.page.get_by_role("status", name="Connection")).to_have_text("connected")
        assert await tab.page.evaluate("window.__notReloaded") is True
        assert await tab.page.evaluate(ME) == me  # the same listener: same id, name and role
        await expect_playing(tab)
        await expect(toasts(tab)).to_contain_text("Reconnected")
        members = tab.page.get_by_role("list", name="Listeners").get_by_role("listitem")
        await expect(members).to_have_count(2)
    await assert_in_step(ana, bo)
    async with httpx.AsyncClient() as http:
        room = (await http.get(f"{again.url}/api/rooms/party")).json()
    assert room["listeners"] == 2 and room["status"] == "playing", room
    for tab in (ana, bo):
        await assert_on_the_new_server_clock(tab, again, room)


async def assert_on_the_new_server_clock(tab: Tab, web: Web, room: dict[str, Any]) -> None:
    """The restarted server's clock starts afresh: the page has measured it anew, and plays
    the position the server has for this moment."""
    before = web.service.now()
    seen = await sample(tab)
    after = web.service.now()
    assert before - 0.01 <= seen["serverNow"] <= after + 0.01, (before, seen, after)
    expected = room["position"] + (seen["serverNow"] - room["server_time"])
    assert abs(seen["position"] - expected) < 0.03, (seen, room)


async def test_a_dropped_network_is_ridden_out_without_the_others_noticing(
    web: Web, open_tab: OpenTab
) -> None:
    ana = await open_tab(web.url)
    await join(ana, "Ana", "party")
    bo = await open_tab(f"{web.url}/r/party")
    await join(bo, "Bo")
    await ana.page.get_by_role("button", name="Add Morning Light to queue").click()
    for tab in (ana, bo):
        await expect_playing(tab)
    me = await bo.page.evaluate(ME)

    await bo.context.set_offline(True)
    await expect(bo.page.get_by_role("status", name="Connection")).not_to_have_text("connected")
    await bo.context.set_offline(False)
    await expect(bo.page.get_by_role("status", name="Connection")).to_have_text("connected")
    await expect(toasts(bo)).to_contain_text("Reconnected")
    assert await bo.page.evaluate(ME) == me
    await expect_playing(bo)
    await assert_in_step(ana, bo)
    # Within the reconnect grace Bo never left, as far as Ana can tell.
    await expect(ana.page.get_by_role("list", name="Listeners")).to_contain_text("Bo")
    await expect(toasts(ana)).not_to_contain_text("Bo left")
