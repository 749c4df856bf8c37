"""Fixtures for the bot tests: see bot_harness.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from bot_harness import BotFactory, Harness, make_music, start_harness


@pytest.fixture
async def start_bot(tmp_path: Path, demo_tracks: list[Path]) -> AsyncIterator[BotFactory]:
    """Start a bot (and its service); each call is a fresh process's worth of objects on the same
    DATA_DIR, so calling it twice is a restart. Keyword arguments override settings."""
    stops: list[Callable[[], Awaitable[None]]] = []
    music = tmp_path / "music"
    make_music(music, demo_tracks)

    started: list[Harness] = []

    async def start(**overrides: Any) -> Harness:
        harness = await start_harness(tmp_path, music, stops, **overrides)
        started.append(harness)
        return harness

    yield start
    for stop in reversed(stops):
        await stop()
    # Whatever a test asserted, nothing the bot sent may break Discord's limits.
    assert [p for h in started for p in h.recorder.problems] == []


@pytest.fixture
async def harness(start_bot: BotFactory) -> Harness:
    """A bot with the per-user rate limit out of the way (one test checks it on its own)."""
    return await start_bot(discord_rate_limit="1000/second")
