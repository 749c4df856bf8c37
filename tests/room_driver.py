"""A process that drives rooms through the real RoomService, prints their state, then waits to be
killed. tests/test_process.py uses it to prove that rooms survive `kill -9`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from shared.catalog import Catalog
from shared.core import Actor, Join, Pause, Seek
from shared.library import Library
from shared.service import RoomService
from shared.settings import load_settings
from shared.store import SQLiteRoomStore

ANA = Actor("web:ana", "Ana")


async def main(music: Path, data: Path) -> None:
    settings = load_settings(music_dir=music, data_dir=data)
    library = Library(settings.library_db, {"music": music}, settings.cover_dir)
    catalog = Catalog(library, music, settings.demo_dir)
    await catalog.rescan()
    store = SQLiteRoomStore(settings.rooms_db)
    await store.open()
    service = RoomService(store, catalog)
    await service.start()
    ids = [track.id for track in library.search("", limit=3).items]

    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))
    await service.enqueue("party", ANA, ids)
    await service.apply("party", Seek(by=ANA, position=5.0))

    await service.open_room("quiet", "Quiet")
    await service.enqueue("quiet", ANA, ids[:2])
    await service.apply("quiet", Seek(by=ANA, position=7.0))
    await service.apply("quiet", Pause(by=ANA))

    party = service.require("party")
    state = {
        "wall": time.time(),
        "position": party.position(service.now()),
        "entries": [e.id for e in party.queue.entries],
        "tracks": [e.track.track_id for e in party.queue.entries],
        "paused_at": service.require("quiet").position(service.now()),
    }
    print(json.dumps(state), flush=True)
    await asyncio.sleep(3600)  # until the test kills us


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
