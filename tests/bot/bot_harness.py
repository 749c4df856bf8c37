"""The harness: a LockstepBot on a real RoomService (real SQLite, a real library of MP3s),
logged in and set up through discord.py's own `login` against the recording fake of Discord's
HTTP side (discord_http.py). Tests feed it interaction payloads and read what it sent."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from discord.webhook.async_ import async_context
from discord_http import Call, Recorder, RecordingHTTP, RecordingWebhooks
from mutagen.id3 import ID3, TALB, TIT2, TPE1

from bot import BotContext, LockstepBot
from shared.catalog import Catalog
from shared.library import Library, Track
from shared.service import RoomService
from shared.settings import Settings, load_settings
from shared.store import SQLiteRoomStore

LONG_TITLES = 30  # more than Discord's 25 choices, all matching "marathon"


def long_title(i: int) -> str:
    return f"Marathon {i:02d}: " + "an extraordinarily long and winding song title " * 3


@dataclass
class Harness:
    bot: LockstepBot
    service: RoomService
    catalog: Catalog
    library: Library
    store: SQLiteRoomStore
    settings: Settings
    recorder: Recorder
    webhooks: RecordingWebhooks
    http: RecordingHTTP
    connected: list[bool]
    stop: Callable[[], Awaitable[None]]

    async def run(self, payload: dict[str, Any]) -> list[Call]:
        """Deliver an interaction as the gateway would, wait for the bot to finish handling it,
        and return the calls it made to Discord meanwhile."""
        async_context.set(self.webhooks)
        start = len(self.recorder.calls)
        before = asyncio.all_tasks()
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        handlers = [
            t
            for t in asyncio.all_tasks() - before
            if t.get_name().startswith(("CommandTree-invoker", "discord-ui-"))
        ]
        await asyncio.wait_for(asyncio.gather(*handlers), 10)
        return [
            c
            for c in self.recorder.calls[start:]
            if c.url.find("/interactions/") >= 0 or "/webhooks/" in c.url
        ]

    def tracks(self) -> list[Track]:
        return list(self.library.search("", limit=100).items)

    def track(self, title_part: str) -> Track:
        return next(t for t in self.tracks() if title_part in t.title)

    def room(self, room_id: str) -> Any:
        return self.service.require(room_id)


BotFactory = Callable[..., Awaitable[Harness]]


def make_music(folder: Path, demo_tracks: list[Path]) -> None:
    folder.mkdir(exist_ok=True)
    for track in demo_tracks:
        shutil.copy(track, folder / track.name)
    for i in range(LONG_TITLES):
        path = folder / f"marathon-{i:02d}.mp3"
        shutil.copy(demo_tracks[0], path)
        tags = ID3(path)
        tags.delall("TIT2")
        tags.add(TIT2(encoding=3, text=long_title(i)))
        tags.add(TPE1(encoding=3, text="The Very Long Band Name " * 3))
        tags.add(TALB(encoding=3, text="An Album With A Name Far Too Long " * 3))
        tags.save(path)


async def start_harness(
    tmp_path: Path, music: Path, stops: list[Callable[[], Awaitable[None]]], **overrides: Any
) -> Harness:
    settings = load_settings(
        **{
            "music_dir": music,
            "data_dir": tmp_path / "data",
            "log_level": "WARNING",
            "public_url": "https://party.example.org",
            "secret_key": "test-secret",
            "discord_token": "test-token",
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
    connected: list[bool] = []
    context = BotContext.build(settings, service, catalog, connected.append)
    bot = LockstepBot(context)
    recorder = Recorder()
    http = RecordingHTTP(asyncio.get_running_loop(), recorder)
    # Everything discord.py built around its HTTP client gets the fake instead.
    bot.http = http
    bot._connection.http = http
    bot.tree._http = http
    webhooks = RecordingWebhooks(recorder)
    async_context.set(webhooks)
    await bot.login("test-token")  # discord.py's own login: /users/@me, app info, setup_hook
    stopped = False

    async def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        await bot.close()
        await service.stop()
        await store.close()
        await asyncio.to_thread(library.close)

    stops.append(stop)
    return Harness(
        bot, service, catalog, library, store, settings, recorder, webhooks, http, connected, stop
    )
