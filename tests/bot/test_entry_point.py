"""`lockstep run` with DISCORD_TOKEN: the web server and the bot in one process on one event loop
(lockstep.main.serve, unmodified), against the fake Discord on loopback. /health reports the
bot's connection truthfully, a slash command works, and SIGTERM stops both cleanly."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from discord_fake import TOKEN, FakeDiscord, message_text

from bot.standalone import run as run_bot_alone
from lockstep.main import serve
from shared.library import Library
from shared.settings import load_settings


@pytest.fixture
def restore_gc() -> Iterator[None]:
    """serve() freezes the start-up heap and raises GC thresholds for the process; undo that."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def health(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        body: dict[str, Any] = (await client.get(f"{url}/health")).json()
        return body


@pytest.mark.usefixtures("restore_gc")
async def test_lockstep_run_serves_the_web_and_the_bot_on_one_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, demo_tracks: list[Path], free_port: int
) -> None:
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    music = tmp_path / "music"
    music.mkdir()
    settings = load_settings(
        music_dir=music,  # no audio: the demo tracks play
        data_dir=tmp_path / "data",
        port=free_port,
        log_level="WARNING",
        discord_token=TOKEN,
        discord_guild_id=fake.world.guild.id,
    )
    url = f"http://127.0.0.1:{free_port}"
    running = asyncio.create_task(serve(settings))
    try:
        for _ in range(300):
            try:
                body = await health(url)
                if body["bot"]["connected"] and body["library"]["tracks"]:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        assert body["bot"] == {"enabled": True, "connected": True}

        interaction = await fake.slash("play", user="bob", query="night drive")
        reply = await fake.reply(interaction)
        assert "Now playing **Night Drive" in message_text(reply)
        async with httpx.AsyncClient() as client:
            rooms = (await client.get(f"{url}/rooms")).json()["rooms"]
        assert any(r["now_playing"] and r["name"] == "#listening" for r in rooms)

        await fake.drop()  # Discord drops the gateway; the bot resumes by itself
        signal.raise_signal(signal.SIGTERM)
        await asyncio.wait_for(running, 20)  # web server, bot, jobs and databases closed
    finally:
        if not running.done():
            running.cancel()
        await fake.stop()


async def test_python_m_bot_runs_the_bot_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, free_port: int
) -> None:
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    music = tmp_path / "music"
    music.mkdir()
    settings = load_settings(
        music_dir=music,
        data_dir=tmp_path / "data",
        port=free_port,
        log_level="WARNING",
        discord_token=TOKEN,
        discord_guild_id=fake.world.guild.id,
        discord_rate_limit="1000/second",
    )
    running = asyncio.create_task(run_bot_alone(settings))
    try:
        index = Library(settings.library_db, {"music": music}, settings.cover_dir)
        try:
            for _ in range(400):  # until the first scan (demo tracks) has indexed something
                if index.count():
                    break
                await asyncio.sleep(0.05)
        finally:
            index.close()
        for _ in range(200):  # and the commands are registered
            try:
                interaction = await fake.slash("play", user="bob", query="night drive")
                break
            except KeyError:
                await asyncio.sleep(0.05)
        assert "Now playing **Night Drive" in message_text(await fake.reply(interaction))
        with pytest.raises(httpx.TransportError):  # no web server in this process
            await health(f"http://127.0.0.1:{free_port}")
        signal.raise_signal(signal.SIGTERM)
        assert await asyncio.wait_for(running, 20) == 0
    finally:
        if not running.done():
            running.cancel()
        await fake.stop()
