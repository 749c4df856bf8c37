"""The web app's first endpoints, served by a real uvicorn on a free port over real components."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from shared.catalog import Catalog
from shared.core import Actor, Join
from shared.library import Library
from shared.service import RoomService
from shared.settings import load_settings
from shared.store import SQLiteRoomStore
from webapp import AppContext, create_app

ANA = Actor("web:ana", "Ana")


@dataclass
class Running:
    url: str
    service: RoomService
    store: SQLiteRoomStore
    library: Library


@pytest.fixture
async def running(
    tmp_path: Path, free_port: int, demo_tracks: list[Path]
) -> AsyncIterator[Running]:
    music = tmp_path / "music"
    music.mkdir()
    for track in demo_tracks[:2]:
        shutil.copy(track, music / track.name)
    settings = load_settings(music_dir=music, data_dir=tmp_path / "data", port=free_port)
    library = Library(settings.library_db, {"music": music}, settings.cover_dir)
    catalog = Catalog(library, music, settings.demo_dir)
    await catalog.rescan()
    store = SQLiteRoomStore(settings.rooms_db)
    await store.open()
    service = RoomService(store, catalog)
    await service.start()
    app = create_app(AppContext(settings, service, catalog, store, "test"))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port, loop="none", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{free_port}", service, store, library)
    finally:
        server.should_exit = True
        await task
        await service.stop()
        await store.close()
        await asyncio.to_thread(library.close)


async def test_health_reports_rooms_users_and_library(running: Running) -> None:
    await running.service.open_room("party", "Party")
    await running.service.apply("party", Join(by=ANA))
    async with httpx.AsyncClient(base_url=running.url) as client:
        response = await client.get("/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["active_rooms"] == 1
    assert body["connected_users"] == 1
    assert body["library"]["tracks"] == 2
    assert body["library"]["demo"] is False
    assert body["bot"] == {"enabled": False, "connected": False}


async def test_health_is_503_when_the_database_is_gone(running: Running) -> None:
    await running.store.close()
    async with httpx.AsyncClient(base_url=running.url) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["database"] is False


async def test_room_list_shows_public_rooms_with_listeners(running: Running) -> None:
    service = running.service
    await service.open_room("party", "Friday <b>Party</b>")
    await service.apply("party", Join(by=ANA))
    track_id = running.library.search("", limit=1).items[0].id
    await service.enqueue("party", ANA, [track_id])
    await service.open_room("secret", "Secret", private=True)

    async with httpx.AsyncClient(base_url=running.url) as client:
        rooms = (await client.get("/rooms")).json()["rooms"]
        party = (await client.get("/api/rooms/party")).json()
        missing = await client.get("/api/rooms/secret")

    assert [r["id"] for r in rooms] == ["party"]
    assert rooms[0]["name"] == "Friday <b>Party</b>"  # data, never markup; clients show it as text
    assert rooms[0]["listeners"] == 1
    assert rooms[0]["now_playing"]["track_id"] == track_id
    assert party["status"] == "playing"
    assert party["members"] == [
        {"id": "web:ana", "name": "Ana", "role": "host", "buffering": False}
    ]
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "no such room"}
