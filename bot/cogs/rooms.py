"""/rooms (what is playing where) and /listen (the web player link for the channel's room)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from shared.core import Room, Status
from shared.tokens import player_url

from ..client import LockstepBot
from ..format import safe, shorten
from ..replies import send
from .playback import label

Interaction = discord.Interaction[LockstepBot]

ROOMS_SHOWN = 15
DESCRIPTION_MAX = 4096  # Discord's limit on an embed's description


def listen_url(bot: LockstepBot, room: Room) -> str:
    """The web player link; a private room's carries an invite the web server accepts."""
    invite = bot.context.tokens.invite(room.id) if room.private else None
    return player_url(bot.context.settings.base_url, room.id, invite)


def listen_view(bot: LockstepBot, room: Room) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Open the web player", url=listen_url(bot, room)))
    return view


def listeners(count: int) -> str:
    return f"{count} listening" if count else "nobody listening yet"


class Rooms(commands.Cog):
    def __init__(self, bot: LockstepBot) -> None:
        self.bot = bot
        self.service = bot.context.service

    @app_commands.command(name="rooms", description="Active rooms, their listeners and what plays")
    @app_commands.guild_only()
    async def rooms(self, interaction: Interaction) -> None:
        # Public rooms, and this server's own channel rooms even when they are private.
        ours = set(self.bot.channels.rooms_in(interaction.guild_id or 0))
        rooms = [r for r in self.service.rooms() if not r.private or r.id in ours]
        active = [r for r in rooms if r.members or r.status is not Status.IDLE or r.id in ours]
        active.sort(key=lambda r: (-len(r.members), r.status is Status.IDLE, r.name))
        if not active:
            await send(
                interaction,
                "No rooms are active. Start one here with /play, or open one with /listen.",
            )
            return
        lines: list[str] = []
        size = 0
        for room in active[:ROOMS_SHOWN]:
            playing = (
                f"▶️ {label(room.queue.current)}"
                if room.status is Status.PLAYING
                else f"⏸️ {label(room.queue.current)}"
                if room.status is Status.PAUSED
                else "silent"
            )
            channel = self.bot.channels.channel_of(room.id)
            where = f" (<#{channel}>)" if channel and room.id in ours else ""
            name = safe(shorten(room.name, 64))
            line = (
                f"**{name}**{where} · {listeners(len(room.members))} · {playing} · "
                f"[open]({listen_url(self.bot, room)})"
            )
            if size + len(line) + 1 > DESCRIPTION_MAX - 40:  # room for the "…and N more" line
                break
            lines.append(line)
            size += len(line) + 1
        more = len(active) - len(lines)
        if more > 0:
            lines.append(f"…and {more} more.")
        embed = discord.Embed(title="Rooms", description="\n".join(lines))
        await send(interaction, embed=embed)

    @app_commands.command(name="listen", description="Get the web player link for this channel")
    @app_commands.guild_only()
    async def listen(self, interaction: Interaction) -> None:
        room_id = await self.bot.room_for(interaction)
        room = self.service.require(room_id)
        await send(
            interaction,
            f"🎧 Listen along in your browser: **{safe(room.name)}** "
            f"({listeners(len(room.members))}).",
            view=listen_view(self.bot, room),
        )


async def setup(bot: LockstepBot) -> None:
    await bot.add_cog(Rooms(bot))
