"""Which Discord message is each room's now-playing message, kept in SQLite under DATA_DIR
(`nowplaying.db`) so that after a restart the bot edits the same message instead of posting a
new one."""

from __future__ import annotations

from dataclasses import dataclass

from ..sqlite import SQLiteFile

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


class MessageStore(SQLiteFile):
    SCHEMA = SCHEMA
    WHAT = "the now-playing store"

    async def all(self) -> dict[str, Posted]:
        async with self.db.execute(
            "SELECT room_id, channel_id, message_id, entry_id FROM now_playing"
        ) as cursor:
            return {
                str(r): Posted(str(r), int(c), int(m), None if e is None else str(e))
                async for r, c, m, e in cursor
            }

    async def save(self, posted: Posted) -> None:
        await self.db.execute(
            "INSERT INTO now_playing (room_id, channel_id, message_id, entry_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(room_id) DO UPDATE SET "
            "channel_id = excluded.channel_id, message_id = excluded.message_id, "
            "entry_id = excluded.entry_id",
            (posted.room_id, posted.channel_id, posted.message_id, posted.entry_id),
        )
        await self.db.commit()

    async def delete(self, room_id: str) -> None:
        await self.db.execute("DELETE FROM now_playing WHERE room_id = ?", (room_id,))
        await self.db.commit()
