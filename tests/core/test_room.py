"""The room state machine, driven only through `Room.apply(command, now)`.

Time is a plain float argument, so positions, anchors and deadlines are compared exactly.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

import shared.core as core
from shared.core import (
    SYSTEM,
    TRANSITIONS,
    Actor,
    Clear,
    Command,
    ControlMode,
    DomainError,
    Enqueue,
    ErrorCode,
    Event,
    Join,
    Leave,
    MemberJoined,
    MemberLeft,
    MemberRenamed,
    Move,
    Pause,
    Play,
    PlaybackChanged,
    PlayEntry,
    Policy,
    PolicyChanged,
    Previous,
    QueueChanged,
    Remove,
    RepeatMode,
    Role,
    RoleChanged,
    Room,
    Seek,
    SetPolicy,
    SetRepeat,
    SetRole,
    Shuffle,
    Skip,
    Status,
    Stop,
    TrackEnded,
    TrackRef,
    VacateHost,
)

IDLE, PLAYING, PAUSED = Status.IDLE, Status.PLAYING, Status.PAUSED

HOST = Actor("h", "Hana")
DJ = Actor("d", "Dev")
LISTENER = Actor("l", "Lee")
OTHER = Actor("o", "Oli")
ADMIN = Actor("a", "Ada", admin=True)  # not a member: a trusted adapter acting for a moderator

NO_AUTOPLAY = Policy(autoplay=False)
DJS_ONLY = Policy(control=ControlMode.DJS)


# -- helpers -----------------------------------------------------------------------------------
def track(n: int, duration: float = 100.0) -> TrackRef:
    return TrackRef(f"t{n}", duration, f"Track {n}")


def step(room: Room, command: Command, now: float = 0.0) -> Room:
    after, _ = room.apply(command, now)
    return after


def party(
    *durations: float, policy: Policy | None = None, repeat: RepeatMode | None = None
) -> Room:
    """Room `lobby` with host Hana, DJ Dev and listener Lee. Tracks t1, t2, ... of the given
    lengths are queued by the host at time 0 as e1, e2, ...: with autoplay e1 plays from 0."""
    room = Room.create("lobby", "Lobby", 0.0, policy=policy)
    room = step(room, Join(HOST))
    room = step(room, Join(DJ))
    room = step(room, SetRole(HOST, DJ.id, Role.DJ))
    room = step(room, Join(LISTENER))
    if repeat is not None:
        room = step(room, SetRepeat(HOST, repeat))
    if durations:
        tracks = tuple(track(n, d) for n, d in enumerate(durations, start=1))
        room = step(room, Enqueue(HOST, tracks))
    return room


def refuse(room: Room, command: Command, now: float, code: ErrorCode) -> DomainError:
    """Apply `command`, expect a refusal with `code`, and check the room did not change."""
    before = copy.deepcopy(room)
    with pytest.raises(DomainError) as info:
        room.apply(command, now)
    assert info.value.code is code, info.value
    assert room == before
    return info.value


def current_id(room: Room) -> str | None:
    entry = room.queue.current
    return None if entry is None else entry.id


def ids(entries: tuple[Any, ...]) -> list[str]:
    return [entry.id for entry in entries]


def only_playback(events: tuple[Event, ...]) -> PlaybackChanged:
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, PlaybackChanged)
    return event


# -- the transition table ----------------------------------------------------------------------
COMMAND_TYPES = {
    value
    for name in core.__all__
    if isinstance(value := getattr(core, name), type)
    and issubclass(value, Command)
    and value is not Command
}

SAMPLES: dict[type[Command], Command] = {
    Play: Play(HOST),
    Pause: Pause(HOST),
    Seek: Seek(HOST, 5.0),
    Stop: Stop(HOST),
    Skip: Skip(HOST),
    Previous: Previous(HOST),
    PlayEntry: PlayEntry(HOST, "e2"),
    TrackEnded: TrackEnded(entry_id="e1"),
    Enqueue: Enqueue(HOST, (track(9),)),
    Remove: Remove(HOST, "e3"),
    Move: Move(HOST, "e3", 0),
    Clear: Clear(HOST),
    Shuffle: Shuffle(HOST, 7),
    SetRepeat: SetRepeat(HOST, RepeatMode.ALL),
    Join: Join(OTHER),
    Leave: Leave(LISTENER),
    VacateHost: VacateHost(),
    SetRole: SetRole(HOST, LISTENER.id, Role.DJ),
    SetPolicy: SetPolicy(HOST, DJS_ONLY),
}

# Late enough that e1 (100 s, started at 0) has ended: TrackEnded is legal whenever it is playing.
SAMPLE_NOW = 100.0


def room_in(status: Status) -> Room:
    """Three 100 s entries, e1 current: idle, playing from 0, or paused at 10."""
    room = party(100.0, 100.0, 100.0, policy=NO_AUTOPLAY)
    if status is not IDLE:
        room = step(room, Play(HOST), 0.0)
    if status is PAUSED:
        room = step(room, Pause(HOST), 10.0)
    assert room.status is status
    return room


ILLEGAL = [
    (kind, status)
    for kind in sorted(COMMAND_TYPES, key=lambda k: k.__name__)
    for status in Status
    if status not in TRANSITIONS.get(kind, {})
]
LEGAL = [
    (kind, status)
    for kind in sorted(COMMAND_TYPES, key=lambda k: k.__name__)
    for status in Status
    if status in TRANSITIONS.get(kind, {})
]


def pair_id(pair: Any) -> str:
    return f"{pair[0].__name__}-{pair[1].value}" if isinstance(pair, tuple) else str(pair)


def test_every_command_has_a_row_and_a_sample() -> None:
    assert len(COMMAND_TYPES) == 19
    assert set(TRANSITIONS) == COMMAND_TYPES
    assert set(SAMPLES) == COMMAND_TYPES
    assert all(type(command) is kind for kind, command in SAMPLES.items())


def test_the_table_refuses_exactly_these_pairs() -> None:
    assert set(ILLEGAL) == {
        (Play, PLAYING),
        (Pause, IDLE),
        (Pause, PAUSED),
        (Seek, IDLE),
        (Stop, IDLE),
        (Skip, IDLE),
        (TrackEnded, IDLE),
        (TrackEnded, PAUSED),
    }


@pytest.mark.parametrize("pair", ILLEGAL, ids=pair_id)
def test_an_illegal_pair_is_refused_and_changes_nothing(
    pair: tuple[type[Command], Status],
) -> None:
    kind, status = pair
    refuse(room_in(status), SAMPLES[kind], SAMPLE_NOW, ErrorCode.ILLEGAL_STATE)


@pytest.mark.parametrize("pair", LEGAL, ids=pair_id)
def test_a_legal_pair_is_applied(pair: tuple[type[Command], Status]) -> None:
    kind, status = pair
    room = room_in(status)
    if kind is VacateHost:  # only does something once the host is gone (as after a restart)
        room = replace(room, members=tuple(m for m in room.members if m.id != HOST.id))
    after, events = room.apply(SAMPLES[kind], SAMPLE_NOW)
    assert events
    assert after != room
    assert after.version == room.version + len(events)
    assert [event.version for event in events] == list(range(room.version + 1, after.version + 1))


# -- starting ----------------------------------------------------------------------------------
def test_enqueue_into_an_idle_room_starts_playing() -> None:
    room = party()
    room, events = room.apply(Enqueue(DJ, (track(1, 180.0), track(2))), 5.0)
    assert room.status is PLAYING
    assert current_id(room) == "e1"
    assert room.position(5.0) == 0.0
    assert room.position(65.0) == 60.0
    assert room.deadline() == 185.0
    added, started = events
    assert isinstance(added, QueueChanged)
    assert added.action == "add"
    assert ids(added.entries) == ["e1", "e2"]
    assert isinstance(started, PlaybackChanged)
    assert started.action == "play"
    assert started.status is PLAYING
    assert started.entry is not None
    assert started.entry.id == "e1"
    assert started.clock == room.clock


def test_enqueue_without_autoplay_waits_for_play() -> None:
    room = party(policy=NO_AUTOPLAY)
    room, events = room.apply(Enqueue(DJ, (track(1),)), 5.0)
    assert room.status is IDLE
    assert room.deadline() is None
    assert [type(e) for e in events] == [QueueChanged]
    room, events = room.apply(Play(DJ), 8.0)
    assert room.status is PLAYING
    assert current_id(room) == "e1"
    assert room.position(10.0) == 2.0
    assert only_playback(events).action == "play"


def test_enqueue_while_playing_does_not_interrupt() -> None:
    room = party(100.0)
    before = room.clock
    room, events = room.apply(Enqueue(DJ, (track(2),)), 50.0)
    assert room.status is PLAYING
    assert current_id(room) == "e1"
    assert room.clock == before
    assert [type(e) for e in events] == [QueueChanged]


def test_enqueue_after_the_queue_ran_out_starts_the_new_track() -> None:
    room = party(100.0)
    room = step(room, TrackEnded(entry_id="e1"), 100.0)
    assert room.status is IDLE
    assert current_id(room) is None
    room = step(room, Enqueue(DJ, (track(2, 60.0),)), 150.0)
    assert room.status is PLAYING
    assert current_id(room) == "e2"
    assert room.deadline() == 210.0


def test_play_with_nothing_queued() -> None:
    refuse(party(), Play(HOST), 0.0, ErrorCode.NOTHING_TO_PLAY)


def test_enqueue_next_and_at_an_index() -> None:
    room = party(100.0, 100.0, 100.0)
    room = step(room, Enqueue(HOST, (track(8),), at=0), 1.0)
    room = step(room, Enqueue(HOST, (track(9),), at=2), 2.0)
    assert ids(room.queue.upcoming) == ["e4", "e2", "e5", "e3"]
    refuse(room, Enqueue(HOST, (track(7),), at=5), 3.0, ErrorCode.INVALID_ARGUMENT)
    refuse(room, Enqueue(HOST, (track(7),), at=-1), 3.0, ErrorCode.INVALID_ARGUMENT)


def test_enqueue_refuses_what_is_not_a_track() -> None:
    room = party(100.0)
    refuse(room, Enqueue(HOST, ()), 1.0, ErrorCode.INVALID_ARGUMENT)
    bad: Any = ("t1",)
    refuse(room, Enqueue(HOST, bad), 1.0, ErrorCode.INVALID_ARGUMENT)


def test_enqueue_records_who_added_each_entry() -> None:
    room = party(100.0)
    room = step(room, Enqueue(LISTENER, (track(2), track(2))), 1.0)
    room = step(room, Enqueue(Actor("u9"), (track(3),)), 1.0)  # no display name: the id stands in
    assert [(e.id, e.added_by, e.added_by_name) for e in room.queue.entries] == [
        ("e1", "h", "Hana"),
        ("e2", "l", "Lee"),
        ("e3", "l", "Lee"),
        ("e4", "u9", "u9"),
    ]


def test_the_queue_is_full() -> None:
    room = party(policy=Policy(max_queue=2))
    room = step(room, Enqueue(HOST, (track(1),)))
    room = step(room, Enqueue(HOST, (track(2), track(3))))  # e1 current, two upcoming
    error = refuse(room, Enqueue(HOST, (track(9),)), 1.0, ErrorCode.QUEUE_FULL)
    assert "2" in error.message
    room = step(room, Skip(HOST), 1.0)  # one upcoming left
    room = step(room, Enqueue(HOST, (track(9),)), 2.0)
    assert ids(room.queue.upcoming) == ["e3", "e4"]
    refuse(room, Enqueue(HOST, (track(9), track(9))), 3.0, ErrorCode.QUEUE_FULL)


def test_a_long_history_does_not_shrink_the_queue_limit() -> None:
    # Policy.max_queue counts *upcoming* entries. After a long party the history holds
    # HISTORY_LIMIT entries, and the room may still queue up to max_queue upcoming tracks.
    room = party(policy=Policy(max_queue=400))
    room = step(room, Enqueue(HOST, tuple(track(n) for n in range(1, 204))), 0.0)
    room = step(room, PlayEntry(HOST, "e201"), 0.0)
    assert len(room.queue.history) == core.HISTORY_LIMIT
    assert ids(room.queue.upcoming) == ["e202", "e203"]
    room = step(room, SetPolicy(HOST, Policy(max_queue=3)), 0.0)
    try:
        room, _ = room.apply(Enqueue(HOST, (track(999),)), 1.0)  # three upcoming: at the limit
    except DomainError as error:
        pytest.fail(f"the third upcoming entry was refused: {error!r}")
    assert ids(room.queue.upcoming) == ["e202", "e203", "e204"]


# -- playing, pausing, seeking -----------------------------------------------------------------
def test_play_pause_resume() -> None:
    room = room_in(IDLE)
    room, events = room.apply(Play(HOST), 10.0)
    assert only_playback(events).action == "play"
    assert room.status is PLAYING
    assert room.position(40.0) == 30.0

    room, events = room.apply(Pause(DJ), 40.0)
    assert only_playback(events).action == "pause"
    assert room.status is PAUSED
    assert room.position(40.0) == 30.0
    assert room.position(400.0) == 30.0
    assert room.deadline() is None

    room, events = room.apply(Play(LISTENER), 100.0)
    assert only_playback(events).action == "resume"
    assert room.status is PLAYING
    assert room.position(100.0) == 30.0
    assert room.position(110.0) == 40.0
    assert room.deadline() == 170.0
    assert current_id(room) == "e1"


def test_seek_to_a_position() -> None:
    room, events = room_in(PLAYING).apply(Seek(HOST, 70.0), 20.0)
    event = only_playback(events)
    assert event.action == "seek"
    assert event.clock == room.clock
    assert room.status is PLAYING
    assert room.position(20.0) == 70.0
    assert room.position(25.0) == 75.0
    assert room.deadline() == 50.0


@pytest.mark.parametrize(
    ("now", "offset", "expected"),
    [
        (20.0, 10.0, 30.0),
        (20.0, -10.0, 10.0),
        (4.0, -10.0, 0.0),  # not before the start
        (95.0, 10.0, 100.0),  # not past the end
        (20.0, 0.0, 20.0),
    ],
)
def test_seek_relative(now: float, offset: float, expected: float) -> None:
    room = step(room_in(PLAYING), Seek(HOST, offset, relative=True), now)
    assert room.position(now) == expected
    assert room.deadline() == now + 100.0 - expected


def test_seek_relative_while_paused_stays_paused() -> None:
    room = step(room_in(PAUSED), Seek(HOST, 10.0, relative=True), 50.0)  # paused at 10
    assert room.status is PAUSED
    assert room.position(50.0) == 20.0
    assert room.position(500.0) == 20.0


@pytest.mark.parametrize(("target", "expected"), [(-30.0, 0.0), (1e9, 100.0), (100.0, 100.0)])
def test_seek_clamps_to_the_track(target: float, expected: float) -> None:
    room = step(room_in(PLAYING), Seek(HOST, target), 20.0)
    assert room.position(20.0) == expected


BAD_NUMBERS: list[Any] = [float("nan"), float("inf"), float("-inf"), "10", None, True, False]


@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("relative", [False, True])
def test_seek_refuses_what_is_not_a_finite_number(bad: Any, relative: bool) -> None:
    for status in (PLAYING, PAUSED):
        refuse(room_in(status), Seek(HOST, bad, relative), 20.0, ErrorCode.INVALID_ARGUMENT)


@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
def test_now_must_be_a_finite_number(bad: Any) -> None:
    refuse(room_in(PLAYING), Pause(HOST), bad, ErrorCode.INVALID_ARGUMENT)
    refuse(room_in(IDLE), Join(OTHER), bad, ErrorCode.INVALID_ARGUMENT)


def test_stop_goes_idle_and_play_starts_the_track_again() -> None:
    for status in (PLAYING, PAUSED):
        room, events = room_in(status).apply(Stop(HOST), 30.0)
        event = only_playback(events)
        assert event.action == "stop"
        assert event.status is IDLE
        assert room.status is IDLE
        assert room.deadline() is None
        assert room.position(30.0) == 0.0
        assert room.position(90.0) == 0.0
        room = step(room, Play(HOST), 40.0)
        assert current_id(room) == "e1"
        assert room.position(45.0) == 5.0


# -- skip, previous, jump ----------------------------------------------------------------------
def test_skip_plays_the_next_entry_from_its_start() -> None:
    room, events = room_in(PLAYING).apply(Skip(HOST), 30.0)
    event = only_playback(events)
    assert event.action == "skip"
    assert event.entry is not None
    assert event.entry.id == "e2"
    assert room.status is PLAYING
    assert current_id(room) == "e2"
    assert room.position(30.0) == 0.0
    assert room.deadline() == 130.0


def test_skip_while_paused_stays_paused() -> None:
    room = step(room_in(PAUSED), Skip(HOST), 30.0)
    assert room.status is PAUSED
    assert current_id(room) == "e2"
    assert room.position(99.0) == 0.0


def test_skip_the_last_entry_with_repeat_off_goes_idle() -> None:
    room = party(100.0, 100.0)
    room = step(room, Skip(HOST), 10.0)
    room, events = room.apply(Skip(HOST), 20.0)
    event = only_playback(events)
    assert event.status is IDLE
    assert event.entry is None
    assert room.status is IDLE
    assert current_id(room) is None
    assert room.deadline() is None
    assert ids(room.queue.history) == ["e1", "e2"]


def test_skip_the_last_entry_with_repeat_all_wraps() -> None:
    room = party(100.0, 100.0, repeat=RepeatMode.ALL)
    room = step(room, Skip(HOST), 10.0)
    room = step(room, Skip(HOST), 20.0)
    assert room.status is PLAYING
    assert current_id(room) == "e1"
    assert room.position(20.0) == 0.0


def test_skip_with_repeat_one_moves_on() -> None:
    room = party(100.0, 100.0, repeat=RepeatMode.ONE)
    room = step(room, Skip(HOST), 10.0)
    assert current_id(room) == "e2"
    room = step(room, Skip(HOST), 20.0)
    assert room.status is IDLE


@pytest.mark.parametrize("into", [0.5, 2.0, 3.0])
def test_previous_early_in_a_track_goes_back(into: float) -> None:
    room = step(room_in(PLAYING), Skip(HOST), 10.0)  # e2 from 10
    room, events = room.apply(Previous(HOST), 10.0 + into)
    assert only_playback(events).action == "previous"
    assert current_id(room) == "e1"
    assert room.status is PLAYING
    assert room.position(10.0 + into) == 0.0
    assert room.deadline() == 110.0 + into


@pytest.mark.parametrize("into", [3.5, 50.0])
def test_previous_later_in_a_track_restarts_it(into: float) -> None:
    room = step(room_in(PLAYING), Skip(HOST), 10.0)
    room, events = room.apply(Previous(HOST), 10.0 + into)
    assert only_playback(events).action == "restart"
    assert current_id(room) == "e2"
    assert room.position(10.0 + into) == 0.0


def test_previous_on_the_first_entry_restarts_it() -> None:
    room, events = room_in(PLAYING).apply(Previous(HOST), 1.0)
    assert only_playback(events).action == "restart"
    assert current_id(room) == "e1"
    assert room.position(1.0) == 0.0


def test_previous_on_the_first_entry_with_repeat_all_goes_to_the_last() -> None:
    room = step(room_in(PLAYING), SetRepeat(HOST, RepeatMode.ALL), 0.5)
    room = step(room, Previous(HOST), 1.0)
    assert current_id(room) == "e3"


def test_previous_while_paused_stays_paused() -> None:
    room = step(room_in(PLAYING), Skip(HOST), 10.0)
    room = step(room, Pause(HOST), 11.0)
    room = step(room, Previous(HOST), 50.0)  # paused one second in: goes back
    assert room.status is PAUSED
    assert current_id(room) == "e1"
    assert room.position(60.0) == 0.0


def test_previous_after_the_queue_ran_out_plays_the_last_entry() -> None:
    room = party(100.0, 100.0)
    room = step(room, TrackEnded(entry_id="e1"), 100.0)
    room = step(room, TrackEnded(entry_id="e2"), 200.0)
    assert room.status is IDLE
    room = step(room, Previous(HOST), 300.0)
    assert room.status is PLAYING
    assert current_id(room) == "e2"
    assert room.position(300.0) == 0.0


def test_previous_with_nothing_queued() -> None:
    refuse(party(), Previous(HOST), 1.0, ErrorCode.NOTHING_TO_PLAY)


def test_play_entry_jumps_and_plays() -> None:
    for status in Status:
        room, events = room_in(status).apply(PlayEntry(HOST, "e3"), 20.0)
        assert only_playback(events).action == "jump"
        assert room.status is PLAYING
        assert current_id(room) == "e3"
        assert room.position(20.0) == 0.0
    refuse(room_in(PLAYING), PlayEntry(HOST, "e9"), 20.0, ErrorCode.NOT_FOUND)
    refuse(room_in(PLAYING), PlayEntry(HOST, ""), 20.0, ErrorCode.INVALID_ARGUMENT)


# -- tracks ending -----------------------------------------------------------------------------
@pytest.mark.parametrize("actor", [HOST, DJ, LISTENER, ADMIN])
def test_only_the_system_ends_tracks(actor: Actor) -> None:
    refuse(room_in(PLAYING), TrackEnded(actor, "e1"), 100.0, ErrorCode.FORBIDDEN)


def test_track_end_advances_at_the_deadline() -> None:
    room = party(100.0, 50.0)
    room, events = room.apply(TrackEnded(entry_id="e1"), 100.0)
    event = only_playback(events)
    assert event.action == "advance"
    assert (event.by, event.by_name) == (SYSTEM.id, SYSTEM.name)
    assert room.status is PLAYING
    assert current_id(room) == "e2"
    assert room.clock.anchor == 100.0
    assert room.deadline() == 150.0


def test_a_late_timer_does_not_shift_the_next_track() -> None:
    room = step(party(100.0, 50.0), TrackEnded(entry_id="e1"), 100.75)
    assert current_id(room) == "e2"
    assert room.clock.anchor == 100.0
    assert room.position(100.75) == 0.75
    assert room.deadline() == 150.0


def test_a_timer_a_hair_early_still_counts() -> None:
    room = step(party(100.0, 50.0), TrackEnded(entry_id="e1"), 99.99)
    assert current_id(room) == "e2"
    assert room.clock.anchor == 100.0
    assert room.position(99.99) == 0.0
    assert room.deadline() == 150.0


def test_an_early_track_end_is_stale() -> None:
    room = party(100.0, 50.0)
    refuse(room, TrackEnded(entry_id="e1"), 99.0, ErrorCode.STALE)
    refuse(room, TrackEnded(entry_id="e1"), 0.0, ErrorCode.STALE)


def test_a_track_end_for_another_entry_is_stale() -> None:
    room = party(100.0, 50.0)
    refuse(room, TrackEnded(entry_id="e2"), 100.0, ErrorCode.STALE)
    refuse(room, TrackEnded(entry_id=""), 100.0, ErrorCode.STALE)
    refuse(room, TrackEnded(entry_id="e99"), 100.0, ErrorCode.STALE)
    skipped = step(room, Skip(HOST), 10.0)
    refuse(skipped, TrackEnded(entry_id="e1"), 100.0, ErrorCode.STALE)


def test_a_track_end_after_a_seek_uses_the_new_deadline() -> None:
    room = step(party(100.0, 50.0), Seek(HOST, 90.0), 20.0)
    refuse(room, TrackEnded(entry_id="e1"), 29.0, ErrorCode.STALE)
    room = step(room, TrackEnded(entry_id="e1"), 30.0)
    assert current_id(room) == "e2"
    assert room.clock.anchor == 30.0


def test_the_last_track_ending_with_repeat_off_goes_idle() -> None:
    room, events = party(100.0).apply(TrackEnded(entry_id="e1"), 100.0)
    assert only_playback(events).status is IDLE
    assert room.status is IDLE
    assert current_id(room) is None
    assert room.deadline() is None


def test_repeat_one_plays_the_track_again() -> None:
    room = step(party(100.0, 50.0, repeat=RepeatMode.ONE), TrackEnded(entry_id="e1"), 100.5)
    assert current_id(room) == "e1"
    assert room.clock.anchor == 100.0
    assert room.deadline() == 200.0


def test_repeat_all_wraps_when_the_last_track_ends() -> None:
    room = party(100.0, 50.0, repeat=RepeatMode.ALL)
    room = step(room, TrackEnded(entry_id="e1"), 100.0)
    room = step(room, TrackEnded(entry_id="e2"), 150.0)
    assert current_id(room) == "e1"
    assert room.clock.anchor == 150.0
    assert room.deadline() == 250.0


# A restart: the timer fires long after the deadline and the room catches up with what would have
# played meanwhile. e1..e4 last 100, 50, 30 and 200 seconds; e1 started at 0 and ended at 100.
@pytest.mark.parametrize(
    ("repeat", "now", "entry", "started"),
    [
        (RepeatMode.OFF, 149.0, "e2", 100.0),
        (RepeatMode.OFF, 150.0, "e3", 150.0),
        (RepeatMode.OFF, 170.0, "e3", 150.0),
        (RepeatMode.OFF, 379.0, "e4", 180.0),
        (RepeatMode.ONE, 350.0, "e1", 300.0),
        (RepeatMode.ONE, 100.0 + 100.0 * 1_000_000 + 25.0, "e1", 100.0 + 100.0 * 1_000_000),
        (RepeatMode.ALL, 170.0, "e3", 150.0),
        (RepeatMode.ALL, 390.0, "e1", 380.0),  # e4 ended at 380: wrapped
        (RepeatMode.ALL, 480.0, "e2", 480.0),  # exactly one loop later
        (RepeatMode.ALL, 500.0, "e2", 480.0),
        (RepeatMode.ALL, 780.0, "e1", 760.0),  # nearly two loops
        (RepeatMode.ALL, 100.0 + 380.0 * 1000 + 30.0, "e2", 100.0 + 380.0 * 1000),
        (RepeatMode.ALL, 100.0 + 380.0 * 1000 + 60.0, "e3", 150.0 + 380.0 * 1000),
        (RepeatMode.ALL, 100.0 + 380.0 * 1000 + 90.0, "e4", 180.0 + 380.0 * 1000),
        (RepeatMode.ALL, 100.0 + 380.0 * 1_000_000, "e2", 100.0 + 380.0 * 1_000_000),
    ],
)
def test_a_late_track_end_catches_up(
    repeat: RepeatMode, now: float, entry: str, started: float
) -> None:
    durations = {"e1": 100.0, "e2": 50.0, "e3": 30.0, "e4": 200.0}
    room = party(*durations.values(), repeat=repeat)
    room, events = room.apply(TrackEnded(entry_id="e1"), now)
    assert len(events) == 1
    assert room.status is PLAYING
    assert current_id(room) == entry
    assert room.clock.anchor == started
    assert room.position(now) == now - started
    assert room.deadline() == started + durations[entry]


def test_a_late_track_end_past_everything_goes_idle() -> None:
    room = step(party(100.0, 50.0, 30.0, 200.0), TrackEnded(entry_id="e1"), 380.0)
    assert room.status is IDLE
    assert current_id(room) is None
    assert ids(room.queue.history) == ["e1", "e2", "e3", "e4"]


# -- editing the queue -------------------------------------------------------------------------
def test_removing_the_current_entry_moves_on() -> None:
    room, events = room_in(PLAYING).apply(Remove(HOST, "e1"), 30.0)
    removed, moved_on = events
    assert isinstance(removed, QueueChanged)
    assert removed.action == "remove"
    assert ids(removed.entries) == ["e1"]
    assert isinstance(moved_on, PlaybackChanged)
    assert moved_on.entry is not None
    assert moved_on.entry.id == "e2"
    assert room.status is PLAYING
    assert current_id(room) == "e2"
    assert room.position(30.0) == 0.0
    assert room.deadline() == 130.0


def test_removing_the_current_entry_while_paused_stays_paused() -> None:
    room = step(room_in(PAUSED), Remove(HOST, "e1"), 30.0)
    assert room.status is PAUSED
    assert current_id(room) == "e2"
    assert room.position(50.0) == 0.0


def test_removing_the_last_current_entry_goes_idle() -> None:
    room = step(party(100.0), Remove(HOST, "e1"), 30.0)
    assert room.status is IDLE
    assert current_id(room) is None
    assert room.queue.entries == ()


def test_removing_another_entry_leaves_playback_alone() -> None:
    room = room_in(PLAYING)
    after, events = room.apply(Remove(HOST, "e3"), 30.0)
    assert [type(e) for e in events] == [QueueChanged]
    assert after.clock == room.clock
    assert ids(after.queue.entries) == ["e1", "e2"]
    refuse(after, Remove(HOST, "e3"), 31.0, ErrorCode.NOT_FOUND)


def test_clear_keeps_the_current_entry_and_history() -> None:
    room = party(100.0, 100.0, 100.0, 100.0)
    room = step(room, Skip(HOST), 10.0)
    room, events = room.apply(Clear(DJ), 20.0)
    (event,) = events
    assert isinstance(event, QueueChanged)
    assert event.action == "clear"
    assert ids(event.entries) == ["e3", "e4"]
    assert event.queue == room.queue
    assert ids(room.queue.entries) == ["e1", "e2"]
    assert room.status is PLAYING
    assert current_id(room) == "e2"


def test_move_and_shuffle_through_the_room() -> None:
    room = party(*[100.0] * 8)
    room, events = room.apply(Move(HOST, "e8", 0), 1.0)
    assert isinstance(events[0], QueueChanged)
    assert ids(events[0].entries) == ["e8"]
    assert ids(room.queue.upcoming)[:2] == ["e8", "e2"]
    shuffled, events = room.apply(Shuffle(HOST, 12345), 2.0)
    assert isinstance(events[0], QueueChanged)
    assert events[0].action == "shuffle"
    assert current_id(shuffled) == "e1"
    assert sorted(ids(shuffled.queue.upcoming)) == sorted(ids(room.queue.upcoming))
    assert shuffled.clock == room.clock
    assert shuffled.queue == room.queue.shuffle(12345)


@pytest.mark.parametrize("seed", [True, "1", 1.5, None], ids=repr)
def test_shuffle_needs_a_whole_number_seed(seed: Any) -> None:
    refuse(room_in(PLAYING), Shuffle(HOST, seed), 1.0, ErrorCode.INVALID_ARGUMENT)


def test_set_repeat() -> None:
    room = step(room_in(PLAYING), SetRepeat(HOST, RepeatMode.ONE), 1.0)
    assert room.queue.repeat is RepeatMode.ONE
    bad: Any = "twice"
    refuse(room, SetRepeat(HOST, bad), 1.0, ErrorCode.INVALID_ARGUMENT)


# -- members -----------------------------------------------------------------------------------
def test_the_first_to_join_is_host() -> None:
    room = Room.create("lobby", "Lobby", 0.0)
    assert room.host is None
    room, events = room.apply(Join(LISTENER), 1.0)
    (joined,) = events
    assert isinstance(joined, MemberJoined)
    assert joined.role is Role.HOST
    assert joined.member.name == "Lee"
    assert room.host == LISTENER.id
    room, events = room.apply(Join(OTHER), 2.0)
    (joined,) = events
    assert isinstance(joined, MemberJoined)
    assert joined.role is Role.LISTENER
    assert room.host == LISTENER.id
    assert [(m.id, m.name) for m in room.members] == [("l", "Lee"), ("o", "Oli")]


def test_rejoining_with_another_name_renames() -> None:
    room = party()
    before = room.member(LISTENER.id)
    room, events = room.apply(Join(Actor(LISTENER.id, "Leona")), 5.0)
    (renamed,) = events
    assert isinstance(renamed, MemberRenamed)
    assert renamed.member.name == "Leona"
    member = room.member(LISTENER.id)
    assert member is not None
    assert before is not None
    assert member.name == "Leona"
    assert member.seq == before.seq
    assert len(room.members) == 3
    assert room.role_of(LISTENER.id) is Role.LISTENER


@pytest.mark.parametrize("name", ["Lee", "  Lee ", "Lee\t"])
def test_rejoining_with_the_same_name_changes_nothing(name: str) -> None:
    room = party()
    before = copy.deepcopy(room)
    after, events = room.apply(Join(Actor(LISTENER.id, name)), 5.0)
    assert events == ()
    assert after == before


def test_leaving_is_idempotent() -> None:
    room = party()
    room, events = room.apply(Leave(LISTENER), 5.0)
    (left,) = events
    assert isinstance(left, MemberLeft)
    assert left.member.id == LISTENER.id
    assert room.member(LISTENER.id) is None
    before = copy.deepcopy(room)
    again, events = room.apply(Leave(LISTENER), 6.0)
    assert events == ()
    assert again == before
    stranger, events = room.apply(Leave(Actor("nobody")), 7.0)
    assert events == ()
    assert stranger == before


def test_the_host_leaving_hands_over_to_the_longest_present_dj() -> None:
    room = Room.create("lobby", "Lobby", 0.0)
    for actor in (HOST, LISTENER, Actor("d2", "Dora"), DJ):
        room = step(room, Join(actor))
    room = step(room, SetRole(HOST, DJ.id, Role.DJ))
    room = step(room, SetRole(HOST, "d2", Role.DJ))
    room, events = room.apply(Leave(HOST), 5.0)
    left, handed = events
    assert isinstance(left, MemberLeft)
    assert isinstance(handed, RoleChanged)
    assert (handed.user_id, handed.role, handed.host) == ("d2", Role.HOST, "d2")
    assert room.host == "d2"
    assert room.djs == {DJ.id}
    assert room.role_of("d2") is Role.HOST
    assert room.role_of(LISTENER.id) is Role.LISTENER


def test_the_host_leaving_without_djs_hands_over_to_the_longest_present_listener() -> None:
    room = Room.create("lobby", "Lobby", 0.0)
    for actor in (HOST, OTHER, LISTENER):
        room = step(room, Join(actor))
    room = step(room, Leave(HOST), 5.0)
    assert room.host == OTHER.id
    room = step(room, Leave(OTHER), 6.0)
    assert room.host == LISTENER.id


def test_someone_else_leaving_keeps_the_host() -> None:
    room, events = party().apply(Leave(DJ), 5.0)
    assert [type(e) for e in events] == [MemberLeft]
    assert room.host == HOST.id


def absent_host_room() -> Room:
    """A room as a restart leaves it: presence cleared, the host kept."""
    room = party()
    room = step(room, SetRole(HOST, LISTENER.id, Role.DJ))
    return replace(room, members=())


def test_a_host_who_did_not_come_back_after_a_restart_hands_over_to_who_is_here() -> None:
    room = step(absent_host_room(), Join(OTHER), 10.0)
    room = step(room, Join(LISTENER), 11.0)
    assert room.host == HOST.id  # kept for them while they may still come back
    room, events = room.apply(VacateHost(), 40.0)
    assert [type(e) for e in events] == [RoleChanged]
    assert room.host == LISTENER.id  # the DJ first, though Other rejoined earlier
    assert room.role_of(HOST.id) is Role.LISTENER


def test_a_vacated_host_in_an_empty_room_goes_to_the_next_joiner() -> None:
    room, events = absent_host_room().apply(VacateHost(), 40.0)
    assert [(type(e), e.host) for e in events] == [(RoleChanged, None)]  # type: ignore[attr-defined]
    room = step(room, Join(OTHER), 50.0)
    assert room.host == OTHER.id


def test_a_host_who_came_back_keeps_the_role() -> None:
    room = step(absent_host_room(), Join(HOST), 10.0)
    room, events = room.apply(VacateHost(), 40.0)
    assert events == ()
    assert room.host == HOST.id


def test_only_the_server_vacates_the_host() -> None:
    with pytest.raises(DomainError) as caught:
        absent_host_room().apply(VacateHost(by=Actor("web:x", "X", admin=True)), 40.0)
    assert caught.value.code is ErrorCode.FORBIDDEN


def test_an_empty_room_expires_after_the_grace_period() -> None:
    room = Room.create("lobby", "Lobby", 7.0)
    assert room.empty_since == 7.0
    assert room.expired(907.0, 900.0)
    room = step(room, Join(HOST), 10.0)
    room = step(room, Join(LISTENER), 11.0)
    assert room.empty_since is None
    assert not room.expired(1e9, 900.0)
    room = step(room, Leave(HOST), 20.0)
    assert room.empty_since is None
    room = step(room, Leave(LISTENER), 50.0)
    assert room.members == ()
    assert room.empty_since == 50.0
    assert not room.expired(949.5, 900.0)
    assert room.expired(950.0, 900.0)
    room = step(room, Join(LISTENER), 60.0)
    assert room.empty_since is None
    assert not room.expired(10_000.0, 900.0)


# -- roles -------------------------------------------------------------------------------------
def test_the_host_hands_over_the_host_role() -> None:
    room, events = party().apply(SetRole(HOST, LISTENER.id, Role.HOST), 5.0)
    (event,) = events
    assert isinstance(event, RoleChanged)
    assert (event.user_id, event.role, event.host) == (LISTENER.id, Role.HOST, LISTENER.id)
    assert room.host == LISTENER.id
    assert room.role_of(HOST.id) is Role.DJ
    assert room.role_of(LISTENER.id) is Role.HOST
    assert LISTENER.id not in room.djs


def test_a_dj_can_be_made_a_listener_again() -> None:
    room = step(party(policy=DJS_ONLY), SetRole(HOST, DJ.id, Role.LISTENER), 1.0)
    assert room.role_of(DJ.id) is Role.LISTENER
    room = step(room, Enqueue(HOST, (track(1),)), 2.0)
    refuse(room, Pause(DJ), 3.0, ErrorCode.FORBIDDEN)


def test_the_host_cannot_be_demoted_directly() -> None:
    room = party()
    refuse(room, SetRole(HOST, HOST.id, Role.DJ), 1.0, ErrorCode.INVALID_ARGUMENT)
    refuse(room, SetRole(HOST, HOST.id, Role.LISTENER), 1.0, ErrorCode.INVALID_ARGUMENT)


@pytest.mark.parametrize(("user", "role"), [("", Role.DJ), ("l", "boss"), ("a\nb", Role.DJ)])
def test_set_role_arguments(user: str, role: Any) -> None:
    refuse(party(), SetRole(HOST, user, role), 1.0, ErrorCode.INVALID_ARGUMENT)


@pytest.mark.parametrize("policy", [Policy(), DJS_ONLY], ids=["everyone", "djs"])
@pytest.mark.parametrize("actor", [DJ, LISTENER, Actor("x", "Stranger")], ids=lambda a: a.id)
def test_only_the_host_or_an_admin_changes_roles_and_policy(policy: Policy, actor: Actor) -> None:
    room = party(100.0, policy=policy)
    refuse(room, SetRole(actor, LISTENER.id, Role.DJ), 1.0, ErrorCode.FORBIDDEN)
    refuse(room, SetRole(actor, actor.id, Role.HOST), 1.0, ErrorCode.FORBIDDEN)
    refuse(room, SetPolicy(actor, Policy(autoplay=False)), 1.0, ErrorCode.FORBIDDEN)


@pytest.mark.parametrize("actor", [HOST, ADMIN], ids=lambda a: a.id)
def test_the_host_and_an_admin_change_roles_and_policy(actor: Actor) -> None:
    room = party(100.0)
    room = step(room, SetRole(actor, LISTENER.id, Role.DJ), 1.0)
    assert room.role_of(LISTENER.id) is Role.DJ
    room, events = room.apply(SetPolicy(actor, DJS_ONLY), 2.0)
    (event,) = events
    assert isinstance(event, PolicyChanged)
    assert event.policy == DJS_ONLY
    assert room.policy == DJS_ONLY


def test_set_policy_needs_a_policy() -> None:
    bad: Any = {"control": "djs"}
    refuse(party(), SetPolicy(HOST, bad), 1.0, ErrorCode.INVALID_ARGUMENT)


# -- who may do what ---------------------------------------------------------------------------
def controlled() -> Room:
    """DJs-only room playing e1 (the host's), then e2 (the host's) and e3 (Oli's, a listener)."""
    room = party(100.0, 100.0, policy=DJS_ONLY)
    room = step(room, Join(OTHER))
    return step(room, Enqueue(OTHER, (track(3),)))


CONTROL_COMMANDS = [
    Pause(LISTENER),
    Seek(LISTENER, 50.0),
    Seek(LISTENER, 10.0, relative=True),
    Skip(LISTENER),
    Previous(LISTENER),
    Stop(LISTENER),
    Clear(LISTENER),
    Shuffle(LISTENER, 1),
    Move(LISTENER, "e3", 0),
    PlayEntry(LISTENER, "e2"),
    SetRepeat(LISTENER, RepeatMode.ALL),
    Remove(LISTENER, "e2"),
    Remove(LISTENER, "e3"),
]
CONTROL_IDS = [
    "pause",
    "seek",
    "seek+10",
    "skip",
    "previous",
    "stop",
    "clear",
    "shuffle",
    "move",
    "play-entry",
    "repeat",
    "remove-hosts-entry",
    "remove-olis-entry",
]


@pytest.mark.parametrize("command", CONTROL_COMMANDS, ids=CONTROL_IDS)
def test_a_listener_cannot_control_a_djs_only_room(command: Command) -> None:
    refuse(controlled(), command, 10.0, ErrorCode.FORBIDDEN)


def test_a_listener_cannot_resume_a_djs_only_room() -> None:
    room = step(controlled(), Pause(HOST), 5.0)
    refuse(room, Play(LISTENER), 10.0, ErrorCode.FORBIDDEN)


def test_someone_who_never_joined_counts_as_a_listener() -> None:
    refuse(controlled(), Pause(Actor("x", "Stranger")), 10.0, ErrorCode.FORBIDDEN)


@pytest.mark.parametrize("command", CONTROL_COMMANDS, ids=CONTROL_IDS)
@pytest.mark.parametrize("actor", [HOST, DJ, ADMIN], ids=lambda a: a.id)
def test_djs_the_host_and_admins_control_a_djs_only_room(actor: Actor, command: Command) -> None:
    _, events = controlled().apply(replace(command, by=actor), 10.0)
    assert events
    assert events[0].by == actor.id


@pytest.mark.parametrize("command", CONTROL_COMMANDS, ids=CONTROL_IDS)
def test_anyone_controls_an_everyone_room(command: Command) -> None:
    room = party(100.0, 100.0)
    room = step(room, Join(OTHER))
    room = step(room, Enqueue(OTHER, (track(3),)))
    _, events = room.apply(command, 10.0)
    assert events
    assert events[0].by == LISTENER.id


def test_a_listener_can_queue_in_a_djs_only_room() -> None:
    room, events = controlled().apply(Enqueue(LISTENER, (track(4),)), 10.0)
    (event,) = events
    assert isinstance(event, QueueChanged)
    assert event.by == LISTENER.id
    assert room.queue.entries[-1].added_by == LISTENER.id


def test_listeners_cannot_queue_when_the_policy_says_so() -> None:
    room = step(controlled(), SetPolicy(HOST, Policy(ControlMode.DJS, listeners_can_queue=False)))
    refuse(room, Enqueue(LISTENER, (track(4),)), 10.0, ErrorCode.FORBIDDEN)
    # DJs still can.
    room = step(room, Enqueue(DJ, (track(4),)), 10.0)
    assert room.queue.entries[-1].added_by == DJ.id


def test_a_listener_removes_their_own_entry() -> None:
    room, events = controlled().apply(Remove(OTHER, "e3"), 10.0)
    assert ids(room.queue.entries) == ["e1", "e2"]
    assert events[0].by == OTHER.id


def test_a_listener_removes_their_own_entry_even_when_they_may_no_longer_queue() -> None:
    room = step(controlled(), SetPolicy(HOST, Policy(ControlMode.DJS, listeners_can_queue=False)))
    room = step(room, Remove(OTHER, "e3"), 10.0)
    assert ids(room.queue.entries) == ["e1", "e2"]


def test_a_listener_removing_an_unknown_entry_is_told_it_is_not_there() -> None:
    refuse(controlled(), Remove(LISTENER, "e42"), 10.0, ErrorCode.NOT_FOUND)


def test_a_listener_skips_their_own_entry_but_not_others() -> None:
    room = controlled()
    refuse(room, Skip(OTHER), 10.0, ErrorCode.FORBIDDEN)  # e1 is the host's
    room = step(room, Skip(HOST), 10.0)
    refuse(room, Skip(OTHER), 20.0, ErrorCode.FORBIDDEN)  # e2 is the host's
    room = step(room, Skip(HOST), 20.0)
    assert current_id(room) == "e3"
    refuse(room, Skip(LISTENER), 30.0, ErrorCode.FORBIDDEN)  # e3 is Oli's, not Lee's
    room = step(room, Skip(OTHER), 30.0)
    assert room.status is IDLE


def test_a_listener_may_not_pause_their_own_entry() -> None:
    room = step(step(controlled(), Skip(HOST), 10.0), Skip(HOST), 20.0)
    assert current_id(room) == "e3"
    refuse(room, Pause(OTHER), 30.0, ErrorCode.FORBIDDEN)


def test_a_policy_built_from_plain_strings_behaves_like_one_built_from_enums() -> None:
    # Policy validates `control` with ControlMode(...), so it accepts "everyone"; the two policies
    # compare equal, and they must grant the same rights.
    loose: Any = "everyone"
    policy = Policy(control=loose)
    assert policy == Policy(control=ControlMode.EVERYONE)
    room = party(100.0, policy=policy)
    room, _ = room.apply(Pause(LISTENER), 10.0)
    assert room.status is PAUSED


@pytest.mark.parametrize(
    "fields",
    [
        {"control": "bogus"},
        {"listeners_can_queue": 1},
        {"autoplay": "yes"},
        {"max_queue": 0},
        {"max_queue": 10_001},
        {"max_queue": 2.5},
        {"max_queue": True},
        {"max_queue": float("nan")},
    ],
    ids=repr,
)
def test_a_policy_refuses_bad_settings_with_a_domain_error(fields: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as info:
        Policy(**fields)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT


# -- versions and events -----------------------------------------------------------------------
def test_the_version_rises_by_one_per_event() -> None:
    room = Room.create("lobby", "Lobby", 0.0)
    assert room.version == 0
    script: list[tuple[Command, float, int]] = [
        (Join(HOST), 0.0, 1),
        (Join(LISTENER), 0.0, 1),
        (Enqueue(HOST, (track(1), track(2))), 1.0, 2),  # added, then autoplay
        (Pause(HOST), 2.0, 1),
        (Join(LISTENER), 3.0, 0),  # no change
        (Play(HOST), 4.0, 1),
        (Remove(HOST, "e1"), 5.0, 2),  # removed, then moved on
        (Leave(HOST), 6.0, 2),  # left, then the host role handed on
        (Leave(HOST), 7.0, 0),  # already gone
        (TrackEnded(entry_id="e2"), 105.0, 1),
    ]
    for command, now, count in script:
        after, events = room.apply(command, now)
        assert len(events) == count, command
        assert after.version == room.version + count
        assert [e.version for e in events] == list(range(room.version + 1, after.version + 1))
        room = after
    assert room.version == 11


def test_errors_do_not_change_the_version() -> None:
    room = room_in(PLAYING)
    version = room.version
    for command in (Play(HOST), Seek(HOST, float("nan")), Remove(HOST, "e9"), Move(HOST, "e1", 0)):
        with pytest.raises(DomainError):
            room.apply(command, 10.0)
    after = step(room, Pause(HOST), 10.0)
    assert after.version == version + 1


def test_events_say_who_did_it_and_where() -> None:
    room = party(100.0, 100.0)
    _, events = room.apply(Pause(DJ), 10.0)
    event = only_playback(events)
    assert (event.room_id, event.by, event.by_name) == ("lobby", "d", "Dev")
    assert event.status is PAUSED
    assert event.entry == room.queue.current
    _, events = room.apply(Skip(Actor("u7")), 10.0)
    assert (events[0].by, events[0].by_name) == ("u7", "u7")
    other = step(Room.create("den", "Den", 0.0), Join(HOST))
    _, events = other.apply(Join(LISTENER), 1.0)
    assert (events[0].room_id, events[0].by, events[0].by_name) == ("den", "l", "Lee")


def test_queue_events_carry_the_whole_queue() -> None:
    room, events = party(100.0).apply(Enqueue(DJ, (track(2),)), 1.0)
    (event,) = events
    assert isinstance(event, QueueChanged)
    assert event.queue == room.queue
    assert ids(event.queue.entries) == ["e1", "e2"]


# -- names and ids -----------------------------------------------------------------------------
BAD_NAMES: list[Any] = [
    "   ",
    "x" * 33,
    "\u0000",
    "Lee\u0000",
    "\u202eeeL",  # right-to-left override
    "zero\u200bwidth",
    "\x07bell",
    "\ue000",  # private use
    "\u0378",  # unassigned
    5,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_a_member_name_is_validated(name: Any) -> None:
    # Names are checked where an Actor is made, so no command can carry a bad one into a room.
    with pytest.raises(DomainError) as info:
        Actor("u9", name)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT


def test_a_join_without_a_name_needs_an_id_that_can_stand_in() -> None:
    refuse(party(), Join(Actor("u" * 40)), 1.0, ErrorCode.INVALID_ARGUMENT)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("x" * 32, "x" * 32),
        ("  Ana   Lee  ", "Ana Lee"),
        ("Zoë", "Zoë"),
        ("李雷", "李雷"),
        ("🎧 DJ", "🎧 DJ"),
        ("", "u9"),  # no display name: the user id stands in
    ],
)
def test_a_member_name_is_tidied(given: str, kept: str) -> None:
    room = step(party(), Join(Actor("u9", given)), 1.0)
    member = room.member("u9")
    assert member is not None
    assert member.name == kept


@pytest.mark.parametrize("name", ["x" * 33, "Lee\u0000", "\u202eeeL"], ids=repr)
def test_names_recorded_on_entries_and_events_are_valid(name: str) -> None:
    # Only Join checks the display name; every other command carries `by.name` into its events
    # and into the queue entries it adds. Whatever the room records must be a valid name.
    room = party(100.0)
    refused_with: ErrorCode | None = None
    try:
        room, events = room.apply(Enqueue(Actor(LISTENER.id, name), (track(2),)), 1.0)
    except DomainError as error:
        refused_with = error.code
    if refused_with is not None:  # refusing the name outright is fine too
        assert refused_with is ErrorCode.INVALID_ARGUMENT
        return
    recorded = [room.queue.entries[-1].added_by_name, *(e.by_name for e in events)]
    assert [value for value in recorded if not accepted_as_name(value)] == []


def accepted_as_name(value: str) -> bool:
    """Would Join take `value` as a display name?"""
    try:
        Room.create("probe", "Probe", 0.0).apply(Join(Actor("u1", value)), 0.0)
    except DomainError:
        return False
    return True


@pytest.mark.parametrize("name", ["Lobby", "x" * 64, "  Friday   night  "])
def test_a_room_name_is_tidied(name: str) -> None:
    room = Room.create("lobby", name, 0.0)
    assert room.name == " ".join(name.split())


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "\u202eybbol", "a\u0000", None], ids=repr)
def test_a_room_name_is_validated(name: Any) -> None:
    with pytest.raises(DomainError) as info:
        Room.create("lobby", name, 0.0)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT


@pytest.mark.parametrize("room_id", ["a", "0", "lobby", "room-1_b", "x" * 64])
def test_a_good_room_id(room_id: str) -> None:
    assert Room.create(room_id, "Room", 0.0).id == room_id


@pytest.mark.parametrize(
    "room_id",
    [
        "",
        "Lobby",
        "-lobby",
        "_lobby",
        "a b",
        "x" * 65,
        "lobby/x",
        "../lobby",
        "café",
        "lobby\n",
        "\nlobby",
        5,
        None,
    ],
    ids=repr,
)
def test_a_bad_room_id(room_id: Any) -> None:
    with pytest.raises(DomainError) as info:
        Room.create(room_id, "Room", 0.0)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT


@pytest.mark.parametrize("now", BAD_NUMBERS, ids=repr)
def test_a_room_is_created_at_a_finite_time(now: Any) -> None:
    with pytest.raises(DomainError) as info:
        Room.create("lobby", "Lobby", now)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT


@pytest.mark.parametrize("user_id", ["", "a\nb", "x" * 129, None, 7], ids=repr)
def test_an_actor_needs_a_printable_id(user_id: Any) -> None:
    with pytest.raises(DomainError) as info:
        Actor(user_id, "Name")
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
