"""Validated client requests to core commands: which command each action is."""

from __future__ import annotations

from shared.core import (
    Actor,
    Clear,
    Command,
    Move,
    Pause,
    Play,
    PlayEntry,
    Previous,
    Remove,
    Seek,
    SetRepeat,
    Skip,
    Stop,
)

from . import payloads as p


def control_command(req: p.Control, actor: Actor) -> Command:
    match req.action:
        case "play" | "resume":
            return Play(by=actor)
        case "pause":
            return Pause(by=actor)
        case "seek":
            assert req.position is not None  # checked by the payload model
            return Seek(by=actor, position=req.position, relative=req.relative)
        case "stop":
            return Stop(by=actor)
        case "skip" | "next":
            return Skip(by=actor)
        case "previous":
            return Previous(by=actor)
        case "jump":
            assert req.entry_id is not None
            return PlayEntry(by=actor, entry_id=req.entry_id)


def queue_command(req: p.QueueOp, actor: Actor) -> Command:
    """The command for remove, move, clear and repeat (add and shuffle go through the service's
    own helpers, which look tracks up and pick a seed)."""
    match req.action:
        case "remove":
            assert req.entry_id is not None
            return Remove(by=actor, entry_id=req.entry_id)
        case "move":
            assert req.entry_id is not None
            assert req.to is not None
            return Move(by=actor, entry_id=req.entry_id, to=req.to)
        case "clear":
            return Clear(by=actor)
        case "repeat":
            assert req.mode is not None
            return SetRepeat(by=actor, mode=req.mode)
    raise ValueError(f"{req.action} is not a plain queue command")


def enqueue_position(at: str | int) -> int | None:
    """`at` of a queue add as the core's upcoming index (None = the end)."""
    return None if at == "end" else 0 if at == "next" else int(at)
