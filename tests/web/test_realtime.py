"""The Socket.IO room protocol (docs/protocol.md) against a real server, with real
python-socketio clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import socketio
import websockets

from .conftest import Web, WebFactory
from .sio import Listener

Connect = Callable[..., Awaitable[Listener]]


@pytest.fixture
async def connect(web: Web) -> AsyncIterator[Connect]:
    clients: list[Listener] = []

    async def make(url: str | None = None, reconnection: bool = True, **options: Any) -> Listener:
        client = Listener(url or web.url, reconnection=reconnection)
        clients.append(client)
        return await client.connect(**options)

    yield make
    for client in clients:
        await client.close()


async def test_two_listeners_share_one_versioned_room(web: Web, connect: Connect) -> None:
    ana, bo = await connect(), await connect()
    joined = await ana.join("party", "Ana")
    assert joined["you"]["role"] == "host"
    await bo.join("party", "Bo")
    track = web.track_ids()[0]

    added = await ana.ok("queue", {"action": "add", "track_ids": [track]})
    assert len(added["entries"]) == 1
    started = await bo.wait_for("playback", lambda d: d["action"] == "play")
    assert started["entry"]["track_id"] == track
    assert started["entry"]["added_by"]["name"] == "Ana"
    assert started["status"] == "playing"

    paused = await bo.ok("control", {"action": "pause"})
    for client in (ana, bo):
        seen = await client.wait_for("playback", lambda d: d["action"] == "pause")
        assert seen["version"] == paused["version"]
        assert seen["at"] == paused["at"]  # everyone pauses at the same server time
        assert seen["by"]["name"] == "Bo"
        assert seen["clock"]["playing"] is False

    # Both agree with each other and with a fresh snapshot, version for version.
    snapshot = (await ana.ok("sync_request"))["room"]
    assert snapshot["version"] == paused["version"]
    assert snapshot["status"] == "paused"
    assert [m["name"] for m in snapshot["members"]] == ["Ana", "Bo"]
    assert snapshot["queue"]["current"]["track_id"] == track


async def test_updates_carry_every_version_in_order(web: Web, connect: Connect) -> None:
    ana, bo = await connect(), await connect()
    await ana.join("party", "Ana")
    reply = await bo.join("party", "Bo")
    start = reply["room"]["version"]
    tracks = web.track_ids()
    await ana.ok("queue", {"action": "add", "track_ids": tracks[:3]})
    await ana.ok("queue", {"action": "repeat", "mode": "all"})
    await bo.ok("control", {"action": "seek", "position": 1.0})
    await bo.ok("control", {"action": "skip"})
    await ana.ok("queue", {"action": "shuffle"})
    final = await ana.ok("control", {"action": "pause"})
    await bo.wait_for("playback", lambda d: d["version"] == final["version"])
    seen = [v for v in bo.versions() if v > start]
    assert seen == list(range(start + 1, final["version"] + 1))  # no gaps, no repeats


async def test_the_prototype_event_names_still_work(web: Web, connect: Connect) -> None:
    old = await connect()
    reply = await old.call("join_room", {"room_id": "lobby-party", "username": "Old Client"})
    assert reply["ok"] and reply["you"]["name"] == "Old Client"
    await old.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    # The prototype's clients named the room and sent their own clock with each command.
    here = {"room_id": "lobby-party", "timestamp": 1731543990.5}
    await old.ok("control", {"action": "pause", **here})
    await old.ok("control", {"action": "play", **here})
    await old.ok("control", {"action": "seek", "position": 2.5, **here})
    elsewhere = await old.call("control", {"action": "stop", "room_id": "other-room"})
    assert elsewhere["error"] == "not_joined"
    await old.ok("control", {"action": "stop", **here})
    await old.call("sync_request", {"room_id": "lobby-party"})
    pushed = await old.wait_for("room_state")
    assert pushed["status"] == "idle"
    await old.ok("leave_room", {"room_id": "lobby-party"})
    rooms = await old.wait_for("rooms_update", lambda d: d["rooms"][0]["listeners"] == 0)
    assert rooms["rooms"][0]["id"] == "lobby-party"


async def test_the_room_list_updates_live(web: Web, connect: Connect) -> None:
    watcher, ana = await connect(), await connect()
    listed = await watcher.ok("rooms")
    assert listed["rooms"] == []
    await ana.join("party", "Ana", room_name="Friday <b>Party</b>")
    update = await watcher.wait_for(
        "rooms_update", lambda d: len(d["rooms"]) == 1 and d["rooms"][0]["listeners"] == 1
    )
    assert update["rooms"][0]["name"] == "Friday <b>Party</b>"  # data, shown as text
    await ana.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    playing = await watcher.wait_for(
        "rooms_update", lambda d: d["rooms"][0]["now_playing"] is not None
    )
    assert playing["rooms"][0]["status"] == "playing"
    # A listener in a room is not sent the room list unless it asks to watch it.
    assert ana.events("rooms_update") == []


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("control", "pause", "invalid_argument"),
        ("control", {"action": "explode"}, "invalid_argument"),
        ("control", {"action": "seek"}, "invalid_argument"),
        ("control", {"action": "seek", "position": "NaN"}, "invalid_argument"),
        ("control", {"action": "seek", "position": 1e308}, "invalid_argument"),
        ("control", {"action": "pause", "extra": 1}, "invalid_argument"),
        ("control", {"action": "jump", "entry_id": "e999"}, "not_found"),
        ("queue", {"action": "add"}, "invalid_argument"),
        ("queue", {"action": "add", "track_ids": []}, "invalid_argument"),
        ("queue", {"action": "add", "track_ids": ["nope"]}, "not_found"),
        ("queue", {"action": "add", "track_ids": ["x"] * 501}, "invalid_argument"),
        ("queue", {"action": "move", "entry_id": "e1"}, "invalid_argument"),
        ("queue", {"action": "repeat", "mode": "sometimes"}, "invalid_argument"),
        ("queue", {"action": "remove", "entry_id": "e42"}, "not_found"),
        ("set_role", {"user_id": "web:nobody", "role": "emperor"}, "invalid_argument"),
        ("set_policy", {"max_queue": 0}, "invalid_argument"),
        ("join_room", {"room": "../etc", "name": "x"}, "invalid_argument"),
        ("join_room", {"room": "party", "name": ""}, "invalid_argument"),
        ("join_room", {"room": "party", "name": "bad\u0000name"}, "invalid_argument"),
        ("time_ping", {"t0": "soon"}, "invalid_argument"),
        ("no_such_event", {}, "unknown_event"),
    ],
)
async def test_bad_input_gets_an_error_ack_and_changes_nothing(
    web: Web, connect: Connect, event: str, payload: Any, code: str
) -> None:
    ana = await connect()
    await ana.join("party", "Ana")
    await ana.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    before = web.service.require("party")

    reply = await ana.call(event, payload)

    assert reply["ok"] is False
    assert reply["error"] == code
    assert reply["detail"]  # says what was wrong
    assert web.service.require("party") == before
    assert (await ana.ok("time_ping", {"t0": 1.0}))["t0"] == 1.0  # still served


async def test_commands_before_joining_are_refused(web: Web, connect: Connect) -> None:
    stranger = await connect()
    for event, payload in [
        ("control", {"action": "play"}),
        ("queue", {"action": "clear"}),
        ("sync_request", {}),
        ("invite", {}),
        ("leave_room", {}),
    ]:
        reply = await stranger.call(event, payload)
        assert reply == {"ok": False, "error": "not_joined", "detail": reply["detail"]}


async def test_control_follows_the_room_policy_on_the_server(web: Web, connect: Connect) -> None:
    host, guest = await connect(), await connect()
    await host.join("party", "Host")
    await guest.join("party", "Guest")
    await host.ok("queue", {"action": "add", "track_ids": web.track_ids()[:2]})
    await host.ok("set_policy", {"control": "djs", "listeners_can_queue": False})

    refused = await guest.call("control", {"action": "pause"})
    assert refused["ok"] is False and refused["error"] == "forbidden"
    refused = await guest.call("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    assert refused["error"] == "forbidden"
    refused = await guest.call("set_role", {"user_id": guest.session and "x", "role": "dj"})
    assert refused["ok"] is False
    assert web.service.require("party").status.value == "playing"

    guest_id = (await guest.ok("sync_request"))["room"]["members"][1]["id"]
    await host.ok("set_role", {"user_id": guest_id, "role": "dj"})
    changed = await guest.wait_for("role_changed")
    assert changed["user_id"] == guest_id and changed["role"] == "dj"
    await guest.ok("control", {"action": "pause"})
    assert web.service.require("party").status.value == "paused"


async def test_time_ping_returns_server_receive_and_send_times(web: Web, connect: Connect) -> None:
    client = await connect()
    before = web.service.now()
    reply = await client.ok("time_ping", {"t0": 1234.5})
    after = web.service.now()
    assert reply["t0"] == 1234.5
    assert before <= reply["t1"] <= reply["t2"] <= after


async def test_playback_changes_are_scheduled_past_the_slowest_round_trip(
    web: Web, connect: Connect
) -> None:
    near, far = await connect(), await connect()
    await near.join("party", "Near")
    await far.join("party", "Far")
    await near.ok("time_ping", {"t0": 0.0, "rtt": 0.002})
    await near.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    asked = web.service.now()
    quick = await near.ok("control", {"action": "pause"})
    assert 0.2 <= quick["at"] - asked <= 0.5

    await far.ok("time_ping", {"t0": 0.0, "rtt": 0.6})  # a listener on a slow link
    asked = web.service.now()
    slow = await near.ok("control", {"action": "play"})
    assert slow["at"] - asked >= 0.6 + 0.15  # its round trip plus time to prepare
    state = (await far.ok("sync_request"))["room"]
    assert state["clock"]["anchor"] == slow["at"]


async def test_a_private_room_needs_its_invite(web: Web, connect: Connect) -> None:
    owner, stranger, forger = await connect(), await connect(), await connect()
    created = await owner.ok("create_room", {"name": "Secret Club", "private": True})
    room, token = created["room"], created["token"]
    assert created["invite"] == f"{web.settings.base_url}/r/{room}?invite={token}"

    missing = await stranger.call("join_room", {"room": room, "name": "Eve"})
    assert missing["ok"] is False and missing["error"] == "forbidden"
    other = await owner.ok("create_room", {"name": "Other", "private": True})
    for bad in (other["token"], token[:-2] + "xx", "not-a-token"):
        forged = await forger.call("join_room", {"room": room, "name": "Eve", "token": bad})
        assert forged["ok"] is False and forged["error"] == "forbidden"
    assert web.service.require(room).members == ()

    await owner.join(room, "Owner", token=token)
    assert (await stranger.ok("join_room", {"room": room, "name": "Friend", "token": token}))[
        "you"
    ]["role"] == "listener"
    listed = (await forger.ok("rooms"))["rooms"]
    assert room not in [r["id"] for r in listed]
    async with httpx.AsyncClient(base_url=web.url) as http:
        assert room not in [r["id"] for r in (await http.get("/rooms")).json()["rooms"]]
        assert (await http.get(f"/api/rooms/{room}")).status_code == 404


async def test_a_reconnecting_listener_keeps_identity_and_role(
    start_web: WebFactory,
) -> None:
    web = await start_web(reconnect_grace=1.0)
    host, other = Listener(web.url), Listener(web.url)
    try:
        await host.connect()
        await other.connect()
        first = await host.join("party", "Host")
        await other.join("party", "Other")
        await host.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})

        await host.sio.eio.disconnect(abort=True)  # the network drops, no goodbye
        await host.sio.disconnect()
        await asyncio.sleep(0.3)
        await other.ok("control", {"action": "pause"})  # the room goes on meanwhile

        back = Listener(web.url)
        back.session = host.session
        await back.connect()
        again = await back.join("party", "Host")
        assert again["you"] == first["you"]  # same id, still the host
        assert again["room"]["status"] == "paused"  # and the current state
        await asyncio.sleep(1.3)  # past the grace period: nobody left, no role moved
        assert other.events("member_left") == []
        assert other.events("role_changed") == []
        await back.close()
    finally:
        await host.close()
        await other.close()


async def test_a_listener_who_does_not_come_back_leaves_after_the_grace(
    start_web: WebFactory,
) -> None:
    web = await start_web(reconnect_grace=0.5)
    host, other = Listener(web.url), Listener(web.url)
    try:
        await host.connect()
        await other.connect()
        await host.join("party", "Host")
        other_id = (await other.join("party", "Other"))["you"]["id"]
        await host.close()
        left = await other.wait_for("member_left", wait=3)
        assert left["member"]["name"] == "Host"
        handed = await other.wait_for("role_changed")
        assert handed == {**handed, "user_id": other_id, "role": "host"}
    finally:
        await other.close()


async def test_a_flooding_client_is_throttled_then_disconnected(web: Web, connect: Connect) -> None:
    calm, flood = await connect(), await connect()
    await calm.join("party", "Calm")
    await flood.join("party", "Flood")

    async def spam() -> list[str]:
        codes = []
        for _ in range(200):
            if not flood.sio.connected:
                break
            try:
                reply = await flood.call("control", {"action": "stop"}, wait=2)
            except Exception:  # the server hung up on us
                break
            codes.append("ok" if reply["ok"] else reply["error"])
        return codes

    async def measure() -> list[float]:
        rtts = []
        for _ in range(20):
            sent = asyncio.get_running_loop().time()
            await calm.ok("time_ping", {"t0": 0.0})
            rtts.append(asyncio.get_running_loop().time() - sent)
            await asyncio.sleep(0.02)
        return rtts

    codes, rtts = await asyncio.gather(spam(), measure())
    assert "rate_limited" in codes
    assert len(codes) < 200  # cut off before the end
    kicked = await flood.wait_for("kicked")
    assert kicked["error"] == "flooding"
    await asyncio.sleep(0.2)
    assert not flood.sio.connected
    assert calm.sio.connected
    assert sorted(rtts)[len(rtts) // 2] < 0.05  # the calm listener barely notices
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{web.url}/metrics")).text
    assert "lockstep_flood_disconnects_total 1.0" in metrics


async def test_an_oversized_message_is_refused_and_others_are_unaffected(
    web: Web, connect: Connect
) -> None:
    calm, big = await connect(), await connect(reconnection=False)
    await calm.join("party", "Calm")
    await big.join("party", "Big")
    with pytest.raises(socketio.exceptions.SocketIOError):  # the server hangs up on the call
        await big.call("join_room", {"room": "party", "name": "x" * 200_000}, wait=2)
    await big.wait_for("disconnect")
    assert (await calm.ok("time_ping", {"t0": 0.0}))["t0"] == 0.0


async def test_connections_per_address_are_limited(start_web: WebFactory) -> None:
    web = await start_web(connect_rate_limit="3/minute")
    clients = [Listener(web.url) for _ in range(4)]
    try:
        for client in clients[:3]:
            await client.connect()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await clients[3].connect()
        refusal = await clients[3].wait_for("connect_error")
        assert "rate_limited" in str(refusal), refusal
        assert all(c.sio.connected for c in clients[:3])
    finally:
        for client in clients:
            await client.close()


async def test_other_sites_cannot_connect_unless_allowed(start_web: WebFactory) -> None:
    web = await start_web(cors_origins="https://friends.example")
    allowed = Listener(web.url)
    refused = Listener(web.url)
    same = Listener(web.url)
    try:
        await allowed.connect(headers={"Origin": "https://friends.example"})
        await same.connect(headers={"Origin": web.url})
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(headers={"Origin": "https://evil.example"})
        assert allowed.sio.connected and same.sio.connected and not refused.sio.connected
    finally:
        for client in (allowed, refused, same):
            await client.close()


async def test_metrics_count_connections_and_commands(web: Web, connect: Connect) -> None:
    ana = await connect()
    await ana.join("party", "Ana")
    await ana.call("control", {"action": "play"})  # nothing queued: refused
    await asyncio.sleep(0.3)  # the join's announcement waits briefly for more presence to bundle
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{web.url}/metrics")).text
    assert "lockstep_connected_clients 1.0" in text
    assert 'lockstep_commands_total{event="join_room",result="ok"} 1.0' in text
    assert 'lockstep_commands_total{event="control",result="nothing_to_play"} 1.0' in text
    assert "lockstep_library_tracks 4.0" in text
    assert 'lockstep_broadcast_seconds_count{event="member_joined"} 1.0' in text


async def test_after_a_server_restart_listeners_rejoin_as_themselves(
    start_web: WebFactory,
) -> None:
    web = await start_web()
    host = Listener(web.url)
    await host.connect()
    first = await host.join("party", "Host")
    await host.ok("queue", {"action": "add", "track_ids": web.track_ids()[:2]})
    await host.close()
    await web.stop()

    again = await start_web()  # same data folder, same secret key
    back = Listener(again.url)
    back.session = host.session
    try:
        await back.connect()
        rejoined = await back.join("party", "Host")
        assert rejoined["you"] == first["you"]  # same id, still the host
        state = rejoined["room"]
        assert state["status"] == "playing"
        assert [
            e["track_id"] for e in [state["queue"]["current"], *state["queue"]["upcoming"]]
        ] == (again.track_ids()[:2])
    finally:
        await back.close()


async def test_a_clock_sync_burst_on_join_is_not_throttled(web: Web, connect: Connect) -> None:
    client = await connect()
    await client.join("party", "Ana")
    replies = await asyncio.gather(*(client.call("time_ping", {"t0": float(i)}) for i in range(16)))
    assert all(reply["ok"] for reply in replies)
    assert sorted(reply["t0"] for reply in replies) == [float(i) for i in range(16)]


async def test_rooms_get_readable_ids_and_invites_carry_the_public_url(
    web: Web, connect: Connect
) -> None:
    client = await connect()
    first = await client.ok("create_room", {"name": "Friday Night Jams!"})
    second = await client.ok("create_room", {"name": "Friday night jams"})
    assert first["room"] == "friday-night-jams"
    assert second["room"].startswith("friday-night-jams-") and second["room"] != first["room"]
    assert first["token"] is None
    taken = await client.call("create_room", {"name": "x", "id": "friday-night-jams"})
    assert taken["error"] == "already_exists"

    await client.join(first["room"], "Ana")
    invite = await client.ok("invite")
    assert invite == {
        "ok": True,
        "url": f"{web.settings.base_url}/r/friday-night-jams",
        "token": None,
    }


async def test_rejoining_under_a_new_name_renames_the_member(web: Web, connect: Connect) -> None:
    ana, bo = await connect(), await connect()
    await ana.join("party", "Ana")
    await bo.join("party", "Bo")
    renamed = await ana.join("party", "Ana 🎧")
    assert renamed["you"]["name"] == "Ana 🎧"
    seen = await bo.wait_for("member_renamed")
    assert seen["member"] == {"id": renamed["you"]["id"], "name": "Ana 🎧", "role": "host"}


async def test_long_polling_works_where_websockets_are_blocked(web: Web) -> None:
    client = Listener(web.url)
    try:
        await client.sio.connect(web.url, transports=["polling"])
        assert client.sio.transport() == "polling"
        joined = await client.join("party", "Behind A Proxy")
        assert joined["room"]["members"][0]["name"] == "Behind A Proxy"
        await client.ok("leave_room")
    finally:
        # The python client's polite disconnect waits out the pending long-poll (up to the 25 s
        # ping interval); a browser just drops it, and so do we.
        await client.sio.eio.disconnect(abort=True)
        await client.close()


async def test_a_crowd_joining_at_once_is_announced_in_bundles(web: Web, connect: Connect) -> None:
    host = await connect()
    start = (await host.join("party", "Host"))["room"]["version"]
    crowd = [await connect() for _ in range(12)]
    await asyncio.gather(*(c.join("party", f"Guest {i}") for i, c in enumerate(crowd)))
    await host.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    await host.wait_for("playback")

    joined = [d["member"]["name"] for d in host.events("member_joined")]
    assert sorted(joined) == sorted(["Host", *(f"Guest {i}" for i in range(12))])  # each once
    assert host.batches >= 1  # fewer messages than joins
    versions = [v for v in host.versions() if v > start]
    assert versions == list(range(start + 1, start + 1 + len(versions)))  # in order, no gaps


@pytest.mark.parametrize(
    "frame",
    [
        '42["control", {"action": ',  # cut off mid-JSON
        "42not json at all",
        '42{"event": "control"}',  # an object where the event array belongs
        "4" + "9" * 40,  # an unknown packet type with a huge id
        '42[17, {"action": "pause"}]',  # a number for the event name
        "\x00\xff\xfe",
    ],
)
async def test_malformed_socket_io_frames_do_not_hurt_anyone_else(
    web: Web, connect: Connect, frame: str
) -> None:
    calm = await connect()
    await calm.join("party", "Calm")
    uri = web.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(uri) as raw:
        assert (await raw.recv()).startswith("0{")  # engine.io open
        await raw.send("40")  # socket.io connect
        assert (await raw.recv()).startswith("40")
        await raw.send(frame)
        await asyncio.sleep(0.2)
    assert (await calm.ok("time_ping", {"t0": 5.0}))["t0"] == 5.0
    assert web.service.require("party").members[0].name == "Calm"


async def test_entries_whose_file_left_the_library_are_marked_not_dropped(
    web: Web, connect: Connect
) -> None:
    ana = await connect()
    await ana.join("party", "Ana")
    first, second = web.track_ids()[:2]
    await ana.ok("queue", {"action": "add", "track_ids": [first, second]})
    gone = web.library.path_of(second)
    assert gone is not None
    kept = gone.read_bytes()
    gone.unlink()

    await web.catalog.rescan()
    changed = await ana.wait_for("library_changed")
    assert changed["removed"] == 1
    pushed = await ana.wait_for("room_state")
    (upcoming,) = pushed["queue"]["upcoming"]
    assert upcoming["track_id"] == second
    assert upcoming["available"] is False  # still queued, shown as unavailable
    assert pushed["queue"]["current"]["available"] is True
    async with httpx.AsyncClient(base_url=web.url) as http:
        state = (await http.get("/api/rooms/party")).json()
    assert state["queue"]["upcoming"][0]["available"] is False

    gone.write_bytes(kept)  # the file comes back (a remounted disk): same content, same id
    await web.catalog.rescan()
    snapshot = (await ana.ok("sync_request"))["room"]
    assert snapshot["queue"]["upcoming"][0]["track_id"] == second
    assert snapshot["queue"]["upcoming"][0]["available"] is True


async def test_when_the_playing_file_disappears_the_room_moves_on_once(
    web: Web, connect: Connect
) -> None:
    ana, bo = await connect(), await connect()
    await ana.join("party", "Ana")
    await bo.join("party", "Bo")
    first, second = web.track_ids()[:2]
    await ana.ok("queue", {"action": "add", "track_ids": [first, second]})
    path = web.library.path_of(first)
    assert path is not None
    path.unlink()

    await web.catalog.rescan()
    for client in (ana, bo):
        moved = await client.wait_for("playback", lambda d: d["action"] == "skip")
        assert moved["by"] == {"id": "system", "name": "Lockstep"}
        assert moved["entry"]["track_id"] == second
    await asyncio.sleep(0.3)
    assert len([d for d in bo.events("playback") if d["action"] == "skip"]) == 1
