"""How long the bot takes to acknowledge and to answer slash commands, on a real RoomService
(SQLite with synchronous=FULL) and a library of N generated tracks, with Discord's HTTP side
replaced by the recording fake the tests use (tests/bot/discord_http.py), so the figures are
Lockstep's and discord.py's own work, without network.

    python -m bench.discord --n 2000 --rounds 50

Prints, per command, the median and p99 of: interaction delivered -> first response to Discord
(the acknowledgement Discord wants within 3 s), and -> last request (the final answer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from discord.webhook.async_ import async_context

from bench.scan import _templates, generate
from bot import BotContext, LockstepBot
from shared.catalog import Catalog
from shared.library import Library
from shared.service import RoomService
from shared.settings import load_settings
from shared.store import SQLiteRoomStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "bot"))
from discord_http import (  # the tests' fake, found through the path above
    ANA,
    Recorder,
    RecordingHTTP,
    RecordingWebhooks,
    option,
    slash,
)


async def measure(n: int, rounds: int, work: Path) -> list[tuple[str, list[float], list[float]]]:
    music = work / "music"
    music.mkdir(parents=True, exist_ok=True)
    generate(music, n, _templates())
    settings = load_settings(
        music_dir=music,
        data_dir=work / "data",
        log_level="WARNING",
        secret_key="bench",  # noqa: S106  (a throwaway data dir)
        discord_token="bench",  # noqa: S106  (never sent anywhere: the fake answers)
        discord_rate_limit="100000/second",
    )
    library = Library(settings.library_db, {"music": music}, settings.cover_dir)
    catalog = Catalog(library, music, settings.demo_dir)
    await catalog.rescan()
    store = SQLiteRoomStore(settings.rooms_db)
    await store.open()
    service = RoomService.configured(store, catalog, settings)
    await service.start()
    bot = LockstepBot(BotContext.build(settings, service, catalog))
    recorder = Recorder()
    http = RecordingHTTP(asyncio.get_running_loop(), recorder)
    bot.http = http
    bot._connection.http = http
    bot.tree._http = http
    webhooks = RecordingWebhooks(recorder)
    async_context.set(webhooks)
    times: dict[str, list[float]] = {}
    first: dict[str, list[float]] = {}
    stamps: list[float] = []
    record = recorder.record

    def stamped(call: Any) -> None:
        stamps.append(time.perf_counter())
        record(call)

    recorder.record = stamped  # type: ignore[method-assign]
    try:
        await bot.login("bench")
        ids = [t.id for t in library.search("", limit=200).items]
        commands: list[tuple[str, Any]] = [
            ("play (autocomplete)", lambda i: slash(
                "play", option("query", "rock" if i % 2 else "a", focused=True), autocomplete=True
            )),
            ("play", lambda i: slash("play", option("query", ids[i % len(ids)]), member=ANA)),
            ("play (free text)", lambda i: slash("play", option("query", "blue"), member=ANA)),
            ("pause", lambda i: slash("pause")),
            ("resume", lambda i: slash("resume")),
            ("seek", lambda i: slash("seek", option("position", "+1"))),
            ("queue", lambda i: slash("queue")),
            ("rooms", lambda i: slash("rooms")),
            ("listen", lambda i: slash("listen")),
        ]  # fmt: skip
        for i in range(rounds):
            for name, make in commands:
                stamps.clear()
                before = asyncio.all_tasks()
                start = time.perf_counter()
                bot._connection.parse_interaction_create(make(i))
                await asyncio.gather(*(asyncio.all_tasks() - before))
                if stamps:
                    first.setdefault(name, []).append(stamps[0] - start)
                    times.setdefault(name, []).append(stamps[-1] - start)
    finally:
        await bot.close()
        await service.stop()
        await store.close()
        library.close()
    return [(name, first[name], times[name]) for name in first]


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:7.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="tracks in the library")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(measure(args.n, args.rounds, Path(tmp)))
    print(f"{args.n} tracks, {args.rounds} rounds; milliseconds")
    print(f"{'command':22} {'ack p50':>8} {'ack p99':>8} {'done p50':>9} {'done p99':>9}")
    for name, acks, done in results:
        print(f"{name:22} {ms(acks, 0.5)} {ms(acks, 0.99)}  {ms(done, 0.5)}  {ms(done, 0.99)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
