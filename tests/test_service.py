"""RoomService against a real SQLite file and the real event loop's timers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from shared.core import (
    Actor,
    DomainError,
    ErrorCode,
    Join,
    Leave,
    Pause,
    Play,
    PlaybackChanged,
    QueueChanged,
    RepeatMode,
    SetRepeat,
    Status,
    TrackRef,
)
from shared.library import ScanReport
from shared.service import Notice, RoomClosed, RoomOpened, RoomService
from shared.store import SQLiteRoomStore, StoredRoom

ANA = Actor("web:ana", "Ana")
BO = Actor("web:bo", "Bo")


class StaticTracks:
    """A library stand-in: a fixed set of tracks (the service only needs id → TrackRef)."""

    def __init__(self, *tracks: TrackRef) -> None:
        self.tracks = {t.track_id: t for t in tracks}
        self.missing: set[str] = set()  # queued earlier, file gone since

    async def refs(self, track_ids: Sequence[str]) -> dict[str, TrackRef]:
        return {i: self.tracks[i] for i in track_ids if i in self.tracks}

    def available(self, track_id: str) -> bool:
        return track_id not in self.missing

    def on_change(self, listener: Callable[[ScanReport], None]) -> None:
        pass


TRACKS = StaticTracks(
    TrackRef("short1", 0.3, "Short One"),
    TrackRef("short2", 0.3, "Short Two"),
    TrackRef("long", 120.0, "Long One", "Band"),
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteRoomStore]:
    store = SQLiteRoomStore(tmp_path / "rooms.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def service(store: SQLiteRoomStore) -> AsyncIterator[RoomService]:
    service = RoomService(store, TRACKS, empty_grace=0.2)
    await service.start()
    yield service
    await service.stop()


@contextlib.asynccontextmanager
async def service_on(path: Path, later_by: float = 0.0) -> AsyncIterator[RoomService]:
    """A service process on the rooms file `path`, started `later_by` seconds of wall time on."""
    store = SQLiteRoomStore(path)
    await store.open()
    service = RoomService(store, TRACKS, wall=lambda: time.time() + later_by)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await store.close()


async def stored(store: SQLiteRoomStore, room_id: str) -> StoredRoom | None:
    return next((r for r in await store.load_all() if r.room_id == room_id), None)


async def test_commands_are_saved_before_subscribers_hear_of_them(
    service: RoomService, store: SQLiteRoomStore
) -> None:
    seen: list[tuple[Notice, int | None]] = []
    pending: list[asyncio.Task[None]] = []

    def record(notice: Notice) -> None:
        async def check() -> None:
            row = await stored(store, "party")
            seen.append((notice, row.version if row else None))

        pending.append(asyncio.ensure_future(check()))

    service.subscribe(record)
    await service.open_room("party", "Friday Party")
    await service.apply("party", Join(by=ANA))
    room, events = await service.enqueue("party", ANA, ["long", "short1"])
    await asyncio.gather(*pending)

    assert room.status is Status.PLAYING  # queueing into a silent room starts it
    assert [type(e) for e in events] == [QueueChanged, PlaybackChanged]
    assert isinstance(seen[0][0], RoomOpened)
    versions = [n.version for n, _ in seen[1:] if not isinstance(n, RoomOpened | RoomClosed)]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    # Whenever a subscriber looked, the store already held at least that version.
    for notice, saved in seen[1:]:
        assert saved is not None and saved >= getattr(notice, "version", 0)


async def test_refused_command_changes_nothing_and_is_not_saved(
    service: RoomService, store: SQLiteRoomStore
) -> None:
    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))
    before = service.require("party")
    heard: list[Notice] = []
    service.subscribe(heard.append)

    with pytest.raises(DomainError) as refused:
        await service.apply("party", Pause(by=ANA))  # nothing is playing
    assert refused.value.code is ErrorCode.ILLEGAL_STATE
    with pytest.raises(DomainError) as unknown:
        await service.enqueue("party", ANA, ["no-such-track"])
    assert unknown.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as no_room:
        await service.apply("nowhere", Play(by=ANA))
    assert no_room.value.code is ErrorCode.NOT_FOUND

    assert service.require("party") == before
    assert heard == []
    row = await stored(store, "party")
    assert row is not None and row.version == before.version


async def test_timer_advances_through_the_queue_and_stops_at_the_end(
    service: RoomService,
) -> None:
    await service.open_room("party", "Party")
    actions: list[str] = []
    service.subscribe(
        lambda n: actions.append(n.action) if isinstance(n, PlaybackChanged) else None
    )
    started = time.monotonic()
    await service.enqueue("party", ANA, ["short1", "short2"])

    for _ in range(100):
        if service.require("party").status is Status.IDLE:
            break
        await asyncio.sleep(0.02)
    elapsed = time.monotonic() - started

    room = service.require("party")
    assert room.status is Status.IDLE
    assert actions == ["play", "advance", "advance"]
    assert 0.55 <= elapsed < 1.5  # two 0.3 s tracks, back to back
    assert [e.track.track_id for e in room.queue.history] == ["short1", "short2"]


async def test_repeat_one_keeps_playing_the_same_track(service: RoomService) -> None:
    await service.open_room("party", "Party")
    await service.enqueue("party", ANA, ["short1", "long"])
    await service.apply("party", SetRepeat(by=ANA, mode=RepeatMode.ONE))
    await asyncio.sleep(0.75)  # two track ends
    room = service.require("party")
    assert room.status is Status.PLAYING
    assert room.queue.current is not None and room.queue.current.track.track_id == "short1"


async def test_rooms_come_back_after_a_restart_at_the_right_position(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    async with service_on(path) as first:
        await first.open_room("party", "Party")
        await first.apply("party", Join(by=ANA))
        await first.enqueue("party", ANA, ["long", "short1", "long"])
        position_then = first.require("party").position(first.now())

    # The process is gone for 30 s (its wall clock moved on; the monotonic one means nothing now).
    async with service_on(path, later_by=30.0) as later:
        room = later.require("party")

    assert room.status is Status.PLAYING
    assert [e.track.track_id for e in room.queue.entries] == ["long", "short1", "long"]
    assert room.members == ()  # listeners rejoin when their clients reconnect
    assert room.role_of(ANA.id).value == "host"  # roles survive
    assert room.position(later.now()) == pytest.approx(position_then + 30.0, abs=0.25)


async def test_restart_catches_up_on_tracks_that_ended_while_down(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    async with service_on(path) as first:
        await first.open_room("party", "Party")
        await first.enqueue("party", ANA, ["short1", "short2", "long"])

    async with service_on(path, later_by=10.0) as later:
        room = later.require("party")

    assert room.queue.current is not None and room.queue.current.track.track_id == "long"
    # 10 s passed; the two short tracks took 0.6 of them.
    assert room.position(later.now()) == pytest.approx(9.4, abs=0.25)


async def test_empty_rooms_close_after_the_grace_period(
    service: RoomService, store: SQLiteRoomStore
) -> None:
    closed: list[str] = []
    service.subscribe(lambda n: closed.append(n.room_id) if isinstance(n, RoomClosed) else None)
    await service.open_room("empty", "Empty")
    await service.open_room("busy", "Busy")
    await service.apply("busy", Join(by=BO))
    await service.open_room("left", "Left")
    await service.apply("left", Join(by=ANA))
    await service.apply("left", Leave(by=ANA))

    assert await service.close_expired() == []  # not yet: the grace period is 0.2 s
    await asyncio.sleep(0.25)
    assert sorted(await service.close_expired()) == ["empty", "left"]

    assert sorted(closed) == ["empty", "left"]
    assert [r.id for r in service.rooms()] == ["busy"]
    assert [r.room_id for r in await store.load_all()] == ["busy"]


async def test_concurrent_commands_apply_one_at_a_time(service: RoomService) -> None:
    await service.open_room("party", "Party")
    users = [Actor(f"web:{i}", f"User {i}") for i in range(20)]
    await asyncio.gather(*(service.apply("party", Join(by=u)) for u in users))
    results = await asyncio.gather(*(service.enqueue("party", u, ["long"]) for u in users))

    room = service.require("party")
    assert len(room.members) == 20
    assert len(room.queue.entries) == 20
    assert len({e.id for e in room.queue.entries}) == 20
    versions = sorted(event.version for _, events in results for event in events)
    assert len(versions) == len(set(versions))


async def test_a_failing_subscriber_does_not_stop_the_others(service: RoomService) -> None:
    heard: list[Notice] = []

    def broken(notice: Notice) -> None:
        raise RuntimeError("subscriber bug")

    service.subscribe(broken)
    service.subscribe(heard.append)
    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))
    assert len(heard) == 2


class FullDisk(SQLiteRoomStore):
    """A store whose disk fills up after a while: saves start failing."""

    full = False

    async def save(self, room: StoredRoom) -> None:
        if self.full:
            raise OSError(28, "No space left on device")
        await super().save(room)


async def test_a_failed_save_leaves_the_room_as_it_was(tmp_path: Path) -> None:
    store = FullDisk(tmp_path / "rooms.db")
    await store.open()
    service = RoomService(store, TRACKS)
    await service.start()
    try:
        await service.open_room("party", "Party")
        await service.enqueue("party", ANA, ["long"])
        before = service.require("party")
        store.full = True
        with pytest.raises(OSError, match="No space left"):
            await service.apply("party", Pause(by=ANA))
        assert service.require("party") == before
        assert service.require("party").status is Status.PLAYING
    finally:
        await service.stop()
        await store.close()


async def test_a_track_end_that_cannot_be_saved_is_retried(tmp_path: Path) -> None:
    store = FullDisk(tmp_path / "rooms.db")
    await store.open()
    service = RoomService(store, TRACKS)
    await service.start()
    try:
        await service.open_room("party", "Party")
        await service.enqueue("party", ANA, ["short1", "long"])
        store.full = True
        await asyncio.sleep(0.5)  # the track ended, but the advance could not be saved
        assert service.require("party").queue.current.track.track_id == "short1"
        store.full = False
        await asyncio.sleep(1.2)  # the retry goes through
        room = service.require("party")
        assert room.queue.current.track.track_id == "long"
        assert room.status is Status.PLAYING
    finally:
        await service.stop()
        await store.close()


async def test_playback_changes_take_effect_after_the_lead(service: RoomService) -> None:
    service.set_lead(lambda room_id: 0.3)
    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))
    before = service.now()
    room, events = await service.enqueue("party", ANA, ["long"])  # autoplay starts it
    after = service.now()
    started = next(e for e in events if isinstance(e, PlaybackChanged))
    assert before + 0.3 <= started.clock.anchor <= after + 0.3
    assert room.position(after) == 0.0  # nobody hears anything before the effect time

    await asyncio.sleep(0.1)
    asked = service.now()
    room, (paused,) = await service.apply("party", Pause(by=ANA))
    assert isinstance(paused, PlaybackChanged)
    assert paused.clock.anchor >= asked + 0.3
    # Paused exactly where everyone will be when it takes effect.
    assert paused.clock.position == pytest.approx(paused.clock.anchor - started.clock.anchor)


async def test_changes_never_take_effect_out_of_order(service: RoomService) -> None:
    lead = 0.5
    service.set_lead(lambda room_id: lead)
    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))
    _, events = await service.enqueue("party", ANA, ["long"])
    first = next(e for e in events if isinstance(e, PlaybackChanged))
    lead = 0.0  # the slow listener left: the next change is due sooner than the last one
    _, (paused,) = await service.apply("party", Pause(by=ANA))
    assert isinstance(paused, PlaybackChanged)
    assert paused.clock.anchor >= first.clock.anchor
    assert paused.clock.position == 0.0


async def test_presence_alone_is_not_written_but_roles_and_queues_are(
    service: RoomService, store: SQLiteRoomStore
) -> None:
    async def stored_version() -> int:
        (stored,) = [r for r in await store.load_all() if r.room_id == "party"]
        return stored.version

    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))  # the first joiner becomes host: a role, saved
    saved = await stored_version()
    assert saved == service.require("party").version
    await service.apply("party", Join(by=BO))  # presence only
    await service.apply("party", Leave(by=BO))
    assert await stored_version() == saved
    await service.enqueue("party", ANA, ["long"])
    assert await stored_version() == service.require("party").version


@pytest.fixture
def tracks() -> StaticTracks:
    return StaticTracks(
        TrackRef("a", 120.0, "A"), TrackRef("b", 120.0, "B"), TrackRef("c", 0.3, "C")
    )


@pytest.fixture
async def party(store: SQLiteRoomStore, tracks: StaticTracks) -> AsyncIterator[RoomService]:
    """A service over `tracks` with Ana in the room "party"."""
    service = RoomService(store, tracks)
    await service.start()
    await service.open_room("party", "Party")
    await service.apply("party", Join(by=ANA))
    yield service
    await service.stop()


def current_track(service: RoomService) -> str | None:
    current = service.require("party").queue.current
    return None if current is None else current.track.track_id


async def test_a_playing_entry_whose_file_is_gone_is_skipped_once_for_the_room(
    party: RoomService, tracks: StaticTracks
) -> None:
    await party.enqueue("party", ANA, ["a", "b"])
    heard: list[Notice] = []
    party.subscribe(heard.append)

    tracks.missing.add("a")  # the file was deleted; a rescan noticed
    await party.skip_unplayable()

    assert current_track(party) == "b"
    assert party.require("party").status is Status.PLAYING
    (skipped,) = [n for n in heard if isinstance(n, PlaybackChanged)]
    assert (skipped.action, skipped.by) == ("skip", "system")
    await party.skip_unplayable()  # nothing more to do: no second skip
    assert len([n for n in heard if isinstance(n, PlaybackChanged)]) == 1


async def test_a_track_ending_into_a_missing_file_moves_past_it(
    party: RoomService, tracks: StaticTracks
) -> None:
    await party.enqueue("party", ANA, ["c", "a", "b"])  # c lasts 0.3 s
    tracks.missing.add("a")
    for _ in range(100):
        if current_track(party) != "c":
            break
        await asyncio.sleep(0.02)
    assert current_track(party) == "b"
    assert party.require("party").status is Status.PLAYING


async def test_when_nothing_can_play_the_room_stops_instead_of_spinning(
    party: RoomService, tracks: StaticTracks
) -> None:
    await party.enqueue("party", ANA, ["a", "b"])
    await party.apply("party", SetRepeat(by=ANA, mode=RepeatMode.ALL))
    tracks.missing.update({"a", "b"})
    await party.skip_unplayable()
    room = party.require("party")
    assert room.status is Status.IDLE
    assert [e.track.track_id for e in room.queue.entries] == ["a", "b"]  # nothing dropped


async def test_a_paused_room_is_left_alone_until_it_plays(
    party: RoomService, tracks: StaticTracks
) -> None:
    await party.enqueue("party", ANA, ["a", "b"])
    await party.apply("party", Pause(by=ANA))
    tracks.missing.add("a")
    await party.skip_unplayable()
    assert current_track(party) == "a"
    _, events = await party.apply("party", Play(by=ANA))
    assert [getattr(e, "action", None) for e in events] == ["resume", "skip"]
    assert current_track(party) == "b"


async def test_a_host_who_does_not_rejoin_after_a_restart_hands_the_role_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rooms.db"
    async with service_on(path) as service:
        await service.open_room("party", "Party")
        await service.apply("party", Join(by=ANA))
        await service.apply("party", Join(by=BO))
        assert service.require("party").host == ANA.id
    store = SQLiteRoomStore(path)
    await store.open()
    service = RoomService(store, TRACKS, host_grace=0.2)
    try:
        await service.start()
        await service.apply("party", Join(by=BO))  # Bo reconnects; Ana never does
        assert service.require("party").host == ANA.id
        for _ in range(100):
            await asyncio.sleep(0.02)
            if service.require("party").host != ANA.id:
                break
        assert service.require("party").host == BO.id
    finally:
        await service.stop()
        await store.close()
