"""What the web app needs from the running service, built once by the entry point."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from shared.catalog import Catalog
from shared.service import RoomService
from shared.settings import Settings
from shared.store import RoomStore


@dataclass
class AppContext:
    settings: Settings
    service: RoomService
    catalog: Catalog
    store: RoomStore
    version: str
    bot_connected: bool = False
    started_at: float = field(default_factory=time.monotonic)
