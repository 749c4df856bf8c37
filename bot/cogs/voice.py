"""/join and /leave: the channel's room played in a voice channel, in step with the web player.

Optional: without the `voice` extra (PyNaCl, davey), ffmpeg or libopus, /join says what to
install and changes nothing. Playback follows the room through `bot.audio.VoiceFollower`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..audio import VoiceFollower, VoiceSession, install_hint, voice_missing
from ..errors import Refusal
from ..permissions import check_control
from ..replies import defer, send

if TYPE_CHECKING:
    from ..client import LockstepBot

CONNECT_TIMEOUT = 20.0  # seconds for Discord's voice handshake


class Voice(commands.Cog):
    def __init__(self, bot: LockstepBot) -> None:
        self.bot = bot
        self.follower = VoiceFollower(bot.context.service)
        self.connect_timeout = CONNECT_TIMEOUT

    async def cog_load(self) -> None:
        self.follower.start()

    async def cog_unload(self) -> None:
        await self.follower.stop()
        for guild_id in list(self.follower.sessions):
            await self._disconnect(guild_id)

    @app_commands.command(
        name="join", description="Play this channel's room in your voice channel, in step"
    )
    @app_commands.guild_only()
    async def join(self, interaction: discord.Interaction[LockstepBot]) -> None:
        missing = voice_missing()
        if missing:
            raise Refusal(install_hint(missing))
        member = interaction.user
        voice = member.voice if isinstance(member, discord.Member) else None
        target = voice.channel if voice is not None else None
        guild = interaction.guild
        if target is None or guild is None:
            raise Refusal("Join a voice channel first, then use /join.")
        room_id = await self.bot.room_for(interaction)
        await check_control(self.bot, interaction, room_id)
        await defer(interaction)  # connecting to voice can take longer than Discord's 3 s
        client = guild.voice_client
        if isinstance(client, discord.VoiceClient) and client.is_connected():
            if client.channel != target:
                await client.move_to(target)
        else:
            try:
                client = await target.connect(timeout=self.connect_timeout, self_deaf=True)
            except (TimeoutError, discord.ClientException) as exc:
                raise Refusal(
                    f"I could not connect to {target.mention} ({exc or 'no answer in time'}). "
                    "Check that I may View Channel, Connect and Speak there, then try again."
                ) from exc
        service = self.bot.context.service
        library = self.bot.context.catalog.library
        session = VoiceSession(client, room_id, service, library.path_of)
        self.follower.sessions[guild.id] = session
        cue = await session.sync()
        room = service.require(room_id)
        state = "Playing" if cue.track_id else "Joined (nothing is playing yet)"
        await send(
            interaction,
            f"{state}: {discord.utils.escape_markdown(room.name)} in {target.mention}, in step "
            "with the web player. /leave to stop.",
        )

    @app_commands.command(name="leave", description="Stop playing in the voice channel")
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction[LockstepBot]) -> None:
        guild = interaction.guild
        session = self.follower.sessions.get(guild.id) if guild else None
        if guild is None or (session is None and guild.voice_client is None):
            raise Refusal("I am not in a voice channel in this server.")
        if session is not None:
            await check_control(self.bot, interaction, session.room_id)
        await self._disconnect(guild.id)
        await interaction.response.send_message("Left the voice channel.")

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        """Disconnected from voice by someone else (kicked, channel deleted): stop following."""
        me = self.bot.user
        if me is not None and member.id == me.id and after.channel is None:
            self.follower.sessions.pop(member.guild.id, None)

    async def _disconnect(self, guild_id: int) -> None:
        self.follower.sessions.pop(guild_id, None)
        guild = self.bot.get_guild(guild_id)
        client = guild.voice_client if guild is not None else None
        if client is not None:
            await client.disconnect(force=True)


async def setup(bot: LockstepBot) -> None:
    await bot.add_cog(Voice(bot))
