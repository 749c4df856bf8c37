"""The page on a 360 px wide phone, and its dark and light themes."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from .conftest import OpenTab, Tab, Web, join, shot

PHONE_WIDTH = 360


async def assert_fits(page: Page, width: int) -> None:
    scroll_width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} px wide"


async def assert_on_screen(control: Locator, width: int) -> None:
    await expect(control).to_be_visible()
    await control.scroll_into_view_if_needed()
    box = await control.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["width"] >= 24 and box["height"] >= 24, f"too small to tap: {box}"


async def test_a_360_px_phone_gets_the_whole_player_without_sideways_scrolling(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(web.url, width=PHONE_WIDTH, height=740, mobile=True)
    page = tab.page
    await assert_fits(page, PHONE_WIDTH)
    for control in (
        page.get_by_role("textbox", name="Display name"),
        page.get_by_role("textbox", name="Room name"),
        page.get_by_role("button", name="Join"),
    ):
        await assert_on_screen(control, PHONE_WIDTH)
    await shot(tab, "lobby-360")

    # A long name and a full queue must not widen the page either.
    await join(tab, "Wolfeschlegelsteinhausenberger", "party")
    for title in ("Morning Light", "Night Drive", "Slow Tide"):
        await page.get_by_role("button", name=f"Add {title} to queue").click()
    await expect(page.locator("#sync-state")).to_have_text("In sync")
    await assert_fits(page, PHONE_WIDTH)
    for control in (
        page.get_by_role("button", name="Pause", exact=True),
        page.get_by_role("button", name="Previous"),
        page.get_by_role("button", name="Skip"),
        page.get_by_role("slider", name="Seek"),
        page.get_by_role("searchbox", name="Search library"),
        page.get_by_role("button", name="Remove Slow Tide"),
    ):
        await assert_on_screen(control, PHONE_WIDTH)
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(tab, "room-360")


def luminance(css_colour: str) -> float:
    """Relative brightness 0..1 of an `rgb(...)`/`rgba(...)` colour."""
    r, g, b = (float(part) for part in css_colour.split("(")[1].split(")")[0].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


async def background(tab: Tab) -> float:
    colour = await tab.page.evaluate("getComputedStyle(document.body).backgroundColor")
    if "rgba(0, 0, 0, 0)" in colour:  # transparent body: the root carries the colour
        colour = await tab.page.evaluate(
            "getComputedStyle(document.documentElement).backgroundColor"
        )
    return luminance(colour)


async def text_colour(tab: Tab) -> float:
    return luminance(await tab.page.evaluate("getComputedStyle(document.body).color"))


async def test_the_theme_follows_the_system_and_the_switch_is_remembered(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(web.url, color_scheme="dark")
    await join(tab, "Ana", "party")
    await tab.page.get_by_role("button", name="Add Morning Light to queue").click()
    await expect(tab.page.locator("#sync-state")).to_have_text("In sync")
    assert await background(tab) < 0.3 < 0.7 < await text_colour(tab)  # dark, like the system
    await shot(tab, "room-dark")

    await tab.page.get_by_role("button", name="Theme").click()
    assert await text_colour(tab) < 0.3 < 0.7 < await background(tab)
    await shot(tab, "room-light")

    await tab.page.reload()  # the choice outlives the page, whatever the system says
    await expect(tab.page.get_by_role("button", name="Theme")).to_be_visible()
    assert await background(tab) > 0.7

    light = await open_tab(web.url, color_scheme="light")
    assert await background(light) > 0.7
