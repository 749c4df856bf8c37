"""The player page loads in the browser from the real server and offers a way in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from .conftest import OpenTab, Web, shot

PAGE = Path(__file__).resolve().parents[2] / "webapp" / "static" / "index.html"

pytestmark = pytest.mark.skipif(not PAGE.exists(), reason="the player page is not built yet")


async def test_the_lobby_loads_without_errors(web: Web, open_tab: OpenTab) -> None:
    tab = await open_tab(web.url)
    await expect(tab.page.get_by_role("textbox", name="Display name")).to_be_visible()
    await expect(tab.page.get_by_role("button", name="Join")).to_be_enabled()
    await shot(tab, "lobby")
