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


# WCAG 2 contrast of an element's text against the first opaque background behind it.
_CONTRAST = """(element) => {
    const channel = (v) => {
        v /= 255;
        return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
    const lum = (c) => {
        const [r, g, b] = rgb(c);
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    let back = element, bg = null;
    while (back) {
        const c = getComputedStyle(back).backgroundColor;
        if (!/rgba\\(.*, 0\\)$/.test(c)) { bg = c; break; }
        back = back.parentElement;
    }
    const [a, b] = [lum(getComputedStyle(element).color), lum(bg || "rgb(255, 255, 255)")];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
READABLE = 4.5  # WCAG AA for normal text


async def assert_readable(tab: Tab) -> None:
    """Body text, secondary text, badges and the primary button all meet WCAG AA."""
    page = tab.page
    for what, element in {
        "room name": page.get_by_role("heading", level=1),
        "artist": page.locator("#now-artist"),
        "state": page.locator("#now-state"),
        "time": page.locator("#time-now"),
        "queue details": page.get_by_role("list", name="Queue").get_by_text("added by Ana"),
        "role badge": page.get_by_role("list", name="Listeners").get_by_text("host"),
        "library details": page.get_by_role("list", name="Library").locator("p").nth(1),
    }.items():
        ratio = await element.first.evaluate(_CONTRAST)
        print(f"contrast of {what}: {ratio:.2f}")
        assert ratio >= READABLE, f"{what}: contrast {ratio:.2f} < {READABLE}"


async def test_the_theme_follows_the_system_and_the_switch_is_remembered(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(web.url, color_scheme="dark")
    await join(tab, "Ana", "party")
    await tab.page.get_by_role("button", name="Add Morning Light to queue").click()
    await expect(tab.page.locator("#sync-state")).to_have_text("In sync")
    assert await background(tab) < 0.3 < 0.7 < await text_colour(tab)  # dark, like the system
    await assert_readable(tab)
    await shot(tab, "room-dark")

    await tab.page.get_by_role("button", name="Theme").click()
    assert await text_colour(tab) < 0.3 < 0.7 < await background(tab)
    await assert_readable(tab)
    await shot(tab, "room-light")

    await tab.page.reload()  # the choice outlives the page, whatever the system says
    await expect(tab.page.get_by_role("button", name="Theme")).to_be_visible()
    assert await background(tab) > 0.7

    light = await open_tab(web.url, color_scheme="light")
    assert await background(light) > 0.7
