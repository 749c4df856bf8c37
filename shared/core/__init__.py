"""The pure room core: clock, queue, members and the room state machine.

Imports only the standard library and itself. No I/O, no await, no clock reads: time comes in as
`now`, randomness as a seed, so every behaviour is a plain function call in tests.
"""

from .clock import PlaybackClock
from .commands import (
    Clear,
    Command,
    Enqueue,
    Join,
    Leave,
    Move,
    Pause,
    Play,
    PlayEntry,
    Previous,
    Remove,
    Seek,
    SetPolicy,
    SetRepeat,
    SetRole,
    Shuffle,
    Skip,
    Stop,
    TrackEnded,
    VacateHost,
)
from .errors import DomainError, ErrorCode
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
from .lead import MAX_LEAD, MIN_LEAD, playback_lead
from .members import SYSTEM, Actor, ControlMode, Member, Policy, Role
from .queue import HISTORY_LIMIT, Queue, QueueEntry, RepeatMode, TrackRef
from .room import TRANSITIONS, Room
from .status import Status

__all__ = [
    "HISTORY_LIMIT",
    "MAX_LEAD",
    "MIN_LEAD",
    "SYSTEM",
    "TRANSITIONS",
    "Actor",
    "Clear",
    "Command",
    "ControlMode",
    "DomainError",
    "Enqueue",
    "ErrorCode",
    "Event",
    "Join",
    "Leave",
    "Member",
    "MemberJoined",
    "MemberLeft",
    "MemberRenamed",
    "Move",
    "Pause",
    "Play",
    "PlayEntry",
    "PlaybackChanged",
    "PlaybackClock",
    "Policy",
    "PolicyChanged",
    "Previous",
    "Queue",
    "QueueChanged",
    "QueueEntry",
    "Remove",
    "RepeatMode",
    "Role",
    "RoleChanged",
    "Room",
    "Seek",
    "SetPolicy",
    "SetRepeat",
    "SetRole",
    "Shuffle",
    "Skip",
    "Status",
    "Stop",
    "TrackEnded",
    "TrackRef",
    "VacateHost",
    "playback_lead",
]
