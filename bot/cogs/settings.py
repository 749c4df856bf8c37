"""/dj (the server's DJ role) and /policy (who may control this channel's room), for members with
Manage Server."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from shared.core import ControlMode, Policy, SetPolicy

from ..client import LockstepBot
from ..permissions import check_manager, policy_text
from ..replies import send

Interaction = discord.Interaction[LockstepBot]


def describe_policy(policy: Policy) -> str:
    return (
        f"Control: **{policy_text(policy.control)}** · listeners can queue: "
        f"**{'yes' if policy.listeners_can_queue else 'no'}** · autoplay: "
        f"**{'on' if policy.autoplay else 'off'}** · queue limit: **{policy.max_queue}**"
    )


class Settings(commands.Cog):
    dj = app_commands.Group(
        name="dj",
        description="The DJ role: who controls rooms in DJ mode",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: LockstepBot) -> None:
        self.bot = bot
        self.service = bot.context.service

    @dj.command(name="role", description="Members with this role control every room")
    @app_commands.describe(role="The DJ role")
    async def dj_role(self, interaction: Interaction, role: discord.Role) -> None:
        check_manager(interaction)
        assert interaction.guild_id is not None  # guild_only
        await self.bot.set_dj_role(interaction.guild_id, role.id)
        await send(
            interaction,
            f"🎛️ Members with {role.mention} are DJs now: in rooms set to DJ mode "
            "(/policy control:djs) they control playback and the queue.",
        )

    @dj.command(name="clear", description="Stop treating any role as DJs")
    async def dj_clear(self, interaction: Interaction) -> None:
        check_manager(interaction)
        assert interaction.guild_id is not None
        await self.bot.set_dj_role(interaction.guild_id, None)
        await send(
            interaction,
            "No DJ role any more: in DJ mode only members with Manage Server control rooms.",
        )

    @app_commands.command(name="policy", description="Who may control this channel's room")
    @app_commands.describe(
        control="everyone, or djs (the DJ role and Manage Server)",
        listeners_can_queue="In DJ mode, may everyone else still add tracks?",
        autoplay="Start playing when a track is queued into a silent room",
        max_queue="Most upcoming tracks the queue holds",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def policy(
        self,
        interaction: Interaction,
        control: Literal["everyone", "djs"] | None = None,
        listeners_can_queue: bool | None = None,
        autoplay: bool | None = None,
        max_queue: app_commands.Range[int, 1, 10_000] | None = None,
    ) -> None:
        actor = check_manager(interaction)
        room_id = await self.bot.room_for(interaction)
        old = self.service.require(room_id).policy
        new = Policy(
            control=ControlMode(control) if control is not None else old.control,
            listeners_can_queue=(
                old.listeners_can_queue if listeners_can_queue is None else listeners_can_queue
            ),
            autoplay=old.autoplay if autoplay is None else autoplay,
            max_queue=old.max_queue if max_queue is None else max_queue,
        )
        if new == old:
            await send(interaction, f"⚙️ This room's settings: {describe_policy(old)}")
            return
        room, _ = await self.service.apply(room_id, SetPolicy(by=actor, policy=new))
        await send(interaction, f"⚙️ Room settings changed: {describe_policy(room.policy)}")


async def setup(bot: LockstepBot) -> None:
    await bot.add_cog(Settings(bot))
