"""The room: a state machine over idle / playing / paused, driven by commands.

`Room.apply(command, now)` returns the next room and the events that describe the change, or raises
a `DomainError` and changes nothing (rooms are immutable values). Which command is legal in which
state is the table `TRANSITIONS`; who may issue it is `authorize`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import commands as c
from .clock import PlaybackClock
from .errors import DomainError, ErrorCode, invalid
from .events import (
    Event,
    MemberJoined,
    MemberLeft,
    MemberRenamed,
    PlaybackChanged,
    PolicyChanged,
    QueueChanged,
    RoleChanged,
)
from .members import Actor, ControlMode, Member, Policy, Role, member_name
from .queue import HISTORY_LIMIT, Queue, RepeatMode, TrackRef
from .status import Status
from .validate import clean_name, finite_number, identifier

# `previous` more than this far into a track restarts it instead of going back (as most players do).
RESTART_THRESHOLD = 3.0
# A track-end timer may fire a hair early; it still counts as the end.
END_TOLERANCE = 0.05
ROOM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ROOM_NAME_MAX = 64

Result = tuple["Room", list[Event]]
Handler = Callable[["Room", Any, float], Result]


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str
    private: bool = False
    status: Status = Status.IDLE
    clock: PlaybackClock = field(default_factory=PlaybackClock)
    queue: Queue = field(default_factory=Queue)
    members: tuple[Member, ...] = ()
    host: str | None = None
    djs: frozenset[str] = frozenset()
    policy: Policy = field(default_factory=Policy)
    version: int = 0
    empty_since: float | None = None
    next_member_seq: int = 1
    keep: bool = False  # never closed for being empty (e.g. the room of a Discord channel)

    @classmethod
    def create(
        cls,
        room_id: str,
        name: str,
        now: float,
        policy: Policy | None = None,
        private: bool = False,
    ) -> Room:
        if not isinstance(room_id, str) or not ROOM_ID.fullmatch(room_id):
            raise invalid("room id must be 1-64 characters: lower-case letters, digits, '-' or '_'")
        return cls(
            id=room_id,
            name=clean_name(name, "room name", ROOM_NAME_MAX),
            private=bool(private),
            policy=policy or Policy(),
            empty_since=finite_number(now, "now"),
        )

    # -- views -------------------------------------------------------------------------------
    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.id == user_id), None)

    def role_of(self, user_id: str) -> Role:
        if user_id == self.host:
            return Role.HOST
        return Role.DJ if user_id in self.djs else Role.LISTENER

    def position(self, now: float) -> float:
        return self.clock.position_at(now)

    def deadline(self) -> float | None:
        """When the service's timer must send `TrackEnded`; None when nothing will end."""
        return self.clock.deadline() if self.status is Status.PLAYING else None

    def expired(self, now: float, grace: float) -> bool:
        """Empty for at least `grace` seconds: the service may forget the room."""
        return (
            not self.keep
            and not self.members
            and self.empty_since is not None
            and now - self.empty_since >= grace
        )

    def can_control(self, actor: Actor) -> bool:
        return (
            actor.admin
            or self.policy.control is ControlMode.EVERYONE
            or self.role_of(actor.id) is not Role.LISTENER
        )

    # -- the one way in ----------------------------------------------------------------------
    def apply(self, command: c.Command, now: float) -> tuple[Room, tuple[Event, ...]]:
        now = finite_number(now, "now")
        authorize(self, command)
        handler = TRANSITIONS.get(type(command), {}).get(self.status)
        if handler is None:
            raise DomainError(ErrorCode.ILLEGAL_STATE, _illegal_message(self, command))
        room, events = handler(self, command, now)
        version = self.version
        numbered = []
        for event in events:
            version += 1
            numbered.append(replace(event, version=version))
        return replace(room, version=version), tuple(numbered)


# -- permissions -------------------------------------------------------------------------------
def authorize(room: Room, command: c.Command) -> None:
    actor = command.by
    if isinstance(command, c.Join | c.Leave):
        return
    if isinstance(command, c.TrackEnded | c.VacateHost):
        if actor.id != "system":
            raise _forbidden("only the server does this")
        return
    if isinstance(command, c.SetRole | c.SetPolicy):
        if not (actor.admin or room.role_of(actor.id) is Role.HOST):
            raise _forbidden("only the host can change roles and room settings")
        return
    if room.can_control(actor):
        return
    if isinstance(command, c.Enqueue) and room.policy.listeners_can_queue:
        return
    own: str | None = None
    if isinstance(command, c.Remove):
        own = room.queue.entry(command.entry_id).added_by
    elif isinstance(command, c.Skip) and room.queue.current is not None:
        own = room.queue.current.added_by
    if own == actor.id:
        return  # anyone may drop or skip the track they queued themselves
    raise _forbidden("only the host and DJs control this room")


def _forbidden(message: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message)


def _illegal_message(room: Room, command: c.Command) -> str:
    what = type(command).__name__.lower()
    if isinstance(command, c.Play):
        return "already playing"
    if isinstance(command, c.Pause) and room.status is Status.PAUSED:
        return "already paused"
    if isinstance(command, c.Pause | c.Seek | c.Stop | c.Skip):
        return f"cannot {what}: nothing is playing"
    if isinstance(command, c.TrackEnded):
        return "no track is playing"
    return f"cannot {what} while {room.status.value}"


# -- helpers -----------------------------------------------------------------------------------
def _event(room: Room, command: c.Command, kind: type[Event], **fields: Any) -> Event:
    by = command.by
    return kind(room_id=room.id, version=0, by=by.id, by_name=by.name or by.id, **fields)


def _playback(room: Room, command: c.Command, action: str) -> Event:
    return _event(
        room,
        command,
        PlaybackChanged,
        action=action,
        status=room.status,
        clock=room.clock,
        entry=room.queue.current,
    )


def _enter(room: Room, queue: Queue, now: float, *, playing: bool) -> Room:
    """Make `queue.current` the sounding track from its start; idle when there is none."""
    entry = queue.current
    if entry is None:
        return replace(room, queue=queue, status=Status.IDLE, clock=room.clock.stopped(now))
    clock = room.clock.start(entry.track.duration, now)
    if not playing:
        return replace(room, queue=queue, status=Status.PAUSED, clock=clock.paused(now))
    return replace(room, queue=queue, status=Status.PLAYING, clock=clock)


# -- playback handlers -------------------------------------------------------------------------
def _start(room: Room, command: c.Play, now: float) -> Result:
    queue = room.queue
    if queue.current is None:
        queue = queue.following(track_ended=False)  # wraps to the top when repeating all
        if queue.current is None:
            ended = "the queue has ended" if queue.entries else "the queue is empty"
            raise DomainError(ErrorCode.NOTHING_TO_PLAY, f"{ended}: add a track first")
    room = _enter(room, queue, now, playing=True)
    return room, [_playback(room, command, "play")]


def _resume(room: Room, command: c.Play, now: float) -> Result:
    room = replace(room, status=Status.PLAYING, clock=room.clock.resumed(now))
    return room, [_playback(room, command, "resume")]


def _pause(room: Room, command: c.Pause, now: float) -> Result:
    room = replace(room, status=Status.PAUSED, clock=room.clock.paused(now))
    return room, [_playback(room, command, "pause")]


def _seek(room: Room, command: c.Seek, now: float) -> Result:
    target = finite_number(command.position, "seek position")
    if command.relative:
        target += room.clock.position_at(now)
    room = replace(room, clock=room.clock.seeked(target, now))
    return room, [_playback(room, command, "seek")]


def _stop(room: Room, command: c.Stop, now: float) -> Result:
    room = replace(room, status=Status.IDLE, clock=room.clock.stopped(now))
    return room, [_playback(room, command, "stop")]


def _skip(room: Room, command: c.Skip, now: float) -> Result:
    queue = room.queue.following(track_ended=False)
    room = _enter(room, queue, now, playing=room.status is not Status.PAUSED)
    return room, [_playback(room, command, "skip")]


def _previous(room: Room, command: c.Previous, now: float) -> Result:
    playing = room.status is not Status.PAUSED
    current = room.queue.current
    back = room.queue.preceding()
    far_in = room.status is not Status.IDLE and room.clock.position_at(now) > RESTART_THRESHOLD
    if current is not None and (far_in or back is None):
        room = _enter(room, room.queue, now, playing=playing)
        return room, [_playback(room, command, "restart")]
    if back is None:
        raise DomainError(ErrorCode.NOTHING_TO_PLAY, "there is no previous track")
    room = _enter(room, back, now, playing=playing)
    return room, [_playback(room, command, "previous")]


def _jump(room: Room, command: c.PlayEntry, now: float) -> Result:
    index = room.queue.index_of(identifier(command.entry_id, "entry id"))
    room = _enter(room, room.queue.at(index), now, playing=True)
    return room, [_playback(room, command, "jump")]


def _track_ended(room: Room, command: c.TrackEnded, now: float) -> Result:
    current = room.queue.current
    deadline = room.clock.deadline()
    if current is None or current.id != command.entry_id or deadline is None:
        raise DomainError(ErrorCode.STALE, "that track is no longer playing")
    if now < deadline - END_TOLERANCE:
        raise DomainError(ErrorCode.STALE, "the track has not ended yet")
    queue, start = _catch_up(room.queue, deadline, now)
    # The next track starts at the old one's deadline, not when the timer fired, so timer
    # lateness (or a restart spanning several tracks) never shifts the room's clock.
    room = _enter(room, queue, start, playing=True)
    return room, [_playback(room, command, "advance")]


def _catch_up(queue: Queue, start: float, now: float) -> tuple[Queue, float]:
    """Advance past every track that would have ended by `now`; return the queue and the start
    time of the entry that is current at `now`."""
    queue = queue.following(track_ended=True)
    cycle = _cycle_length(queue)
    if cycle is not None and now - start > cycle:
        start += math.floor((now - start) / cycle) * cycle  # whole repeats change nothing
    for _ in range(len(queue.entries) + 1):
        entry = queue.current
        if entry is None or start + entry.track.duration > now:
            break
        start += entry.track.duration
        queue = queue.following(track_ended=True)
    return queue, start


def _cycle_length(queue: Queue) -> float | None:
    if queue.repeat is RepeatMode.ONE and queue.current is not None:
        return queue.current.track.duration
    if queue.repeat is RepeatMode.ALL and queue.entries:
        return sum(entry.track.duration for entry in queue.entries)
    return None


# -- queue handlers ----------------------------------------------------------------------------
def _enqueue(room: Room, command: c.Enqueue, now: float) -> Result:
    if not isinstance(command.tracks, tuple | list) or not all(
        isinstance(track, TrackRef) for track in command.tracks
    ):
        raise invalid("tracks must be a list of tracks")
    limit = room.policy.max_queue
    # Upcoming entries are limited by queue.add; this bounds history + current + upcoming too
    # (a queue that repeats all keeps its whole history).
    if len(room.queue.entries) + len(command.tracks) > limit + HISTORY_LIMIT + 1:
        raise DomainError(ErrorCode.QUEUE_FULL, f"the queue holds at most {limit} tracks")
    was_at_end = room.queue.current is None
    queue, added = room.queue.add(
        command.tracks, command.by.id, command.by.name or command.by.id, command.at, limit
    )
    room = replace(room, queue=queue)
    events = [_event(room, command, QueueChanged, action="add", entries=added, queue=queue)]
    if room.status is Status.IDLE and was_at_end and room.policy.autoplay:
        room = _enter(room, queue, now, playing=True)
        events.append(_playback(room, command, "play"))
    return room, events


def _remove(room: Room, command: c.Remove, now: float) -> Result:
    entry = room.queue.entry(command.entry_id)
    was_current = entry is room.queue.current
    queue = room.queue.remove(entry.id)
    if was_current and queue.current is None and queue.repeat is RepeatMode.ALL and queue.entries:
        queue = queue.at(0)  # like a skip: a looping queue goes round
    room = replace(room, queue=queue)
    events = [_event(room, command, QueueChanged, action="remove", entries=(entry,), queue=queue)]
    if was_current and room.status is not Status.IDLE:
        room = _enter(room, queue, now, playing=room.status is Status.PLAYING)
        events.append(_playback(room, command, "remove"))
    return room, events


def _queue_edit(action: str) -> Handler:
    def handle(room: Room, command: Any, now: float) -> Result:
        queue = room.queue
        touched: tuple[Any, ...] = ()
        if isinstance(command, c.Move):
            touched = (queue.entry(command.entry_id),)
            queue = queue.move(command.entry_id, command.to)
        elif isinstance(command, c.Clear):
            queue, touched = queue.clear()
        elif isinstance(command, c.Shuffle):
            if isinstance(command.seed, bool) or not isinstance(command.seed, int):
                raise invalid("shuffle seed must be a whole number")
            queue = queue.shuffle(command.seed)
        elif isinstance(command, c.SetRepeat):
            try:
                queue = queue.with_repeat(RepeatMode(command.mode))
            except ValueError:
                raise invalid("repeat must be off, one or all") from None
        room = replace(room, queue=queue)
        return room, [
            _event(room, command, QueueChanged, action=action, entries=touched, queue=queue)
        ]

    return handle


# -- presence and settings ---------------------------------------------------------------------
def _join(room: Room, command: c.Join, now: float) -> Result:
    name = member_name(command.by)
    present = room.member(command.by.id)
    if present is not None:
        if present.name == name:
            return room, []
        renamed = replace(present, name=name)
        members = tuple(renamed if m.id == present.id else m for m in room.members)
        room = replace(room, members=members)
        return room, [_event(room, command, MemberRenamed, member=renamed)]
    member = Member(command.by.id, name, room.next_member_seq)
    room = replace(
        room,
        members=(*room.members, member),
        next_member_seq=room.next_member_seq + 1,
        host=room.host if room.host is not None else member.id,
        empty_since=None,
    )
    return room, [_event(room, command, MemberJoined, member=member, role=room.role_of(member.id))]


def _leave(room: Room, command: c.Leave, now: float) -> Result:
    member = room.member(command.by.id)
    if member is None:
        return room, []  # leaving twice is harmless (a disconnect racing an explicit leave)
    members = tuple(m for m in room.members if m.id != member.id)
    room = replace(room, members=members, empty_since=None if members else now)
    events = [_event(room, command, MemberLeft, member=member)]
    if member.id == room.host and not members:
        # The host left for good and nobody is here to take over: whoever comes next hosts.
        # (A restart clears presence without a Leave, so hosts keep their role across restarts.)
        room = replace(room, host=None)
        events.append(
            _event(room, command, RoleChanged, user_id=member.id, role=Role.LISTENER, host=None)
        )
    elif member.id == room.host:
        room, handed = _hand_host_on(room, command)
        events.extend(handed)
    return room, events


def _hand_host_on(room: Room, command: c.Command) -> tuple[Room, list[Event]]:
    """Give the host role to the DJ (or else the listener) who has been here longest."""
    heir = min(room.members, key=lambda m: (m.id not in room.djs, m.seq))
    room = replace(room, host=heir.id, djs=room.djs - {heir.id})
    return room, [_event(room, command, RoleChanged, user_id=heir.id, role=Role.HOST, host=heir.id)]


def _vacate_host(room: Room, command: c.VacateHost, now: float) -> Result:
    # A host is kept across a restart (presence is cleared without a Leave) so they find their
    # room as they left it; one who never comes back must not leave the room without a host.
    if room.host is None or room.member(room.host) is not None:
        return room, []
    if room.members:
        return _hand_host_on(room, command)
    old, room = room.host, replace(room, host=None)
    return room, [_event(room, command, RoleChanged, user_id=old, role=Role.LISTENER, host=None)]


def _set_role(room: Room, command: c.SetRole, now: float) -> Result:
    user = identifier(command.user_id, "user id")
    try:
        role = Role(command.role)
    except ValueError:
        raise invalid("role must be host, dj or listener") from None
    if role is Role.HOST:
        old = room.host
        djs = (room.djs | {old} if old else room.djs) - {user}
        room = replace(room, host=user, djs=djs)
    elif user == room.host:
        raise invalid("hand the host role to someone else first")
    elif role is Role.DJ:
        room = replace(room, djs=room.djs | {user})
    else:
        room = replace(room, djs=room.djs - {user})
    return room, [_event(room, command, RoleChanged, user_id=user, role=role, host=room.host)]


def _set_policy(room: Room, command: c.SetPolicy, now: float) -> Result:
    if not isinstance(command.policy, Policy):
        raise invalid("policy must be a Policy")
    room = replace(room, policy=command.policy)
    return room, [_event(room, command, PolicyChanged, policy=room.policy)]


# -- the transition table ----------------------------------------------------------------------
IDLE, PLAYING, PAUSED = Status.IDLE, Status.PLAYING, Status.PAUSED
ANY = (IDLE, PLAYING, PAUSED)


def _everywhere(handler: Handler) -> dict[Status, Handler]:
    return dict.fromkeys(ANY, handler)


TRANSITIONS: dict[type[c.Command], dict[Status, Handler]] = {
    c.Play: {IDLE: _start, PAUSED: _resume},
    c.Pause: {PLAYING: _pause},
    c.Seek: {PLAYING: _seek, PAUSED: _seek},
    c.Stop: {PLAYING: _stop, PAUSED: _stop},
    c.Skip: {PLAYING: _skip, PAUSED: _skip},
    c.Previous: _everywhere(_previous),
    c.PlayEntry: _everywhere(_jump),
    c.TrackEnded: {PLAYING: _track_ended},
    c.Enqueue: _everywhere(_enqueue),
    c.Remove: _everywhere(_remove),
    c.Move: _everywhere(_queue_edit("move")),
    c.Clear: _everywhere(_queue_edit("clear")),
    c.Shuffle: _everywhere(_queue_edit("shuffle")),
    c.SetRepeat: _everywhere(_queue_edit("repeat")),
    c.Join: _everywhere(_join),
    c.Leave: _everywhere(_leave),
    c.VacateHost: _everywhere(_vacate_host),
    c.SetRole: _everywhere(_set_role),
    c.SetPolicy: _everywhere(_set_policy),
}
