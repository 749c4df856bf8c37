"""The keyboard: Enter joins, Space/arrows drive the player, a help overlay lists the keys, and
none of it fires while the listener types in a field."""

from __future__ import annotations

from playwright.async_api import Page, expect

from .conftest import OpenTab, Web, eventually, join, named, shot


async def seek_at(page: Page) -> float:
    return float(await page.get_by_role("slider", name="Seek").input_value())


async def volume(page: Page) -> int:
    return int(await page.get_by_role("slider", name="Volume").input_value())


async def test_enter_in_the_lobby_joins(web: Web, open_tab: OpenTab) -> None:
    tab = await open_tab(web.url)
    await tab.page.get_by_role("textbox", name="Display name").fill("Ana")
    await tab.page.get_by_role("textbox", name="Room name").fill("party")
    await tab.page.get_by_role("textbox", name="Room name").press("Enter")
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text(named("party"))


async def test_enter_in_the_name_prompt_of_a_room_link_joins(web: Web, open_tab: OpenTab) -> None:
    tab = await open_tab(f"{web.url}/r/party")
    await tab.page.get_by_role("textbox", name="Display name").fill("Bo")
    await tab.page.get_by_role("textbox", name="Display name").press("Enter")
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text(named("party"))
    members = tab.page.get_by_role("list", name="Listeners")
    await expect(members).to_contain_text("Bo")


async def test_shortcuts_drive_the_player_but_not_while_typing(web: Web, open_tab: OpenTab) -> None:
    tab = await open_tab(web.url)
    page = tab.page
    await join(tab, "Ana", "party")
    await page.get_by_role("button", name="Add Morning Light to queue").click()
    main = page.locator("main")
    await expect(main).to_have_attribute("data-status", "playing")
    await page.get_by_role("heading", level=1).click()  # focus on the page, not on a control

    await page.keyboard.press("Space")
    await expect(main).to_have_attribute("data-status", "paused")
    await expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    paused_at = await seek_at(page)

    await page.keyboard.press("ArrowRight")
    await eventually(lambda: seek_at(page), lambda at: abs(at - (paused_at + 5)) < 0.3, "+5 s")
    await page.keyboard.press("ArrowRight")
    await eventually(lambda: seek_at(page), lambda at: abs(at - (paused_at + 10)) < 0.3, "+10 s")
    await page.keyboard.press("ArrowLeft")
    await eventually(lambda: seek_at(page), lambda at: abs(at - (paused_at + 5)) < 0.3, "-5 s")

    start_volume = await volume(page)
    await page.keyboard.press("ArrowDown")
    await eventually(lambda: volume(page), lambda v: v == start_volume - 10, "volume -10 %")
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("ArrowUp")
    await eventually(lambda: volume(page), lambda v: v == start_volume + 10, "volume +10 %")

    await page.keyboard.press("m")
    await expect(page.get_by_role("button", name="Unmute", exact=True)).to_be_visible()
    await page.keyboard.press("m")
    await expect(page.get_by_role("button", name="Mute", exact=True)).to_be_visible()

    # In the search field the same keys type and move the caret: the player does not react.
    at, level = await seek_at(page), await volume(page)
    search = page.get_by_role("searchbox", name="Search library")
    await search.click()
    for key in ("M", "o", "Space", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "?"):
        await page.keyboard.press(key)
    await expect(search).to_have_value("Mo ?")
    await page.get_by_text("This device").click()
    offset = page.get_by_role("spinbutton", name="Device offset (ms)")
    await offset.click()
    await page.keyboard.press("ArrowUp")  # steps the number, not the volume
    await page.keyboard.press("Space")
    await expect(offset).to_have_value("5")
    await expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    await expect(main).to_have_attribute("data-status", "paused")
    assert await seek_at(page) == at
    assert await volume(page) == level
    await expect(page.get_by_role("button", name="Mute", exact=True)).to_be_visible()

    # Space from the page again resumes.
    await page.get_by_role("heading", level=1).click()
    await page.keyboard.press("Space")
    await expect(main).to_have_attribute("data-status", "playing")


async def test_the_help_overlay_lists_the_shortcuts(web: Web, open_tab: OpenTab) -> None:
    tab = await open_tab(web.url)
    page = tab.page
    await join(tab, "Ana", "party")
    help_ = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(help_).to_be_hidden()

    await page.keyboard.press("?")
    await expect(help_).to_be_visible()
    for key in ("Space", "Enter"):
        await expect(help_).to_contain_text(key)
    await shot(tab, "help-overlay")
    await page.keyboard.press("Escape")
    await expect(help_).to_be_hidden()

    await page.get_by_role("button", name="Keyboard shortcuts").click()
    await expect(help_).to_be_visible()
    await help_.get_by_role("button", name="Close").click()
    await expect(help_).to_be_hidden()


FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const cs = getComputedStyle(e);
    const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2)
        || (cs.boxShadow && cs.boxShadow !== "none");
    return { name: e.getAttribute("aria-label") || e.textContent.trim(), ring };
}"""


async def test_the_player_works_from_the_keyboard_alone_with_a_visible_focus(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(web.url)
    page = tab.page
    await page.get_by_role("textbox", name="Display name").focus()
    await page.keyboard.type("Ana")
    await page.keyboard.press("Tab")
    await page.keyboard.type("party")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(named("party"))

    async def tab_until(name: str) -> dict[str, bool]:
        """Press Tab until `name` has the focus; which controls had it, with a visible ring."""
        seen: dict[str, bool] = {}
        for _ in range(40):
            await page.keyboard.press("Tab")
            focused = await page.evaluate(FOCUSED)
            if focused is None:
                continue  # past the last control: the focus leaves the page for a moment
            seen[focused["name"]] = focused["ring"]
            if focused["name"] == name:
                return seen
        raise AssertionError(f"Tab never reached {name}: {list(seen)}")

    seen = await tab_until("Add Morning Light to queue")
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_have_attribute("data-status", "playing")

    # From the top of the room, Tab reaches every player control, each showing the focus.
    await page.get_by_role("heading", level=1).click()
    seen |= await tab_until("Search library")
    for control in ("Previous", "Pause", "Skip", "Seek", "Mute", "Volume"):
        assert control in seen, f"Tab never reached {control}: {list(seen)}"
    assert all(seen.values()), f"no visible focus on {[n for n, ring in seen.items() if not ring]}"

    # Space on a focused button presses that button once: it is not also the play/pause key
    # (which would undo it).
    await page.get_by_role("button", name="Mute", exact=True).focus()
    await page.keyboard.press("Space")
    await expect(page.get_by_role("button", name="Unmute", exact=True)).to_be_focused()
    await expect(page.locator("main")).to_have_attribute("data-status", "playing")
    await page.get_by_role("button", name="Pause", exact=True).focus()
    await page.keyboard.press("Space")
    await expect(page.locator("main")).to_have_attribute("data-status", "paused")
    await page.wait_for_timeout(300)  # a second toggle would arrive by now
    await expect(page.locator("main")).to_have_attribute("data-status", "paused")
