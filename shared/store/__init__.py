"""Where rooms are kept between restarts."""

from .base import RoomStore, StoredRoom
from .codec import from_doc, to_doc
from .sqlite import SQLiteRoomStore

__all__ = ["RoomStore", "SQLiteRoomStore", "StoredRoom", "from_doc", "to_doc"]
