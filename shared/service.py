"""RoomService: the one door to rooms for the web app, the bot and scheduled jobs.

For each command it takes the room's lock, applies the command to the pure core with the server's
monotonic clock as `now`, saves the new room (durably) before anyone hears of it, publishes the
events to subscribers in order, and moves the room's single track-end timer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from shared.core import (
    SYSTEM,
    Actor,
    Command,
    DomainError,
    Enqueue,
    ErrorCode,
    Event,
    Pause,
    Play,
    PlayEntry,
    Policy,
    Previous,
    Remove,
    Room,
    Seek,
    Shuffle,
    Skip,
    Status,
    Stop,
    TrackEnded,
    TrackRef,
    VacateHost,
)
from shared.library import ScanReport
from shared.settings import Settings
from shared.store import RoomStore, StoredRoom, from_doc, to_doc

log = logging.getLogger("lockstep.rooms")

RETRY_DELAY = 1.0  # seconds before a failed track advance is tried again

# Commands that may move the playback clock. They take effect `lead` seconds from now, so every
# listener has them before they happen (see shared/core/lead.py). Enqueue can autoplay and Remove
# can drop the current entry, so they are scheduled too; presence and settings act at once.
SCHEDULED = (Play, Pause, Seek, Stop, Skip, Previous, PlayEntry, Enqueue, Remove)


@dataclass(frozen=True, slots=True)
class RoomOpened:
    room: Room


@dataclass(frozen=True, slots=True)
class RoomClosed:
    room_id: str


Notice = Event | RoomOpened | RoomClosed
Subscriber = Callable[[Notice], None]
LeadSource = Callable[[str], float]


class TrackLookup(Protocol):
    async def refs(self, track_ids: Sequence[str]) -> dict[str, TrackRef]:
        """The tracks among `track_ids` that exist, as the core sees them."""
        ...

    def available(self, track_id: str) -> bool:
        """Whether the track's file is still in the library (queued entries can outlive it)."""
        ...

    def on_change(self, listener: Callable[[ScanReport], None]) -> None:
        """Call `listener` after a scan that changed the library."""
        ...


class RoomService:
    def __init__(
        self,
        store: RoomStore,
        tracks: TrackLookup,
        *,
        default_policy: Policy | None = None,
        empty_grace: float = 900.0,
        host_grace: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._tracks = tracks
        self._policy = default_policy or Policy()
        self._grace = empty_grace
        self._host_grace = host_grace
        self._clock = clock
        self._wall = wall
        self._rooms: dict[str, Room] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._host_timer: asyncio.TimerHandle | None = None
        self._subscribers: list[Subscriber] = []
        self._rooms_lock = asyncio.Lock()  # creation and removal
        self._tasks: set[asyncio.Task[None]] = set()
        self._lead: LeadSource = lambda room_id: 0.0

    @classmethod
    def configured(cls, store: RoomStore, tracks: TrackLookup, settings: Settings) -> RoomService:
        """The service as the settings describe it (the entry point, the bot alone, the tests)."""
        return cls(
            store,
            tracks,
            default_policy=settings.room_policy(),
            empty_grace=settings.room_empty_grace,
            host_grace=settings.reconnect_grace,
        )

    # -- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Load every stored room, catch up on what played while the server was down, arm timers."""
        now, offset = self.now(), self._wall_offset()
        for stored in await self._store.load_all():
            try:
                room = from_doc(stored.doc, offset)
            except (KeyError, TypeError, ValueError, DomainError) as exc:
                log.error(
                    "room %s could not be restored (%s); left in the store", stored.room_id, exc
                )
                continue
            if room.members or room.empty_since is None:
                # No connection survives a restart; listeners rejoin when their clients reconnect.
                # (Presence is not even stored; the empty-room clock starts now.)
                room = replace(room, members=(), empty_since=now)
            deadline, current = room.deadline(), room.queue.current
            if deadline is not None and deadline <= now and current is not None:
                room, _ = room.apply(TrackEnded(entry_id=current.id), now)
            await self._save(room)
            self._rooms[room.id] = room
            self._arm(room)
        log.info("restored %d room(s)", len(self._rooms))
        self._tracks.on_change(self._library_changed)
        # Hosts keep their role across the restart; one who has not rejoined within the reconnect
        # grace hands it on, so no room is left with a host nobody can reach.
        if any(room.host is not None for room in self._rooms.values()):
            loop = asyncio.get_running_loop()
            self._host_timer = loop.call_later(self._host_grace, self._vacate_hosts)

    def _vacate_hosts(self) -> None:
        self._host_timer = None
        task = asyncio.get_running_loop().create_task(self._apply_all(VacateHost()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply_all(self, command: Command) -> None:
        for room_id in list(self._rooms):
            try:
                if room_id in self._rooms:
                    await self.apply(room_id, command)
            except Exception:
                log.exception("room %s: %s failed", room_id, type(command).__name__)

    def _library_changed(self, report: ScanReport) -> None:
        if report.removed or report.added:
            task = asyncio.get_running_loop().create_task(self.skip_unplayable())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._host_timer is not None:
            self._host_timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def now(self) -> float:
        """Server time: the monotonic clock every room's anchor is on."""
        return self._clock()

    # -- reading -----------------------------------------------------------------------------
    def get(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    def require(self, room_id: str) -> Room:
        room = self._rooms.get(room_id)
        if room is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"no room {room_id!r}")
        return room

    def rooms(self) -> list[Room]:
        return list(self._rooms.values())

    @property
    def connected_users(self) -> int:
        return sum(len(room.members) for room in self._rooms.values())

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with every notice, in order, right after it is saved. Subscribers must
        not block: hand the notice to a queue or a task."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def set_lead(self, lead: LeadSource) -> None:
        """How far ahead (seconds) playback changes in a room take effect; the adapter that knows
        the listeners' round trips provides it."""
        self._lead = lead

    # -- changing ----------------------------------------------------------------------------
    async def open_room(
        self,
        room_id: str,
        name: str,
        *,
        private: bool = False,
        policy: Policy | None = None,
        keep: bool = False,
    ) -> Room:
        """The room `room_id`, created with `name` if it does not exist yet. A room opened with
        `keep` is never closed for being empty (see `keep`)."""
        async with self._rooms_lock:
            existing = self._rooms.get(room_id)
            if existing is not None:
                if keep and not existing.keep:
                    return await self.keep(room_id)
                return existing
            room = Room.create(room_id, name, self.now(), policy or self._policy, private)
            room = replace(room, keep=keep)
            await self._save(room)
            self._rooms[room.id] = room
        self._publish(RoomOpened(room))
        log.info("room %s opened", room.id)
        return room

    async def keep(self, room_id: str, on: bool = True) -> Room:
        """Keep the room open while nobody listens (or stop keeping it): a Discord channel's room
        must outlive its empty hours. Saved with the room; not a change listeners see, so the
        version stays and nothing is announced."""
        async with self._lock(room_id):
            room = self.require(room_id)
            if room.keep != on:
                room = replace(room, keep=on)
                await self._save(room)
                self._rooms[room_id] = room
            return room

    async def apply(self, room_id: str, command: Command) -> tuple[Room, tuple[Event, ...]]:
        """Apply `command`; raises DomainError (nothing changed) when the room refuses it."""
        self.require(room_id)  # before making a lock, so unknown ids cannot pile up locks
        async with self._lock(room_id):
            room = self.require(room_id)
            now = self.now()
            if isinstance(command, SCHEDULED):
                # Never before the current anchor: changes take effect in the order they were made.
                now = max(now + max(0.0, self._lead(room_id)), room.clock.anchor)
            new, events = room.apply(command, now)
            if events:
                new, skipped = self._skip_unplayable(new, now)
                events = (*events, *skipped)
                await self._commit(room, new, events)
            return new, events

    async def skip_unplayable(self) -> None:
        """After the library changed: rooms playing an entry whose file is gone move on."""
        for room_id in list(self._rooms):
            async with self._lock(room_id):
                room = self._rooms.get(room_id)
                if room is None:
                    continue
                new, events = self._skip_unplayable(room, self.now())
                if events:
                    await self._commit(room, new, events)

    def _skip_unplayable(self, room: Room, now: float) -> tuple[Room, tuple[Event, ...]]:
        """An entry whose file has left the library would play as silence for everyone: the
        system skips it, once for the room (not once per player), as often as needed. If nothing
        in the queue can play (repeat all over missing files), the room stops."""
        events: list[Event] = []
        for _ in range(len(room.queue.entries) + 1):
            current = room.queue.current
            if (
                room.status is not Status.PLAYING
                or current is None
                or self._tracks.available(current.track.track_id)
            ):
                return room, tuple(events)
            room, more = room.apply(Skip(by=SYSTEM), now)
            events.extend(more)
        room, more = room.apply(Stop(by=SYSTEM), now)
        events.extend(more)
        return room, tuple(events)

    async def _commit(self, old: Room, new: Room, events: tuple[Event, ...]) -> None:
        """Save (unless only presence changed), keep, announce, and re-arm the timer."""
        if not _presence_only(old, new):
            await self._save(new)  # durable before anyone is told
        self._rooms[new.id] = new
        for event in events:
            self._publish(event)
        self._arm(new)

    async def enqueue(
        self, room_id: str, by: Actor, track_ids: Sequence[str], at: int | None = None
    ) -> tuple[Room, tuple[Event, ...]]:
        """Queue library tracks by id (in the order given)."""
        if not track_ids:
            raise DomainError(ErrorCode.INVALID_ARGUMENT, "no tracks given")
        refs = await self._tracks.refs(track_ids)
        missing = [track_id for track_id in track_ids if track_id not in refs]
        if missing:
            raise DomainError(ErrorCode.NOT_FOUND, f"no track {missing[0]!r} in the library")
        tracks = tuple(refs[track_id] for track_id in track_ids)
        return await self.apply(room_id, Enqueue(by=by, tracks=tracks, at=at))

    async def shuffle(self, room_id: str, by: Actor) -> tuple[Room, tuple[Event, ...]]:
        return await self.apply(room_id, Shuffle(by=by, seed=random.getrandbits(64)))

    async def close_expired(self) -> list[str]:
        """Forget rooms that have been empty for longer than the grace period."""
        now = self.now()
        closed = []
        async with self._rooms_lock:
            for room_id, room in list(self._rooms.items()):
                if not room.expired(now, self._grace):
                    continue
                async with self._lock(room_id):
                    if not self._rooms[room_id].expired(now, self._grace):
                        continue  # someone joined while we waited for the lock
                    await self._store.delete(room_id)
                    del self._rooms[room_id]
                    self._locks.pop(room_id, None)
                    handle = self._timers.pop(room_id, None)
                    if handle is not None:
                        handle.cancel()
                closed.append(room_id)
                self._publish(RoomClosed(room_id))
        if closed:
            log.info("closed empty room(s): %s", ", ".join(closed))
        return closed

    # -- internals ---------------------------------------------------------------------------
    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    def _wall_offset(self) -> float:
        return self._wall() - self._clock()

    async def _save(self, room: Room) -> None:
        await self._store.save(StoredRoom(room.id, room.version, to_doc(room, self._wall_offset())))

    def _publish(self, notice: Notice) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(notice)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("subscriber failed on %s", type(notice).__name__)

    def _arm(self, room: Room) -> None:
        """Keep exactly one timer per playing room, set to its current deadline."""
        handle = self._timers.pop(room.id, None)
        if handle is not None:
            handle.cancel()
        deadline, entry = room.deadline(), room.queue.current
        if deadline is None or entry is None:
            return
        delay = max(0.0, deadline - self.now())
        loop = asyncio.get_running_loop()
        self._timers[room.id] = loop.call_later(delay, self._deadline_passed, room.id, entry.id)

    def _deadline_passed(self, room_id: str, entry_id: str) -> None:
        self._timers.pop(room_id, None)
        task = asyncio.get_running_loop().create_task(self._end_track(room_id, entry_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end_track(self, room_id: str, entry_id: str) -> None:
        try:
            await self.apply(room_id, TrackEnded(entry_id=entry_id))
        except DomainError as exc:
            if exc.code is ErrorCode.STALE:
                room = self._rooms.get(room_id)
                if room is not None and room_id not in self._timers:
                    self._arm(room)  # fired early, or the room moved on: follow its deadline
                return
            log.warning("room %s: track end refused: %s", room_id, exc)
        except Exception:
            # Most likely the store (disk full, locked): the room keeps its old state, so try
            # again shortly rather than leave it playing past the end of its track.
            log.exception("room %s: advancing to the next track failed; retrying", room_id)
            if room_id in self._rooms and room_id not in self._timers:
                loop = asyncio.get_running_loop()
                self._timers[room_id] = loop.call_later(
                    RETRY_DELAY, self._deadline_passed, room_id, entry_id
                )


def _presence_only(old: Room, new: Room) -> bool:
    """True when only who is present changed. Presence is not worth a disk write: a restart
    clears it anyway (clients rejoin), and a join storm (a thousand listeners reconnecting after a
    restart) would otherwise cost a thousand fsyncs of an ever-larger document. Roles are saved."""
    return (
        replace(
            new,
            members=old.members,
            version=old.version,
            next_member_seq=old.next_member_seq,
            empty_since=old.empty_since,
        )
        == old
    )
