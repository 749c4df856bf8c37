"""The room's queue: one list of entries with a cursor on the current one.

Entries before the cursor are the history (what `previous` goes back to), entries after it are
upcoming. A track may be queued many times, so every entry has its own id. All operations return a
new `Queue`; invalid ones raise a `DomainError` and leave the old one untouched.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from .errors import DomainError, ErrorCode, invalid
from .validate import finite_number, identifier

# How much history `previous` can walk back through; older entries are dropped so a long party's
# queue stays small in memory and in the store.
HISTORY_LIMIT = 200


class RepeatMode(StrEnum):
    OFF = "off"
    ONE = "one"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class TrackRef:
    """What the core needs to know about a track: its id, its length, and a label for messages."""

    track_id: str
    duration: float
    title: str = ""
    artist: str | None = None

    def __post_init__(self) -> None:
        identifier(self.track_id, "track id")
        duration = finite_number(self.duration, "track duration")
        if duration <= 0:
            raise invalid("track duration must be positive")


@dataclass(frozen=True, slots=True)
class QueueEntry:
    id: str
    track: TrackRef
    added_by: str
    added_by_name: str


@dataclass(frozen=True, slots=True)
class Queue:
    entries: tuple[QueueEntry, ...] = ()
    cursor: int = 0  # index of the current entry; len(entries) means "past the end"
    repeat: RepeatMode = RepeatMode.OFF
    next_seq: int = 1  # entry ids are e1, e2, ...: deterministic, unique within the room

    # -- views -------------------------------------------------------------------------------
    @property
    def current(self) -> QueueEntry | None:
        return self.entries[self.cursor] if self.cursor < len(self.entries) else None

    @property
    def upcoming(self) -> tuple[QueueEntry, ...]:
        return self.entries[self._upcoming_start :]

    @property
    def history(self) -> tuple[QueueEntry, ...]:
        return self.entries[: self.cursor]

    @property
    def _upcoming_start(self) -> int:
        return self.cursor + 1 if self.current is not None else self.cursor

    def index_of(self, entry_id: str) -> int:
        for index, entry in enumerate(self.entries):
            if entry.id == entry_id:
                return index
        raise DomainError(ErrorCode.NOT_FOUND, f"no queue entry {entry_id!r}")

    def entry(self, entry_id: str) -> QueueEntry:
        return self.entries[self.index_of(entry_id)]

    # -- edits -------------------------------------------------------------------------------
    def add(
        self,
        tracks: Sequence[TrackRef],
        added_by: str,
        added_by_name: str,
        at: int | None = None,
        limit: int | None = None,
    ) -> tuple[Queue, tuple[QueueEntry, ...]]:
        """Insert `tracks` at upcoming index `at` (0 = play next; None = the end)."""
        if not tracks:
            raise invalid("nothing to add")
        upcoming = len(self.upcoming)
        if at is None:
            at = upcoming
        elif isinstance(at, bool) or not isinstance(at, int) or not 0 <= at <= upcoming:
            raise invalid(f"queue position must be between 0 and {upcoming}")
        if limit is not None and upcoming + len(tracks) > limit:
            raise DomainError(
                ErrorCode.QUEUE_FULL, f"the queue holds at most {limit} upcoming tracks"
            )
        new = tuple(
            QueueEntry(f"e{self.next_seq + i}", track, added_by, added_by_name)
            for i, track in enumerate(tracks)
        )
        index = self._upcoming_start + at
        entries = self.entries[:index] + new + self.entries[index:]
        return replace(self, entries=entries, next_seq=self.next_seq + len(new)), new

    def remove(self, entry_id: str) -> Queue:
        """Drop an entry. Removing the current one makes the next entry current."""
        index = self.index_of(entry_id)
        entries = self.entries[:index] + self.entries[index + 1 :]
        cursor = self.cursor - 1 if index < self.cursor else self.cursor
        return replace(self, entries=entries, cursor=cursor)

    def move(self, entry_id: str, to: int) -> Queue:
        """Move an upcoming entry to upcoming index `to` (0 = next)."""
        index = self.index_of(entry_id)
        start = self._upcoming_start
        if index < start:
            raise invalid("only upcoming tracks can be moved")
        upcoming = list(self.upcoming)
        if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to < len(upcoming):
            raise invalid(f"new position must be between 0 and {len(upcoming) - 1}")
        entry = upcoming.pop(index - start)
        upcoming.insert(to, entry)
        return replace(self, entries=self.entries[:start] + tuple(upcoming))

    def clear(self) -> tuple[Queue, tuple[QueueEntry, ...]]:
        """Remove every upcoming entry; history and the current track stay."""
        start = self._upcoming_start
        return replace(self, entries=self.entries[:start]), self.entries[start:]

    def shuffle(self, seed: int) -> Queue:
        """Shuffle the upcoming entries only; the caller picks `seed` so the core stays pure."""
        start = self._upcoming_start
        upcoming = list(self.entries[start:])
        random.Random(seed).shuffle(upcoming)
        return replace(self, entries=self.entries[:start] + tuple(upcoming))

    def with_repeat(self, mode: RepeatMode) -> Queue:
        return replace(self, repeat=RepeatMode(mode))

    # -- cursor ------------------------------------------------------------------------------
    def at(self, index: int) -> Queue:
        """Make entry `index` current (or the end when index == len), trimming old history.

        A queue that repeats all keeps its history: that history is the rest of the loop.
        """
        drop = 0 if self.repeat is RepeatMode.ALL else max(0, index - HISTORY_LIMIT)
        return replace(self, entries=self.entries[drop:], cursor=index - drop)

    def following(self, *, track_ended: bool) -> Queue:
        """The queue after the current track: at its end (honouring repeat) or on a skip."""
        if track_ended and self.repeat is RepeatMode.ONE and self.current is not None:
            return self
        following = self._upcoming_start
        if following >= len(self.entries) and self.repeat is RepeatMode.ALL and self.entries:
            following = 0
        return self.at(following)

    def preceding(self) -> Queue | None:
        """The queue moved back one entry, or None when there is nothing before the cursor."""
        if self.cursor > 0:
            return replace(self, cursor=self.cursor - 1)
        if self.repeat is RepeatMode.ALL and len(self.entries) > 1:
            return replace(self, cursor=len(self.entries) - 1)
        return None
