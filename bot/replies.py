"""Answering interactions: errors always ephemeral, deferrals that remember how they were made."""

from __future__ import annotations

import contextlib
from typing import Any

import discord

PUBLIC_DEFER = "lockstep.public_defer"


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> None:
    """Acknowledge now (Discord allows 3 s) and answer later with `followup`/`edit`."""
    if interaction.response.is_done():
        return
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    interaction.extras[PUBLIC_DEFER] = not ephemeral


async def send_error(interaction: discord.Interaction[Any], message: str) -> None:
    """Tell only the user who asked. After a public deferral the "thinking" message is deleted
    first: Discord turns the first follow-up into that message, which is visible to everyone."""
    if interaction.type is discord.InteractionType.autocomplete:
        return  # autocomplete cannot carry a message
    if not interaction.response.is_done():
        await interaction.response.send_message(message, ephemeral=True)
        return
    if interaction.extras.pop(PUBLIC_DEFER, False):
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(message, ephemeral=True)


async def send(
    interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any
) -> None:
    """Reply publicly, whether or not the interaction was deferred."""
    if interaction.response.is_done():
        interaction.extras.pop(PUBLIC_DEFER, None)
        await interaction.edit_original_response(content=content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)
