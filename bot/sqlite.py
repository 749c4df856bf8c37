"""One small SQLite file of the bot's own (WAL, fsync on commit), opened once and closed once."""

from __future__ import annotations

from pathlib import Path

import aiosqlite


class SQLiteFile:
    """Subclasses give `SCHEMA` (idempotent DDL) and `WHAT` (for the error when used unopened)."""

    SCHEMA = ""
    WHAT = "the bot's database"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")  # a reply said "saved": keep it so
        await self._db.executescript(self.SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        db, self._db = self._db, None  # before awaiting: a second close must not close it again
        if db is not None:
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError(f"{self.WHAT} is not open")
        return self._db
