"""`listener_status`: a player says it is buffering, everyone in the room sees it (member_status
and RoomState members), and the status is ephemeral, validated and rate-limited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from .conftest import Web
from .sio import Listener

Connect = Callable[..., Awaitable[Listener]]


@pytest.fixture
async def connect(web: Web) -> AsyncIterator[Connect]:
    clients: list[Listener] = []

    async def make() -> Listener:
        client = Listener(web.url, reconnection=False)
        clients.append(client)
        return await client.connect()

    yield make
    for client in clients:
        await client.close()


def _buffering(state: dict[str, Any]) -> dict[str, bool]:
    return {m["name"]: m["buffering"] for m in state["members"]}


async def test_buffering_is_announced_to_the_room_and_kept_in_its_state(
    web: Web, connect: Connect
) -> None:
    ana, ben = await connect(), await connect()
    joined = await ana.join("party", "Ana")
    ben_joined = await ben.join("party", "Ben")
    assert _buffering(joined["room"]) == {"Ana": False}

    reply = await ben.ok("listener_status", {"buffering": True})
    assert reply == {"ok": True, "changed": True}
    seen = await ana.wait_for("member_status")
    assert seen == {
        "room": "party",
        "member": {"id": ben_joined["you"]["id"], "name": "Ben"},
        "buffering": True,
    }
    assert "version" not in seen  # not a room change: versions are untouched
    state = (await ana.ok("sync_request"))["room"]
    assert _buffering(state) == {"Ana": False, "Ben": True}
    assert state["version"] == joined["room"]["version"] + 1  # only Ben's join
    async with httpx.AsyncClient(base_url=web.url) as http:
        listed = (await http.get("/api/rooms/party")).json()
    assert _buffering(listed) == {"Ana": False, "Ben": True}

    again = await ben.ok("listener_status", {"buffering": True})
    assert again["changed"] is False  # nothing new: nothing announced
    await ben.ok("listener_status", {"buffering": False})
    await ana.wait_for("member_status", lambda d: d["buffering"] is False)
    assert [d["buffering"] for d in ana.events("member_status")] == [True, False]


async def test_a_listener_who_drops_while_buffering_stops_counting_as_buffering(
    web: Web, connect: Connect
) -> None:
    ana, ben = await connect(), await connect()
    await ana.join("party", "Ana")
    await ben.join("party", "Ben")
    await ben.ok("listener_status", {"buffering": True})
    await ana.wait_for("member_status")
    await ben.sio.disconnect()  # still a member for the reconnect grace, but not buffering
    cleared = await ana.wait_for("member_status", lambda d: d["buffering"] is False)
    assert cleared["member"]["name"] == "Ben"
    state = (await ana.ok("sync_request"))["room"]
    assert _buffering(state) == {"Ana": False, "Ben": False}


@pytest.mark.parametrize(
    "payload",
    [{}, {"buffering": "yes"}, {"buffering": 1}, {"buffering": True, "extra": 1}, [True]],
)
async def test_a_bad_listener_status_is_refused_and_changes_nothing(
    web: Web, connect: Connect, payload: Any
) -> None:
    ana, ben = await connect(), await connect()
    await ana.join("party", "Ana")
    await ben.join("party", "Ben")
    reply = await ben.call("listener_status", payload)
    assert reply["ok"] is False
    assert reply["error"] == "invalid_argument"
    assert reply["detail"]
    await asyncio.sleep(0.3)
    assert ana.events("member_status") == []
    assert _buffering((await ana.ok("sync_request"))["room"]) == {"Ana": False, "Ben": False}


async def test_listener_status_needs_a_room(connect: Connect) -> None:
    loner = await connect()
    reply = await loner.call("listener_status", {"buffering": True})
    assert reply["ok"] is False
    assert reply["error"] == "not_joined"


async def test_listener_status_is_rate_limited(connect: Connect) -> None:
    ana = await connect()
    await ana.join("party", "Ana")
    replies = [await ana.call("listener_status", {"buffering": i % 2 == 0}) for i in range(7)]
    codes = [r.get("error", "ok") for r in replies]
    assert codes[:5] == ["ok"] * 5  # five a second
    assert codes[5:] == ["rate_limited"] * 2
    assert replies[-1]["retry_after"] > 0


async def test_a_newcomer_s_status_never_overtakes_their_join(connect: Connect) -> None:
    """Presence is bundled for 0.1 s; a status sent right after joining still arrives after the
    join it belongs to, so every client knows the member it is about."""
    ana, ben = await connect(), await connect()
    await ana.join("party", "Ana")
    await ben.join("party", "Ben")
    await ben.ok("listener_status", {"buffering": True})  # inside the presence window
    await ana.wait_for("member_status")
    about_ben = [
        event
        for event, data in ana.received
        if event in ("member_joined", "member_status") and data["member"]["name"] == "Ben"
    ]
    assert about_ben == ["member_joined", "member_status"]
