"""What people type is shown as text, never run as markup: in their own page and in everyone
else's (listeners, toasts, queue, room names)."""

from __future__ import annotations

from playwright.async_api import expect

from .conftest import OpenTab, Tab, Web, join

NAME = "<img src=x onerror=alert(1)>"
ROOM = "<b>jam</b>"


async def no_injected_markup(tab: Tab) -> None:
    page = tab.page
    assert await page.locator("img[src='x'], img[src$='/x']").count() == 0
    assert await page.locator("#room b, #lobby b, #toasts b, #toasts img").count() == 0
    assert tab.dialogs == []


async def test_a_name_made_of_markup_shows_as_text(web: Web, open_tab: OpenTab) -> None:
    bo = await open_tab(web.url)
    await join(bo, "Bo", ROOM)
    room_id = await bo.page.evaluate("window.__lockstep.room().id")

    mallory = await open_tab(f"{web.url}/r/{room_id}")
    await join(mallory, NAME)
    await mallory.page.get_by_role("button", name="Add Morning Light to queue").click()

    for tab in (mallory, bo):
        page = tab.page
        await expect(page.get_by_role("heading", level=1)).to_have_text(ROOM)
        listeners = page.get_by_role("list", name="Listeners")
        await expect(listeners.get_by_role("listitem").filter(has_text=NAME)).to_have_count(1)
        queue = page.get_by_role("list", name="Queue")
        await expect(queue).to_contain_text(f"added by {NAME}")
    # Bo was told who joined and who queued what, by name, in text.
    await expect(bo.page.get_by_role("log", name="Notifications")).to_contain_text(NAME)

    lobby = await open_tab(web.url)
    await expect(lobby.page.get_by_role("list", name="Rooms")).to_contain_text(ROOM)
    for tab in (mallory, bo, lobby):
        await no_injected_markup(tab)
