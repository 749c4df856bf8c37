"""The room's playback states."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    IDLE = "idle"  # nothing sounding: never started, stopped, or the queue ran out
    PLAYING = "playing"
    PAUSED = "paused"
