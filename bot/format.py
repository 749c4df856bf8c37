"""Pure text helpers for Discord messages: durations, seek positions, track labels, queue pages.
No I/O and no Discord calls, so every function is tested with plain values."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from discord.utils import escape_markdown, escape_mentions

from shared.core import QueueEntry, Room, Status

CHOICE_MAX = 100  # Discord's limit on a choice's name and value
PAGE_SIZE = 10

_POSITION = re.compile(r"^([+-])?\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$")


def duration(seconds: float) -> str:
    """`83` -> `1:23`; `3723` -> `1:02:03`."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_position(text: str) -> tuple[float, bool]:
    """A /seek position: `83` or `1:23` (or `1:02:03`) is absolute; `+10` and `-10` move from
    where playback is. Returns (seconds, relative); raises ValueError with a message for people."""
    match = _POSITION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{shorten(text, 20)!r} is not a position: give seconds (83), minutes:seconds "
            "(1:23), or a jump (+10, -10)."
        )
    sign, first, second, last = match.groups()
    parts = [int(p) for p in (first, second) if p is not None]
    seconds = float(last)
    if parts:
        if seconds >= 60 or (len(parts) == 2 and parts[1] >= 60):
            raise ValueError("Minutes and seconds go up to 59, as in 1:23 or 1:02:03.")
        multiplier = 60
        for part in reversed(parts):
            seconds += part * multiplier
            multiplier *= 60
    if seconds > 24 * 3600:
        raise ValueError("That is longer than any track: give a position within the track.")
    if sign is None:
        return seconds, False
    return (-seconds if sign == "-" else seconds), True


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe(text: str) -> str:
    """User-provided text (titles, names) shown literally: no markdown, no mentions."""
    return escape_mentions(escape_markdown(text))


def track_label(title: str, artist: str | None) -> str:
    return f"{title} — {artist}" if artist else title


def choice_name(title: str, artist: str | None, album: str | None, length: float) -> str:
    """An autocomplete choice: `Title — Artist (Album) · 3:12`, within Discord's 100 characters.
    The title is kept whole when it fits; the album goes first, then the artist."""
    tail = f" · {duration(length)}"
    for label in (
        f"{title} — {artist} ({album})" if artist and album else None,
        track_label(title, artist),
        title,
    ):
        if label is not None and len(label) + len(tail) <= CHOICE_MAX:
            return label + tail
    return shorten(title, CHOICE_MAX - len(tail)) + tail


def entry_line(entry: QueueEntry, number: int | None = None) -> str:
    """One queue entry in a message, with who added it (text escaped)."""
    track = entry.track
    label = safe(shorten(track_label(track.title or track.track_id, track.artist), 80))
    head = f"`{number}.` " if number is not None else ""
    who = safe(entry.added_by_name)
    return f"{head}**{label}** · {duration(track.duration)} · added by {who}"


@dataclass(frozen=True, slots=True)
class QueuePage:
    page: int  # 0-based, clamped to the pages there are
    pages: int
    text: str
    upcoming: int


def queue_page(room: Room, page: int, now: float, size: int = PAGE_SIZE) -> QueuePage:
    """Page `page` of the room's queue: what plays now, then the upcoming entries numbered as
    /remove and /move take them (1 = next)."""
    upcoming = room.queue.upcoming
    pages = max(1, math.ceil(len(upcoming) / size))
    page = min(max(0, page), pages - 1)
    lines: list[str] = []
    current = room.queue.current
    if current is not None and room.status is not Status.IDLE:
        state = "Paused" if room.status is Status.PAUSED else "Now playing"
        position = duration(room.position(now))
        lines.append(f"{state} ({position} / {duration(current.track.duration)}):")
        lines.append(entry_line(current))
        lines.append("")
    start = page * size
    shown = upcoming[start : start + size]
    if shown:
        lines.append("Up next:")
        lines.extend(entry_line(e, start + i + 1) for i, e in enumerate(shown))
    elif not lines:
        lines.append("The queue is empty. Add a track with /play.")
    else:
        lines.append("Nothing queued after this track.")
    repeat = room.queue.repeat.value
    if repeat != "off":
        lines.append("")
        lines.append(f"Repeat: {repeat}")
    return QueuePage(page, pages, "\n".join(lines), len(upcoming))
