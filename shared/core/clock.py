"""The playback clock: an anchor from which the position at any server time is derived.

Nothing here reads a clock; every method takes `now` (server seconds, monotonic).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .validate import finite_number


@dataclass(frozen=True, slots=True)
class PlaybackClock:
    """Position `position` held at server time `anchor`; advancing at `rate` while `playing`."""

    position: float = 0.0
    anchor: float = 0.0
    playing: bool = False
    rate: float = 1.0
    duration: float | None = None

    def position_at(self, now: float) -> float:
        """The position at `now`, clamped to [0, duration]. Never stored, always derived.

        An anchor in the future is a scheduled start: the position holds until then."""
        if not self.playing:
            return self.position
        return self._clamp(self.position + max(0.0, now - self.anchor) * self.rate)

    def deadline(self) -> float | None:
        """Server time at which the track ends, or None when paused or of unknown length."""
        if not self.playing or self.duration is None:
            return None
        return self.anchor + (self.duration - self.position) / self.rate

    def start(self, duration: float, now: float, position: float = 0.0) -> PlaybackClock:
        """A new track playing from `position` at `now`."""
        fresh = PlaybackClock(duration=duration)
        return replace(fresh, position=fresh._clamp(position), anchor=now, playing=True)

    def paused(self, now: float) -> PlaybackClock:
        return replace(self, position=self.position_at(now), anchor=now, playing=False)

    def resumed(self, now: float) -> PlaybackClock:
        return replace(self, position=self.position_at(now), anchor=now, playing=True)

    def seeked(self, position: object, now: float) -> PlaybackClock:
        """Jump to `position` (clamped to the track); playing stays as it was."""
        target = finite_number(position, "seek position")
        return replace(self, position=self._clamp(target), anchor=now)

    def stopped(self, now: float) -> PlaybackClock:
        return PlaybackClock(anchor=now)

    def _clamp(self, position: float) -> float:
        upper = self.duration if self.duration is not None else float("inf")
        return min(max(position, 0.0), upper)
