"""A python-socketio client that records what the server sends, for the protocol tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import socketio

VERSIONED = (
    "playback",
    "queue_update",
    "member_joined",
    "member_left",
    "member_renamed",
    "role_changed",
    "policy_changed",
)
ALL = (
    *VERSIONED,
    "rooms_update",
    "room_state",
    "room_closed",
    "connect_error",
    "disconnect",
    "kicked",
    "library_changed",
    "member_status",
)


class Listener:
    def __init__(self, url: str, **client_options: Any) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(**client_options)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()
        self.session: str | None = None
        self.snapshot: dict[str, Any] | None = None
        for name in ALL:
            self.sio.on(name, self._recorder(name))
        self.sio.on("batch", self._unbundle)
        self.batches = 0

    def _recorder(self, name: str) -> Callable[[dict[str, Any]], None]:
        def record(data: Any = None, *more: Any) -> None:
            self.received.append((name, data))
            self._changed.set()

        return record

    def _unbundle(self, data: dict[str, Any]) -> None:
        """A `batch` carries several updates in version order: take them one by one, as a client
        must."""
        self.batches += 1
        for item in data["events"]:
            self.received.append((item["event"], item["data"]))
        self._changed.set()

    async def connect(self, **options: Any) -> Listener:
        await self.sio.connect(self.url, transports=["websocket"], **options)
        return self

    async def call(self, event: str, *args: Any, wait: float = 5) -> Any:
        return await self.sio.call(event, *args, timeout=wait)

    async def join(self, room: str, name: str, **extra: Any) -> dict[str, Any]:
        payload = {"room": room, "name": name, **extra}
        if self.session is not None and "session" not in extra:
            payload["session"] = self.session
        reply: dict[str, Any] = await self.call("join_room", payload)
        assert reply["ok"], reply
        self.session = reply["session"]
        self.snapshot = reply["room"]
        return reply

    async def ok(self, event: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        reply: dict[str, Any] = await self.call(event, payload or {})
        assert reply["ok"], reply
        return reply

    def events(self, name: str) -> list[dict[str, Any]]:
        return [data for event, data in self.received if event == name]

    async def wait_for(
        self,
        name: str,
        where: Callable[[dict[str, Any]], bool] = lambda data: True,
        wait: float = 5.0,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        while True:
            for event, data in self.received:
                if event == name and where(data):
                    return data
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no {name} event arrived; got {[e for e, _ in self.received]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def versions(self) -> list[int]:
        return [data["version"] for event, data in self.received if event in VERSIONED]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        http = self.sio.eio.http  # left open by a refused connection attempt
        if http is not None and not http.closed:
            await http.close()
