"""What the bot sent, and a way to wait for it without sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
POLL = 0.05


@dataclass
class Request:
    """One REST request the bot made, with the fake's answer."""

    method: str
    path: str  # after the API version, e.g. "/channels/123/messages"
    query: dict[str, str]
    body: Any  # the JSON body (of a multipart request: its payload_json), or None
    files: list[dict[str, Any]] = field(default_factory=list)  # uploads: index, filename, size
    status: int = 0
    answer: Any = None
    at: float = 0.0  # time.monotonic() when it arrived

    def matches(self, method: str, path: str) -> bool:
        return self.method == method and re.fullmatch(path, self.path) is not None

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


class Changes:
    """A condition the fake signals on every change (a request, a frame, a connection);
    waiters re-check their predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def until(
        self, probe: Callable[[], T | None], *, wait: float, describe: Callable[[], str]
    ) -> T:
        """Return probe()'s first non-None value, re-checked after every change."""
        deadline = time.monotonic() + wait
        while True:
            found = probe()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(describe())
            self._event.clear()
            # Woken by the fake's own changes; the short poll covers conditions on the bot's
            # side (its state, the room service) that the fake hears nothing about.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), min(remaining, POLL))
