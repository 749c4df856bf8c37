"""SQLite room store: one row per room holding its JSON document.

One document per room keeps every save atomic (a room is never half-written) and the schema small.
WAL mode with synchronous=FULL: a saved room survives `kill -9` and a power cut.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import aiosqlite

from .base import StoredRoom

log = logging.getLogger("lockstep.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    room_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class SQLiteRoomStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.executescript(SCHEMA)
        await db.commit()
        self._db = db

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("room store is not open")
        return self._db

    async def load_all(self) -> list[StoredRoom]:
        rooms = []
        async with self.db.execute("SELECT room_id, version, doc FROM rooms") as cursor:
            async for room_id, version, doc in cursor:
                try:
                    rooms.append(StoredRoom(room_id, version, json.loads(doc)))
                except ValueError:
                    log.error("room %s: stored document is unreadable; skipped", room_id)
        return rooms

    async def save(self, room: StoredRoom) -> None:
        await self.db.execute(
            "INSERT INTO rooms (room_id, version, doc, updated_at) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT(room_id) DO UPDATE SET version = excluded.version, "
            "doc = excluded.doc, updated_at = excluded.updated_at",
            (
                room.room_id,
                room.version,
                json.dumps(room.doc, separators=(",", ":")),
                time.time(),
            ),
        )
        await self.db.commit()

    async def delete(self, room_id: str) -> None:
        await self.db.execute("DELETE FROM rooms WHERE room_id = ?", (room_id,))
        await self.db.commit()

    async def check(self) -> bool:
        try:
            async with self.db.execute("SELECT 1") as cursor:
                return await cursor.fetchone() is not None
        except Exception:  # any failure means unhealthy; /health reports it
            log.exception("room store check failed")
            return False

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()
