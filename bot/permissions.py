"""Who may control a room from Discord, following the room's policy.

Members with Manage Server are admins everywhere (`Actor.admin`). Holders of the server's DJ role
(set with /dj) may control every room of the server, so the bot passes them to the core as
admins too. Everyone else gets what the room's policy gives a listener: everything with the
`everyone` policy; with `djs`, queueing (when listeners may queue) and skipping or removing the
tracks they added themselves.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from shared.core import Actor, ControlMode, QueueEntry

from .errors import Refusal

if TYPE_CHECKING:
    from .client import LockstepBot

NAME_MAX = 32
HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def user_id(user: discord.abc.User) -> str:
    return f"discord:{user.id}"


def display_name(user: discord.abc.User) -> str:
    """The member's name as the core accepts it (1-32 printable characters)."""
    for candidate in (user.display_name, user.name):
        cleaned = " ".join(
            "".join(ch for ch in candidate if unicodedata.category(ch) not in HIDDEN).split()
        )[:NAME_MAX].strip()
        if cleaned:
            return cleaned
    return "Discord user"


def is_manager(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server (or Administrator) in this server."""
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    return perms.manage_guild or perms.administrator


def actor_for(interaction: discord.Interaction[Any]) -> Actor:
    """The user as the core sees them; `admin` when they have Manage Server."""
    user = interaction.user
    return Actor(user_id(user), display_name(user), admin=is_manager(interaction))


def has_dj_role(bot: LockstepBot, interaction: discord.Interaction[Any]) -> bool:
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return False
    role = bot.dj_role(interaction.guild_id)
    # Member._roles holds the role ids the interaction carried; Member.roles would drop any role
    # the guild cache does not know yet.
    return role is not None and interaction.user._roles.has(role)


def controller(bot: LockstepBot, interaction: discord.Interaction[Any]) -> Actor:
    """The actor with everything Discord grants them: DJ role holders act as admins."""
    actor = actor_for(interaction)
    if not actor.admin and has_dj_role(bot, interaction):
        actor = replace(actor, admin=True)
    return actor


def _refusal(bot: LockstepBot, interaction: discord.Interaction[Any], what: str) -> Refusal:
    role = bot.dj_role(interaction.guild_id) if interaction.guild_id else None
    who = f"the <@&{role}> role" if role else "a DJ role (an admin can set one with /dj)"
    return Refusal(
        f"This room is in DJ mode: only members with {who} or Manage Server can {what}. "
        "You can still skip or remove tracks you added yourself."
    )


async def check_control(
    bot: LockstepBot,
    interaction: discord.Interaction[Any],
    room_id: str,
    entry: QueueEntry | None = None,
) -> Actor:
    """Raise `Refusal` unless the user may control the room (or, given `entry`, act on that entry
    as the one who added it). Returns the Actor to send the command as."""
    actor = controller(bot, interaction)
    room = bot.context.service.require(room_id)
    if room.can_control(actor):
        return actor
    if entry is not None and entry.added_by == actor.id:
        return actor
    raise _refusal(bot, interaction, "control playback and the queue")


async def check_queue(
    bot: LockstepBot, interaction: discord.Interaction[Any], room_id: str
) -> Actor:
    """Raise `Refusal` unless the user may add tracks to the room."""
    actor = controller(bot, interaction)
    room = bot.context.service.require(room_id)
    if room.can_control(actor) or room.policy.listeners_can_queue:
        return actor
    raise _refusal(bot, interaction, "add tracks")


def check_manager(interaction: discord.Interaction[Any]) -> Actor:
    """Raise `Refusal` unless the user has Manage Server."""
    if not is_manager(interaction):
        raise Refusal("Only members with the Manage Server permission can change this.")
    return actor_for(interaction)


def policy_text(control: ControlMode) -> str:
    return "everyone" if control is ControlMode.EVERYONE else "DJs only"
