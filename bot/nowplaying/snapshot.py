"""What the now-playing message shows, as plain values taken from a room at one moment.

The follower builds a `NowPlaying` from the room after every change; the embed and the buttons
are pure functions of it, so they are tested with plain values and never read a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared.core import RepeatMode, Room, Status

UP_NEXT_SHOWN = 3  # entries listed under "Up next"; the rest are counted


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """Library facts the room does not keep (the queue holds only id, title, artist, length)."""

    album: str | None = None
    has_cover: bool = False


@dataclass(frozen=True, slots=True)
class UpNext:
    title: str
    artist: str | None


@dataclass(frozen=True, slots=True)
class NowPlaying:
    room_id: str
    room_name: str
    status: Status
    player_url: str  # the web player for this room (with an invite for a private room)
    listeners: int
    repeat: RepeatMode
    version: int
    track_id: str | None = None  # None: nothing is playing
    entry_id: str | None = None
    title: str = ""
    artist: str | None = None
    album: str | None = None
    has_cover: bool = False
    added_by: str | None = None
    position: float = 0.0  # seconds into the track at `wall_time`
    duration: float | None = None
    wall_time: float = 0.0  # Unix time the position was taken at (for Discord's live timestamps)
    up_next: tuple[UpNext, ...] = ()
    more_upcoming: int = 0  # upcoming entries beyond `up_next`

    @property
    def playing(self) -> bool:
        return self.status is Status.PLAYING and self.track_id is not None

    @property
    def ends_at(self) -> float | None:
        """Unix time the track ends if nothing changes; None unless playing."""
        if not self.playing or self.duration is None:
            return None
        return self.wall_time + max(0.0, self.duration - self.position)


def snapshot_of(
    room: Room,
    now: float,
    wall_now: float,
    player_url: str,
    track: TrackInfo | None = None,
) -> NowPlaying:
    """The room as of server time `now` (which is Unix time `wall_now`)."""
    upcoming = room.queue.upcoming
    base = NowPlaying(
        room_id=room.id,
        room_name=room.name,
        status=room.status,
        player_url=player_url,
        listeners=len(room.members),
        repeat=room.queue.repeat,
        version=room.version,
        up_next=tuple(UpNext(e.track.title, e.track.artist) for e in upcoming[:UP_NEXT_SHOWN]),
        more_upcoming=max(0, len(upcoming) - UP_NEXT_SHOWN),
        wall_time=wall_now,
    )
    current = room.queue.current
    if current is None or room.status is Status.IDLE:
        return base
    info = track or TrackInfo()
    return replace(
        base,
        track_id=current.track.track_id,
        entry_id=current.id,
        title=current.track.title,
        artist=current.track.artist,
        album=info.album,
        has_cover=info.has_cover,
        added_by=current.added_by_name,
        position=room.position(now),
        duration=current.track.duration,
    )
