"""The library browser: search, cover art and durations; and the seek bar's times and
buffered range for what plays."""

from __future__ import annotations

import re

from playwright.async_api import expect

from .conftest import OpenTab, Web, join

LOADED_IMAGES = "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"


async def test_the_library_searches_and_shows_covers_and_durations(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(web.url)
    page = tab.page
    await join(tab, "Ana", "party")
    library = page.get_by_role("list", name="Library")
    tracks = library.get_by_role("listitem")
    await expect(tracks).to_have_count(4)  # the demo tracks
    await expect(tracks.filter(has_text="Morning Light")).to_contain_text("0:31")
    await expect(tracks.filter(has_text="Morning Light")).to_contain_text("The Quiet Hours")
    covers = library.locator("img")
    await expect(covers).to_have_count(4)
    await covers.last.scroll_into_view_if_needed()  # lazy images load once on screen
    assert await covers.evaluate_all(LOADED_IMAGES) == 4

    search = page.get_by_role("searchbox", name="Search library")
    await search.fill("tide")  # a title
    await expect(tracks).to_have_count(1)
    await expect(tracks).to_contain_text("Slow Tide")
    await search.fill("neon harbour")  # an artist
    await expect(tracks).to_have_text([re.compile("Night Drive")])
    await search.fill("no such music")
    await expect(tracks).to_have_count(0)
    await expect(page.get_by_text("No tracks match.")).to_be_visible()
    await search.press("Escape")
    await expect(search).to_have_value("")
    await expect(tracks).to_have_count(4)


async def test_the_seek_bar_shows_the_times_and_what_is_buffered(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(web.url)
    page = tab.page
    await join(tab, "Ana", "party")
    await page.get_by_role("button", name="Add Night Drive to queue").click()
    await expect(page.locator("#sync-state")).to_have_text("In sync")
    await expect(page.locator("#time-total")).to_have_text("0:35")
    await expect(page.locator("#time-now")).to_have_text(re.compile(r"^0:0[1-9]$"))  # moves on
    seek = page.get_by_role("slider", name="Seek")
    await expect(seek).to_have_attribute("aria-valuetext", re.compile("second"))
    buffered = page.locator("#buffered > *")
    await expect(buffered.first).to_be_visible()
    width = await buffered.first.evaluate("e => e.getBoundingClientRect().width")
    assert width > 0
