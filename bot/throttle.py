"""Per-user rate limits for slash commands and buttons (the `limits` library, moving windows in
memory, as the web server does for its connections)."""

from __future__ import annotations

import math
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class UserThrottle:
    def __init__(self, spec: str) -> None:
        self._items = parse_many(spec)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, user_id: int) -> float | None:
        """None if allowed (and counted); else the seconds until the user may try again."""
        key = str(user_id)
        for item in self._items:
            if not self._limiter.test(item, "discord", key):
                reset = self._limiter.get_window_stats(item, "discord", key).reset_time
                return max(0.1, math.ceil((reset - time.time()) * 10) / 10)
        for item in self._items:
            self._limiter.hit(item, "discord", key)
        return None
