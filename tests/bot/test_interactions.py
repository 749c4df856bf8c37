"""Slash commands and buttons through real `discord.Interaction` objects built from interaction
payloads, against a real RoomService on SQLite and the recording fake of Discord's HTTP side.
Each test asserts what a Discord user would see (replies, deferrals, ephemeral flags, embeds,
buttons) and the room state the command left."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from bot_harness import BotFactory, Harness
from discord_http import (
    ADMIN,
    ANA,
    BO,
    CHANNEL_ID,
    DJ_ROLE_ID,
    GUILD_ID,
    Call,
    Member,
    channel,
    option,
    press,
    slash,
)

from shared.core import Actor, ControlMode, RepeatMode, Status
from shared.tokens import Tokens

ROOM = f"dc-{GUILD_ID}-{CHANNEL_ID}"
CHANNEL = 0  # channel message response
DEFERRED = 5
UPDATE = 7


def only_reply(calls: list[Call]) -> Call:
    """The one interaction response a command made (asserting there was exactly one)."""
    (call,) = calls
    assert call.path.endswith("/callback"), call
    return call


def refusal(calls: list[Call]) -> str:
    """An ephemeral error, however the command got there; returns its text."""
    last = calls[-1]
    assert last.ephemeral, f"not ephemeral: {last}"
    if last.path.endswith("/callback"):
        assert last.json["type"] == 4
        assert len(calls) == 1
    return last.content


async def play(harness: Harness, title: str, member: Member = ANA) -> list[Call]:
    return await harness.run(slash("play", option("query", harness.track(title).id), member=member))


# -- /play ---------------------------------------------------------------------------------------
async def test_play_defers_then_says_what_plays_and_the_room_plays(harness: Harness) -> None:
    calls = await play(harness, "Morning Light")
    defer, edit = calls
    assert defer.path.endswith("/callback")
    assert defer.json["type"] == DEFERRED and not defer.ephemeral
    assert edit.method == "PATCH" and edit.path.endswith("/messages/@original")
    assert "Now playing **Morning Light — The Quiet Hours**" in edit.content
    room = harness.room(ROOM)
    assert room.name == "#party"
    assert room.keep
    assert room.status is Status.PLAYING
    assert room.queue.current.track.title == "Morning Light"
    assert room.queue.current.added_by == f"discord:{ANA.user_id}"
    assert room.queue.current.added_by_name == "Ana"

    calls = await play(harness, "Night Drive", member=BO)
    assert "Queued **Night Drive — Neon Harbour** (0:35) at position 1 in the queue" in (
        calls[-1].content
    )
    calls = await play(harness, "Slow Tide", member=BO)
    assert "at position 2 in the queue" in calls[-1].content
    assert [e.track.title for e in harness.room(ROOM).queue.upcoming] == [
        "Night Drive",
        "Slow Tide",
    ]


async def test_play_free_text_takes_the_best_match(harness: Harness) -> None:
    calls = await harness.run(slash("play", option("query", "paper orchestra")))
    assert "Paper Kites" in calls[-1].content
    assert harness.room(ROOM).queue.current.track.title == "Paper Kites"


async def test_play_free_text_that_matches_nothing_says_so_privately(harness: Harness) -> None:
    calls = await harness.run(slash("play", option("query", "zzz no such song")))
    defer, delete, followup = calls
    assert defer.json["type"] == DEFERRED
    # The public "thinking…" message goes away and only the user sees why.
    assert delete.method == "DELETE" and delete.path.endswith("/messages/@original")
    assert followup.method == "POST" and followup.ephemeral
    assert "Nothing in the library matches “zzz no such song”" in followup.content
    assert harness.room(ROOM).queue.entries == ()


async def test_user_text_in_replies_is_escaped(harness: Harness) -> None:
    calls = await harness.run(slash("play", option("query", "**@everyone** zzz")))
    assert "\\*\\*@\u200beveryone\\*\\*" in calls[-1].content


# -- transport -----------------------------------------------------------------------------------
async def test_pause_resume_seek_skip_previous_stop(harness: Harness) -> None:
    await play(harness, "Morning Light")
    await play(harness, "Night Drive")
    reply = only_reply(await harness.run(slash("pause")))
    assert reply.json["type"] == 4 and not reply.ephemeral
    assert reply.content.startswith("⏸️ Ana paused **Morning Light")
    assert harness.room(ROOM).status is Status.PAUSED

    again = await harness.run(slash("pause"))
    assert refusal(again).startswith("Already paused.")

    reply = only_reply(await harness.run(slash("seek", option("position", "0:20"))))
    assert "to 0:20" in reply.content
    assert harness.room(ROOM).clock.position == 20.0
    await harness.run(slash("seek", option("position", "-5")))
    assert harness.room(ROOM).clock.position == 15.0

    reply = only_reply(await harness.run(slash("resume")))
    assert "resumed" in reply.content
    assert harness.room(ROOM).status is Status.PLAYING

    reply = only_reply(await harness.run(slash("skip", member=BO)))
    assert "Bo skipped **Morning Light" in reply.content
    assert "Now playing: **Night Drive" in reply.content
    assert harness.room(ROOM).queue.current.track.title == "Night Drive"

    reply = only_reply(await harness.run(slash("previous")))
    assert "went back to **Morning Light" in reply.content

    reply = only_reply(await harness.run(slash("stop")))
    assert "stopped" in reply.content
    assert harness.room(ROOM).status is Status.IDLE


async def test_bad_seek_input_is_refused_and_changes_nothing(harness: Harness) -> None:
    await play(harness, "Morning Light")
    version = harness.room(ROOM).version
    for text in ("abc", "1:75", "10:00:00:00"):
        calls = await harness.run(slash("seek", option("position", text), member=BO))
        assert "83" in refusal(calls) or "59" in refusal(calls)
    assert harness.room(ROOM).version == version


async def test_controls_with_nothing_playing_say_what_to_do(harness: Harness) -> None:
    for command in ("pause", "skip", "stop"):
        text = refusal(await harness.run(slash(command)))
        assert "nothing is playing" in text and "/play" in text
    text = refusal(await harness.run(slash("resume")))
    assert "queue is empty" in text and "/play" in text
    text = refusal(await harness.run(slash("seek", option("position", "10"))))
    assert "nothing is playing" in text


# -- permissions ---------------------------------------------------------------------------------
async def dj_mode(harness: Harness) -> None:
    reply = only_reply(await harness.run(slash("policy", option("control", "djs"), member=ADMIN)))
    assert "DJs only" in reply.content
    assert harness.room(ROOM).policy.control is ControlMode.DJS


async def test_djs_policy_refuses_listeners_but_not_their_own_tracks(harness: Harness) -> None:
    await play(harness, "Morning Light", member=ANA)
    await play(harness, "Night Drive", member=BO)
    await dj_mode(harness)
    version = harness.room(ROOM).version

    text = refusal(await harness.run(slash("pause", member=BO)))
    assert "DJ mode" in text and "/dj" in text
    text = refusal(await harness.run(slash("skip", member=BO)))  # Ana's track
    assert "tracks you added yourself" in text
    refusal(await harness.run(slash("remove", option("track", "1"), member=ANA)))  # Bo's
    assert harness.room(ROOM).version == version

    # Listeners may still queue, and skip or remove what they added themselves.
    await play(harness, "Slow Tide", member=BO)
    reply = only_reply(await harness.run(slash("remove", option("track", "2"), member=BO)))
    assert "Removed **Slow Tide" in reply.content
    reply = only_reply(await harness.run(slash("skip", member=ANA)))  # her own track
    assert "skipped **Morning Light" in reply.content

    # Manage Server controls everything.
    reply = only_reply(await harness.run(slash("pause", member=ADMIN)))
    assert "paused" in reply.content


async def test_the_dj_role_controls_rooms_in_dj_mode(harness: Harness) -> None:
    await play(harness, "Morning Light", member=ANA)
    await dj_mode(harness)
    dj = Member(BO.user_id, "Bo", roles=[DJ_ROLE_ID])
    refusal(await harness.run(slash("pause", member=dj)))  # no DJ role set yet

    refusal(
        await harness.run(
            slash(
                "role",
                option("role", str(DJ_ROLE_ID), 8),
                group="dj",
                resolved=role_resolved(),
                member=ANA,
            )
        )
    )
    reply = only_reply(
        await harness.run(
            slash(
                "role",
                option("role", str(DJ_ROLE_ID), 8),
                group="dj",
                resolved=role_resolved(),
                member=ADMIN,
            )
        )
    )
    assert f"<@&{DJ_ROLE_ID}>" in reply.content
    assert reply.json["data"]["allowed_mentions"] == {"parse": []}  # shown, never pinged

    reply = only_reply(await harness.run(slash("pause", member=dj)))
    assert "Bo paused" in reply.content
    refusal(await harness.run(slash("resume", member=BO)))  # Bo without the role

    only_reply(await harness.run(slash("clear", group="dj", member=ADMIN)))
    refusal(await harness.run(slash("resume", member=dj)))


def role_resolved() -> dict[str, Any]:
    role = {
        "id": str(DJ_ROLE_ID),
        "name": "DJ",
        "color": 0,
        "hoist": False,
        "position": 1,
        "permissions": "0",
        "managed": False,
        "mentionable": True,
        "flags": 0,
    }
    return {"roles": {str(DJ_ROLE_ID): role}}


async def test_settings_need_manage_server(harness: Harness) -> None:
    await harness.run(slash("listen"))
    text = refusal(await harness.run(slash("policy", option("control", "djs"), member=ANA)))
    assert "Manage Server" in text
    assert harness.room(ROOM).policy.control is ControlMode.EVERYONE
    reply = only_reply(await harness.run(slash("policy", member=ADMIN)))
    assert "Control: **everyone**" in reply.content
    reply = only_reply(
        await harness.run(
            slash("policy", option("max_queue", 3, 4), option("autoplay", False, 5), member=ADMIN)
        )
    )
    policy = harness.room(ROOM).policy
    assert (policy.max_queue, policy.autoplay) == (3, False)


# -- the queue -----------------------------------------------------------------------------------
async def test_queue_pages_with_buttons_and_who_added_what(start_bot: BotFactory) -> None:
    harness = await start_bot(discord_rate_limit="1000/second")
    tracks = harness.tracks()
    for i, track in enumerate(tracks[:16]):
        member = ANA if i % 2 == 0 else BO
        await harness.run(slash("play", option("query", track.id), member=member))
    reply = only_reply(await harness.run(slash("queue")))
    (embed,) = reply.embeds
    assert embed["title"] == "Queue · #party"
    assert "Now playing" in embed["description"]
    assert "`1.`" in embed["description"] and "`10.`" in embed["description"]
    assert "`11.`" not in embed["description"]
    assert "added by Ana" in embed["description"] and "added by Bo" in embed["description"]
    assert embed["footer"]["text"] == "Page 1/2 · 15 up next"
    back, forward = reply.buttons
    assert back["disabled"] and not forward.get("disabled", False)

    calls = await harness.run(press(forward["custom_id"], reply.posted))
    update = only_reply(calls)
    assert update.json["type"] == UPDATE
    (embed,) = update.embeds
    assert "`11.`" in embed["description"] and "`15.`" in embed["description"]
    assert embed["footer"]["text"] == "Page 2/2 · 15 up next"
    back, forward = update.buttons
    assert not back.get("disabled", False) and forward["disabled"]


async def test_queue_editing_commands(start_bot: BotFactory) -> None:
    harness = await start_bot(discord_rate_limit="1000/second")
    for title in ("Morning Light", "Night Drive", "Slow Tide", "Paper Kites", "Marathon 00"):
        await play(harness, title)

    def upcoming() -> list[str]:
        return [e.track.title[:11] for e in harness.room(ROOM).queue.upcoming]

    assert upcoming() == ["Night Drive", "Slow Tide", "Paper Kites", "Marathon 00"]
    reply = only_reply(await harness.run(slash("move", option("track", "3"), option("to", 1, 4))))
    assert "Moved **Paper Kites" in reply.content and "number 1" in reply.content
    assert upcoming() == ["Paper Kites", "Night Drive", "Slow Tide", "Marathon 00"]

    reply = only_reply(await harness.run(slash("remove", option("track", "2"))))
    assert "Removed **Night Drive" in reply.content
    assert upcoming() == ["Paper Kites", "Slow Tide", "Marathon 00"]
    text = refusal(await harness.run(slash("remove", option("track", "9"))))
    assert "no number 9" in text and "/queue" in text

    reply = only_reply(await harness.run(slash("repeat", option("mode", "one"))))
    assert "this track" in reply.content
    assert harness.room(ROOM).queue.repeat is RepeatMode.ONE

    reply = only_reply(await harness.run(slash("shuffle")))
    assert "Shuffled 3 upcoming tracks" in reply.content
    assert sorted(upcoming()) == ["Marathon 00", "Paper Kites", "Slow Tide"]

    reply = only_reply(await harness.run(slash("clear")))
    assert "Cleared 3 upcoming tracks" in reply.content
    assert upcoming() == []
    assert harness.room(ROOM).queue.current.track.title == "Morning Light"  # plays on


# -- rooms and links -----------------------------------------------------------------------------
async def test_listen_posts_a_link_button_to_the_web_player(harness: Harness) -> None:
    reply = only_reply(await harness.run(slash("listen")))
    assert not reply.ephemeral
    (button,) = reply.buttons
    assert button["style"] == 5  # link
    assert button["url"] == f"https://party.example.org/r/{ROOM}"
    assert "#party" in reply.content


async def test_private_channel_rooms_get_signed_invites(start_bot: BotFactory) -> None:
    harness = await start_bot(discord_private_rooms=True)
    reply = only_reply(await harness.run(slash("listen")))
    (button,) = reply.buttons
    room_id = harness.bot.channels.room_of(CHANNEL_ID)
    assert room_id is not None and room_id != ROOM  # unguessable, not made from the ids
    assert harness.room(room_id).private
    prefix = f"https://party.example.org/r/{room_id}?invite="
    assert button["url"].startswith(prefix)
    # The web server's own token check accepts it (same key, same salt).
    assert Tokens("test-secret").invites_to(button["url"].removeprefix(prefix), room_id)


async def test_rooms_lists_active_rooms_with_listeners_and_now_playing(harness: Harness) -> None:
    await play(harness, "Morning Light")
    other = channel(CHANNEL_ID + 1, "quiet-corner")
    await harness.run(slash("listen", channel_data=other))
    reply = only_reply(await harness.run(slash("rooms")))
    (embed,) = reply.embeds
    lines = embed["description"].splitlines()
    assert lines[0].startswith(f"**\\#party** (<#{CHANNEL_ID}>) · nobody listening yet · ▶️")
    assert "Morning Light" in lines[0]
    assert f"(https://party.example.org/r/{ROOM})" in lines[0]
    assert "quiet-corner" in lines[1] and "silent" in lines[1]


# -- the gate ------------------------------------------------------------------------------------
async def test_commands_in_dms_are_refused(harness: Harness) -> None:
    text = refusal(await harness.run(slash("pause", member=None)))
    assert "server" in text


async def test_too_many_commands_get_a_slow_down(start_bot: BotFactory) -> None:
    harness = await start_bot(discord_rate_limit="5/5 seconds")
    for _ in range(5):
        only_reply(await harness.run(slash("listen", member=BO)))
    text = refusal(await harness.run(slash("listen", member=BO)))
    assert text.startswith("Slow down: try again in")
    only_reply(await harness.run(slash("listen", member=ANA)))  # others are not affected


async def test_a_thread_is_its_own_room(harness: Harness) -> None:
    thread = {
        **channel(CHANNEL_ID + 7, "after-party"),
        "type": 11,
        "parent_id": str(CHANNEL_ID),
        "owner_id": str(ANA.user_id),
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 60,
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": False,
        },
        "message_count": 0,
        "member_count": 1,
    }
    calls = await harness.run(
        slash("play", option("query", harness.track("Slow Tide").id), channel_data=thread)
    )
    assert "Now playing **Slow Tide" in calls[-1].content
    room = harness.room(f"dc-{GUILD_ID}-{CHANNEL_ID + 7}")
    assert room.name == "#after-party"
    assert harness.service.get(ROOM) is None


# -- restarts ------------------------------------------------------------------------------------
async def test_channel_rooms_survive_restarts_and_the_empty_room_sweep(
    start_bot: BotFactory,
) -> None:
    first = await start_bot(room_empty_grace=0)
    await play(first, "Morning Light")
    await first.run(slash("pause"))
    assert await first.service.close_expired() == []  # kept although nobody listens
    await first.stop()

    second = await start_bot(room_empty_grace=0)
    assert second.bot.channels.room_of(CHANNEL_ID) == ROOM
    room = second.room(ROOM)
    assert room.status is Status.PAUSED
    assert room.queue.current.track.title == "Morning Light"
    reply = only_reply(await second.run(slash("resume")))
    assert "resumed: **Morning Light" in reply.content


async def test_commands_sync_once_until_they_change(start_bot: BotFactory) -> None:
    first = await start_bot(discord_guild_id=GUILD_ID)
    assert first.bot.synced is True
    (put,) = first.recorder.to("/commands", "PUT")
    assert put.url.endswith(f"/guilds/{GUILD_ID}/commands")
    assert {c["name"] for c in put.json} >= {"play", "queue", "dj"}
    await first.stop()

    second = await start_bot(discord_guild_id=GUILD_ID)
    assert second.bot.synced is False
    assert second.recorder.to("/commands", "PUT") == []
    await second.stop()

    third = await start_bot()  # no guild: global commands are a different target
    assert third.bot.synced is True
    (put,) = third.recorder.to("/commands", "PUT")
    assert "/guilds/" not in put.url


async def test_a_failed_sync_is_tried_again_later(start_bot: BotFactory) -> None:
    harness = await start_bot()
    bot = harness.bot
    target = f"{bot.application_id}:global"
    await bot.store.set_synced_hash(target, "an older command set")
    harness.recorder.clear()
    harness.http.fail_sync = True
    assert await bot.sync_commands() is False  # Discord failed: logged, start-up goes on
    assert len(harness.recorder.to("/commands", "PUT")) == 1
    assert await bot.store.synced_hash(target) == "an older command set"  # not marked done
    harness.http.fail_sync = False
    assert await bot.sync_commands() is True
    assert await bot.sync_commands() is False
    assert len(harness.recorder.to("/commands", "PUT")) == 2


async def test_a_deleted_channels_room_is_no_longer_kept(start_bot: BotFactory) -> None:
    harness = await start_bot(room_empty_grace=0)
    await play(harness, "Morning Light")
    assert await harness.service.close_expired() == []
    before = asyncio.all_tasks()
    harness.bot.dispatch("guild_channel_delete", discord.Object(id=CHANNEL_ID))
    await asyncio.gather(*(asyncio.all_tasks() - before))
    assert harness.bot.channels.room_of(CHANNEL_ID) is None
    assert await harness.service.close_expired() == [ROOM]
    # The channel's next command (were it to come back) gets a fresh room.
    await harness.run(slash("listen"))
    assert harness.room(ROOM).queue.entries == ()


async def test_first_commands_at_once_make_one_private_room(start_bot: BotFactory) -> None:
    harness = await start_bot(discord_private_rooms=True, discord_rate_limit="1000/second")
    await asyncio.gather(*(harness.run(slash("listen", member=m)) for m in (ANA, BO, ADMIN)))
    room_id = harness.bot.channels.room_of(CHANNEL_ID)
    assert [r.id for r in harness.service.rooms()] == [room_id]


async def test_rooms_stays_within_discords_embed_limit(harness: Harness) -> None:
    tracks = [t for t in harness.tracks() if t.title.startswith("Marathon")]
    for i, track in enumerate(tracks[:20]):
        room_id = f"web-{i}"
        await harness.service.open_room(room_id, f"{i:02d} A *very* long *web* room" + "_*" * 18)
        await harness.service.enqueue(room_id, Actor(f"web:{i}", "Wendy"), [track.id])
    reply = only_reply(await harness.run(slash("rooms")))
    (embed,) = reply.embeds
    assert len(embed["description"]) <= 4096
    assert embed["description"].endswith("more.")
    assert "A \\*very\\* long \\*web\\* room" in embed["description"]


async def test_a_command_waiting_on_a_busy_room_is_deferred_in_time(harness: Harness) -> None:
    await play(harness, "Morning Light")
    harness.bot.ack_deadline = 0.05  # instead of 2 s, to keep the test short
    lock = harness.service._lock(ROOM)  # the room is busy: another change holds its lock
    await lock.acquire()
    asyncio.get_running_loop().call_later(0.3, lock.release)
    defer, edit = await harness.run(slash("pause"))
    assert defer.path.endswith("/callback") and defer.json["type"] == DEFERRED
    assert edit.method == "PATCH" and "Ana paused **Morning Light" in edit.content
    assert harness.room(ROOM).status is Status.PAUSED

    await lock.acquire()  # and a refusal after the safety deferral is still private
    asyncio.get_running_loop().call_later(0.3, lock.release)
    defer, delete, followup = await harness.run(slash("pause"))
    assert defer.json["type"] == DEFERRED and delete.method == "DELETE"
    assert followup.ephemeral and followup.content.startswith("Already paused.")


async def test_quick_commands_are_answered_without_a_deferral(harness: Harness) -> None:
    harness.bot.ack_deadline = 0.5  # far more than a pause takes, even on a busy machine
    await play(harness, "Morning Light")
    calls = await harness.run(slash("pause"))
    await asyncio.sleep(0.6)  # past the safety net's deadline: it must not answer again
    assert only_reply(calls).json["type"] == 4
    assert [c for c in harness.recorder.calls if c.path.endswith("/callback")][-1] is calls[0]


async def test_in_dj_mode_listeners_queue_only_when_the_room_allows(harness: Harness) -> None:
    await play(harness, "Morning Light", member=ANA)
    await harness.run(
        slash(
            "policy",
            option("control", "djs"),
            option("listeners_can_queue", False, 5),
            member=ADMIN,
        )
    )
    text = refusal(await play(harness, "Night Drive", member=BO))
    assert "add tracks" in text
    assert len(harness.room(ROOM).queue.entries) == 1
    await harness.run(slash("policy", option("listeners_can_queue", True, 5), member=ADMIN))
    assert "Queued **Night Drive" in (await play(harness, "Night Drive", member=BO))[-1].content
