"""End to end: the real discord.py client (LockstepBot) connected to the fake Discord gateway and
REST API on loopback, and the real web server on the same RoomService, catalog and settings, as
`lockstep run` wires them. A slash command and a browser's Socket.IO event act on one room, and
each side sees the other's change; the gateway drops and the bot resumes its session."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import discord
import discord.http
import httpx
import pytest
from discord_fake import TOKEN, FakeDiscord, message_text
from discord_fake.gateway import IDENTIFY, RESUME
from discord_fake.interactions import DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE
from web.conftest import Web, WebFactory, start_web  # noqa: F401  (a fixture)
from web.sio import Listener

from bot import BotContext, LockstepBot
from lockstep.main import DiscordBot

# What issue 4 lists; other commands (voice, settings) may come on top.
DOCUMENTED_COMMANDS = {
    "play",
    "pause",
    "resume",
    "seek",
    "skip",
    "previous",
    "stop",
    "nowplaying",
    "queue",
    "remove",
    "move",
    "shuffle",
    "repeat",
    "clear",
    "rooms",
    "listen",
}
NOW_PLAYING_PREFIX = "lockstep:np:"  # the now-playing buttons' custom ids
EPHEMERAL = 64


class Bot:
    """One LockstepBot process's worth: built on the web server's service, catalog and
    settings (as the entry point does), started against the fake, stopped by the fixture."""

    def __init__(self, fake: FakeDiscord, web: Web) -> None:
        self.connection: list[bool] = []  # what the bot reported to the entry point, in order

        def on_connection(connected: bool) -> None:
            self.connection.append(connected)
            fake.changes.notify()  # wakes the test's waits

        context = BotContext.build(web.settings, web.service, web.catalog, on_connection)
        # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before
        # on_ready (2 s by default); the fake sends them all at once.
        self.client = LockstepBot(context, guild_ready_timeout=0.05)
        self._fake = fake
        token = web.settings.discord_token
        assert token is not None
        self._task = asyncio.create_task(self.client.start(token.get_secret_value()))

    async def connected(self) -> None:
        await self._fake.changes.until(
            lambda: True if self.connection[-1:] == [True] else None,
            wait=10,
            describe=lambda: f"the bot never reported itself connected: {self.connection}",
        )

    async def stop(self) -> None:
        await self.client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, 10)


@dataclass
class Running:
    fake: FakeDiscord
    web: Web
    bots: list[Bot]

    def start_bot(self) -> Bot:
        bot = Bot(self.fake, self.web)
        self.bots.append(bot)
        return bot


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    yield fake
    await fake.stop()


@pytest.fixture
async def running(
    fake: FakeDiscord,
    start_web: WebFactory,  # noqa: F811  (the fixture imported above)
) -> AsyncIterator[Running]:
    web = await start_web(discord_token=TOKEN, discord_guild_id=fake.world.guild.id)
    running = Running(fake, web, [])
    try:
        yield running
    finally:
        for bot in reversed(running.bots):
            await bot.stop()


def buttons(message: dict[str, object]) -> list[dict[str, str]]:
    rows = message.get("components") or []
    assert isinstance(rows, list)
    return [item for row in rows for item in row["components"]]


def control_ids(message: dict[str, object]) -> list[str]:
    return [b["custom_id"] for b in buttons(message) if "custom_id" in b]


def actor(fake: FakeDiscord, name: str) -> str:
    """The room actor id of a Discord member's commands."""
    return f"discord:{fake.world.users[name]['id']}"


def now_playing_in(channel_id: int) -> Callable[[dict[str, Any]], bool]:
    def match(message: dict[str, Any]) -> bool:
        return message["channel_id"] == str(channel_id) and any(
            i.startswith(NOW_PLAYING_PREFIX) for i in control_ids(message)
        )

    return match


async def play(running: Running, title: str, user: str) -> tuple[dict[str, Any], str]:
    """`user` runs /play for the library track `title`; returns the reply and the room id."""
    fake, web = running.fake, running.web
    track = next(t for t in web.library.search("", limit=100).items if t.title == title)
    reply = await fake.reply(await fake.slash("play", user=user, query=track.id))
    room_id = running.bots[-1].client.channels.room_of(fake.world.text_channel_id)
    assert room_id is not None
    return reply, room_id


async def test_discord_and_the_browser_drive_one_room_and_the_bot_resumes(
    running: Running,
) -> None:
    fake, web = running.fake, running.web
    launched = running.start_bot()
    bot = launched.client
    guild_id, channel_id = fake.world.guild.id, fake.world.text_channel_id
    alice = actor(fake, "alice")

    # -- connect: the sharded client asks for the gateway, identifies, syncs to the guild --------
    identify = await fake.wait_for_frame(IDENTIFY)
    assert identify.d["token"] == TOKEN
    assert identify.d["shard"] == [0, 1]
    assert fake.find("GET", "/gateway/bot")
    put = await fake.wait_for_request("PUT", rf"/applications/\d+/guilds/{guild_id}/commands")
    assert put.status == 200, put.answer
    names = {c["name"] for c in put.body}
    assert names >= DOCUMENTED_COMMANDS, DOCUMENTED_COMMANDS - names
    play_command = next(c for c in put.body if c["name"] == "play")
    assert [(o["name"], o.get("autocomplete")) for o in play_command["options"]] == [
        ("query", True)
    ]
    await launched.connected()
    assert bot.get_guild(guild_id) is not None

    # -- /play with a real library track, picked from autocomplete -------------------------------
    track = next(t for t in web.library.search("", limit=100).items if t.title == "Night Drive")
    choices = await fake.autocomplete("play", "query", "night dri", user="alice")
    assert track.id in [c["value"] for c in choices], choices
    chosen = next(c for c in choices if c["value"] == track.id)
    assert "Night Drive" in chosen["name"]

    reply = await fake.reply(await fake.slash("play", user="alice", query=chosen["value"]))
    assert "Night Drive" in reply["content"] and "Neon Harbour" in reply["content"], reply
    assert not reply["flags"] & EPHEMERAL, "the /play answer is for everyone"
    room_id = bot.channels.room_of(channel_id)
    assert room_id is not None
    room = web.service.get(room_id)
    assert room is not None and room.status.value == "playing"
    assert room.queue.current is not None and room.queue.current.track.track_id == track.id
    assert room.queue.current.added_by == alice

    listener = await Listener(web.url).connect()
    try:
        # -- a browser joins the channel's room through the web server and pauses ----------------
        joined = await listener.join(room_id, "Wendy")
        assert joined["room"]["status"] == "playing"
        assert joined["room"]["queue"]["current"]["track_id"] == track.id
        await listener.ok("control", {"action": "pause"})

        # -- Discord sees it: /resume resumes, and the browser hears it from alice ---------------
        resumed = await fake.reply(await fake.slash("resume", user="alice"))
        assert "resumed" in resumed["content"] and "Night Drive" in resumed["content"], resumed
        await listener.wait_for(
            "playback", lambda d: d["status"] == "playing" and d["by"]["id"] == alice
        )

        # -- the gateway drops: the bot resumes the same session where it left off ---------------
        session = fake.gateway.session
        assert session is not None
        last_seq = session.seq
        reported = len(launched.connection)
        await fake.drop()
        resume = await fake.wait_for_frame(RESUME)
        assert resume.d == {"token": TOKEN, "session_id": session.session_id, "seq": last_seq}
        assert fake.gateway.connections[resume.connection - 1].path == "/resume-gateway"
        await fake.changes.until(
            lambda: (
                True
                if False in launched.connection[reported:] and launched.connection[-1]
                else None
            ),
            wait=10,
            describe=lambda: f"no disconnect then reconnect reported: {launched.connection}",
        )
        assert [f.op for f in fake.gateway.frames].count(IDENTIFY) == 1

        # ... and still answers: /pause from Discord reaches the browser
        answer = await fake.reply(await fake.slash("pause", user="alice"))
        assert "paused" in answer["content"], answer
        await listener.wait_for(
            "playback", lambda d: d["status"] == "paused" and d["by"]["id"] == alice
        )
        room = web.service.get(room_id)
        assert room is not None and room.status.value == "paused"
    finally:
        await listener.close()

    # Nothing the bot sent was refused: no limit broken, every interaction answered in time.
    assert fake.refused() == [], fake.refused()
    assert all(i.callback is not None for i in fake.api.interactions.values())


async def test_the_now_playing_message_follows_the_browser(running: Running) -> None:
    fake, web = running.fake, running.web
    channel_id = fake.world.text_channel_id
    await running.start_bot().connected()
    _, room_id = await play(running, "Night Drive", "alice")

    # -- posted when the track starts: embed, cover art, buttons and the web player link ---------
    posted = await fake.wait_for_message(
        now_playing_in(channel_id), describe="the now-playing message"
    )
    message_id = int(posted["id"])
    embed = posted["embeds"][0]
    assert embed["title"] == "Night Drive" and "Neon Harbour" in embed["description"]
    # PUBLIC_URL is localhost, which Discord cannot fetch from: the cover art goes with the message
    [cover] = posted["attachments"]
    assert cover["content_type"].startswith("image/") and cover["size"] > 0
    assert embed["thumbnail"]["url"] == cover["url"]
    link = next(b for b in buttons(posted) if b.get("url"))
    assert link["url"] == f"{web.settings.base_url}/r/{room_id}"
    assert f"{NOW_PLAYING_PREFIX}pause:{room_id}" in control_ids(posted)

    listener = await Listener(web.url).connect()
    try:
        # -- a pause in the browser edits the message ---------------------------------------------
        await listener.join(room_id, "Wendy")
        await listener.ok("control", {"action": "pause"})
        paused = await fake.wait_for_request(
            "PATCH",
            rf"/channels/{channel_id}/messages/{message_id}",
            lambda r: "Paused" in message_text(r.body or {}),
        )
        assert paused.status == 200, paused.answer
        shown = fake.api.messages[message_id]
        assert f"{NOW_PLAYING_PREFIX}play:{room_id}" in control_ids(shown)
        assert "Paused" in message_text(shown)
        assert shown["attachments"] == posted["attachments"], "the cover stays on an edit"

        # -- its play button resumes the room for the browser --------------------------------------
        press = await fake.press(message_id, f"{NOW_PLAYING_PREFIX}play:{room_id}", user="alice")
        ack = await fake.acknowledged(press)
        assert ack["type"] in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE), ack
        await listener.wait_for(
            "playback",
            lambda d: d["status"] == "playing" and d["by"]["id"] == actor(fake, "alice"),
        )
    finally:
        await listener.close()
    assert fake.refused() == [], fake.refused()


async def test_a_restarted_bot_keeps_its_commands_and_rooms(running: Running) -> None:
    fake, web = running.fake, running.web
    commands = rf"/applications/\d+/guilds/{fake.world.guild.id}/commands"
    first = running.start_bot()
    await first.connected()
    _, room_id = await play(running, "Slow Tide", "dana")
    await first.stop()

    second = running.start_bot()  # a new process's worth of objects on the same DATA_DIR
    await second.connected()
    assert len([f for f in fake.gateway.frames if f.op == IDENTIFY]) == 2
    # The command set is unchanged, so a restart does not spend Discord's daily quota.
    assert [r.status for r in fake.find("PUT", commands)] == [200]
    # The channel is still the same room, and the commands registered before still work.
    assert second.client.channels.room_of(fake.world.text_channel_id) == room_id
    answer = await fake.reply(await fake.slash("pause", user="dana"))
    assert "paused" in answer["content"] and "Slow Tide" in answer["content"], answer
    room = web.service.get(room_id)
    assert room is not None and room.status.value == "paused"
    assert fake.refused() == [], fake.refused()


async def test_now_playing_buttons_work_after_a_restart(running: Running) -> None:
    fake, web = running.fake, running.web
    channel_id = fake.world.text_channel_id
    first = running.start_bot()
    await first.connected()
    _, room_id = await play(running, "Slow Tide", "dana")
    posted = await fake.wait_for_message(
        now_playing_in(channel_id), describe="the now-playing message"
    )
    message_id = int(posted["id"])
    await first.stop()

    await running.start_bot().connected()
    mark = fake.mark()
    press = await fake.press(message_id, f"{NOW_PLAYING_PREFIX}pause:{room_id}", user="dana")
    ack = await fake.acknowledged(press)
    assert ack["type"] in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE), ack
    edited = await fake.wait_for_request(
        "PATCH",
        rf"/channels/{channel_id}/messages/{message_id}",
        lambda r: "Paused" in message_text(r.body or {}),
        after=mark,
    )
    assert edited.status == 200, edited.answer
    room = web.service.get(room_id)
    assert room is not None and room.status.value == "paused"
    assert fake.refused() == [], fake.refused()


async def test_lockstep_run_wires_the_bot_and_health_reports_it(
    fake: FakeDiscord,
    start_web: WebFactory,  # noqa: F811  (the fixture imported above)
) -> None:
    """The entry point's own wiring (lockstep/main.py), not the test's: the bot on the web
    server's service and loop, its connection shown by /health."""
    web = await start_web(discord_token=TOKEN, discord_guild_id=fake.world.guild.id)
    context = web.server.context
    discord_bot = DiscordBot.start(web.settings, web.service, web.catalog, context)
    try:
        await fake.changes.until(
            lambda: True if context.bot_connected else None,
            wait=15,
            describe=lambda: "the entry point's bot never connected",
        )
        async with httpx.AsyncClient(base_url=web.url) as http:
            health = (await http.get("/health")).json()
        assert health["bot"] == {"enabled": True, "connected": True}
        reply = await fake.reply(await fake.slash("rooms", user="bob"))
        assert reply["content"] or reply["embeds"], reply
    finally:
        # What the entry point does on SIGTERM; it takes well under a second when it works.
        await asyncio.wait_for(discord_bot.stop(), 5)
    async with httpx.AsyncClient(base_url=web.url) as http:
        health = (await http.get("/health")).json()
    assert health["bot"] == {"enabled": True, "connected": False}
    assert fake.refused() == [], fake.refused()


async def test_a_refused_token_leaves_the_web_player_running(
    fake: FakeDiscord,
    start_web: WebFactory,  # noqa: F811  (the fixture imported above)
    caplog: pytest.LogCaptureFixture,
) -> None:
    web = await start_web(discord_token="not-" + TOKEN, discord_guild_id=fake.world.guild.id)
    discord_bot = DiscordBot.start(web.settings, web.service, web.catalog, web.server.context)
    await asyncio.wait_for(discord_bot.task, 10)  # gives up by itself, without raising
    await discord_bot.stop()
    assert [r.status for r in fake.find("GET", "/users/@me")] == [401]
    assert not any(f.op == IDENTIFY for f in fake.gateway.frames)
    assert "Discord refused DISCORD_TOKEN" in caplog.text
    async with httpx.AsyncClient(base_url=web.url) as http:
        response = await http.get("/health")
        assert response.status_code == 200
        assert response.json()["bot"] == {"enabled": True, "connected": False}
        assert (await http.get("/rooms")).status_code == 200


async def test_a_bot_that_cannot_reach_discord_at_start_keeps_trying_and_connects(
    fake: FakeDiscord,
    start_web: WebFactory,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server that boots before its network (or with Discord down) still gets its bot once
    Discord can be reached, without a restart."""
    web = await start_web(discord_token=TOKEN, discord_guild_id=fake.world.guild.id)
    context = web.server.context
    with socket.socket() as sock:  # a port nothing listens on: connecting fails, as offline
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{closed}/api/v10")
    discord_bot = DiscordBot.start(web.settings, web.service, web.catalog, context, retry_after=0.2)
    try:
        await fake.changes.until(
            lambda: True if caplog.text.count("cannot reach Discord") >= 2 else None,
            wait=10,
            describe=lambda: "the bot never said it could not reach Discord",
        )
        assert not discord_bot.task.done()  # still trying, and the web player serves
        async with httpx.AsyncClient(base_url=web.url) as http:
            assert (await http.get("/rooms")).status_code == 200
        fake.patch(monkeypatch)  # Discord is reachable again
        await fake.changes.until(
            lambda: True if context.bot_connected else None,
            wait=15,
            describe=lambda: "the bot never connected once Discord was reachable",
        )
        reply = await fake.reply(await fake.slash("rooms", user="bob"))
        assert reply["content"] or reply["embeds"], reply
    finally:
        await asyncio.wait_for(discord_bot.stop(), 5)
    assert "Traceback" not in caplog.text
    assert fake.refused() == [], fake.refused()
