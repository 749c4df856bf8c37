"""Room settings: the host changes who controls playback and who may queue; every page shows
the policy in plain words, and a listener's refused press says why and changes nothing."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from .conftest import OpenTab, Tab, Web, shot
from .test_room_sync import add_to_queue, toasts, two_listeners


async def room(tab: Tab) -> dict[str, Any]:
    state: dict[str, Any] = await tab.page.evaluate("window.__lockstep.room()")
    return state


def summary(tab: Tab) -> Any:
    return tab.page.locator("#policy-summary")


async def test_host_limits_playback_to_djs_and_listeners_are_refused(
    web: Web, open_tab: OpenTab
) -> None:
    ana, bo = await two_listeners(web, open_tab)
    # Only the host is offered the controls; everyone reads the policy.
    host_only = ana.page.get_by_role("radio", name="Host and DJs")
    await expect(host_only).to_be_enabled()
    await expect(ana.page.get_by_role("radio", name="Everyone")).to_be_checked()
    await expect(bo.page.get_by_role("radio", name="Host and DJs")).to_have_count(0)
    await expect(bo.page.get_by_role("checkbox", name="Listeners may add tracks")).to_have_count(0)
    await expect(bo.page.get_by_role("spinbutton", name="Queue limit")).to_have_count(0)
    await expect(summary(bo)).to_contain_text("Everyone controls playback.")

    await add_to_queue(ana.page, "Morning Light")  # autoplay is on: it starts
    for tab in (ana, bo):
        await expect(tab.page.locator("main")).to_have_attribute("data-status", "playing")

    await host_only.check()
    await expect(summary(bo)).to_contain_text("Only the host and DJs control playback.")
    await expect(summary(bo)).to_contain_text("Listeners may still add tracks.")
    await expect(toasts(bo)).to_contain_text("Ana made playback host and DJs only")
    await expect(summary(ana)).to_contain_text("Only the host and DJs control playback.")
    assert (await room(bo))["policy"]["control"] == "djs"

    before = await room(bo)
    await bo.page.get_by_role("button", name="Pause", exact=True).click()
    refused = toasts(bo).locator('[data-kind="error"]')
    await expect(refused.last).to_contain_text(
        "Could not pause: only the host and DJs control this room"
    )
    await bo.page.get_by_role("button", name="Skip", exact=True).click()
    await expect(refused.last).to_contain_text(
        "Could not skip: only the host and DJs control this room"
    )
    after = await room(bo)
    assert after["version"] == before["version"]
    assert after["status"] == "playing"
    assert after["queue"]["current"]["id"] == before["queue"]["current"]["id"]
    for tab in (ana, bo):
        await expect(tab.page.locator("main")).to_have_attribute("data-status", "playing")
    assert (await room(ana))["version"] == before["version"]
    await shot(ana, "room-settings-host-1280")

    # Made a DJ, Bo may pause; he still may not change the settings (only the host may).
    await ana.page.get_by_role("combobox", name="Role of Bo").select_option("dj")
    await expect(toasts(bo)).to_contain_text("You are now a DJ")
    await bo.page.get_by_role("button", name="Pause", exact=True).click()
    for tab in (ana, bo):
        await expect(tab.page.locator("main")).to_have_attribute("data-status", "paused")
    await expect(bo.page.get_by_role("radio", name="Host and DJs")).to_have_count(0)


async def test_listeners_stop_queueing_when_the_host_says_so(web: Web, open_tab: OpenTab) -> None:
    ana, bo = await two_listeners(web, open_tab)
    await ana.page.get_by_role("radio", name="Host and DJs").check()
    await expect(summary(bo)).to_contain_text("Listeners may still add tracks.")
    await add_to_queue(bo.page, "Night Drive")  # still allowed in DJ mode
    queue = ana.page.get_by_role("list", name="Queue").get_by_role("listitem")
    await expect(queue).to_have_count(1)

    may_queue = ana.page.get_by_role("checkbox", name="Listeners may add tracks")
    await expect(may_queue).to_be_checked()
    await may_queue.uncheck()
    await expect(summary(bo)).to_contain_text("Only the host and DJs add tracks.")
    await expect(toasts(bo)).to_contain_text("Ana stopped listeners adding tracks")
    version = (await room(bo))["version"]

    await add_to_queue(bo.page, "Morning Light")
    await expect(toasts(bo).locator('[data-kind="error"]').last).to_contain_text(
        "Could not add “Morning Light”: only the host and DJs control this room"
    )
    await expect(queue).to_have_count(1)
    assert (await room(bo))["version"] == version
    held = (await room(ana))["queue"]
    assert held["current"]["title"] == "Night Drive"
    assert held["upcoming"] == []


async def test_the_other_settings_reach_every_page_and_a_bad_limit_is_refused(
    web: Web, open_tab: OpenTab
) -> None:
    ana, bo = await two_listeners(web, open_tab)
    autoplay = ana.page.get_by_role("checkbox", name="Start playing when a track is queued")
    await expect(autoplay).to_be_checked()
    await autoplay.uncheck()
    await expect(summary(bo)).to_contain_text("Queued tracks wait for Play.")
    await expect(toasts(bo)).to_contain_text("Ana made queued tracks wait for Play")
    await add_to_queue(bo.page, "Night Drive")
    await expect(bo.page.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(1)
    await expect(bo.page.locator("main")).to_have_attribute("data-status", "idle")

    limit = ana.page.get_by_role("spinbutton", name="Queue limit")
    await limit.fill("3")
    await limit.press("Tab")
    await expect(summary(bo)).to_contain_text("Queue limit: 3 tracks.")
    await expect(toasts(bo)).to_contain_text("Ana set the queue limit to 3")

    await limit.fill("0")  # out of range: said so, nothing sent, the field goes back
    await limit.press("Tab")
    await expect(toasts(ana).locator('[data-kind="error"]').last).to_contain_text(
        "Could not change the queue limit"
    )
    await expect(limit).to_have_value("3")
    assert (await room(bo))["policy"]["max_queue"] == 3

    # On a phone the settings fit the width (no sideways scrolling).
    await ana.page.set_viewport_size({"width": 360, "height": 800})
    await ana.page.get_by_role("heading", name="Room settings").scroll_into_view_if_needed()
    width = await ana.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    await shot(ana, "room-settings-host-360")
    await bo.page.get_by_role("heading", name="Room settings").scroll_into_view_if_needed()
    await shot(bo, "room-settings-listener-1280")
