"""Commands: what someone asks a room to do. The room decides whether it may happen."""

from __future__ import annotations

from dataclasses import dataclass

from .members import SYSTEM, Actor, Policy, Role
from .queue import RepeatMode, TrackRef


@dataclass(frozen=True, slots=True)
class Command:
    by: Actor


# -- presence ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Join(Command):
    """`by.name` is the display name."""


@dataclass(frozen=True, slots=True)
class Leave(Command):
    pass


@dataclass(frozen=True, slots=True)
class VacateHost(Command):
    """Sent by the service when a host kept across a restart has not come back in time: the role
    goes to whoever is present (as if the host had left), or to the next joiner."""

    by: Actor = SYSTEM


# -- playback ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Play(Command):
    """Resume when paused; start the current (or first) entry when idle."""


@dataclass(frozen=True, slots=True)
class Pause(Command):
    pass


@dataclass(frozen=True, slots=True)
class Seek(Command):
    position: float
    relative: bool = False  # position is an offset from where playback is now (+10, -10)


@dataclass(frozen=True, slots=True)
class Stop(Command):
    pass


@dataclass(frozen=True, slots=True)
class Skip(Command):
    pass


@dataclass(frozen=True, slots=True)
class Previous(Command):
    pass


@dataclass(frozen=True, slots=True)
class PlayEntry(Command):
    """Jump to a queued entry and play it from the start."""

    entry_id: str


@dataclass(frozen=True, slots=True)
class TrackEnded(Command):
    """Sent by the service's timer when the current entry's deadline has passed."""

    entry_id: str = ""
    by: Actor = SYSTEM


# -- queue -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Enqueue(Command):
    tracks: tuple[TrackRef, ...]
    at: int | None = None  # upcoming index: 0 = play next, None = end of the queue


@dataclass(frozen=True, slots=True)
class Remove(Command):
    entry_id: str


@dataclass(frozen=True, slots=True)
class Move(Command):
    entry_id: str
    to: int  # upcoming index


@dataclass(frozen=True, slots=True)
class Clear(Command):
    pass


@dataclass(frozen=True, slots=True)
class Shuffle(Command):
    seed: int  # chosen by the service, so the core stays deterministic


@dataclass(frozen=True, slots=True)
class SetRepeat(Command):
    mode: RepeatMode


# -- room settings ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SetRole(Command):
    user_id: str
    role: Role  # HOST hands the host role over


@dataclass(frozen=True, slots=True)
class SetPolicy(Command):
    policy: Policy
