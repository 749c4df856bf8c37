"""The fake Discord against a plain discord.py client: if these pass, discord.py itself accepts
what the fake sends (gateway frames, REST answers) and the fake sees what discord.py does."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from .gateway import HEARTBEAT, IDENTIFY, RESUME
from .interactions import (
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    UPDATE_MESSAGE,
)
from .server import TOKEN, FakeDiscord

PNG = bytes.fromhex("89504e470d0a1a0a") + b"not really a picture"


class EchoClient(discord.Client):
    """A minimal bot: /echo replies, /slow defers then edits, /long is refused by Discord's
    limits, /panel posts a message with a button that counts presses."""

    def __init__(self, client_class_kwargs: dict[str, Any]) -> None:
        super().__init__(intents=discord.Intents.default(), **client_class_kwargs)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.failures: list[BaseException] = []
        self.presses = 0
        self.release_slow = asyncio.Event()

        @self.tree.command(description="Say it back")
        async def echo(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(f"you said {text}")

        @self.tree.command(description="Think first")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await self.release_slow.wait()
            await interaction.edit_original_response(content="done thinking")

        @self.tree.command(description="Too long for Discord")
        async def long(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x" * 2001)
            except discord.HTTPException as exc:
                self.failures.append(exc)

        @self.tree.command(description="A button")
        async def panel(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("panel", ephemeral=True)
            assert isinstance(interaction.channel, discord.TextChannel)
            await interaction.channel.send("presses: 0", view=self.counter())

        greet = app_commands.Group(name="greet", description="Greetings")

        @greet.command(name="member", description="Greet a member")
        async def greet_member(interaction: discord.Interaction, who: discord.Member) -> None:
            await interaction.response.send_message(f"hello {who.name}")

        self.tree.add_command(greet)

        @self.tree.command(description="A picture")
        async def cover(interaction: discord.Interaction) -> None:
            embed = discord.Embed(title="art").set_thumbnail(url="attachment://cover.png")
            file = discord.File(io.BytesIO(PNG), filename="cover.png")
            await interaction.response.send_message(embed=embed, file=file)

        @self.tree.command(description="Defer publicly, then answer privately")
        async def oops(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("meant for you only", ephemeral=True)

    def counter(self) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label="Press", custom_id="count"
        )

        async def pressed(interaction: discord.Interaction) -> None:
            self.presses += 1
            await interaction.response.edit_message(content=f"presses: {self.presses}")

        button.callback = pressed  # type: ignore[method-assign]
        view.add_item(button)
        return view

    async def setup_hook(self) -> None:
        self.add_view(self.counter())

    async def on_ready(self) -> None:
        self.ready.set()


async def running(fake: FakeDiscord, client: EchoClient) -> asyncio.Task[None]:
    task = asyncio.create_task(client.start(TOKEN))
    ready = asyncio.create_task(client.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped the client
    assert ready in done, "the client never became ready"
    return task


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    yield fake
    await fake.stop()


@pytest.fixture(params=["Client", "AutoShardedClient"])
async def client(fake: FakeDiscord, request: pytest.FixtureRequest) -> AsyncIterator[EchoClient]:
    kind = type("Echo", (EchoClient, getattr(discord, request.param)), {})
    client = kind({"guild_ready_timeout": 0.05})
    task = await running(fake, client)
    guild = discord.Object(fake.world.guild.id)
    client.tree.copy_global_to(guild=guild)
    await client.tree.sync(guild=guild)
    yield client
    await client.close()
    await asyncio.wait_for(task, 10)


async def test_ready_carries_the_guild(fake: FakeDiscord, client: EchoClient) -> None:
    identify = await fake.wait_for_frame(IDENTIFY)
    assert identify.d["token"] == TOKEN
    assert fake.gateway.connections[0].compressed  # discord.py asks for zlib-stream
    await fake.wait_for_frame(HEARTBEAT)  # sent at once after HELLO, and acknowledged:
    await fake.changes.until(
        lambda: True if client.latency < 1 else None, wait=5, describe=lambda: "no ACK"
    )
    assert identify.d["intents"] == discord.Intents.default().value
    guild = client.get_guild(fake.world.guild.id)
    assert guild is not None and guild.name == "Listening Club"
    channel = guild.get_channel(fake.world.text_channel_id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "listening"
    assert guild.member_count == len(fake.world.guild.members)
    assert guild.me is not None and guild.me.id == fake.world.application_id
    assert client.user is not None and client.user.id == fake.world.application_id


async def test_synced_commands_are_recorded(fake: FakeDiscord, client: EchoClient) -> None:
    put = fake.find("PUT", rf"/applications/\d+/guilds/{fake.world.guild.id}/commands")
    assert len(put) == 1 and put[0].status == 200
    names = sorted(c["name"] for c in put[0].body)
    assert names == ["cover", "echo", "greet", "long", "oops", "panel", "slow"]


async def test_slash_command_reply(fake: FakeDiscord, client: EchoClient) -> None:
    interaction = await fake.slash("echo", text="hello")
    reply = await fake.reply(interaction)
    assert interaction.callback is not None
    assert interaction.callback["type"] == CHANNEL_MESSAGE_WITH_SOURCE
    assert reply["content"] == "you said hello"
    assert interaction.callback_after is not None and interaction.callback_after < 3


async def test_deferred_reply_is_filled_in_by_the_edit(
    fake: FakeDiscord, client: EchoClient
) -> None:
    interaction = await fake.slash("slow")
    callback = await fake.acknowledged(interaction)
    assert callback["type"] == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    client.release_slow.set()
    reply = await fake.reply(interaction)
    assert reply["content"] == "done thinking"
    assert fake.find("PATCH", rf"/webhooks/\d+/{interaction.token}/messages/@original")


async def test_limits_are_refused_like_discord(fake: FakeDiscord, client: EchoClient) -> None:
    interaction = await fake.slash("long")
    refused = await fake.wait_for_request("POST", rf"/interactions/{interaction.id}/.+/callback")
    assert refused.status == 400 and refused.answer["code"] == 50035
    assert interaction.callback is None
    assert client.failures and isinstance(client.failures[0], discord.HTTPException)


async def test_late_acknowledgement_is_unknown(fake: FakeDiscord, client: EchoClient) -> None:
    fake.api.ack_window = 0.0  # every acknowledgement is too late
    interaction = await fake.slash("echo", text="late")
    refused = await fake.wait_for_request("POST", rf"/interactions/{interaction.id}/.+/callback")
    assert refused.status == 404 and refused.answer["code"] == 10062


async def test_button_press_edits_its_message(fake: FakeDiscord, client: EchoClient) -> None:
    await fake.reply(await fake.slash("panel"))
    channel = fake.world.text_channel_id
    posted = await fake.wait_for_request("POST", rf"/channels/{channel}/messages")
    message_id = int(posted.answer["id"])
    for expected in ("presses: 1", "presses: 2"):
        press = await fake.press(message_id, "count", user="bob")
        callback = await fake.acknowledged(press)
        assert callback["type"] == UPDATE_MESSAGE
        assert fake.api.messages[message_id]["content"] == expected


async def test_dropped_connection_resumes_and_replays(
    fake: FakeDiscord, client: EchoClient
) -> None:
    session_id = fake.gateway.session.session_id if fake.gateway.session else None
    await fake.reply(await fake.slash("echo", text="before"))
    await fake.drop()
    # Sent while the bot is away: Discord keeps it for the session and replays it on RESUME.
    missed = await fake.slash("echo", text="while away")
    seq_before_missed = fake.gateway.session.seq - 1 if fake.gateway.session else -1
    resume = await fake.wait_for_frame(RESUME)
    assert resume.d["session_id"] == session_id
    assert resume.d["seq"] == seq_before_missed
    assert fake.gateway.connections[resume.connection - 1].path == "/resume-gateway"
    assert (await fake.reply(missed))["content"] == "you said while away"
    after = await fake.slash("echo", text="after")
    assert (await fake.reply(after))["content"] == "you said after"
    assert [f.op for f in fake.gateway.frames].count(IDENTIFY) == 1


async def test_reconnect_request_resumes(fake: FakeDiscord, client: EchoClient) -> None:
    await fake.request_reconnect()
    resume = await fake.wait_for_frame(RESUME)
    assert fake.gateway.session is not None
    assert resume.d["session_id"] == fake.gateway.session.session_id
    assert (await fake.reply(await fake.slash("echo", text="again")))["content"] == "you said again"


async def test_invalid_session_identifies_again(
    fake: FakeDiscord, client: EchoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def at_once(shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py waits 5 s before identifying again; the documented hook to change it

    monkeypatch.setattr(client, "before_identify_hook", at_once)
    first = fake.gateway.session
    await fake.invalidate_session(resumable=False)
    await fake.wait_for_frame(IDENTIFY, lambda f: f.connection == 2)
    assert fake.gateway.session is not None and fake.gateway.session is not first
    assert (await fake.reply(await fake.slash("echo", text="new")))["content"] == "you said new"


async def test_subcommands_and_resolved_members(fake: FakeDiscord, client: EchoClient) -> None:
    bob = int(fake.world.users["bob"]["id"])
    reply = await fake.reply(await fake.slash("greet member", who=bob))
    assert reply["content"] == "hello bob"
    with pytest.raises(KeyError):
        await fake.slash("greet", who=bob)  # Discord's client cannot run a group by itself


async def test_uploads_become_attachments(fake: FakeDiscord, client: EchoClient) -> None:
    reply = await fake.reply(await fake.slash("cover"))
    [picture] = reply["attachments"]
    assert picture["filename"] == "cover.png" and picture["content_type"] == "image/png"
    assert reply["embeds"][0]["thumbnail"]["url"] == picture["url"]


async def test_a_follow_up_fills_a_public_deferral(fake: FakeDiscord, client: EchoClient) -> None:
    """Discord's pitfall: the first follow-up replaces the "thinking" message and keeps its
    visibility, so an "ephemeral" follow-up to a public deferral is shown to everyone."""
    reply = await fake.reply(await fake.slash("oops"))
    assert reply["content"] == "meant for you only"
    assert not reply["flags"] & 64


async def test_voice_states_reach_the_member(fake: FakeDiscord, client: EchoClient) -> None:
    guild = client.get_guild(fake.world.guild.id)
    assert guild is not None
    dana = await guild.fetch_member(int(fake.world.users["dana"]["id"]))
    await fake.join_voice("dana")
    await fake.changes.until(
        lambda: True if dana.voice is not None else None,
        wait=5,
        describe=lambda: "dana never showed up in voice",
    )
    assert dana.voice is not None and dana.voice.channel is not None
    assert dana.voice.channel.id == fake.world.voice_channel_id


async def test_history_pages_like_discord(fake: FakeDiscord, client: EchoClient) -> None:
    channel = client.get_channel(fake.world.text_channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = [await channel.send(f"message {i}") for i in range(5)]
    newest = [m.content async for m in channel.history(limit=3)]
    assert newest == ["message 4", "message 3", "message 2"]
    after = [m.content async for m in channel.history(limit=10, after=sent[1])]
    assert after == ["message 2", "message 3", "message 4"]  # oldest first, as documented
    assert [m.content async for m in channel.history(limit=1, after=sent[4])] == []
