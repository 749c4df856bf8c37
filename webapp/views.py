"""Rooms and room events as JSON: pure functions of core values and the server time. The HTTP API
and the Socket.IO protocol (docs/protocol.md) share them, so both show the same shapes."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import quote

from shared.core import (
    Event,
    Member,
    MemberJoined,
    MemberLeft,
    MemberRenamed,
    PlaybackChanged,
    PlaybackClock,
    Policy,
    PolicyChanged,
    Queue,
    QueueChanged,
    QueueEntry,
    RoleChanged,
    Room,
    Status,
)
from shared.library import Track

Availability = Callable[[str], bool]  # track id -> still in the library?


def _always(track_id: str) -> bool:
    return True


def entry_view(entry: QueueEntry, available: Availability = _always) -> dict[str, Any]:
    track_id = entry.track.track_id
    return {
        "id": entry.id,
        "track_id": track_id,
        "title": entry.track.title,
        "artist": entry.track.artist,
        "duration": entry.track.duration,
        "added_by": {"id": entry.added_by, "name": entry.added_by_name},
        "stream_url": f"/api/tracks/{track_id}/stream",
        "cover_url": f"/api/tracks/{track_id}/cover",
        "available": available(track_id),  # false: its file left the library; players skip it
    }


def clock_view(clock: PlaybackClock) -> dict[str, Any]:
    """The anchor: `position` seconds into the track at server time `anchor`, advancing at `rate`
    while `playing`. Position at server time t = position + max(0, t - anchor) * rate."""
    return {
        "position": clock.position,
        "anchor": clock.anchor,
        "playing": clock.playing,
        "rate": clock.rate,
        "duration": clock.duration,
    }


def queue_view(queue: Queue, available: Availability = _always) -> dict[str, Any]:
    return {
        "current": entry_view(queue.current, available) if queue.current else None,
        "repeat": queue.repeat.value,
        "history": [entry_view(e, available) for e in queue.history],
        "upcoming": [entry_view(e, available) for e in queue.upcoming],
    }


def policy_view(policy: Policy) -> dict[str, Any]:
    return {
        "control": policy.control.value,
        "listeners_can_queue": policy.listeners_can_queue,
        "autoplay": policy.autoplay,
        "max_queue": policy.max_queue,
    }


def member_view(
    room: Room, member: Member, buffering: Collection[str] = frozenset()
) -> dict[str, Any]:
    """`buffering`: ids of members whose audio is held up right now (ephemeral: `listener_status`
    from their players, kept by the Socket.IO hub, not by the room)."""
    return {
        "id": member.id,
        "name": member.name,
        "role": room.role_of(member.id).value,
        "buffering": member.id in buffering,
    }


def room_summary(room: Room, now: float, available: Availability = _always) -> dict[str, Any]:
    current = room.queue.current
    return {
        "id": room.id,
        "name": room.name,
        "listeners": len(room.members),
        "status": room.status.value,
        "private": room.private,
        "now_playing": (
            entry_view(current, available) if current and room.status is not Status.IDLE else None
        ),
    }


def room_state(
    room: Room,
    now: float,
    available: Availability = _always,
    buffering: Collection[str] = frozenset(),
) -> dict[str, Any]:
    """Everything a client needs to show and play the room, as of `version`."""
    return {
        **room_summary(room, now, available),
        "version": room.version,
        "server_time": now,
        "position": room.position(now),
        "clock": clock_view(room.clock),
        "queue": queue_view(room.queue, available),
        "members": [member_view(room, m, buffering) for m in room.members],
        "host": room.host,
        "policy": policy_view(room.policy),
    }


def _base(event: Event) -> dict[str, Any]:
    return {
        "room": event.room_id,
        "version": event.version,
        "by": {"id": event.by, "name": event.by_name},
    }


def event_message(
    event: Event, room: Room | None, available: Availability = _always
) -> tuple[str, dict[str, Any]] | None:
    """The Socket.IO event name and payload announcing `event`; `room` is the room after it (for
    roles). None for an event clients are not told about."""
    body = _base(event)
    if isinstance(event, PlaybackChanged):
        body |= {
            "action": event.action,
            "status": event.status.value,
            "clock": clock_view(event.clock),
            "at": event.clock.anchor,  # when it takes effect, in server time
            "entry": entry_view(event.entry, available) if event.entry else None,
        }
        return "playback", body
    if isinstance(event, QueueChanged):
        body |= {
            "action": event.action,
            "entries": [entry_view(e, available) for e in event.entries],
            "queue": queue_view(event.queue, available),
        }
        return "queue_update", body
    if isinstance(event, MemberJoined):
        body["member"] = {"id": event.member.id, "name": event.member.name}
        body["member"]["role"] = event.role.value
        body["member"]["buffering"] = False  # a newcomer's player reports it after the join
        return "member_joined", body
    if isinstance(event, MemberLeft):
        body["member"] = {"id": event.member.id, "name": event.member.name}
        return "member_left", body
    if isinstance(event, MemberRenamed):
        body["member"] = {"id": event.member.id, "name": event.member.name}
        if room is not None:
            body["member"]["role"] = room.role_of(event.member.id).value
        return "member_renamed", body
    if isinstance(event, RoleChanged):
        body |= {"user_id": event.user_id, "role": event.role.value, "host": event.host}
        return "role_changed", body
    if isinstance(event, PolicyChanged):
        body["policy"] = policy_view(event.policy)
        return "policy_changed", body
    return None


def track_view(track: Track) -> dict[str, Any]:
    """A library track for clients: tags, audio facts and relative URLs, never a file path.
    `cover_url` always answers (a generated placeholder when `has_cover` is false)."""
    base = f"/api/tracks/{quote(track.id, safe='')}"
    return {
        "id": track.id,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "album_artist": track.album_artist,
        "track_no": track.track_no,
        "disc_no": track.disc_no,
        "year": track.year,
        "duration": track.duration,
        "codec": track.codec,
        "bitrate": track.bitrate,
        "sample_rate": track.sample_rate,
        "mime": track.mime,
        "has_cover": track.has_cover,
        "cover_url": f"{base}/cover",
        "stream_url": f"{base}/stream",
    }
