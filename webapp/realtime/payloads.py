"""What clients may send over Socket.IO, validated with pydantic before anything else happens.

Strict: unknown fields are refused (a typo should fail loudly, not be ignored), numbers must be
finite, strings and lists are bounded. The prototype's field names (`room_id`, `username`) are
accepted beside the current ones.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, model_validator

from shared.core import ControlMode, RepeatMode, Role

RoomId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Token = Annotated[str, Field(min_length=1, max_length=512)]
EntryId = Annotated[str, Field(min_length=1, max_length=32)]
TrackId = Annotated[str, Field(min_length=1, max_length=64)]
Seconds = Annotated[float, Field(allow_inf_nan=False, ge=-86_400, le=86_400)]
MAX_TRACKS_PER_ADD = 500


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class JoinRoom(Payload):
    room: RoomId = Field(validation_alias=AliasChoices("room", "room_id"))
    name: Name = Field(validation_alias=AliasChoices("name", "username"))
    token: Token | None = Field(None, description="invite token, for a private room")
    session: Token | None = Field(None, description="from an earlier join: same identity again")
    room_name: Name | None = Field(None, description="name for the room, if this join creates it")


class CreateRoom(Payload):
    name: Name
    private: StrictBool = False
    id: RoomId | None = None


class Empty(Payload):
    pass


class InRoom(Payload):
    """An event about the room the connection is in. Naming the room is optional (the prototype's
    clients did); a name that is not the connection's room is refused rather than ignored."""

    room: RoomId | None = Field(None, validation_alias=AliasChoices("room", "room_id"))


class Control(InRoom):
    action: Literal["play", "resume", "pause", "seek", "stop", "skip", "next", "previous", "jump"]
    position: Seconds | None = None
    relative: StrictBool = False
    entry_id: EntryId | None = None
    timestamp: float | None = Field(
        None, allow_inf_nan=False, description="ignored: the server decides when a change happens"
    )

    @model_validator(mode="after")
    def _fields_the_action_needs(self) -> Control:
        if self.action == "seek" and self.position is None:
            raise ValueError("seek needs a position (seconds)")
        if self.action == "jump" and self.entry_id is None:
            raise ValueError("jump needs an entry_id")
        return self


class QueueOp(InRoom):
    action: Literal["add", "remove", "move", "clear", "shuffle", "repeat"]
    track_ids: list[TrackId] | None = Field(None, min_length=1, max_length=MAX_TRACKS_PER_ADD)
    at: Literal["next", "end"] | Annotated[int, Field(ge=0, le=10_000)] = "end"
    entry_id: EntryId | None = None
    to: Annotated[int, Field(ge=0, le=10_000)] | None = None
    mode: RepeatMode | None = None

    @model_validator(mode="after")
    def _fields_the_action_needs(self) -> QueueOp:
        needs = {
            "add": ("track_ids",),
            "remove": ("entry_id",),
            "move": ("entry_id", "to"),
            "repeat": ("mode",),
        }.get(self.action, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.action} needs {' and '.join(missing)}")
        return self


class SetRole(InRoom):
    user_id: Annotated[str, Field(min_length=1, max_length=128)]
    role: Role


class SetPolicy(InRoom):
    control: ControlMode | None = None
    listeners_can_queue: StrictBool | None = None
    autoplay: StrictBool | None = None
    max_queue: Annotated[int, Field(ge=1, le=10_000)] | None = None


class TimePing(Payload):
    t0: float = Field(allow_inf_nan=False, description="client send time, echoed back")
    rtt: Annotated[float, Field(allow_inf_nan=False, ge=0, le=60)] | None = Field(
        None, description="the client's best recent round trip, seconds (sets the room's lead)"
    )


class ListenerStatus(InRoom):
    """How this listener's playback is going, for the others to see (not a room change)."""

    buffering: StrictBool


class WatchRooms(Payload):
    on: StrictBool = True
