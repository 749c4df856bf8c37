"""The now-playing message against a real room service, a real web server and the real discord.py
client, talking to the fake Discord (tests/discord_fake) over loopback: every post, edit and
button press goes through discord.py's HTTP client and gateway as it would in production."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import pytest

from bot.client import LockstepBot
from bot.cogs.nowplaying import NowPlaying
from bot.context import BotContext
from shared.core import Actor, ControlMode, Pause, Play, PlaybackChanged, SetPolicy, Skip, Status
from shared.service import Notice
from tests.discord_fake import TOKEN, FakeDiscord, Request
from tests.web.conftest import Web, WebFactory, start_web  # noqa: F401  (the fixture)
from tests.web.sio import Listener

WEB_ANA = Actor("web:ana", "Ana")
MESSAGES = r"/channels/(\d+)/messages"
A_MESSAGE = r"/channels/(\d+)/messages/(\d+)"


@dataclass
class Channel:
    """What the channel map needs of a text channel: the fake guild's one text channel."""

    id: int
    name: str
    guild: Any


@dataclass
class Guild:
    id: int


@dataclass
class Party:
    web: Web
    fake: FakeDiscord
    bot: LockstepBot
    room_id: str
    channel_id: int

    @property
    def cog(self) -> NowPlaying:
        # load_extension runs the module afresh, so its class is not the one imported here.
        cog = self.bot.get_cog("NowPlaying")
        assert type(cog).__qualname__ == NowPlaying.__qualname__
        return cast(NowPlaying, cog)

    async def queue_and_play(self) -> Request:
        """Queue three tracks (autoplay starts the first); the message it posts."""
        await self.web.service.enqueue(self.room_id, WEB_ANA, self.web.track_ids()[:3])
        post = await self.fake.wait_for_request("POST", MESSAGES)
        await eventually(lambda: self.room_id in self.cog.follower.posted)
        return post

    def posts(self, after: int = 0) -> list[Request]:
        return self.fake.find("POST", f"/channels/{self.channel_id}/messages", after=after)

    def edits(self, after: int = 0) -> list[Request]:
        return self.fake.find("PATCH", f"/channels/{self.channel_id}/messages/\\d+", after=after)


async def eventually(condition: Callable[[], bool], wait: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    server.patch(monkeypatch)
    yield server
    await server.stop()


BotFactory = Callable[[Web], Awaitable[LockstepBot]]


@pytest.fixture
async def run_bot(fake: FakeDiscord) -> AsyncIterator[BotFactory]:
    running: list[tuple[LockstepBot, asyncio.Task[None]]] = []

    async def start(web: Web) -> LockstepBot:
        bot = LockstepBot(BotContext.build(web.settings, web.service, web.catalog))
        await bot.login(TOKEN)  # runs setup_hook: extensions, dynamic items, command sync
        task = asyncio.create_task(bot.connect(reconnect=False))
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        running.append((bot, task))
        return bot

    yield start
    for bot, task in reversed(running):
        await stop_bot(bot, task)


async def stop_bot(bot: LockstepBot, task: asyncio.Task[None] | None = None) -> None:
    if not bot.is_closed():
        await bot.close()
    if task is not None:
        with contextlib.suppress(Exception):
            await task


@pytest.fixture
async def party(start_web: WebFactory, fake: FakeDiscord, run_bot: BotFactory) -> Party:  # noqa: F811
    web = await start_web()
    bot = await run_bot(web)
    channel_id = fake.world.text_channel_id
    room_id = await bot.channels.room_for(
        Channel(channel_id, "listening", Guild(fake.world.guild.id))
    )
    return Party(web, fake, bot, room_id, channel_id)


def embed(request: Request) -> dict[str, Any]:
    embeds: list[dict[str, Any]] = request.body["embeds"]
    assert len(embeds) == 1
    return embeds[0]


def custom_ids(request: Request) -> list[str]:
    return [
        item["custom_id"]
        for row in request.body["components"]
        for item in row["components"]
        if "custom_id" in item
    ]


async def test_a_track_starting_posts_the_message_with_cover_and_buttons(party: Party) -> None:
    post = await party.queue_and_play()
    assert post.status == 200
    shown = embed(post)
    room = party.web.service.require(party.room_id)
    current = room.queue.current
    assert current is not None
    assert shown["title"] == current.track.title
    assert shown["author"]["name"] == "Playing in #listening"
    assert "Lockstep Demo Tracks" in shown["description"]  # the album, from the library
    assert shown["url"] == f"{party.web.settings.base_url}/r/{party.room_id}"
    # PUBLIC_URL is localhost here, which Discord cannot fetch: the cover travels with the message.
    assert shown["thumbnail"]["url"].startswith("attachment://cover.")
    assert [a["filename"] for a in post.body["attachments"]] == ["cover.png"]
    assert custom_ids(post) == [
        f"lockstep:np:previous:{party.room_id}",
        f"lockstep:np:pause:{party.room_id}",
        f"lockstep:np:skip:{party.room_id}",
    ]
    assert post.body["allowed_mentions"] == {"parse": []}
    assert party.fake.refused() == []


async def test_a_burst_of_pauses_and_resumes_costs_a_couple_of_edits(party: Party) -> None:
    await party.queue_and_play()
    mark = party.fake.mark()
    service = party.web.service
    for i in range(20):  # within a second
        await service.apply(party.room_id, Pause(by=WEB_ANA) if i % 2 == 0 else Play(by=WEB_ANA))
        await asyncio.sleep(0.04)
    final = service.require(party.room_id).status
    assert final is Status.PLAYING  # 20 alternations end on a resume

    # The trailing edit comes one interval (3 s) after the first; wait for it, then a bit more.
    await party.fake.wait_for_request(
        "PATCH",
        A_MESSAGE,
        lambda r: embed(r)["author"]["name"].startswith("Playing"),
        after=mark,
        wait=8,
    )
    await asyncio.sleep(1.0)
    edits = party.edits(after=mark)
    assert 1 <= len(edits) <= 2, edits
    assert embed(edits[-1])["author"]["name"] == "Playing in #listening"
    assert custom_ids(edits[-1])[1].startswith("lockstep:np:pause:")
    assert party.posts(after=mark) == []  # edited in place, never re-posted
    assert party.fake.refused() == []


async def test_a_pause_in_the_browser_edits_the_message(party: Party) -> None:
    post = await party.queue_and_play()
    message_id = int(post.answer["id"])
    listener = await Listener(party.web.url).connect()
    try:
        await listener.join(party.room_id, "Browser Bo")
        await asyncio.sleep(0.1)
        mark = party.fake.mark()
        await listener.ok("control", {"action": "pause"})
        edit = await party.fake.wait_for_request(
            "PATCH",
            A_MESSAGE,
            lambda r: embed(r)["author"]["name"].startswith("Paused"),
            after=mark,
            wait=8,
        )
    finally:
        await listener.close()
    assert edit.path == f"/channels/{party.channel_id}/messages/{message_id}"
    assert "Paused at" in embed(edit)["description"]
    assert custom_ids(edit)[1] == f"lockstep:np:play:{party.room_id}"


async def test_after_a_restart_the_same_message_is_edited(
    party: Party, run_bot: BotFactory
) -> None:
    post = await party.queue_and_play()
    message_id = int(post.answer["id"])
    await stop_bot(party.bot)

    again = await run_bot(party.web)  # a new process would read the same DATA_DIR files
    assert again.channels.channel_of(party.room_id) == party.channel_id
    mark = party.fake.mark()
    await party.web.service.apply(party.room_id, Pause(by=WEB_ANA))
    edit = await party.fake.wait_for_request("PATCH", A_MESSAGE, after=mark, wait=8)
    assert edit.path.endswith(f"/{message_id}")
    assert party.posts(after=mark) == []
    assert (Path(party.web.settings.data_dir) / "nowplaying.db").is_file()


async def test_a_button_press_controls_the_room_and_is_acknowledged(party: Party) -> None:
    post = await party.queue_and_play()
    heard: list[Notice] = []
    party.web.service.subscribe(heard.append)
    bob = party.fake.world.users["bob"]
    press = await party.fake.press(
        int(post.answer["id"]), f"lockstep:np:pause:{party.room_id}", user="bob"
    )
    callback = await party.fake.acknowledged(press)
    assert callback["type"] == 6  # deferred update: no new message
    assert press.callback_after is not None and press.callback_after < 3.0
    await eventually(lambda: party.web.service.require(party.room_id).status is Status.PAUSED)
    paused = [n for n in heard if isinstance(n, PlaybackChanged) and n.action == "pause"]
    assert [n.by for n in paused] == [f"discord:{bob['id']}"]  # as the person who pressed
    # ...and the message follows (the first change after a quiet spell is edited at once).
    edit = await party.fake.wait_for_request(
        "PATCH", A_MESSAGE, lambda r: embed(r)["author"]["name"].startswith("Paused"), wait=8
    )
    assert edit.path.endswith(post.answer["id"])


async def test_buttons_keep_working_after_a_restart(party: Party, run_bot: BotFactory) -> None:
    post = await party.queue_and_play()
    await stop_bot(party.bot)
    again = await run_bot(party.web)
    assert again is not party.bot
    press = await party.fake.press(
        int(post.answer["id"]), f"lockstep:np:skip:{party.room_id}", user="alice"
    )
    assert (await party.fake.acknowledged(press))["type"] == 6
    # On the second track now: the press reached the new process through the old message.
    await eventually(lambda: party.web.service.require(party.room_id).queue.cursor == 1)


async def test_in_dj_mode_a_listener_is_refused_ephemerally(party: Party) -> None:
    post = await party.queue_and_play()
    room = party.web.service.require(party.room_id)
    await party.web.service.apply(
        party.room_id,
        SetPolicy(
            by=Actor("discord:0", "Admin", admin=True),
            policy=replace(room.policy, control=ControlMode.DJS),
        ),
    )
    press = await party.fake.press(
        int(post.answer["id"]), f"lockstep:np:pause:{party.room_id}", user="bob"
    )
    callback = await party.fake.acknowledged(press)
    assert callback["type"] == 4 and callback["data"]["flags"] & 64  # an ephemeral message
    assert "DJ" in callback["data"]["content"]
    assert party.web.service.require(party.room_id).status is Status.PLAYING  # nothing changed
    # Once the server has a DJ role, its holders may.
    await party.bot.set_dj_role(party.fake.world.guild.id, party.fake.world.dj_role_id)
    dana = await party.fake.press(
        int(post.answer["id"]), f"lockstep:np:pause:{party.room_id}", user="dana"
    )
    assert (await party.fake.acknowledged(dana))["type"] == 6
    await eventually(lambda: party.web.service.require(party.room_id).status is Status.PAUSED)


async def test_slash_nowplaying_reposts_at_the_bottom(party: Party) -> None:
    post = await party.queue_and_play()
    old_id = int(post.answer["id"])
    mark = party.fake.mark()
    command = await party.fake.slash("nowplaying", user="bob")
    callback = await party.fake.acknowledged(command)
    assert callback["type"] == 5 and callback["data"]["flags"] & 64  # deferred, ephemeral
    reply = await party.fake.reply(command)
    new = party.posts(after=mark)
    assert len(new) == 1
    new_id = int(new[0].answer["id"])
    assert new_id > old_id
    assert f"/{new_id}" in reply["content"]  # a jump link to it
    await party.fake.wait_for_request("DELETE", f"/channels/\\d+/messages/{old_id}", after=mark)
    await eventually(lambda: party.cog.follower.posted[party.room_id].message_id == new_id)


async def test_a_new_track_edits_in_place_or_reposts_when_buried(party: Party) -> None:
    post = await party.queue_and_play()
    first = int(post.answer["id"])
    service = party.web.service
    mark = party.fake.mark()
    await service.apply(party.room_id, Skip(by=WEB_ANA))
    second = service.require(party.room_id).queue.current
    assert second is not None
    edit = await party.fake.wait_for_request(
        "PATCH", A_MESSAGE, lambda r: embed(r)["title"] == second.track.title, after=mark, wait=8
    )
    assert edit.path.endswith(f"/{first}")
    assert "attachments" in edit.body  # the new track's cover replaces the old one

    # Someone talks in the channel; the next track goes to the bottom.
    await party.fake.slash("listen", user="bob")
    await party.fake.wait_for_request("POST", r"/interactions/\d+/[^/]+/callback", after=mark)
    await asyncio.sleep(3.2)  # past the message's edit interval
    mark = party.fake.mark()
    await service.apply(party.room_id, Skip(by=WEB_ANA))
    third = service.require(party.room_id).queue.current
    assert third is not None
    repost = await party.fake.wait_for_request(
        "POST", MESSAGES, lambda r: embed(r)["title"] == third.track.title, after=mark, wait=8
    )
    await party.fake.wait_for_request("DELETE", f"/channels/\\d+/messages/{first}", after=mark)
    new_id = int(repost.answer["id"])
    await eventually(lambda: party.cog.follower.posted[party.room_id].message_id == new_id)


async def test_a_deleted_message_is_posted_again(party: Party) -> None:
    post = await party.queue_and_play()
    first = int(post.answer["id"])
    await party.fake.api._delete(first)  # a moderator deletes it
    mark = party.fake.mark()
    await party.web.service.apply(party.room_id, Pause(by=WEB_ANA))
    again = await party.fake.wait_for_request("POST", MESSAGES, after=mark, wait=8)
    assert embed(again)["author"]["name"].startswith("Paused")
    new_id = int(again.answer["id"])
    await eventually(lambda: party.cog.follower.posted[party.room_id].message_id == new_id)


async def test_a_channel_the_bot_cannot_post_in_is_not_retried_on_every_change(
    party: Party,
) -> None:
    gone = party.fake.ids.next()  # a channel Discord does not know (deleted, or no access)
    room_id = await party.bot.channels.room_for(
        Channel(gone, "gone", Guild(party.fake.world.guild.id))
    )
    await party.web.service.enqueue(room_id, WEB_ANA, party.web.track_ids()[:2])
    refused = await party.fake.wait_for_request("POST", f"/channels/{gone}/messages")
    assert refused.status == 404
    for command in (Pause(by=WEB_ANA), Play(by=WEB_ANA), Skip(by=WEB_ANA)):
        await asyncio.sleep(0.1)
        await party.web.service.apply(room_id, command)
    await asyncio.sleep(0.5)
    assert len(party.fake.find("POST", f"/channels/{gone}/messages")) == 1
    # The other channel's room is unaffected.
    await party.queue_and_play()
