"""/nowplaying and the now-playing message's buttons.

The message itself is kept up to date by `bot.nowplaying.NowPlayingFollower`, started with the
extension; this cog posts it on request and turns button presses into room commands, with the
same permission checks and rate limit as the slash commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from shared.core import Command, Pause, Play, Previous, Skip, Status

from ..errors import Refusal
from ..nowplaying import COG_NAME, ControlButton, MessageStore, NowPlayingFollower, Renderer
from ..permissions import check_control
from ..replies import defer

if TYPE_CHECKING:
    from ..client import LockstepBot

STORE_FILE = "nowplaying.db"


class NowPlaying(commands.Cog, name=COG_NAME):
    def __init__(self, bot: LockstepBot) -> None:
        self.bot = bot
        context = bot.context
        self.store = MessageStore(context.settings.data_dir / STORE_FILE)
        self.renderer = Renderer(
            context.catalog, context.settings.base_url, context.tokens, context.service.now
        )
        self.follower = NowPlayingFollower(
            bot, context.service, self.renderer, self.store, bot.channels.channel_of
        )

    async def cog_load(self) -> None:
        await self.store.open()
        await self.follower.start()

    async def cog_unload(self) -> None:
        await self.follower.stop()
        await self.store.close()

    @app_commands.command(
        name="nowplaying",
        description="Post what this channel's room is playing, with buttons, at the bottom",
    )
    @app_commands.guild_only()
    async def nowplaying(self, interaction: discord.Interaction[LockstepBot]) -> None:
        await defer(interaction, ephemeral=True)
        room_id = await self.bot.room_for(interaction)
        message = await self.follower.repost(room_id)
        if message is None:
            raise Refusal(
                "I could not post in this channel. Give me View Channel, Send Messages, "
                "Embed Links and Attach Files here, then try /nowplaying again."
            )
        await interaction.followup.send(
            f"Posted the now-playing message: {message.jump_url}", ephemeral=True
        )

    async def press(self, interaction: discord.Interaction[Any], action: str, room_id: str) -> None:
        """A button on a now-playing message (see `bot.nowplaying.view`)."""
        try:
            self.bot.check_rate(interaction)
            service = self.bot.context.service
            room = service.get(room_id)
            if room is None:
                raise Refusal("This room is closed. Use /nowplaying for the channel's room.")
            entry = room.queue.current if action == "skip" else None
            actor = await check_control(self.bot, interaction, room_id, entry)
            # Acknowledged without a new message: the now-playing message itself shows the change.
            await interaction.response.defer()
            command: Command | None
            if action == "pause":
                command = Pause(by=actor) if room.status is Status.PLAYING else None
            elif action == "play":
                command = Play(by=actor) if room.status is not Status.PLAYING else None
            elif action == "previous":
                command = Previous(by=actor)
            else:
                command = Skip(by=actor)
            if command is None:
                # The room got there first (the message was a moment behind): just catch up.
                self.follower.request_refresh(room_id)
                return
            await service.apply(room_id, command)
        except Exception as error:  # no tree handler for components: answer here, ephemerally
            await self.bot.report(interaction, error)


async def setup(bot: LockstepBot) -> None:
    # Dynamic items are matched by custom_id pattern, so buttons on messages posted before a
    # restart keep working once this runs (from setup_hook).
    bot.add_dynamic_items(ControlButton)
    await bot.add_cog(NowPlaying(bot))
