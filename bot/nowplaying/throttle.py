"""When the now-playing messages may be edited: a pure schedule, with time passed in.

Discord allows about five edits per message per five seconds and fifty requests a second per bot
in all; going over earns 429s and, repeated, a temporary ban. So each message is edited at most
once per `interval` seconds, and all messages together share a token bucket of `rate` edits a
second (bursting to `burst`). Changes in between are coalesced: a message marked dirty any number
of times gets one edit, rendered from the room's state at that moment, so the last edit always
shows the latest state. The first change after a quiet spell goes out at once.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

MESSAGE_INTERVAL = 3.0  # seconds between two edits of one message
GLOBAL_RATE = 4.0  # edits a second across all messages
GLOBAL_BURST = 8.0


@dataclass
class EditThrottle(Generic[K]):
    interval: float = MESSAGE_INTERVAL
    rate: float = GLOBAL_RATE
    burst: float = GLOBAL_BURST
    _dirty: dict[K, float] = field(default_factory=dict)  # key -> when it was first marked
    _last: dict[K, float] = field(default_factory=dict)  # key -> when it was last edited
    _tokens: float = 0.0
    _started: bool = False
    _refilled: float = 0.0

    def mark(self, key: K, now: float) -> None:
        """`key`'s message no longer shows the room's state."""
        self._dirty.setdefault(key, now)

    def forget(self, key: K) -> None:
        self._dirty.pop(key, None)
        self._last.pop(key, None)

    def dirty(self, key: K) -> bool:
        return key in self._dirty

    def due(self, now: float) -> list[K]:
        """The keys to edit now (oldest change first), taking a global token for each. The
        caller edits each one and then calls `sent`."""
        self._refill(now)
        ready = sorted(
            (since, key) for key, since in self._dirty.items() if self._ready_at(key) <= now
        )
        chosen: list[K] = []
        for _, key in ready:
            if self._tokens < 1.0:
                break
            self._tokens -= 1.0
            del self._dirty[key]
            self._last[key] = now  # counts from the start of the edit
            chosen.append(key)
        return chosen

    def sent(self, key: K, now: float) -> None:
        """The edit of `key` finished at `now`: its interval counts from here, so a slow request
        cannot let two edits land closer together than `interval`."""
        self._last[key] = max(self._last.get(key, now), now)

    def next_due(self, now: float) -> float | None:
        """The earliest time `due` could return something; None when nothing is dirty."""
        if not self._dirty:
            return None
        self._refill(now)
        earliest = min(self._ready_at(key) for key in self._dirty)
        if self._tokens < 1.0:
            earliest = max(earliest, now + (1.0 - self._tokens) / self.rate)
        return max(earliest, now)

    def _ready_at(self, key: K) -> float:
        last = self._last.get(key)
        return float("-inf") if last is None else last + self.interval

    def _refill(self, now: float) -> None:
        if not self._started:  # the bucket starts full
            self._started, self._tokens, self._refilled = True, self.burst, now
            return
        elapsed = max(0.0, now - self._refilled)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._refilled = now
