"""Rate limits (the `limits` library, moving windows in memory) for every entry point: HTTP
requests per client address, Socket.IO connections per address, and Socket.IO events per
connection."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class Throttle:
    """Named buckets of limits; `hit(bucket, key)` counts one use and says how long to wait when
    a limit is exceeded."""

    def __init__(self, rules: Mapping[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules: dict[str, list[RateLimitItem]] = {
            bucket: parse_many(spec) for bucket, spec in rules.items()
        }

    def hit(self, bucket: str, key: str) -> float | None:
        """None if allowed (and counted); otherwise seconds until it would be allowed."""
        items = self._rules[bucket]
        for item in items:
            if not self._limiter.test(item, bucket, key):
                return self._retry_after(item, bucket, key)
        for item in items:
            self._limiter.hit(item, bucket, key)
        return None

    def _retry_after(self, item: RateLimitItem, bucket: str, key: str) -> float:
        reset = self._limiter.get_window_stats(item, bucket, key).reset_time
        return max(0.0, math.ceil((reset - time.time()) * 10) / 10)


def valid_limit(spec: str) -> str:
    """Check a limit string such as "100/second;3000/minute" (raises ValueError)."""
    if not parse_many(spec):
        raise ValueError("no limit given")
    return spec
