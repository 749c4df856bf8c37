"""Rooms as JSON: pure functions of a room and the server time."""

from __future__ import annotations

from typing import Any

from shared.core import QueueEntry, Room


def entry_view(entry: QueueEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "track_id": entry.track.track_id,
        "title": entry.track.title,
        "artist": entry.track.artist,
        "duration": entry.track.duration,
        "added_by": {"id": entry.added_by, "name": entry.added_by_name},
    }


def room_summary(room: Room, now: float) -> dict[str, Any]:
    current = room.queue.current
    return {
        "id": room.id,
        "name": room.name,
        "listeners": len(room.members),
        "status": room.status.value,
        "private": room.private,
        "now_playing": entry_view(current) if current and room.status.value != "idle" else None,
    }


def room_state(room: Room, now: float) -> dict[str, Any]:
    queue, clock = room.queue, room.clock
    return {
        **room_summary(room, now),
        "version": room.version,
        "server_time": now,
        "clock": {
            "position": clock.position_at(now),
            "playing": clock.playing,
            "duration": clock.duration,
            "rate": clock.rate,
        },
        "queue": {
            "current": queue.current.id if queue.current else None,
            "repeat": queue.repeat.value,
            "history": [entry_view(e) for e in queue.history],
            "upcoming": [entry_view(e) for e in queue.upcoming],
        },
        "members": [
            {"id": m.id, "name": m.name, "role": room.role_of(m.id).value} for m in room.members
        ],
        "policy": {
            "control": room.policy.control.value,
            "listeners_can_queue": room.policy.listeners_can_queue,
            "autoplay": room.policy.autoplay,
            "max_queue": room.policy.max_queue,
        },
    }
