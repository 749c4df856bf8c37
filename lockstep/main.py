"""`lockstep`: build the settings, the library, the room service and the web app; run them on one
event loop (uvloop) until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import uvicorn
import uvloop

from shared.catalog import Catalog
from shared.jobs import start_jobs
from shared.library import Library
from shared.service import RoomService
from shared.settings import Settings, SettingsError, load_settings
from shared.store import SQLiteRoomStore
from webapp import AppContext, WebServer
from webapp.server import server_config

if TYPE_CHECKING:
    from bot import LockstepBot

log = logging.getLogger("lockstep")


class Server(uvicorn.Server):
    """uvicorn's server, minus its signal handling: uvicorn re-raises SIGTERM after shutting down,
    which would kill the process before our own clean-up (jobs, timers, databases) runs."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        if self.should_exit:
            self.force_exit = True  # a second Ctrl-C stops without waiting for connections
        self.should_exit = True


def tune_gc() -> None:
    """Keep the cyclic garbage collector's full passes out of broadcasts.

    With a thousand listeners connected the heap holds ~170,000 tracked objects, and every full
    (generation 2) collection took 120-220 ms, about every 3 s under load: one broadcast in
    twenty reached its last listener 200+ ms late (bench/fanout). Freezing what start-up built
    (~85,000 objects that live as long as the process) takes it out of every later pass, and a
    larger young generation lets the short-lived objects of a broadcast die young instead of
    being promoted and forcing full passes. Measured: no full collection in a 1000-listener run.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def package_version() -> str:
    try:
        return version("lockstep")
    except PackageNotFoundError:
        return "0+unknown"


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # Keep third-party chatter at WARNING unless asked for DEBUG.
    if level != "DEBUG":
        for noisy in ("apscheduler", "aiosqlite", "discord", "socketio", "engineio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


async def serve(settings: Settings) -> None:
    library = Library(settings.library_db, {"music": settings.music_dir}, settings.cover_dir)
    catalog = Catalog(library, settings.music_dir, settings.demo_dir)
    store = SQLiteRoomStore(settings.rooms_db)
    await store.open()
    service = RoomService.configured(store, catalog, settings)
    scheduler = None
    web: WebServer | None = None
    initial: asyncio.Task[None] | None = None
    discord_bot: DiscordBot | None = None
    try:
        await service.start()
        settings.secret()  # created now, so a read-only DATA_DIR fails at start, not later
        # Serve at once; the index from the last run answers until this scan has caught up.
        initial = asyncio.create_task(initial_scan(catalog, settings))
        scheduler = start_jobs(
            catalog,
            service,
            rescan_every=settings.rescan_interval,
            empty_grace=settings.room_empty_grace,
        )
        if settings.discord_token is None:
            log.info("DISCORD_TOKEN is not set: running the web player only")
        context = AppContext(settings, service, catalog, store, package_version())
        web = WebServer(context)
        await web.start()
        if settings.discord_token is not None:
            discord_bot = DiscordBot.start(settings, service, catalog, context)
        config = server_config(web.asgi, settings)
        log.info(
            "Lockstep %s on http://%s:%d (links use %s)",
            context.version,
            settings.host,
            settings.port,
            settings.base_url,
        )
        server = Server(config)
        tune_gc()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_exit)
        await server.serve()
    finally:
        if discord_bot is not None:
            await discord_bot.stop()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if web is not None:
            await web.stop()
        await catalog.stop()
        if initial is not None:
            await initial  # returns promptly: the scan was asked to stop
        await service.stop()
        await store.close()
        library.close()


MAX_DISCORD_RETRY = 300.0  # seconds between attempts to reach Discord, at most


class DiscordBot:
    """The bot on the web server's event loop: `bot.start(token)` as a task, so a Discord outage or
    a refused token never stops the web player. discord.py reconnects (and resumes) by itself."""

    def __init__(self, bot: LockstepBot, task: asyncio.Task[None]) -> None:
        self.bot, self.task = bot, task

    @classmethod
    def start(
        cls,
        settings: Settings,
        service: RoomService,
        catalog: Catalog,
        context: AppContext,
        *,
        retry_after: float = 5.0,
    ) -> DiscordBot:
        from bot import BotContext, LockstepBot  # discord.py is only imported when it is used

        def connected(up: bool) -> None:
            context.bot_connected = up  # /health reports it

        bot = LockstepBot(BotContext.build(settings, service, catalog, connected))
        assert settings.discord_token is not None
        token = settings.discord_token.get_secret_value()
        task = asyncio.create_task(cls._run(bot, token, retry_after), name="discord-bot")
        return cls(bot, task)

    @staticmethod
    async def _run(bot: LockstepBot, token: str, retry_after: float) -> None:
        import aiohttp
        import discord

        delay = retry_after
        try:
            while True:
                try:
                    await bot.start(token)
                    return
                except discord.LoginFailure:
                    log.error("Discord refused DISCORD_TOKEN: running the web player only")
                    return
                except (aiohttp.ClientError, OSError) as exc:
                    # Discord not reachable at all (no network yet after a reboot, DNS down):
                    # discord.py retries a dropped gateway itself, but not its first login.
                    # Only retry while nothing has been set up, so setup_hook runs once.
                    if bot.user is not None:
                        raise
                    log.warning("cannot reach Discord (%s); trying again in %.0f s", exc, delay)
                    await bot.http.close()  # closes its connector too: let login make anew
                    bot.http.connector = discord.utils.MISSING
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_DISCORD_RETRY)
        except Exception:
            log.exception("the Discord bot stopped; the web player keeps running")
        finally:
            await bot.close()

    async def stop(self) -> None:
        await self.bot.close()
        await asyncio.gather(self.task, return_exceptions=True)


async def initial_scan(catalog: Catalog, settings: Settings) -> None:
    try:
        report = await catalog.rescan()
    except Exception:  # the service still serves rooms; the next scheduled rescan tries again
        log.exception("library scan failed")
        return
    if report is None or report.stopped:
        return
    log.info(
        "library ready: %d tracks from %s%s",
        await asyncio.to_thread(catalog.library.count),
        settings.demo_dir if catalog.demo else settings.music_dir,
        f" ({report.skipped} unreadable file(s) skipped)" if report.skipped else "",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lockstep", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "scan"),
        default="run",
        help="run the service (default), or index the music folder once and exit",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in exc.lines:
            print(f"lockstep: configuration error: {line}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "scan":
        return uvloop.run(scan_once(settings))
    try:
        uvloop.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken
        log.error("cannot start: %s", exc)
        return 1
    return 0


async def scan_once(settings: Settings) -> int:
    library = Library(settings.library_db, {"music": settings.music_dir}, settings.cover_dir)
    try:
        await Catalog(library, settings.music_dir, settings.demo_dir).rescan()
        print(f"{library.count()} tracks in the library ({settings.library_db})")
    finally:
        library.close()
    return 0
