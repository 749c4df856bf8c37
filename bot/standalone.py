"""`python -m bot`: the Discord bot without the web server, on its own RoomService.

It uses the same DATA_DIR (library index, room store) as `lockstep run`, but rooms live in each
process's memory: a web server started separately does not see this process's changes until it
restarts (and the last process to save a room wins). For rooms shared live with the web player,
run `lockstep run` with DISCORD_TOKEN set instead: one process, one event loop, both doors.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import discord
import uvloop

from shared.catalog import Catalog
from shared.jobs import start_jobs
from shared.library import Library
from shared.service import RoomService
from shared.settings import Settings, SettingsError, load_settings
from shared.store import SQLiteRoomStore

from .client import LockstepBot
from .context import BotContext

log = logging.getLogger("lockstep.bot")


async def run(settings: Settings) -> int:
    assert settings.discord_token is not None
    library = Library(settings.library_db, {"music": settings.music_dir}, settings.cover_dir)
    catalog = Catalog(library, settings.music_dir, settings.demo_dir)
    store = SQLiteRoomStore(settings.rooms_db)
    await store.open()
    service = RoomService.configured(store, catalog, settings)
    await service.start()
    scan = asyncio.create_task(catalog.rescan())
    scheduler = start_jobs(
        catalog,
        service,
        rescan_every=settings.rescan_interval,
        empty_grace=settings.room_empty_grace,
    )
    bot = LockstepBot(BotContext.build(settings, service, catalog))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    log.info("running the Discord bot alone (no web server in this process)")
    try:
        await bot.start(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        log.error("Discord refused DISCORD_TOKEN: check the bot token in the developer portal")
        return 1
    finally:
        await bot.close()
        scheduler.shutdown(wait=False)
        await catalog.stop()
        await asyncio.gather(scan, return_exceptions=True)
        await service.stop()
        await store.close()
        library.close()
    return 0


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in exc.lines:
            print(f"lockstep bot: configuration error: {line}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if settings.log_level != "DEBUG":
        logging.getLogger("discord").setLevel(logging.WARNING)
    if settings.discord_token is None:
        print("lockstep bot: set DISCORD_TOKEN to run the Discord bot", file=sys.stderr)
        return 2
    return uvloop.run(run(settings))
