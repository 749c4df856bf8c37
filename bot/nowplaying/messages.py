"""Which Discord message is each room's now-playing message, kept in SQLite under DATA_DIR
(`nowplaying.db`) so that after a restart the bot edits the same message instead of posting a
new one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS now_playing (
    room_id TEXT PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    entry_id TEXT            -- the queue entry the message shows (a new one means a new track)
);
"""


@dataclass(frozen=True, slots=True)
class Posted:
    room_id: str
    channel_id: int
    message_id: int
    entry_id: str | None


class MessageStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.executescript(SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the now-playing store is not open")
        return self._db

    async def all(self) -> dict[str, Posted]:
        async with self._conn.execute(
            "SELECT room_id, channel_id, message_id, entry_id FROM now_playing"
        ) as cursor:
            return {
                str(r): Posted(str(r), int(c), int(m), None if e is None else str(e))
                async for r, c, m, e in cursor
            }

    async def save(self, posted: Posted) -> None:
        await self._conn.execute(
            "INSERT INTO now_playing (room_id, channel_id, message_id, entry_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(room_id) DO UPDATE SET "
            "channel_id = excluded.channel_id, message_id = excluded.message_id, "
            "entry_id = excluded.entry_id",
            (posted.room_id, posted.channel_id, posted.message_id, posted.entry_id),
        )
        await self._conn.commit()

    async def delete(self, room_id: str) -> None:
        await self._conn.execute("DELETE FROM now_playing WHERE room_id = ?", (room_id,))
        await self._conn.commit()
