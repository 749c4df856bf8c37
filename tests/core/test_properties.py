"""Properties that hold for any sequence of commands, checked with Hypothesis.

The room machine below applies random commands (some by people who may not issue them, some with
absurd arguments) at a clock that only moves forward, catches every `DomainError`, and checks after
each step that nothing was lost, duplicated or half-changed.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shared.core import (
    HISTORY_LIMIT,
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
    Move,
    Pause,
    Play,
    PlaybackClock,
    PlayEntry,
    Policy,
    Previous,
    QueueChanged,
    Remove,
    RepeatMode,
    Role,
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
)

HOST = Actor("h", "Hana")
DJ = Actor("d", "Dev")
LEE = Actor("l", "Lee")
OLI = Actor("o", "Oli")
ADMIN = Actor("a", "Ada", admin=True)
ACTORS = [HOST, DJ, LEE, OLI, ADMIN]

# Short tracks, so that random time steps cross track ends; all lengths are exact binary fractions.
TRACKS = [
    TrackRef("t1", 1.0),
    TrackRef("t2", 2.5),
    TrackRef("t3", 30.0),
    TrackRef("t4", 0.25),
    TrackRef("t5", 180.0),
]

actors = st.sampled_from(ACTORS)
policies = st.builds(
    Policy,
    control=st.sampled_from(ControlMode),
    listeners_can_queue=st.booleans(),
    autoplay=st.booleans(),
    max_queue=st.sampled_from([2, 5]) | st.just(500),
)
picks = st.integers(min_value=0, max_value=10_000)
positions = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, 2.0, -10.0, 10.0, 29.9, 1e9]
)
time_steps = st.sampled_from([0.0, 0.01, 0.25, 1.0, 2.5, 3.5]) | st.floats(0.0, 400.0)


def expected_forbidden(room: Room, command: Command) -> bool | None:
    """The control policy, written out independently: True when the command must be refused as
    FORBIDDEN, False when it must not be, None when it depends on something else (a missing
    entry is reported as NOT_FOUND)."""
    actor = command.by
    if isinstance(command, Join | Leave):
        return False
    if isinstance(command, TrackEnded):
        return actor.id != "system"
    is_host = actor.id == room.host
    if isinstance(command, SetRole | SetPolicy):
        return not (actor.admin or is_host)
    if (
        actor.admin
        or is_host
        or actor.id in room.djs
        or room.policy.control is ControlMode.EVERYONE
    ):
        return False
    if isinstance(command, Enqueue):
        return not room.policy.listeners_can_queue
    if isinstance(command, Remove):
        owners = {e.id: e.added_by for e in room.queue.entries}
        return None if command.entry_id not in owners else owners[command.entry_id] != actor.id
    if isinstance(command, Skip):
        current = room.queue.current
        return current is None or current.added_by != actor.id
    return True


def attempt(
    room: Room, command: Command, now: float
) -> tuple[Room, tuple[Event, ...]] | DomainError:
    try:
        return room.apply(command, now)
    except DomainError as error:
        return error


class RoomMachine(RuleBasedStateMachine):
    room: Room
    now: float
    added: dict[str, tuple[TrackRef, str]]  # entry id -> (track, added by)
    gone: set[str]  # removed, cleared or trimmed: must never come back

    @initialize(
        policy=policies,
        tracks=st.lists(st.sampled_from(TRACKS), max_size=6),
        start=st.booleans(),
    )
    def open_room(self, policy: Policy, tracks: list[TrackRef], start: bool) -> None:
        self.now = 0.0
        self.room = Room.create("prop", "Prop", 0.0, policy=policy)
        self.added = {}
        self.gone = set()
        self.apply(Join(HOST))
        self.apply(Join(DJ))
        self.apply(SetRole(HOST, DJ.id, Role.DJ))
        if tracks:
            self.apply(Enqueue(HOST, tuple(tracks)))
        if start:
            self.apply(Play(HOST))

    # -- applying and checking ---------------------------------------------------------------
    def apply(self, command: Command) -> tuple[Event, ...] | None:
        before = self.room
        snapshot = pickle.dumps(before)  # a copy that shares nothing with `before`
        forbidden = expected_forbidden(before, command)
        outcome = attempt(before, command, self.now)
        if isinstance(outcome, DomainError):
            # (c) a refusal changes nothing, (b) so the version stays too.
            assert before == pickle.loads(snapshot)  # noqa: S301 (our own bytes)
            assert self.room is before
            if forbidden is not None:
                assert (outcome.code is ErrorCode.FORBIDDEN) == forbidden, (outcome, command)
            return None
        after, events = outcome
        assert not forbidden, f"{command} by a {before.role_of(command.by.id)} was allowed"
        # (b) every event raises the version by exactly one.
        assert after.version == before.version + len(events)
        assert [e.version for e in events] == list(range(before.version + 1, after.version + 1))
        for event in events:
            assert event.room_id == before.id
            assert event.by == command.by.id
        if not events:
            assert after == before
        self.check_entries(before, after, command, events)
        self.room = after
        return events

    def check_entries(
        self, before: Room, after: Room, command: Command, events: tuple[Event, ...]
    ) -> None:
        """(a) Entries appear only by being added and disappear only by Remove, Clear, or as the
        oldest history being trimmed."""
        changes = [e for e in events if isinstance(e, QueueChanged)]
        added = [entry for e in changes if e.action == "add" for entry in e.entries]
        dropped = {
            entry.id for e in changes if e.action in ("remove", "clear") for entry in e.entries
        }
        old = [entry.id for entry in before.queue.entries]
        new = [entry.id for entry in after.queue.entries]

        assert len(set(new)) == len(new), f"duplicate entry ids: {new}"
        for entry in added:
            assert entry.id not in self.added, f"entry id {entry.id} reused"
            assert entry.id in new
            self.added[entry.id] = (entry.track, command.by.id)
        for entry in after.queue.entries:
            assert entry.id in self.added, f"{entry.id} was never added"
            assert entry.id not in self.gone, f"{entry.id} came back"
            assert (entry.track, entry.added_by) == self.added[entry.id]

        assert dropped <= set(old)
        assert not dropped & set(new)
        if isinstance(command, Remove):
            assert dropped == {command.entry_id}
        if isinstance(command, Clear):
            assert dropped == {entry.id for entry in before.queue.upcoming}
        trimmed = set(old) - set(new) - dropped
        if trimmed:
            assert trimmed == set(old[: len(trimmed)]), "trimming must drop the oldest entries"
            assert after.queue.repeat is not RepeatMode.ALL
            assert len(after.queue.history) == HISTORY_LIMIT
        self.gone |= set(old) - set(new)

    def pick_entry(self, pick: int) -> str:
        entries = self.room.queue.entries
        if not entries or pick % 7 == 0:
            return f"e{pick}"  # usually not an entry
        return entries[pick % len(entries)].id

    # -- presence and settings ---------------------------------------------------------------
    @rule(actor=actors, name=st.sampled_from(["", "Nick", "  Spaced  Out ", "\u202ebad", "x" * 40]))
    def join(self, actor: Actor, name: str) -> None:
        try:
            who = Actor(actor.id, name or actor.name, actor.admin)
        except DomainError as error:  # a bad display name is refused before any room sees it
            assert error.code is ErrorCode.INVALID_ARGUMENT
            return
        self.apply(Join(who))

    @rule(actor=actors)
    def leave(self, actor: Actor) -> None:
        self.apply(Leave(actor))

    @rule(actor=actors, whom=actors, role=st.sampled_from(Role))
    def set_role(self, actor: Actor, whom: Actor, role: Role) -> None:
        self.apply(SetRole(actor, whom.id, role))

    @rule(actor=actors, policy=policies)
    def set_policy(self, actor: Actor, policy: Policy) -> None:
        self.apply(SetPolicy(actor, policy))

    # -- the queue ---------------------------------------------------------------------------
    @rule(
        actor=actors,
        tracks=st.lists(st.sampled_from(TRACKS), min_size=1, max_size=4),
        at=st.none() | st.integers(min_value=-1, max_value=8),
    )
    def enqueue(self, actor: Actor, tracks: list[TrackRef], at: int | None) -> None:
        self.apply(Enqueue(actor, tuple(tracks), at))

    @rule(count=st.integers(min_value=HISTORY_LIMIT - 20, max_value=HISTORY_LIMIT + 40))
    def enqueue_a_long_playlist(self, count: int) -> None:
        self.apply(Enqueue(HOST, (TRACKS[3],) * count))

    @rule(actor=actors, pick=picks)
    def remove(self, actor: Actor, pick: int) -> None:
        self.apply(Remove(actor, self.pick_entry(pick)))

    @rule(actor=actors, pick=picks, to=st.integers(min_value=-1, max_value=4))
    def move(self, actor: Actor, pick: int, to: int) -> None:
        self.apply(Move(actor, self.pick_entry(pick), to))

    @rule(actor=actors)
    def clear(self, actor: Actor) -> None:
        self.apply(Clear(actor))

    @rule(actor=actors, seed=st.integers())
    def shuffle(self, actor: Actor, seed: int) -> None:
        before = self.room.queue
        events = self.apply(Shuffle(actor, seed))
        if events is not None:
            after = self.room.queue
            assert after.history == before.history
            assert after.current == before.current
            assert sorted(e.id for e in after.upcoming) == sorted(e.id for e in before.upcoming)

    @rule(actor=actors, mode=st.sampled_from(RepeatMode))
    def repeat(self, actor: Actor, mode: RepeatMode) -> None:
        self.apply(SetRepeat(actor, mode))

    # -- playback ----------------------------------------------------------------------------
    @rule(actor=actors)
    def play(self, actor: Actor) -> None:
        self.apply(Play(actor))

    @rule(actor=actors)
    def pause(self, actor: Actor) -> None:
        self.apply(Pause(actor))

    @rule(actor=actors)
    def stop(self, actor: Actor) -> None:
        self.apply(Stop(actor))

    @rule(actor=actors)
    def skip(self, actor: Actor) -> None:
        self.apply(Skip(actor))

    @rule(actor=actors)
    def previous(self, actor: Actor) -> None:
        self.apply(Previous(actor))

    @rule(actor=actors, pick=picks)
    def play_entry(self, actor: Actor, pick: int) -> None:
        self.apply(PlayEntry(actor, self.pick_entry(pick)))

    @rule(actor=actors, position=positions, relative=st.booleans())
    def seek(self, actor: Actor, position: float, relative: bool) -> None:
        events = self.apply(Seek(actor, position, relative))
        if events is None:
            return
        assert math.isfinite(position)
        current = self.room.queue.current
        assert current is not None
        assert 0.0 <= self.room.position(self.now) <= current.track.duration
        if not relative:
            assert self.room.position(self.now) == min(max(position, 0.0), current.track.duration)

    @rule()
    def track_ends(self) -> None:
        """The service's timer: fires at the deadline (or now, if time already passed it)."""
        deadline = self.room.deadline()
        current = self.room.queue.current
        if deadline is None or current is None:
            return
        self.now = max(self.now, deadline)
        events = self.apply(TrackEnded(entry_id=current.id))
        assert events is not None, "the timer's TrackEnded at the deadline was refused"
        # The next track is anchored where the last one ended (or later when several passed),
        # never at the moment the timer happened to fire.
        if self.room.status is Status.PLAYING:
            assert deadline <= self.room.clock.anchor <= self.now + 1e-6 * max(1.0, self.now)

    @rule(pick=picks)
    def stale_track_end(self, pick: int) -> None:
        """A timer for the wrong entry, or one that fires well before the deadline."""
        current = self.room.queue.current
        deadline = self.room.deadline()
        entry_id = self.pick_entry(pick)
        is_early = deadline is not None and self.now < deadline - 0.05
        if current is not None and entry_id == current.id and not is_early:
            return  # that would be a genuine track end
        outcome = attempt(self.room, TrackEnded(entry_id=entry_id), self.now)
        assert isinstance(outcome, DomainError), f"stale TrackEnded({entry_id!r}) was accepted"
        playing = self.room.status is Status.PLAYING
        assert outcome.code is (ErrorCode.STALE if playing else ErrorCode.ILLEGAL_STATE)

    @rule(dt=time_steps)
    def time_passes(self, dt: float) -> None:
        """(d) Between commands the position only moves forward while playing, not at all
        otherwise, and stays within the track."""
        start, end = self.now, self.now + dt
        samples = [start + dt * k / 4 for k in range(4)] + [end]
        seen = [self.room.position(t) for t in samples]
        if self.room.status is Status.PLAYING:
            assert seen == sorted(seen), seen
        else:
            assert len(set(seen)) == 1, seen
        current = self.room.queue.current
        if current is not None:
            assert all(0.0 <= p <= current.track.duration for p in seen)
        self.now = end

    # -- always ------------------------------------------------------------------------------
    @invariant()
    def consistent(self) -> None:
        """(e) The cursor is in range and a playing or paused room has a current entry whose
        length the clock knows."""
        room = self.room
        queue = room.queue
        assert 0 <= queue.cursor <= len(queue.entries)
        ids = [entry.id for entry in queue.entries]
        assert len(set(ids)) == len(ids)
        if room.status is Status.IDLE:
            assert room.deadline() is None
            assert not room.clock.playing
            return
        assert queue.current is not None
        assert room.clock.duration == queue.current.track.duration
        assert room.clock.playing is (room.status is Status.PLAYING)
        assert 0.0 <= room.position(self.now) <= queue.current.track.duration
        if room.status is Status.PAUSED:
            assert room.deadline() is None
        else:
            deadline = room.deadline()
            assert deadline is not None
            assert math.isclose(room.position(deadline), queue.current.track.duration)

    @invariant()
    def presence(self) -> None:
        room = self.room
        ids = [m.id for m in room.members]
        assert len(set(ids)) == len(ids)
        assert (room.empty_since is None) is bool(room.members)
        # Someone hosts while anyone is here; a host who left an empty room handed nothing on.
        if room.members:
            assert room.host is not None


RoomMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRoomMachine = RoomMachine.TestCase


# -- the clock alone -----------------------------------------------------------------------------
durations = st.floats(min_value=0.01, max_value=1e5)
instants = st.floats(min_value=-1e6, max_value=1e6)
gaps = st.lists(st.floats(min_value=0.0, max_value=1e4), max_size=12)


@settings(max_examples=200, deadline=None, database=None)
@given(
    duration=durations,
    start_at=st.floats(min_value=-10.0, max_value=1.1e5),
    anchor=instants,
    gaps=gaps,
)
def test_a_playing_clock_moves_forward_within_the_track(
    duration: float, start_at: float, anchor: float, gaps: list[float]
) -> None:
    clock = PlaybackClock().start(duration, anchor, start_at)
    assert clock.position_at(anchor) == min(max(start_at, 0.0), duration)
    times = [anchor]
    for gap in gaps:
        times.append(times[-1] + gap)
    seen = [clock.position_at(t) for t in times]
    assert seen == sorted(seen)
    assert all(0.0 <= p <= duration for p in seen)
    deadline = clock.deadline()
    assert deadline is not None
    assert deadline >= anchor
    assert clock.position_at(deadline + 1.0) == duration


@settings(max_examples=200, deadline=None, database=None)
@given(
    duration=durations,
    anchor=instants,
    pause_after=st.floats(min_value=0.0, max_value=2e5),
    later=st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=8),
    resume_after=st.floats(min_value=0.0, max_value=1e6),
)
def test_pause_freezes_and_resume_continues(
    duration: float, anchor: float, pause_after: float, later: list[float], resume_after: float
) -> None:
    clock = PlaybackClock().start(duration, anchor)
    paused_at = anchor + pause_after
    held = clock.position_at(paused_at)
    paused = clock.paused(paused_at)
    assert paused.deadline() is None
    assert all(paused.position_at(t) == held for t in [paused_at, *later])
    resumed_at = paused_at + resume_after
    resumed = paused.resumed(resumed_at)
    assert resumed.position_at(resumed_at) == held
    deadline = resumed.deadline()
    assert deadline is not None
    assert math.isclose(deadline - resumed_at, duration - held, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=200, deadline=None, database=None)
@given(
    duration=durations,
    playing=st.booleans(),
    target=st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.none()
    | st.booleans()
    | st.text(max_size=3),
    now=instants,
)
def test_seek_lands_in_the_track_or_is_refused(
    duration: float, playing: bool, target: Any, now: float
) -> None:
    clock = PlaybackClock().start(duration, 0.0)
    if not playing:
        clock = clock.paused(0.0)
    valid = (
        isinstance(target, int | float)
        and not isinstance(target, bool)
        and math.isfinite(float(target))
    )
    try:
        moved = clock.seeked(target, now)
    except DomainError as error:
        refused: ErrorCode | None = error.code
    else:
        refused = None
    if refused is not None:
        assert refused is ErrorCode.INVALID_ARGUMENT
        assert not valid, f"refused {target!r}"
        return
    assert valid, f"accepted {target!r}"
    assert moved.playing is playing
    assert moved.position_at(now) == min(max(float(target), 0.0), duration)


# -- catching up after a long gap ----------------------------------------------------------------
quarters = st.integers(min_value=1, max_value=200).map(lambda n: n / 4)  # exact in binary


@settings(max_examples=200, deadline=None, database=None)
@given(
    lengths=st.lists(quarters, min_size=1, max_size=8),
    repeat=st.sampled_from(RepeatMode),
    late=st.integers(min_value=0, max_value=4 * 2000).map(lambda n: n / 4),
    cycles=st.integers(min_value=0, max_value=10**6),
)
# e1..e3 loop every 7 s; e1 ends at 4, so e2 starts again at 4 + 7k.
@example(lengths=[4.0, 2.0, 1.0], repeat=RepeatMode.ALL, late=7.0, cycles=0)  # exactly one loop
@example(lengths=[4.0, 2.0, 1.0], repeat=RepeatMode.ALL, late=13.0, cycles=0)  # nearly two
@example(lengths=[4.0, 2.0, 1.0], repeat=RepeatMode.OFF, late=3.0, cycles=0)  # off the end
@example(lengths=[4.0], repeat=RepeatMode.ONE, late=8.0, cycles=0)  # exactly two repeats
def test_a_late_track_end_lands_where_playing_on_would_have(
    lengths: list[float], repeat: RepeatMode, late: float, cycles: int
) -> None:
    """Whatever the gap, the room ends up on the entry (and at the position) that playing the
    queue through, track by track, would have reached."""
    room = Room.create("prop", "Prop", 0.0)
    room, _ = room.apply(SetRepeat(HOST, repeat), 0.0)
    tracks = tuple(TrackRef(f"t{n}", length) for n, length in enumerate(lengths))
    room, _ = room.apply(Enqueue(HOST, tracks), 0.0)  # e1 plays from 0

    # Play on, one track at a time, from e1's start.
    index: int | None = 0
    start = 0.0
    now = lengths[0] + late
    while index is not None and start + lengths[index] <= now:
        start += lengths[index]
        if repeat is RepeatMode.OFF:
            index = index + 1 if index + 1 < len(lengths) else None
        elif repeat is RepeatMode.ALL:
            index = (index + 1) % len(lengths)
    # Whole extra loops of a repeating queue change nothing but the time.
    loop = {RepeatMode.OFF: 0.0, RepeatMode.ONE: lengths[0], RepeatMode.ALL: sum(lengths)}[repeat]
    now += cycles * loop
    start += cycles * loop

    room, events = room.apply(TrackEnded(entry_id="e1"), now)
    assert len(events) == 1
    if index is None:
        assert room.status is Status.IDLE
        assert room.queue.current is None
        return
    current = room.queue.current
    assert room.status is Status.PLAYING
    assert current is not None
    assert current.id == f"e{index + 1}"
    assert room.clock.anchor == start
    assert room.position(now) == now - start
    assert room.deadline() == start + lengths[index]
