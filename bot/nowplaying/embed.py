"""The now-playing embed: a pure function of a `NowPlaying` snapshot.

Names come from file tags and from people, so every one is cleaned (control characters become
spaces), escaped (markdown and mentions), and clipped to Discord's limits after escaping.
Author and footer are shown as plain text by Discord, so they are clipped but not escaped.
"""

from __future__ import annotations

import discord

from shared.core import RepeatMode, Status

from ..format import duration
from ..format import safe as _escape
from .snapshot import NowPlaying

# Discord's embed limits (characters).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000

NAME_SHOWN_MAX = 200  # one artist or album line; a whole tag novel is not worth showing
UP_NEXT_ITEM_MAX = 120
BAR_WIDTH = 18
ELLIPSIS = "…"
FOOTER = "Everyone in the room hears the same moment: open the web player to listen along."

COLOURS = {
    Status.PLAYING: discord.Colour(0x2ECC71),
    Status.PAUSED: discord.Colour(0xF1C40F),
    Status.IDLE: discord.Colour(0x95A5A6),
}
STATUS_WORDS = {Status.PLAYING: "Playing", Status.PAUSED: "Paused", Status.IDLE: "Nothing playing"}
REPEAT_WORDS = {RepeatMode.OFF: "Off", RepeatMode.ONE: "This track", RepeatMode.ALL: "Whole queue"}


def plain(text: str) -> str:
    """One line of text: control characters (newlines, tabs, escapes) become spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def safe(text: str, limit: int) -> str:
    """User or tag text for a place Discord renders as markdown: shown literally, pings nobody.

    Clipped before escaping (so an escape is never cut in half) with room for the escapes."""
    cleaned = plain(text)
    escaped = _escape(cleaned)
    if len(escaped) <= limit:
        return escaped
    # Each character escapes to at most two; shrink the source until the escaped text fits.
    keep = min(len(cleaned), limit)
    while keep > 0:
        escaped = _escape(cleaned[:keep].rstrip()) + ELLIPSIS
        if len(escaped) <= limit:
            return escaped
        keep -= max(1, (len(escaped) - limit + 1) // 2)
    return ELLIPSIS


def clock_text(seconds: float | None) -> str:
    """1:05, 12:00, 1:02:03; `--:--` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    return duration(seconds)


def progress_bar(position: float, duration: float | None, width: int = BAR_WIDTH) -> str:
    """`━━━━●──────` with the knob at `position` of `duration`."""
    if not duration or duration <= 0:
        return "─" * width
    fraction = min(max(position / duration, 0.0), 1.0)
    knob = min(int(fraction * width), width - 1)
    return "━" * knob + "●" + "─" * (width - knob - 1)


def progress_line(now: NowPlaying) -> str:
    bar = progress_bar(now.position, now.duration)
    return f"`{clock_text(now.position)}` {bar} `{clock_text(now.duration)}`"


def build_embed(now: NowPlaying, cover_url: str | None = None) -> discord.Embed:
    """The embed for `now`. `cover_url` is an image URL Discord can fetch, or `attachment://…`
    for a cover sent with the message (see `bot/nowplaying/cover.py`)."""
    where = clip(f"{STATUS_WORDS[now.status]} in {plain(now.room_name)}", AUTHOR_MAX)
    embed = discord.Embed(colour=COLOURS[now.status], url=now.player_url)
    embed.set_author(name=where, url=now.player_url)
    if now.track_id is None:
        embed.title = "Nothing playing"
        embed.description = "Queue a track with `/play`, or open the web player."
    else:
        embed.title = safe(now.title or "Untitled", TITLE_MAX)
        embed.description = _description(now)
        embed.add_field(name="Added by", value=safe(now.added_by or "someone", 100))
    embed.add_field(name="Listeners", value=str(now.listeners))
    embed.add_field(name="Repeat", value=REPEAT_WORDS[now.repeat])
    embed.add_field(name="Up next", value=_up_next(now), inline=False)
    if cover_url is not None and now.track_id is not None:
        embed.set_thumbnail(url=cover_url)
    embed.set_footer(text=FOOTER)
    return embed


def _description(now: NowPlaying) -> str:
    lines = []
    credit = [f"by **{safe(now.artist, NAME_SHOWN_MAX)}**"] if now.artist else []
    if now.album:
        credit.append(f"from *{safe(now.album, NAME_SHOWN_MAX)}*")
    if credit:
        lines.append(" ".join(credit))
    lines.append(progress_line(now))
    ends = now.ends_at
    if ends is not None:
        # Discord renders relative timestamps live, so the message needs no edit to count down.
        lines.append(f"Ends <t:{round(ends)}:R>")
    elif now.status is Status.PAUSED:
        lines.append(f"Paused at {clock_text(now.position)}")
    return clip("\n".join(lines), DESCRIPTION_MAX)


def _up_next(now: NowPlaying) -> str:
    if not now.up_next:
        return "Nothing queued. Add tracks with `/play`."
    items = []
    for number, item in enumerate(now.up_next, start=1):
        label = item.title or "Untitled"
        if item.artist:
            label = f"{label} - {item.artist}"
        items.append(f"{number}. {safe(label, UP_NEXT_ITEM_MAX)}")
    if now.more_upcoming:
        items.append(f"and {now.more_upcoming} more")
    return clip("\n".join(items), FIELD_VALUE_MAX)
