"""The room store protocol: what the service needs to keep rooms across restarts.

SQLite is the embedded default; a Redis store (for several processes sharing rooms) implements the
same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredRoom:
    room_id: str
    version: int
    doc: dict[str, Any]


class RoomStore(Protocol):
    async def open(self) -> None: ...

    async def load_all(self) -> list[StoredRoom]: ...

    async def save(self, room: StoredRoom) -> None:
        """Durable when it returns: a crash right after loses nothing saved."""
        ...

    async def delete(self, room_id: str) -> None: ...

    async def check(self) -> bool:
        """True when the store answers (for /health)."""
        ...

    async def close(self) -> None: ...
