"""Room notices from the service, broadcast to the connections in each room, in version order.

The service's subscriber only puts notices on a queue; one task here emits them, so the room
lock is never held while sockets are written and updates leave in the order they were made.

Presence is bundled. Every join is announced to everyone in the room, so a thousand listeners
arriving at once (say, reconnecting after a restart) would cost half a million messages; instead,
presence updates within PRESENCE_WINDOW go out together as one `batch`. Any other update for
the room flushes the bundle first, so playback is never held back and order is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import socketio

from shared.core import Event, MemberJoined, MemberLeft, MemberRenamed, PlaybackChanged
from shared.library import ScanReport
from shared.service import Notice, RoomClosed, RoomOpened, RoomService

from ..metrics import Metrics
from ..views import Availability, event_message, room_state

log = logging.getLogger("lockstep.realtime")

LOBBY = "lobby"  # socket.io room of connections that get `rooms_update`
ROOMS_UPDATE_EVERY = 0.5  # seconds: `rooms_update` is coalesced to at most two a second
PRESENCE_WINDOW = 0.1  # seconds presence updates wait to be bundled
PRESENCE = (MemberJoined, MemberLeft, MemberRenamed)


class _LibraryChanged:
    """Marker on the outbox: a scan changed the library."""

    __slots__ = ("report",)

    def __init__(self, report: ScanReport) -> None:
        self.report = report


class _Flush:
    """Marker on the outbox: a room's presence window has closed."""

    __slots__ = ("room_id",)

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id


class _Status:
    """Marker on the outbox: a member's listener status changed (ephemeral, no version)."""

    __slots__ = ("payload", "room_id")

    def __init__(self, room_id: str, payload: dict[str, Any]) -> None:
        self.room_id, self.payload = room_id, payload


Outgoing = Notice | _Flush | _LibraryChanged | _Status


class Announcer:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        service: RoomService,
        metrics: Metrics,
        public_rooms: Callable[[], list[dict[str, Any]]],
        available: Availability,
        buffering: Callable[[str], frozenset[str]] = lambda room_id: frozenset(),
    ) -> None:
        self.sio = sio
        self.service = service
        self.metrics = metrics
        self.public_rooms = public_rooms
        self.available = available
        self.buffering = buffering  # room id -> ids of members whose audio is held up
        self._outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._bundles: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._rooms_dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def notify(self, notice: Notice) -> None:
        """The service's subscriber: never blocks."""
        self._outbox.put_nowait(notice)

    def library_changed(self, report: ScanReport) -> None:
        """The catalog's listener: a scan added, changed, moved or removed tracks."""
        self._outbox.put_nowait(_LibraryChanged(report))

    def member_status(self, room_id: str, payload: dict[str, Any]) -> None:
        """Announce `member_status` after every update queued before it (a join included)."""
        self._outbox.put_nowait(_Status(room_id, payload))

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._broadcast_loop(), name="broadcast"),
            asyncio.create_task(self._rooms_update_loop(), name="rooms_update"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _broadcast_loop(self) -> None:
        while True:
            notice = await self._outbox.get()
            try:
                if isinstance(notice, _Flush):
                    await self._flush(notice.room_id)
                elif isinstance(notice, _LibraryChanged):
                    await self._announce_library(notice.report)
                elif isinstance(notice, _Status):
                    await self._flush(notice.room_id)  # the member's join goes out first
                    await self._emit(notice.room_id, "member_status", notice.payload)
                else:
                    await self._announce(notice)
            except Exception:  # one failed broadcast must not stop the next
                log.exception("broadcasting %s failed", type(notice).__name__)

    async def _announce(self, notice: Notice) -> None:
        if isinstance(notice, RoomOpened):
            self._rooms_dirty.set()
            return
        if isinstance(notice, RoomClosed):
            await self._flush(notice.room_id)
            await self.sio.emit("room_closed", {"room": notice.room_id}, room=notice.room_id)
            self._rooms_dirty.set()
            return
        message = event_message(notice, self.service.get(notice.room_id), self.available)
        if _changes_listing(notice):
            self._rooms_dirty.set()
        if message is None:
            return
        room_id = notice.room_id
        if isinstance(notice, PRESENCE):
            bundle = self._bundles.setdefault(room_id, [])
            bundle.append(message)
            if len(bundle) == 1:
                loop = asyncio.get_running_loop()
                loop.call_later(PRESENCE_WINDOW, self._outbox.put_nowait, _Flush(room_id))
            return
        await self._flush(room_id)  # earlier versions first
        await self._emit(room_id, *message)

    async def _announce_library(self, report: ScanReport) -> None:
        """Tell everyone: library views refresh, and rooms whose entries' availability changed
        get a fresh snapshot (availability is not a room change, so it has no version)."""
        counts = {
            "added": report.added,
            "updated": report.updated,
            "moved": report.moved,
            "removed": report.removed,
        }
        await self.sio.emit("library_changed", counts)
        if report.added or report.removed:
            now = self.service.now()
            for room in self.service.rooms():
                if room.queue.entries:
                    await self._flush(room.id)
                    state = room_state(room, now, self.available, self.buffering(room.id))
                    await self.sio.emit("room_state", state, room=room.id)

    async def _flush(self, room_id: str) -> None:
        bundle = self._bundles.pop(room_id, None)
        if not bundle:
            return
        if len(bundle) == 1:
            await self._emit(room_id, *bundle[0])
            return
        events = [{"event": name, "data": payload} for name, payload in bundle]
        await self._emit(room_id, "batch", {"room": room_id, "events": events})

    async def _emit(self, room_id: str, name: str, payload: dict[str, Any]) -> None:
        started = time.perf_counter()
        await self.sio.emit(name, payload, room=room_id)
        self.metrics.broadcast.labels(name).observe(time.perf_counter() - started)

    async def _rooms_update_loop(self) -> None:
        while True:
            await self._rooms_dirty.wait()
            self._rooms_dirty.clear()
            try:
                await self.sio.emit("rooms_update", {"rooms": self.public_rooms()}, room=LOBBY)
            except Exception:
                log.exception("rooms_update failed")
            await asyncio.sleep(ROOMS_UPDATE_EVERY)


def _changes_listing(event: Event) -> bool:
    if isinstance(event, MemberJoined | MemberLeft):
        return True
    return isinstance(event, PlaybackChanged) and event.action != "seek"
