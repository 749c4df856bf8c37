"""Rooms to JSON documents and back.

The core keeps time on the server's monotonic clock, which means nothing after a restart. Documents
therefore hold wall-clock times: `to_doc` adds `wall_offset` (wall minus monotonic, now) to every
time, `from_doc` subtracts the new process's offset. A room that was playing resumes where it would
be had it never stopped.

Presence (who is in the room now) is not stored: no connection survives a restart, and clients
rejoin. Roles (host, DJs) are.
"""

from __future__ import annotations

from typing import Any

from shared.core import (
    ControlMode,
    PlaybackClock,
    Policy,
    Queue,
    QueueEntry,
    RepeatMode,
    Room,
    Status,
    TrackRef,
)

SCHEMA = 1


def to_doc(room: Room, wall_offset: float) -> dict[str, Any]:
    clock, queue = room.clock, room.queue
    return {
        "schema": SCHEMA,
        "id": room.id,
        "name": room.name,
        "private": room.private,
        "status": room.status.value,
        "clock": {
            "position": clock.position,
            "anchor_wall": clock.anchor + wall_offset,
            "playing": clock.playing,
            "rate": clock.rate,
            "duration": clock.duration,
        },
        "queue": {
            "cursor": queue.cursor,
            "repeat": queue.repeat.value,
            "next_seq": queue.next_seq,
            "entries": [_entry_doc(entry) for entry in queue.entries],
        },
        "host": room.host,
        "djs": sorted(room.djs),
        "policy": {
            "control": room.policy.control.value,
            "listeners_can_queue": room.policy.listeners_can_queue,
            "autoplay": room.policy.autoplay,
            "max_queue": room.policy.max_queue,
        },
        "version": room.version,
        "empty_since_wall": None if room.empty_since is None else room.empty_since + wall_offset,
        "next_member_seq": room.next_member_seq,
        "keep": room.keep,
    }


def from_doc(doc: dict[str, Any], wall_offset: float) -> Room:
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"unknown room document schema {doc.get('schema')!r}")
    c, q, p = doc["clock"], doc["queue"], doc["policy"]
    empty_since = doc["empty_since_wall"]
    return Room(
        id=doc["id"],
        name=doc["name"],
        private=doc["private"],
        status=Status(doc["status"]),
        clock=PlaybackClock(
            position=c["position"],
            anchor=c["anchor_wall"] - wall_offset,
            playing=c["playing"],
            rate=c["rate"],
            duration=c["duration"],
        ),
        queue=Queue(
            entries=tuple(_entry(e) for e in q["entries"]),
            cursor=q["cursor"],
            repeat=RepeatMode(q["repeat"]),
            next_seq=q["next_seq"],
        ),
        host=doc["host"],
        djs=frozenset(doc["djs"]),
        policy=Policy(
            control=ControlMode(p["control"]),
            listeners_can_queue=p["listeners_can_queue"],
            autoplay=p["autoplay"],
            max_queue=p["max_queue"],
        ),
        version=doc["version"],
        empty_since=None if empty_since is None else empty_since - wall_offset,
        next_member_seq=doc["next_member_seq"],
        keep=bool(doc.get("keep", False)),  # absent in documents written before it existed
    )


def _entry_doc(entry: QueueEntry) -> dict[str, Any]:
    track = entry.track
    return {
        "id": entry.id,
        "track_id": track.track_id,
        "duration": track.duration,
        "title": track.title,
        "artist": track.artist,
        "added_by": entry.added_by,
        "added_by_name": entry.added_by_name,
    }


def _entry(doc: dict[str, Any]) -> QueueEntry:
    track = TrackRef(doc["track_id"], doc["duration"], doc["title"], doc["artist"])
    return QueueEntry(doc["id"], track, doc["added_by"], doc["added_by_name"])
