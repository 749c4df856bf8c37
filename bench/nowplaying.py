"""How the now-playing message follows a room: latency from a pause in the web player to the
message's edit, and how many edits bursts of changes cost, one room and many. Everything real
(the web server on loopback, Socket.IO, RoomService on SQLite, the bot with discord.py's HTTP
client and gateway) except Discord, which is the tests' loopback fake (tests/discord_fake).

    python -m bench.nowplaying --rounds 10 --rooms 30

Prints: Socket.IO `control` ack -> edit request (quiet message, median and max); edits for 20
changes in 1 s and 100 changes over 10 s (and the smallest gap between two edits of the message);
for `--rooms` channels changing at once, the seconds until every message is edited and the most
edit requests in any one second (the global budget is 4 a second, bursting to 8).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord.gateway
import discord.http
import uvicorn
import yarl

from bot import BotContext, LockstepBot
from shared.catalog import Catalog
from shared.core import Actor, Pause, Play, Status
from shared.library import Library
from shared.library.demo import ensure_demo_tracks
from shared.service import RoomService
from shared.settings import load_settings
from shared.store import SQLiteRoomStore
from tests.discord_fake import TOKEN, FakeDiscord
from tests.discord_fake.payloads import text_channel
from tests.web.sio import Listener
from webapp import AppContext, WebServer
from webapp.server import server_config

WEB = Actor("web:bench", "Bench")
EDIT = r"/channels/\d+/messages/\d+"


class Channel:
    def __init__(self, channel_id: int, guild_id: int) -> None:
        self.id, self.name = channel_id, f"bench-{channel_id % 1000}"
        self.guild = type("G", (), {"id": guild_id})()


def toggle(service: RoomService, room_id: str) -> Any:
    playing = service.require(room_id).status is Status.PLAYING
    return Pause(by=WEB) if playing else Play(by=WEB)


async def count(fake: FakeDiscord, method: str, path: str, after: int, n: int) -> None:
    """Until `n` such requests have arrived since `after`."""
    await fake.changes.until(
        lambda: True if len(fake.find(method, path, after=after)) >= n else None,
        wait=120,
        describe=lambda: f"fewer than {n} {method} {path}",
    )


async def measure(rounds: int, rooms: int, work: Path) -> dict[str, Any]:
    fake = await FakeDiscord().start()
    # What FakeDiscord.patch does with pytest's monkeypatch; this process ends afterwards.
    discord.http.Route.BASE = fake.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    music = work / "music"
    music.mkdir()
    ensure_demo_tracks(music)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = load_settings(
        music_dir=music,
        data_dir=work / "data",
        port=port,
        log_level="WARNING",
        secret_key=secrets.token_hex(16),
    )
    library = Library(settings.library_db, {"music": music}, settings.cover_dir)
    catalog = Catalog(library, music, settings.demo_dir)
    await catalog.rescan()
    store = SQLiteRoomStore(settings.rooms_db)
    await store.open()
    service = RoomService(store, catalog, default_policy=settings.room_policy())
    await service.start()
    web = WebServer(AppContext(settings, service, catalog, store, "bench"))
    await web.start()
    server = uvicorn.Server(server_config(web.asgi, settings))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event for it)
        await asyncio.sleep(0.01)
    bot = LockstepBot(BotContext.build(settings, service, catalog))
    await bot.login(TOKEN)
    connecting = asyncio.create_task(bot.connect(reconnect=False))
    await bot.wait_until_ready()
    tracks = [t.id for t in library.search("", limit=10).items]
    guild = fake.world.guild
    results: dict[str, Any] = {}
    try:
        room = await bot.channels.room_for(Channel(fake.world.text_channel_id, guild.id))
        await service.enqueue(room, WEB, tracks)
        await fake.wait_for_request("POST", r"/channels/\d+/messages")
        listener = await Listener(f"http://127.0.0.1:{port}").connect()
        await listener.join(room, "Bench")  # the listener count changes: one edit, 3 s ahead
        await fake.wait_for_request("PATCH", EDIT)
        latencies = []
        for i in range(rounds):
            await asyncio.sleep(3.3)  # past the message's edit interval: a quiet message
            mark = fake.mark()
            sent = time.monotonic()
            await listener.ok("control", {"action": "pause" if i % 2 == 0 else "play"})
            edit = await fake.wait_for_request("PATCH", EDIT, after=mark)
            latencies.append(edit.at - sent)
        await listener.close()
        results["latency"] = latencies

        for label, changes, spacing in (("20 in 1 s", 20, 0.05), ("100 in 10 s", 100, 0.1)):
            await asyncio.sleep(3.3)
            mark = fake.mark()
            for _ in range(changes):
                await service.apply(room, toggle(service, room))
                await asyncio.sleep(spacing)
            await asyncio.sleep(3.5)
            edits = fake.find("PATCH", EDIT, after=mark)
            final = service.require(room).status.value
            shows = edits[-1].body["embeds"][0]["author"]["name"].split()[0].lower()
            gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
            results[label] = (len(edits), min(gaps) if gaps else None, final, shows)

        ids: list[str] = []
        for _ in range(rooms):
            channel_id = fake.ids.next()
            guild.channels.append(text_channel(channel_id, f"bench-{len(ids)}"))
            ids.append(await bot.channels.room_for(Channel(channel_id, guild.id)))
        mark = fake.mark()
        for room_id in ids:
            await service.enqueue(room_id, WEB, tracks[:2])
        await count(fake, "POST", r"/channels/\d+/messages", mark, rooms)
        await asyncio.sleep(3.5)
        mark = fake.mark()
        start = time.monotonic()
        for room_id in ids:
            await service.apply(room_id, Pause(by=WEB))
        await count(fake, "PATCH", EDIT, mark, rooms)
        done = time.monotonic() - start
        stamps = [r.at for r in fake.find("PATCH", EDIT, after=mark)]
        busiest = max(sum(1 for s in stamps if t <= s < t + 1.0) for t in stamps)
        results["rooms"] = (rooms, done, busiest)
    finally:
        await bot.close()
        connecting.cancel()
        server.should_exit = True
        await serving
        await web.stop()
        await service.stop()
        await store.close()
        library.close()
        await fake.stop()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="pauses timed one by one")
    parser.add_argument("--rooms", type=int, default=30, help="channels changing at once")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(measure(args.rounds, args.rooms, Path(tmp)))
    ms = [x * 1000 for x in r["latency"]]
    print(
        f"web pause -> edit request, quiet message: median {statistics.median(ms):.0f} ms, "
        f"max {max(ms):.0f} ms ({len(ms)} rounds)"
    )
    for label in ("20 in 1 s", "100 in 10 s"):
        edits, gap, final, shows = r[label]
        gap_text = f"{gap:.2f} s" if gap is not None else "-"
        print(
            f"{label:>11} changes: {edits} edits, smallest gap {gap_text}, "
            f"room ends {final}, last edit shows {shows}"
        )
    rooms, done, busiest = r["rooms"]
    print(
        f"{rooms} channels paused at once: all edited in {done:.1f} s, "
        f"at most {busiest} edit requests in any second"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
