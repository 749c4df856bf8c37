"""Who is in a room, what they may do, and the room's control policy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import invalid
from .validate import clean_name, finite_number, identifier


class Role(StrEnum):
    HOST = "host"
    DJ = "dj"
    LISTENER = "listener"


class ControlMode(StrEnum):
    EVERYONE = "everyone"  # anyone in the room may play, pause, seek, skip and edit the queue
    DJS = "djs"  # only the host and DJs; listeners may still queue (if allowed) and drop their own


@dataclass(frozen=True, slots=True)
class Actor:
    """Who issues a command. `admin` is set only by trusted server-side adapters (for example a
    Discord member with Manage Server); it is never taken from what a client sends."""

    id: str
    name: str = ""
    admin: bool = False

    def __post_init__(self) -> None:
        identifier(self.id, "user id")
        if self.name:
            # Names reach queues and events from every command, so they are checked here, once.
            object.__setattr__(self, "name", clean_name(self.name, "display name"))


SYSTEM = Actor("system", "Lockstep", admin=True)


@dataclass(frozen=True, slots=True)
class Member:
    """A listener present in the room. `seq` orders arrivals, for handing the host role on."""

    id: str
    name: str
    seq: int


@dataclass(frozen=True, slots=True)
class Policy:
    control: ControlMode = ControlMode.EVERYONE
    listeners_can_queue: bool = True
    autoplay: bool = True  # queueing into a silent room starts it
    max_queue: int = 500  # upcoming entries; bounds memory and the store

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "control", ControlMode(self.control))
        except ValueError:
            raise invalid("control must be 'everyone' or 'djs'") from None
        if not isinstance(self.listeners_can_queue, bool) or not isinstance(self.autoplay, bool):
            raise invalid("policy flags must be true or false")
        limit = finite_number(self.max_queue, "max_queue")
        if limit != int(limit) or not 1 <= limit <= 10_000:
            raise invalid("max_queue must be a whole number between 1 and 10000")


def member_name(actor: Actor) -> str:
    return clean_name(actor.name or actor.id, "display name")
