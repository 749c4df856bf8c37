"""/queue (paged, with who added what), /remove, /move, /shuffle, /repeat, /clear."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from shared.core import Clear, Move, QueueEntry, Remove, RepeatMode, Room, SetRepeat

from ..client import LockstepBot
from ..errors import Refusal
from ..format import CHOICE_MAX, queue_page, shorten, track_label
from ..permissions import check_control
from ..replies import send
from .playback import label

Interaction = discord.Interaction[LockstepBot]

PAGER_TIMEOUT = 600.0  # seconds the page buttons keep working


def queue_embed(bot: LockstepBot, room: Room, page: int) -> tuple[discord.Embed, int, int]:
    shown = queue_page(room, page, bot.context.service.now())
    embed = discord.Embed(title=f"Queue · {room.name}", description=shown.text)
    embed.set_footer(text=f"Page {shown.page + 1}/{shown.pages} · {shown.upcoming} up next")
    return embed, shown.page, shown.pages


class QueuePager(discord.ui.View):
    """◀ / ▶ through the queue's pages; each press shows the queue as it is now."""

    def __init__(self, bot: LockstepBot, room_id: str, page: int, pages: int) -> None:
        super().__init__(timeout=PAGER_TIMEOUT)
        self.bot, self.room_id, self.page = bot, room_id, page
        self._enable(pages)

    def _enable(self, pages: int) -> None:
        self.back.disabled = self.page <= 0
        self.forward.disabled = self.page >= pages - 1

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        self.bot.check_rate(interaction)
        return True

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[QueuePager]
    ) -> None:
        await self.bot.report(interaction, error)

    async def _show(self, interaction: Interaction, page: int) -> None:
        room = self.bot.context.service.require(self.room_id)
        embed, self.page, pages = queue_embed(self.bot, room, page)
        self._enable(pages)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary)
    async def back(self, interaction: Interaction, button: discord.ui.Button[QueuePager]) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary)
    async def forward(
        self, interaction: Interaction, button: discord.ui.Button[QueuePager]
    ) -> None:
        await self._show(interaction, self.page + 1)


def find_entry(room: Room, ref: str) -> QueueEntry:
    """An entry by its number in /queue (1 = next up) or its id (what autocomplete sends)."""
    ref = ref.strip()
    upcoming = room.queue.upcoming
    if ref.isdigit():
        number = int(ref)
        if 1 <= number <= len(upcoming):
            return upcoming[number - 1]
        raise Refusal(
            f"There is no number {number} in the queue (it has {len(upcoming)} up next): "
            "see /queue."
        )
    current = room.queue.current
    for entry in (*([current] if current else []), *upcoming):
        if entry.id == ref:
            return entry
    raise Refusal("That track is not in the queue any more: see /queue and pick a number.")


class QueueCog(commands.Cog, name="Queue"):
    def __init__(self, bot: LockstepBot) -> None:
        self.bot = bot
        self.service = bot.context.service

    @app_commands.command(name="queue", description="Show the queue and who added what")
    @app_commands.describe(page="Page to start on")
    @app_commands.guild_only()
    async def queue(
        self, interaction: Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        room_id = await self.bot.room_for(interaction)
        room = self.service.require(room_id)
        embed, shown, pages = queue_embed(self.bot, room, page - 1)
        if pages == 1:
            await send(interaction, embed=embed)
            return
        await send(interaction, embed=embed, view=QueuePager(self.bot, room_id, shown, pages))

    async def entry_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        room_id = self.bot.channels.room_of(interaction.channel_id or 0)
        room = self.service.get(room_id) if room_id else None
        if room is None:
            return []
        needle = current.strip().lower()
        choices = []
        for number, entry in enumerate(room.queue.upcoming, 1):
            text = track_label(entry.track.title or entry.track.track_id, entry.track.artist)
            head, tail = f"{number}. ", f" (added by {entry.added_by_name})"
            if needle and needle not in (head + text + tail).lower():
                continue
            name = head + shorten(text, CHOICE_MAX - len(head) - len(tail)) + tail
            choices.append(app_commands.Choice(name=name, value=str(number)))
            if len(choices) == 25:
                break
        return choices

    @app_commands.command(name="remove", description="Remove a track from the queue")
    @app_commands.describe(track="Its number in /queue (1 = next up)")
    @app_commands.guild_only()
    async def remove(self, interaction: Interaction, track: app_commands.Range[str, 1, 40]) -> None:
        room_id = await self.bot.room_for(interaction)
        entry = find_entry(self.service.require(room_id), track)
        actor = await check_control(self.bot, interaction, room_id, entry=entry)
        await self.service.apply(room_id, Remove(by=actor, entry_id=entry.id))
        await send(interaction, f"🗑️ Removed {label(entry)} from the queue.")

    @app_commands.command(name="move", description="Move a queued track to another place")
    @app_commands.describe(track="Its number in /queue (1 = next up)", to="Its new number")
    @app_commands.guild_only()
    async def move(
        self,
        interaction: Interaction,
        track: app_commands.Range[str, 1, 40],
        to: app_commands.Range[int, 1, 10_000],
    ) -> None:
        room_id = await self.bot.room_for(interaction)
        room = self.service.require(room_id)
        entry = find_entry(room, track)
        actor = await check_control(self.bot, interaction, room_id)
        target = min(to, len(room.queue.upcoming))
        await self.service.apply(room_id, Move(by=actor, entry_id=entry.id, to=target - 1))
        await send(interaction, f"↕️ Moved {label(entry)} to number {target} in the queue.")

    remove.autocomplete("track")(entry_choices)
    move.autocomplete("track")(entry_choices)

    @app_commands.command(name="shuffle", description="Shuffle the upcoming tracks")
    @app_commands.guild_only()
    async def shuffle(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        room, _ = await self.service.shuffle(room_id, actor)
        count = len(room.queue.upcoming)
        await send(interaction, f"🔀 Shuffled {count} upcoming track{'s' * (count != 1)}.")

    @app_commands.command(name="repeat", description="Repeat nothing, this track, or the queue")
    @app_commands.describe(mode="off, one (this track) or all (the whole queue)")
    @app_commands.guild_only()
    async def repeat(self, interaction: Interaction, mode: Literal["off", "one", "all"]) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        await self.service.apply(room_id, SetRepeat(by=actor, mode=RepeatMode(mode)))
        text = {"off": "off", "one": "this track", "all": "the whole queue"}[mode]
        await send(interaction, f"🔁 Repeat: {text}.")

    @app_commands.command(name="clear", description="Remove every upcoming track")
    @app_commands.guild_only()
    async def clear(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        actor = await check_control(self.bot, interaction, room_id)
        before = len(self.service.require(room_id).queue.upcoming)
        await self.service.apply(room_id, Clear(by=actor))
        await send(interaction, f"🧹 Cleared {before} upcoming track{'s' * (before != 1)}.")


async def setup(bot: LockstepBot) -> None:
    await bot.add_cog(QueueCog(bot))
