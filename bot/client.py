"""LockstepBot: the discord.py client. Dependencies come in through the constructor; async set-up
(the bot's store, the channel map, the extensions, command sync) happens in `setup_hook`, as in
discord.py's examples/advanced_startup.py."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from shared.core import DomainError

from .channels import ChannelRooms
from .context import BotContext
from .errors import Refusal, SlowDown, explain
from .replies import ACK_DEADLINE, acknowledge_in_time, send_error
from .store import BotStore
from .throttle import UserThrottle

log = logging.getLogger("lockstep.bot")

# Loaded in this order by setup_hook; a module that is not there (yet) is skipped with a warning.
EXTENSIONS = [
    "bot.cogs.playback",
    "bot.cogs.queue",
    "bot.cogs.rooms",
    "bot.cogs.settings",
    "bot.cogs.nowplaying",
    "bot.cogs.voice",
]


class LockstepTree(app_commands.CommandTree["LockstepBot"]):
    """The command tree: one gate (server channels only, per-user rate limit) and one error
    handler for every command."""

    async def interaction_check(self, interaction: discord.Interaction[LockstepBot]) -> bool:
        if interaction.type is discord.InteractionType.autocomplete:
            return True  # cheap, and Discord already paces it; it cannot carry a refusal
        if interaction.guild_id is None:
            raise Refusal("Lockstep's commands work in a server's text channels, not in DMs.")
        self.client.check_rate(interaction)
        acknowledge_in_time(interaction, self.client.ack_deadline)
        return True

    async def on_error(
        self, interaction: discord.Interaction[LockstepBot], error: app_commands.AppCommandError
    ) -> None:
        await self.client.report(interaction, error)


class LockstepBot(commands.AutoShardedBot):
    def __init__(self, context: BotContext, **kwargs: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.voice_states = True  # /join needs to see which voice channel the caller is in
        options: dict[str, Any] = {
            "command_prefix": commands.when_mentioned,
            "intents": intents,
            "help_command": None,
            "tree_cls": LockstepTree,
            # Titles and names are user data: never let them ping anyone.
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        options.update(kwargs)
        super().__init__(**options)
        self.context = context
        settings = context.settings
        self.store = BotStore(settings.discord_db)
        self.channels = ChannelRooms(
            self.store, context.service, private=settings.discord_private_rooms
        )
        self.throttle = UserThrottle(settings.discord_rate_limit)
        self.loaded_extensions: list[str] = []
        self.synced: bool | None = None  # whether setup_hook synced commands (None: not yet)
        self._dj_roles: dict[int, int] = {}
        self._closing: asyncio.Future[None] | None = None
        # Commands still unanswered after this many seconds are deferred (Discord allows 3).
        self.ack_deadline = ACK_DEADLINE

    # -- set-up ------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        await self.store.open()
        await self.channels.load()
        self._dj_roles = await self.store.dj_roles()
        for name in EXTENSIONS:
            if importlib.util.find_spec(name) is None:
                log.warning("extension %s is not installed; its commands are missing", name)
                continue
            await self.load_extension(name)
            self.loaded_extensions.append(name)
        self.synced = await self.sync_commands()

    def sync_target(self) -> discord.Object | None:
        guild_id = self.context.settings.discord_guild_id
        return discord.Object(id=guild_id) if guild_id else None

    def command_payload(self) -> list[dict[str, Any]]:
        """The command set as Discord receives it on sync."""
        guild = self.sync_target()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        commands_ = self.tree.get_commands(guild=guild)
        return sorted((c.to_dict(self.tree) for c in commands_), key=lambda d: str(d["name"]))

    async def sync_commands(self) -> bool:
        """Sync to DISCORD_GUILD_ID (instant) or globally, only when the command set changed since
        the last sync, so restarts never use up Discord's daily command-creation limit."""
        guild = self.sync_target()
        payload = self.command_payload()
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        target = f"{self.application_id}:" + (f"guild:{guild.id}" if guild else "global")
        if await self.store.synced_hash(target) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return False
        try:
            await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error("syncing slash commands failed (%s); will retry at the next start", exc)
            return False
        await self.store.set_synced_hash(target, digest)
        where = f"server {guild.id}" if guild else "every server (global; may take a while)"
        log.info("synced %d slash command(s) to %s", len(payload), where)
        return True

    async def close(self) -> None:
        """Idempotent, and safe to call from several tasks at once (the entry point's shutdown
        and the task running `start` both do): everything is closed exactly once."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_once())
        await asyncio.shield(self._closing)

    async def _close_once(self) -> None:
        try:
            await super().close()
        finally:
            await self.store.close()
            self.context.on_connection(False)

    # -- connection state, for /health -------------------------------------------------------
    async def on_ready(self) -> None:
        self.context.on_connection(True)
        user = self.user
        log.info("connected to Discord as %s in %d server(s)", user, len(self.guilds))

    async def on_resumed(self) -> None:
        self.context.on_connection(True)

    async def on_disconnect(self) -> None:
        self.context.on_connection(False)

    async def on_shard_ready(self, shard_id: int) -> None:
        self.context.on_connection(True)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.context.on_connection(True)

    # -- channels going away -----------------------------------------------------------------
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.channels.forget(channel.id)

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.channels.forget(payload.thread_id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        for channel_id, _ in list(self.channels.mapped().items()):
            if self.channels.guild_of(channel_id) == guild.id:
                await self.channels.forget(channel_id)

    # -- what cogs and views share -----------------------------------------------------------
    def dj_role(self, guild_id: int) -> int | None:
        return self._dj_roles.get(guild_id)

    async def set_dj_role(self, guild_id: int, role_id: int | None) -> None:
        await self.store.set_dj_role(guild_id, role_id)
        if role_id is None:
            self._dj_roles.pop(guild_id, None)
        else:
            self._dj_roles[guild_id] = role_id

    async def room_for(self, interaction: discord.Interaction[Any]) -> str:
        """The room of the channel (or thread) the interaction came from, created on first use."""
        channel = interaction.channel
        if interaction.guild_id is None or not isinstance(
            channel, discord.abc.GuildChannel | discord.Thread
        ):
            raise Refusal("Use this in a server's text channel or thread.")
        return await self.channels.room_for(channel)

    def check_rate(self, interaction: discord.Interaction[Any]) -> None:
        """Raise SlowDown when the user has sent too many commands or button presses."""
        retry = self.throttle.hit(interaction.user.id)
        if retry is not None:
            raise SlowDown(retry)

    async def report(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """Tell the user, ephemerally, why their command or button did nothing."""
        await send_error(interaction, describe(error, interaction))


def describe(error: BaseException, interaction: discord.Interaction[Any] | None = None) -> str:
    """The user-facing text for any error a command or view raised."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, DomainError):
        return explain(error)
    if isinstance(error, Refusal):
        return error.message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.1f} s."
    if isinstance(error, app_commands.MissingPermissions):
        return "Only members with the Manage Server permission can use this command."
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value here; pick one from the list."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    where = interaction.command.qualified_name if interaction and interaction.command else "?"
    log.error("/%s failed", where, exc_info=error)
    return "Something went wrong on Lockstep's side and nothing changed. Please try again."
