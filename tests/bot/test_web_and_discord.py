"""One room, two doors: the real web server (uvicorn, Socket.IO) and the bot share a RoomService,
so a slash command reaches browser listeners at once and a listener's change is what the bot
sees next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from bot_harness import BotFactory, Harness
from discord_http import ANA, CHANNEL_ID, GUILD_ID, option, slash
from web.sio import Listener

from shared.core import Status
from webapp import AppContext, WebServer
from webapp.server import server_config

ROOM = f"dc-{GUILD_ID}-{CHANNEL_ID}"


@pytest.fixture
async def both(start_bot: BotFactory, free_port: int) -> AsyncIterator[tuple[Harness, str]]:
    harness = await start_bot(port=free_port, discord_rate_limit="1000/second")
    context = AppContext(harness.settings, harness.service, harness.catalog, harness.store, "t")
    web = WebServer(context)
    await web.start()
    server = uvicorn.Server(server_config(web.asgi, harness.settings))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield harness, f"http://127.0.0.1:{free_port}"
    server.should_exit = True
    await task
    await web.stop()


async def test_a_slash_command_reaches_web_listeners_and_back(both: tuple[Harness, str]) -> None:
    harness, url = both
    calls = await harness.run(slash("play", option("query", harness.track("Night Drive").id)))
    assert "Now playing **Night Drive" in calls[-1].content

    listener = await Listener(url).connect()
    try:
        joined = await listener.join(ROOM, "Wendy")
        assert joined["room"]["name"] == "#party"
        assert joined["room"]["queue"]["current"]["added_by"]["name"] == "Ana"

        await harness.run(slash("pause", member=ANA))
        event = await listener.wait_for("playback", lambda e: e["action"] == "pause")
        assert event["by"] == {"id": f"discord:{ANA.user_id}", "name": "Ana"}
        assert event["status"] == "paused"

        # The browser resumes and queues; the bot's next answers show it.
        await listener.ok("control", {"action": "resume"})
        assert harness.room(ROOM).status is Status.PLAYING
        track = harness.track("Paper Kites")
        await listener.ok("queue", {"action": "add", "track_ids": [track.id]})

        calls = await harness.run(slash("queue"))
        text = calls[-1].embeds[0]["description"]
        assert "Now playing" in text
        assert "`1.` **Paper Kites — Paper Orchestra** · 0:32 · added by Wendy" in text

        calls = await harness.run(slash("rooms"))
        line = calls[-1].embeds[0]["description"].splitlines()[0]
        assert "1 listening" in line and "▶️ **Night Drive" in line

        await harness.run(slash("skip"))
        event = await listener.wait_for("playback", lambda e: e["action"] == "skip")
        assert event["entry"]["title"] == "Paper Kites"
    finally:
        await listener.close()
