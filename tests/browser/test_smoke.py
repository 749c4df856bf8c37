"""The player page loads in the browser from the real server and offers a way in."""

from __future__ import annotations

from playwright.async_api import expect

from .conftest import OpenTab, Web, shot


async def test_the_lobby_loads_without_errors(web: Web, open_tab: OpenTab) -> None:
    tab = await open_tab(web.url)
    await expect(tab.page.get_by_role("status", name="Connection")).to_have_text("connected")
    await expect(tab.page.get_by_role("textbox", name="Display name")).to_be_visible()
    await expect(tab.page.get_by_role("button", name="Join")).to_be_enabled()
    await expect(tab.page.get_by_role("list", name="Rooms")).to_be_attached()
    await shot(tab, "lobby")
