"""The bot's own memory, one SQLite file under DATA_DIR (`discord.db`): which channel is which
room, each server's DJ role, and the hash of the last command set synced to Discord. Rooms
themselves live in the room store; this only says how Discord finds them."""

from __future__ import annotations

from .sqlite import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS channel_rooms (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    room_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS guild_settings (
    guild_id INTEGER PRIMARY KEY,
    dj_role_id INTEGER
);
CREATE TABLE IF NOT EXISTS command_sync (
    target TEXT PRIMARY KEY,
    hash TEXT NOT NULL
);
"""


class BotStore(SQLiteFile):
    SCHEMA = SCHEMA
    WHAT = "the bot store"

    # -- channels ----------------------------------------------------------------------------
    async def channel_rooms(self) -> list[tuple[int, int, str]]:
        """Every (channel id, guild id, room id)."""
        async with self.db.execute(
            "SELECT channel_id, guild_id, room_id FROM channel_rooms"
        ) as cursor:
            return [(int(c), int(g), str(r)) async for c, g, r in cursor]

    async def map_channel(self, channel_id: int, guild_id: int, room_id: str) -> None:
        await self.db.execute(
            "INSERT INTO channel_rooms (channel_id, guild_id, room_id) VALUES (?, ?, ?) "
            "ON CONFLICT(channel_id) DO UPDATE SET room_id = excluded.room_id",
            (channel_id, guild_id, room_id),
        )
        await self.db.commit()

    async def unmap_channel(self, channel_id: int) -> None:
        await self.db.execute("DELETE FROM channel_rooms WHERE channel_id = ?", (channel_id,))
        await self.db.commit()

    # -- server settings ---------------------------------------------------------------------
    async def dj_roles(self) -> dict[int, int]:
        async with self.db.execute(
            "SELECT guild_id, dj_role_id FROM guild_settings WHERE dj_role_id IS NOT NULL"
        ) as cursor:
            return {int(g): int(r) async for g, r in cursor}

    async def set_dj_role(self, guild_id: int, role_id: int | None) -> None:
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, dj_role_id) VALUES (?, ?) "
            "ON CONFLICT(guild_id) DO UPDATE SET dj_role_id = excluded.dj_role_id",
            (guild_id, role_id),
        )
        await self.db.commit()

    # -- command sync ------------------------------------------------------------------------
    async def synced_hash(self, target: str) -> str | None:
        async with self.db.execute(
            "SELECT hash FROM command_sync WHERE target = ?", (target,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set_synced_hash(self, target: str, digest: str) -> None:
        await self.db.execute(
            "INSERT INTO command_sync (target, hash) VALUES (?, ?) "
            "ON CONFLICT(target) DO UPDATE SET hash = excluded.hash",
            (target, digest),
        )
        await self.db.commit()
