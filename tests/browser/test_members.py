"""Who is in the room and with which role, and the host handing roles out."""

from __future__ import annotations

from playwright.async_api import expect

from .conftest import OpenTab, Web
from .test_room_sync import toasts, two_listeners


async def test_the_host_hands_out_roles_and_everyone_sees_them(web: Web, open_tab: OpenTab) -> None:
    ana, bo = await two_listeners(web, open_tab)
    bo_list = bo.page.get_by_role("list", name="Listeners").get_by_role("listitem")
    await expect(bo_list.filter(has_text="Ana")).to_contain_text("host")
    await expect(bo_list.filter(has_text="Bo")).to_contain_text("(you)")
    await expect(bo_list.filter(has_text="Bo")).to_contain_text("listener")
    # Only the host is offered the choice.
    await expect(bo.page.get_by_role("combobox", name="Role of Ana")).to_have_count(0)

    await ana.page.get_by_role("combobox", name="Role of Bo").select_option("dj")
    await expect(toasts(bo)).to_contain_text("You are now a DJ")
    await expect(bo_list.filter(has_text="Bo")).to_contain_text("DJ")
    # A DJ is not offered it either: the server lets only the host hand out roles.
    await expect(bo.page.get_by_role("combobox", name="Role of Ana")).to_have_count(0)

    await ana.page.get_by_role("combobox", name="Role of Bo").select_option("host")
    await expect(toasts(bo)).to_contain_text("You are now the host")
    ana_list = ana.page.get_by_role("list", name="Listeners").get_by_role("listitem")
    await expect(ana_list.filter(has_text="Ana")).to_contain_text("listener")
    await expect(ana.page.get_by_role("combobox", name="Role of Bo")).to_have_count(0)
    await expect(bo.page.get_by_role("combobox", name="Role of Ana")).to_have_value("listener")
    assert (await ana.page.evaluate("window.__lockstep.me()"))["role"] == "listener"
