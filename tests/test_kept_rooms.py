"""Rooms kept open while empty (a Discord channel's room): the sweep skips them, the flag is saved
with the room and survives a restart, and room documents written before it existed still load."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from shared.core import Room
from shared.service import Notice, RoomService
from shared.store import SQLiteRoomStore, from_doc, to_doc


class NoTracks:
    async def refs(self, track_ids: object) -> dict[str, object]:
        return {}

    def available(self, track_id: str) -> bool:
        return True

    def on_change(self, listener: object) -> None:
        pass


@contextlib.asynccontextmanager
async def service_on(path: Path) -> AsyncIterator[RoomService]:
    store = SQLiteRoomStore(path)
    await store.open()
    service = RoomService(store, NoTracks(), empty_grace=0)  # type: ignore[arg-type]
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await store.close()


async def test_kept_rooms_outlive_the_sweep_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    async with service_on(path) as service:
        await service.open_room("channel", "#channel", keep=True)
        await service.open_room("plain", "Plain")
        assert await service.close_expired() == ["plain"]
        version = service.require("channel").version
    async with service_on(path) as service:
        room = service.require("channel")
        assert room.keep and room.version == version
        assert await service.close_expired() == []
        await service.keep("channel", False)  # e.g. the channel was deleted
        assert await service.close_expired() == ["channel"]
    async with service_on(path) as service:
        assert service.get("channel") is None


async def test_keeping_an_open_room_is_saved_without_announcing_anything(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    async with service_on(path) as service:
        await service.open_room("web", "Web room")
        heard: list[Notice] = []
        service.subscribe(heard.append)
        again = await service.open_room("web", "Ignored name", keep=True)
        assert again.keep and again.name == "Web room" and again.version == 0
        assert heard == []
    async with service_on(path) as service:
        assert service.require("web").keep


def test_documents_from_before_keep_load_as_not_kept() -> None:
    doc = to_doc(Room.create("old", "Old", 10.0), 0.0)
    del doc["keep"]
    assert from_doc(doc, 0.0).keep is False
    assert from_doc(to_doc(Room.create("k", "K", 1.0), 0.0) | {"keep": True}, 0.0).keep


def test_a_kept_room_never_expires() -> None:
    room = Room.create("k", "K", 0.0)
    assert room.expired(1e9, 900.0)
    assert not replace(room, keep=True).expired(1e9, 900.0)
