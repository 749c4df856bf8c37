"""The now-playing message's buttons: previous, play/pause, skip, and a link to the web player.

The control buttons are `DynamicItem`s whose `custom_id` names the action and the room
(`lockstep:np:pause:<room id>`), registered with `bot.add_dynamic_items` when the extension loads
(in `setup_hook`). So a press on a message posted before a restart still reaches the bot, with no
view kept in memory per message, and the room is known from the button itself. The play/pause
button carries the action it shows (play or pause), so a press means what the person saw even if
the room changed a moment before the message caught up.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from shared.core import Status

from .snapshot import NowPlaying

COG_NAME = "NowPlaying"
CUSTOM_ID_PREFIX = "lockstep:np:"
ACTIONS = ("previous", "play", "pause", "skip")
TEMPLATE = re.compile(
    re.escape(CUSTOM_ID_PREFIX)
    + r"(?P<action>previous|play|pause|skip):(?P<room>[a-z0-9][a-z0-9_-]{0,63})"
)
CUSTOM_ID_MAX = 100  # Discord's limit

_LOOKS = {
    "previous": ("Previous", "⏮️", discord.ButtonStyle.secondary),
    "play": ("Play", "▶️", discord.ButtonStyle.success),
    "pause": ("Pause", "⏸️", discord.ButtonStyle.primary),
    "skip": ("Skip", "⏭️", discord.ButtonStyle.secondary),
}


def custom_id(action: str, room_id: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown control {action!r}")
    return f"{CUSTOM_ID_PREFIX}{action}:{room_id}"


class Controls(Protocol):
    """What a press is handed to (the now-playing cog)."""

    async def press(self, interaction: discord.Interaction[Any], action: str, room_id: str) -> None:
        """Act on `room_id` for the person who pressed; answer within Discord's 3 seconds."""
        ...


class ControlButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, action: str, room_id: str) -> None:
        label, emoji, style = _LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=custom_id(action, room_id)
            )
        )
        self.action = action
        self.room_id = room_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ControlButton:
        return cls(match["action"], match["room"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        controls = _controls_of(interaction.client)
        if controls is None:  # the extension is being unloaded: say so rather than time out
            await interaction.response.send_message(
                "The player controls are restarting; try again in a moment.", ephemeral=True
            )
            return
        await controls.press(interaction, self.action, self.room_id)


def _controls_of(client: discord.Client) -> Controls | None:
    get_cog = getattr(client, "get_cog", None)
    cog = get_cog(COG_NAME) if get_cog is not None else None
    return cog if cog is not None and hasattr(cog, "press") else None


def controls_view(now: NowPlaying) -> discord.ui.View:
    """The buttons under the embed for `now`: persistent (no timeout, fixed custom ids)."""
    view = discord.ui.View(timeout=None)
    toggle = "pause" if now.status is Status.PLAYING else "play"
    for action in ("previous", toggle, "skip"):
        view.add_item(ControlButton(action, now.room_id))
    view.add_item(discord.ui.Button(label="Open the web player", emoji="🎧", url=now.player_url))
    return view
