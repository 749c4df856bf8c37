"""The npm socket.io-client (run with node, as the web player uses it) against the real server,
in the same room as a python-socketio client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Web, WebFactory
from .sio import Listener

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("js") / "listener.mjs"


@pytest.fixture(autouse=True)
def _node_installed() -> None:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("needs node and the npm packages: run `make node-deps` (make test does)")


class NodeListener:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []

    async def next(self, kind: str, where: Any = lambda line: True) -> dict[str, Any]:
        for line in self.lines:
            if line["type"] == kind and where(line):
                return line
        assert self.process.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), 10)
            assert raw, "the node listener exited"
            line = json.loads(raw)
            self.lines.append(line)
            if line["type"] == kind and where(line):
                return line


@contextlib.asynccontextmanager
async def node_listener(url: str) -> AsyncIterator[NodeListener]:
    """listener.mjs joining "party" as "Node", stopped (and if need be killed) afterwards."""
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), url, "party", "Node", cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield NodeListener(process)
    finally:
        assert process.stdin is not None
        process.stdin.write(b"quit\n")
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_a_browser_style_client_shares_the_room(web: Web) -> None:
    ana = Listener(web.url)
    await ana.connect()
    await ana.join("party", "Ana")
    await ana.ok("queue", {"action": "add", "track_ids": web.track_ids()[:1]})
    try:
        async with node_listener(web.url) as node:
            ping = await node.next("ping")
            assert ping["ping"]["ok"] and 0 <= ping["rtt"] < 0.5
            bad = await node.next("bad")
            assert bad["ack"]["ok"] is False and bad["ack"]["error"] == "invalid_argument"
            joined = await node.next("joined")
            assert joined["transport"] == "websocket"
            snapshot = joined["ack"]["room"]
            assert snapshot["status"] == "playing"
            assert [m["name"] for m in snapshot["members"]] == ["Ana", "Node"]

            paused = await ana.ok("control", {"action": "pause"})
            seen = await node.next("playback", lambda line: line["data"]["action"] == "pause")
            assert seen["data"]["version"] == paused["version"]
            assert seen["data"]["at"] == paused["at"]

            # The node client resumes; the python client sees that very change.
            resumed = (await node.next("resumed"))["ack"]
            assert resumed["ok"]
            play = await ana.wait_for("playback", lambda d: d["action"] == "resume")
            assert play["version"] == resumed["version"]
            assert play["by"]["name"] == "Node"
            assert web.service.require("party").status.value == "playing"
    finally:
        await ana.close()


async def test_the_js_client_reconnects_after_a_restart_as_the_same_host(
    start_web: WebFactory,
) -> None:
    web = await start_web()
    async with node_listener(web.url) as node:
        first_line = await node.next("joined")
        first = first_line["ack"]
        assert first["you"]["role"] == "host"
        await web.stop()  # the server goes away; the client backs off and retries

        again = await start_web()  # same port and data folder
        rejoined = await node.next("joined", lambda line: line is not first_line)
        assert sum(line["type"] == "ping" for line in node.lines) == 2  # it re-synced its clock
        assert rejoined["ack"]["ok"], rejoined
        assert rejoined["ack"]["you"] == first["you"]  # same identity, still the host
        assert rejoined["ack"]["room"]["members"] == [
            {"id": first["you"]["id"], "name": "Node", "role": "host", "buffering": False}
        ]
        assert again.service.require("party").host == first["you"]["id"]
