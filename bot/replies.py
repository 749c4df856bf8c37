"""Answering interactions: errors always ephemeral, deferrals that remember how they were made,
and a safety net that defers any command still unanswered close to Discord's 3-second window.

Cogs answer through `send` / `send_error` / `defer` rather than `interaction.response` directly:
they know whether the interaction was deferred (or is being deferred right now) and pick the
request Discord expects."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import discord

ACK_DEADLINE = 2.0  # seconds: Discord drops an interaction not acknowledged within 3
PUBLIC_DEFER = "lockstep.public_defer"
ANSWERING = "lockstep.answering"  # the task acknowledging the interaction, once one has begun

Interaction = discord.Interaction[Any]


def acknowledge_in_time(interaction: Interaction, after: float = ACK_DEADLINE) -> None:
    """Defer (publicly) if nothing has begun to answer `interaction` `after` seconds from now,
    e.g. when the room is busy: the answer then comes as an edit, an error as an ephemeral
    follow-up."""

    def due() -> None:
        if not interaction.response.is_done() and ANSWERING not in interaction.extras:
            interaction.extras[ANSWERING] = asyncio.ensure_future(_defer(interaction, False))

    asyncio.get_running_loop().call_later(after, due)


async def _defer(interaction: Interaction, ephemeral: bool) -> None:
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    interaction.extras[PUBLIC_DEFER] = not ephemeral


async def _settled(interaction: Interaction) -> None:
    """Wait for a deferral in flight (ours or the safety net's) before answering."""
    pending = interaction.extras.get(ANSWERING)
    if isinstance(pending, asyncio.Future) and not pending.done():
        with contextlib.suppress(Exception):
            await asyncio.shield(pending)


async def defer(interaction: Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now and answer later with `send` (or `followup`)."""
    await _settled(interaction)
    if interaction.response.is_done():
        return
    task = asyncio.ensure_future(_defer(interaction, ephemeral))
    interaction.extras[ANSWERING] = task
    await task


async def send_error(interaction: Interaction, message: str) -> None:
    """Tell only the user who asked. After a public deferral the "thinking" message is deleted
    first: Discord turns the first follow-up into that message, which is visible to everyone."""
    if interaction.type is discord.InteractionType.autocomplete:
        return  # autocomplete cannot carry a message
    await _settled(interaction)
    if not interaction.response.is_done():
        interaction.extras[ANSWERING] = True
        await interaction.response.send_message(message, ephemeral=True)
        return
    if interaction.extras.pop(PUBLIC_DEFER, False):
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(message, ephemeral=True)


async def send(interaction: Interaction, content: str | None = None, **kwargs: Any) -> None:
    """Reply publicly, whether or not the interaction was deferred."""
    await _settled(interaction)
    if interaction.response.is_done():
        interaction.extras.pop(PUBLIC_DEFER, None)
        await interaction.edit_original_response(content=content, **kwargs)
    else:
        interaction.extras[ANSWERING] = True
        await interaction.response.send_message(content, **kwargs)
