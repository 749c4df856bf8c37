"""/play (with library autocomplete), /pause, /resume, /seek, /skip, /previous, /stop."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from shared.core import Pause, Play, Previous, QueueChanged, QueueEntry, Room, Seek, Status, Stop
from shared.core import Skip as SkipCommand
from shared.library import Track

from ..client import LockstepBot
from ..errors import Refusal
from ..format import CHOICE_MAX, choice_name, duration, parse_position, safe, shorten, track_label
from ..permissions import check_control, check_queue
from ..replies import defer, send

log = logging.getLogger("lockstep.bot")

AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices

Interaction = discord.Interaction[LockstepBot]


def label(entry: QueueEntry | None) -> str:
    if entry is None:
        return "nothing"
    track = entry.track
    return f"**{safe(shorten(track_label(track.title or track.track_id, track.artist), 90))}**"


def now_line(room: Room) -> str:
    current = room.queue.current
    if room.status is Status.IDLE or current is None:
        return "Nothing is playing now."
    state = "Paused" if room.status is Status.PAUSED else "Now playing"
    return f"{state}: {label(current)}."


class Playback(commands.Cog):
    def __init__(self, bot: LockstepBot) -> None:
        self.bot = bot
        self.service = bot.context.service
        self.library = bot.context.catalog.library

    # -- /play -------------------------------------------------------------------------------
    @app_commands.command(name="play", description="Queue a track from the library (or start it)")
    @app_commands.describe(query="Title, artist or album: pick a suggestion or type words")
    @app_commands.guild_only()
    async def play(self, interaction: Interaction, query: app_commands.Range[str, 1, 200]) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_queue(self.bot, interaction, room_id)
        await defer(interaction)  # the library lookup runs in a thread; never miss the 3 s
        track = await self.find(query)
        if track is None:
            raise Refusal(
                f"Nothing in the library matches “{safe(shorten(query, 80))}”. "
                "Pick one of the suggestions, or try other words."
            )
        room, events = await self.service.enqueue(room_id, actor, [track.id])
        added = next(
            (e.entries[0] for e in events if isinstance(e, QueueChanged) and e.entries), None
        )
        name = f"**{safe(shorten(track_label(track.title, track.artist), 90))}**"
        length = duration(track.duration)
        if added is not None and _same(room.queue.current, added) and room.status is Status.PLAYING:
            await send(interaction, f"▶️ Now playing {name} ({length}).")
            return
        position = next(
            (i for i, e in enumerate(room.queue.upcoming, 1) if added and e.id == added.id), None
        )
        where = f"position {position} in the queue" if position else "the queue"
        await send(interaction, f"🎶 Queued {name} ({length}) at {where}.")

    async def find(self, query: str) -> Track | None:
        """The track an autocomplete choice names (its id), else the best search match."""
        query = query.strip()
        track = await asyncio.to_thread(self.library.get, query)
        if track is not None:
            return track
        page = await asyncio.to_thread(self.library.search, query, 1)
        return page.items[0] if page.items else None

    @play.autocomplete("query")
    async def play_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            page = await asyncio.to_thread(self.library.search, current[:200], AUTOCOMPLETE_LIMIT)
        except ValueError:
            return []
        return [
            app_commands.Choice(
                name=choice_name(t.title, t.artist, t.album, t.duration), value=t.id
            )
            for t in page.items[:AUTOCOMPLETE_LIMIT]
            if len(t.id) <= CHOICE_MAX
        ]

    # -- transport ---------------------------------------------------------------------------
    @app_commands.command(name="pause", description="Pause the room for everyone")
    @app_commands.guild_only()
    async def pause(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        room, _ = await self.service.apply(room_id, Pause(by=actor))
        at = duration(room.clock.position)
        await send(interaction, f"⏸️ {safe(actor.name)} paused {label(room.queue.current)} at {at}.")

    @app_commands.command(name="resume", description="Resume playback (or start the queue)")
    @app_commands.guild_only()
    async def resume(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        room, _ = await self.service.apply(room_id, Play(by=actor))
        await send(interaction, f"▶️ {safe(actor.name)} resumed: {label(room.queue.current)}.")

    @app_commands.command(name="seek", description="Jump to a position: 83, 1:23, +10 or -10")
    @app_commands.describe(position="Seconds (83), minutes:seconds (1:23), or a jump (+10, -10)")
    @app_commands.guild_only()
    async def seek(
        self, interaction: Interaction, position: app_commands.Range[str, 1, 20]
    ) -> None:
        try:
            seconds, relative = parse_position(position)
        except ValueError as exc:
            raise Refusal(str(exc)) from None
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        room, _ = await self.service.apply(
            room_id, Seek(by=actor, position=seconds, relative=relative)
        )
        at = duration(room.clock.position)
        await send(interaction, f"⏩ {safe(actor.name)} moved {label(room.queue.current)} to {at}.")

    @app_commands.command(name="skip", description="Skip to the next track")
    @app_commands.guild_only()
    async def skip(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        before = self.service.require(room_id).queue.current
        actor = await check_control(self.bot, interaction, room_id, entry=before)
        room, _ = await self.service.apply(room_id, SkipCommand(by=actor))
        await send(interaction, f"⏭️ {safe(actor.name)} skipped {label(before)}. {now_line(room)}")

    @app_commands.command(name="previous", description="Go back a track (or restart this one)")
    @app_commands.guild_only()
    async def previous(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        before = self.service.require(room_id).queue.current
        room, _ = await self.service.apply(room_id, Previous(by=actor))
        current = room.queue.current
        what = "restarted" if _same(current, before) else "went back to"
        await send(interaction, f"⏮️ {safe(actor.name)} {what} {label(current)}.")

    @app_commands.command(name="stop", description="Stop playback (the queue is kept)")
    @app_commands.guild_only()
    async def stop(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        await self.service.apply(room_id, Stop(by=actor))
        await send(
            interaction, f"⏹️ {safe(actor.name)} stopped playback. /resume starts the track again."
        )


async def setup(bot: LockstepBot) -> None:
    await bot.add_cog(Playback(bot))


def _same(a: QueueEntry | None, b: QueueEntry | None) -> bool:
    return a is not None and b is not None and a.id == b.id
