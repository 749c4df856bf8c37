"""Which room a Discord text channel (or thread) is: one room per channel, remembered in the bot's
store so the mapping survives restarts, and kept open by the service while nobody listens."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Protocol

from shared.core import DomainError
from shared.service import RoomService

from .store import BotStore

log = logging.getLogger("lockstep.bot")

ROOM_NAME_MAX = 64


class GuildLike(Protocol):
    @property
    def id(self) -> int: ...


class ChannelLike(Protocol):
    """What the mapping needs of a channel: discord.TextChannel, Thread, VoiceChannel... all fit."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def guild(self) -> GuildLike: ...


def room_id_for(guild_id: int, channel_id: int) -> str:
    """A public channel room's id: readable, stable, within the room id pattern (snowflakes are
    at most 20 digits, so this is at most 44 characters)."""
    return f"dc-{guild_id}-{channel_id}"


def room_name_for(channel_name: str) -> str:
    return f"#{channel_name}"[:ROOM_NAME_MAX]


class ChannelRooms:
    """`await room_for(channel)` gives the channel's room id, creating and remembering the room the
    first time; `room_of(channel_id)` and `channel_of(room_id)` only look."""

    def __init__(self, store: BotStore, service: RoomService, *, private: bool = False) -> None:
        self._store = store
        self._service = service
        self._private = private
        self._rooms: dict[int, str] = {}  # channel id -> room id
        self._channels: dict[str, int] = {}  # room id -> channel id
        self._guilds: dict[int, int] = {}  # channel id -> guild id
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Read the mapping; rooms it names stay open while empty (older rooms may predate keep)."""
        for channel_id, guild_id, room_id in await self._store.channel_rooms():
            self._remember(channel_id, guild_id, room_id)
            if self._service.get(room_id) is not None:
                await self._service.keep(room_id)
        log.info("%d Discord channel(s) mapped to rooms", len(self._rooms))

    def _remember(self, channel_id: int, guild_id: int, room_id: str) -> None:
        self._rooms[channel_id] = room_id
        self._channels[room_id] = channel_id
        self._guilds[channel_id] = guild_id

    async def room_for(self, channel: ChannelLike) -> str:
        """The channel's room id. The room is (re)opened if the service does not have it, e.g. on
        first use or after the room store was reset."""
        async with self._lock:  # two first commands at once must not make two rooms
            return await self._room_for(channel)

    async def _room_for(self, channel: ChannelLike) -> str:
        room_id = self._rooms.get(channel.id)
        if room_id is None:
            room_id = (
                f"dc-{secrets.token_hex(12)}"  # private rooms have unguessable ids
                if self._private
                else room_id_for(channel.guild.id, channel.id)
            )
            await self._store.map_channel(channel.id, channel.guild.id, room_id)
            self._remember(channel.id, channel.guild.id, room_id)
        if self._service.get(room_id) is None:
            try:
                name = room_name_for(channel.name)
                await self._service.open_room(room_id, name, private=self._private, keep=True)
            except DomainError:  # a name the core will not show (control characters)
                await self._service.open_room(
                    room_id, "Discord channel", private=self._private, keep=True
                )
        return room_id

    async def forget(self, channel_id: int) -> str | None:
        """The channel is gone (deleted): its room is no longer kept open, so the empty-room
        sweep closes it once nobody listens from the web either. Returns the room id."""
        room_id = self._rooms.pop(channel_id, None)
        self._guilds.pop(channel_id, None)
        if room_id is None:
            return None
        self._channels.pop(room_id, None)
        await self._store.unmap_channel(channel_id)
        if self._service.get(room_id) is not None:
            await self._service.keep(room_id, False)
        log.info("channel %d was deleted: room %s is no longer kept", channel_id, room_id)
        return room_id

    def room_of(self, channel_id: int) -> str | None:
        return self._rooms.get(channel_id)

    def channel_of(self, room_id: str) -> int | None:
        return self._channels.get(room_id)

    def guild_of(self, channel_id: int) -> int | None:
        return self._guilds.get(channel_id)

    def rooms_in(self, guild_id: int) -> list[str]:
        return [room for channel, room in self._rooms.items() if self._guilds[channel] == guild_id]

    def mapped(self) -> dict[int, str]:
        """Channel id -> room id, for every channel that has a room."""
        return dict(self._rooms)
