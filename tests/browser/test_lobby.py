"""The lobby: a live list of rooms, and private rooms that only an invite opens."""

from __future__ import annotations

import asyncio

from playwright.async_api import Route, expect
from web.sio import Listener

from .conftest import OpenTab, Web, join, named, shot


async def test_the_room_list_follows_the_rooms_live(web: Web, open_tab: OpenTab) -> None:
    watcher = await open_tab(web.url)
    rooms = watcher.page.get_by_role("list", name="Rooms")
    await expect(rooms.get_by_role("listitem")).to_have_count(0)

    host = await open_tab(web.url)
    await join(host, "Ana", "party")
    party = rooms.get_by_role("listitem").filter(has_text="party")
    await expect(party).to_have_count(1)
    await expect(party).to_contain_text("1 listener")

    await host.page.get_by_role("button", name="Add Morning Light to queue").click()
    await expect(party).to_contain_text("Morning Light")

    guest = Listener(web.url)
    try:
        await guest.connect()
        await guest.join("party", "Bo")
        await expect(party).to_contain_text("2 listeners")
        await shot(watcher, "lobby-rooms")
    finally:
        await guest.close()  # a dropped connection stays a member for the reconnect grace

    await host.page.get_by_role("button", name="Leave room").click()
    await expect(host.page.get_by_role("list", name="Rooms")).to_be_visible()
    await expect(party).not_to_contain_text("2 listeners")

    # A room in the list is a way in: type a name, pick the room.
    await watcher.page.get_by_role("textbox", name="Display name").fill("Cy")
    await party.get_by_role("button", name="party").click()
    await expect(watcher.page.get_by_role("heading", level=1)).to_have_text(named("party"))


async def test_a_private_room_lets_in_only_invited_listeners(web: Web, open_tab: OpenTab) -> None:
    host = await open_tab(web.url)
    await join(host, "Ana", "secret", private=True)
    await host.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await host.page.get_by_role("button", name="Copy invite link").click()
    await expect(host.page.get_by_role("log", name="Notifications")).to_contain_text("copied")
    invite: str = await host.page.evaluate("navigator.clipboard.readText()")
    await expect(host.page.get_by_text(invite, exact=True)).to_be_visible()  # shown, too
    room_id = await host.page.evaluate("window.__lockstep.room().id")
    assert f"/r/{room_id}" in invite and "invite=" in invite, invite

    # Not in the public list.
    lobby = await open_tab(web.url)
    await expect(lobby.page.get_by_role("list", name="Rooms")).not_to_contain_text("secret")

    # The bare link is refused, with a reason, and the listener stays outside.
    bare = await open_tab(f"{web.url}/r/{room_id}")
    await bare.page.get_by_role("textbox", name="Display name").fill("Eve")
    await bare.page.get_by_role("button", name="Join").click()
    await expect(bare.page.get_by_role("alert")).to_contain_text("invite")
    await expect(bare.page.locator("#room")).to_be_hidden()

    # The invite link lets a second listener in.
    guest = await open_tab(invite)
    await join(guest, "Bo")
    await expect(guest.page.get_by_role("heading", level=1)).to_have_text(named("secret"))
    listeners = host.page.get_by_role("list", name="Listeners")
    await expect(listeners).to_contain_text("Bo")
    await expect(listeners).not_to_contain_text("Eve")


async def test_a_room_link_with_a_remembered_name_joins_straight_away(
    web: Web, open_tab: OpenTab
) -> None:
    tab = await open_tab(f"{web.url}/r/party", storage={"lockstep.name": "Cy"})
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text(named("party"))
    await expect(tab.page.get_by_role("list", name="Listeners")).to_contain_text("Cy")
    await expect(tab.page.get_by_role("textbox", name="Display name")).to_be_hidden()


async def test_a_name_typed_while_the_page_is_still_loading_is_kept(
    web: Web, open_tab: OpenTab
) -> None:
    # Start on a page of the same origin without scripts, so the route is in place before the lobby.
    tab = await open_tab(f"{web.url}/health", storage={"lockstep.name": "Old name"}, wait=False)

    async def slow(route: Route) -> None:  # a slow link: the lobby script arrives late
        await asyncio.sleep(1.0)
        await route.continue_()

    await tab.page.route("**/static/js/lobby.js", slow)
    await tab.page.goto(web.url, wait_until="commit")
    name = tab.page.get_by_role("textbox", name="Display name")
    await name.fill("Ana")
    await expect(tab.page.locator("body")).to_have_attribute("data-connection", "connected")
    await expect(name).to_have_value("Ana")
    await tab.page.get_by_role("textbox", name="Room name").fill("party")
    await tab.page.get_by_role("button", name="Join").click()
    await expect(tab.page.get_by_role("list", name="Listeners")).to_contain_text("Ana")
