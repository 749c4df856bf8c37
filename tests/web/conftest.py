"""A real Lockstep web server (uvicorn on a free port, real SQLite files, a real library of
tagged audio) for the web tests. Tests talk to it over HTTP and Socket.IO like any client."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from shared.catalog import Catalog
from shared.library import Library
from shared.service import RoomService
from shared.settings import Settings, load_settings
from shared.store import SQLiteRoomStore
from webapp import AppContext, WebServer
from webapp.server import server_config


@dataclass
class Web:
    url: str
    settings: Settings
    service: RoomService
    catalog: Catalog
    library: Library
    store: SQLiteRoomStore
    server: WebServer
    music: Path
    stop: Callable[[], Awaitable[None]]

    def track_ids(self) -> list[str]:
        return [t.id for t in self.library.search("", limit=100).items]


WebFactory = Callable[..., Awaitable[Web]]


@pytest.fixture
async def start_web(
    tmp_path: Path, free_port: int, demo_tracks: list[Path]
) -> AsyncIterator[WebFactory]:
    """Start a server; keyword arguments override settings (e.g. cors_origins=[...])."""
    stops: list[Callable[[], Awaitable[None]]] = []

    async def start(**overrides: Any) -> Web:
        music = tmp_path / "music"
        music.mkdir(exist_ok=True)
        for track in demo_tracks:
            shutil.copy(track, music / track.name)
        settings = load_settings(
            **{
                "music_dir": music,
                "data_dir": tmp_path / "data",
                "port": free_port,
                "log_level": "WARNING",
                **overrides,
            }
        )
        library = Library(settings.library_db, {"music": music}, settings.cover_dir)
        catalog = Catalog(library, music, settings.demo_dir)
        await catalog.rescan()
        store = SQLiteRoomStore(settings.rooms_db)
        await store.open()
        service = RoomService.configured(store, catalog, settings)
        await service.start()
        context = AppContext(settings, service, catalog, store, "test")
        web = WebServer(context)
        await web.start()
        server = uvicorn.Server(server_config(web.asgi, settings))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)

        async def stop() -> None:
            if task.done():
                return  # already stopped by the test
            server.should_exit = True
            await task
            await web.stop()
            await service.stop()
            await store.close()
            await asyncio.to_thread(library.close)

        stops.append(stop)
        return Web(
            f"http://127.0.0.1:{settings.port}",
            settings,
            service,
            catalog,
            library,
            store,
            web,
            music,
            stop,
        )

    yield start
    for stop in reversed(stops):
        await stop()


@pytest.fixture
async def web(start_web: WebFactory) -> Web:
    """A server with the demo tracks in its music folder and default settings."""
    return await start_web()
