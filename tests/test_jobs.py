"""Scheduled jobs on the real event loop: rescans pick up new music, sweeps close empty rooms."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from shared.catalog import Catalog
from shared.core import Actor, Join, Leave
from shared.jobs import start_jobs
from shared.library import Library
from shared.service import RoomService
from shared.store import SQLiteRoomStore

ANA = Actor("web:ana", "Ana")


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[Catalog, RoomService, Path]]:
    music = tmp_path / "music"
    music.mkdir()
    library = Library(tmp_path / "library.db", {"music": music}, tmp_path / "covers")
    catalog = Catalog(library, music, tmp_path / "demo")
    store = SQLiteRoomStore(tmp_path / "rooms.db")
    await store.open()
    service = RoomService(store, catalog, empty_grace=0.3)
    await service.start()
    yield catalog, service, music
    await service.stop()
    await store.close()
    library.close()


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_demo_tracks_give_way_to_real_music_at_the_next_rescan(
    parts: tuple[Catalog, RoomService, Path], demo_tracks: list[Path]
) -> None:
    catalog, service, music = parts
    await catalog.rescan()
    demo_status = await catalog.status()
    assert demo_status.demo is True
    assert demo_status.tracks == 4

    scheduler = start_jobs(catalog, service, rescan_every=0.2, empty_grace=0.3)
    try:
        (music / "Band").mkdir()
        shutil.copy(demo_tracks[0], music / "Band" / "mine.mp3")

        async def only_mine() -> bool:
            status = await catalog.status()
            return not status.demo and status.tracks == 1

        await wait_for(only_mine)
        page = await asyncio.to_thread(catalog.library.search, "")
        assert [t.relpath for t in page.items] == ["Band/mine.mp3"]
        assert (await catalog.status()).last_scan is not None
    finally:
        scheduler.shutdown(wait=False)


async def test_the_sweep_closes_rooms_left_empty(
    parts: tuple[Catalog, RoomService, Path],
) -> None:
    catalog, service, _ = parts
    await service.open_room("left", "Left")
    await service.apply("left", Join(by=ANA))
    await service.apply("left", Leave(by=ANA))
    await service.open_room("busy", "Busy")
    await service.apply("busy", Join(by=ANA))

    scheduler = start_jobs(catalog, service, rescan_every=0, empty_grace=0.3)
    try:

        async def closed() -> bool:
            return service.get("left") is None

        await wait_for(closed)
        assert service.get("busy") is not None
        assert [job.id for job in scheduler.get_jobs()] == ["sweep"]  # rescans were turned off
    finally:
        scheduler.shutdown(wait=False)
