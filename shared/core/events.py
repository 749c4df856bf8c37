"""Events: what happened to a room. Each carries the room version it produced, who caused it, and
enough state for a subscriber to update without asking again."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import PlaybackClock
from .members import Member, Policy, Role
from .queue import Queue, QueueEntry
from .status import Status


@dataclass(frozen=True, slots=True)
class Event:
    room_id: str
    version: int
    by: str  # user id of whoever caused it ("system" for the timer)
    by_name: str


@dataclass(frozen=True, slots=True)
class PlaybackChanged(Event):
    """action: play, resume, pause, seek, stop, skip, previous, jump, advance, restart."""

    action: str
    status: Status
    clock: PlaybackClock
    entry: QueueEntry | None


@dataclass(frozen=True, slots=True)
class QueueChanged(Event):
    """action: add, remove, move, clear, shuffle, repeat, advance. `entries` are the ones acted on;
    `queue` is the whole queue after the change."""

    action: str
    entries: tuple[QueueEntry, ...]
    queue: Queue


@dataclass(frozen=True, slots=True)
class MemberJoined(Event):
    member: Member
    role: Role


@dataclass(frozen=True, slots=True)
class MemberLeft(Event):
    member: Member


@dataclass(frozen=True, slots=True)
class MemberRenamed(Event):
    member: Member


@dataclass(frozen=True, slots=True)
class RoleChanged(Event):
    user_id: str
    role: Role
    host: str | None


@dataclass(frozen=True, slots=True)
class PolicyChanged(Event):
    policy: Policy
