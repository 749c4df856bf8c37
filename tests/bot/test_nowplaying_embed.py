"""The now-playing embed, buttons and cover choice: pure functions of plain values."""

from __future__ import annotations

import re

import discord
import pytest

from bot.nowplaying import NowPlaying, TrackInfo, UpNext, controls_view, custom_id, snapshot_of
from bot.nowplaying.cover import cover_plan, reachable_by_discord
from bot.nowplaying.embed import build_embed, clock_text, progress_bar
from bot.nowplaying.view import CUSTOM_ID_MAX, TEMPLATE, ControlButton
from shared.core import Actor, Enqueue, Join, Pause, RepeatMode, Room, SetRepeat, Status, TrackRef

ANA = Actor("discord:1", "Ana")
BO = Actor("web:bo", "Bo")
URL = "https://party.example.org/r/dc-1-2"
WALL = 1_800_000_000.0  # Unix time at server time 0 in these tests


def room_playing(*titles: str, now: float = 0.0) -> Room:
    room = Room.create("dc-1-2", "#music", now)
    room, _ = room.apply(Join(by=BO), now)
    tracks = tuple(TrackRef(f"t{i}", 200.0, title, f"Artist {i}") for i, title in enumerate(titles))
    room, _ = room.apply(Enqueue(by=ANA, tracks=tracks), now)  # autoplay starts the first
    assert room.status is Status.PLAYING
    return room


def embed_of(room: Room, now: float, info: TrackInfo | None = None) -> discord.Embed:
    return build_embed(snapshot_of(room, now, WALL + now, URL, info), "https://img/cover.png")


def text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{f.name} {f.value}" for f in embed.fields]
    return "\n".join(parts)


def test_a_playing_track_shows_everything_a_listener_wants() -> None:
    room = room_playing("Morning Light", "Night Drive", "Slow Tide")
    embed = embed_of(room, 83.0, TrackInfo(album="Demo Album", has_cover=True))
    assert embed.title == "Morning Light"
    assert embed.url == URL
    assert embed.author.name == "Playing in #music"
    assert "by **Artist 0** from *Demo Album*" in (embed.description or "")
    assert "`1:23`" in (embed.description or "") and "`3:20`" in (embed.description or "")
    # 117 s left at Unix time WALL + 83: Discord counts down from the timestamp by itself.
    assert f"Ends <t:{round(WALL + 83 + 117)}:R>" in (embed.description or "")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Added by"] == "Ana"
    assert fields["Listeners"] == "1"
    assert fields["Repeat"] == "Off"
    assert fields["Up next"] == "1. Night Drive - Artist 1\n2. Slow Tide - Artist 2"
    assert embed.thumbnail.url == "https://img/cover.png"


def test_paused_and_repeat_and_a_long_queue() -> None:
    room = room_playing(*[f"Song {i}" for i in range(10)])
    room, _ = room.apply(Pause(by=ANA), 30.0)
    room, _ = room.apply(SetRepeat(by=ANA, mode=RepeatMode.ALL), 31.0)
    embed = embed_of(room, 500.0)  # paused: the position holds
    assert embed.author.name == "Paused in #music"
    assert "Paused at 0:30" in (embed.description or "")
    assert "Ends" not in (embed.description or "")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Repeat"] == "Whole queue"
    assert str(fields["Up next"]).splitlines()[-1] == "and 6 more"
    assert embed.colour != embed_of(room_playing("x"), 0.0).colour


def test_an_idle_room_says_how_to_start() -> None:
    room = Room.create("dc-1-2", "#music", 0.0)
    embed = build_embed(snapshot_of(room, 0.0, WALL, URL), "https://img/ignored.png")
    assert embed.title == "Nothing playing"
    assert "/play" in (embed.description or "")
    assert not embed.thumbnail  # no track, no cover
    assert "Added by" not in [f.name for f in embed.fields]


def test_huge_tags_stay_within_every_discord_limit() -> None:
    monster = "**Bold** _it_ `code` " * 600  # ~12,000 characters, markdown everywhere
    now = NowPlaying(
        room_id="dc-1-2",
        room_name="#" + "r" * 63,
        status=Status.PLAYING,
        player_url=URL,
        listeners=3,
        repeat=RepeatMode.OFF,
        version=9,
        track_id="t1",
        entry_id="e1",
        title=monster,
        artist=monster,
        album=monster,
        has_cover=True,
        added_by=monster,
        position=10.0,
        duration=100.0,
        wall_time=WALL,
        up_next=tuple(UpNext(monster, monster) for _ in range(3)),
        more_upcoming=400,
    )
    embed = build_embed(now, "https://img/c.png")
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert all(len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed.footer.text or "") <= 2048
    assert len(embed.author.name or "") <= 256
    assert len(embed) <= 6000
    assert (embed.title or "").endswith("…")
    # Clipping never leaves half an escape: no odd run of backslashes before the ellipsis.
    for text in (embed.title or "", *(f.value or "" for f in embed.fields)):
        for run in re.findall(r"(\\+)…", text):
            assert len(run) % 2 == 0


def test_names_are_shown_literally_and_ping_nobody() -> None:
    room = room_playing("**loud** @everyone <@123456789012345678>\nline two [x](https://evil)")
    embed = embed_of(room, 0.0)
    title = embed.title or ""
    assert "\n" not in title  # a tag cannot add lines to the message
    assert title.startswith(r"\*\*loud\*\*")
    assert "@everyone" not in title and "@\u200beveryone" in title
    assert "<@123456789012345678>" not in title
    assert r"\[x]" in title  # no masked link
    view_text = text_of(embed)
    assert "@everyone" not in view_text


def test_progress_bar_and_clock_text() -> None:
    assert progress_bar(0, 100, width=10) == "●" + "─" * 9
    assert progress_bar(50, 100, width=10) == "━" * 5 + "●" + "─" * 4
    assert progress_bar(100, 100, width=10) == "━" * 9 + "●"
    assert progress_bar(5, None, width=4) == "────"
    assert [clock_text(s) for s in (0, 65, 720, 3723, None)] == [
        "0:00",
        "1:05",
        "12:00",
        "1:02:03",
        "--:--",
    ]


def test_the_buttons_are_persistent_with_fixed_custom_ids() -> None:
    playing = snapshot_of(room_playing("a", "b"), 0.0, WALL, URL)
    view = controls_view(playing)
    assert view.timeout is None
    assert view.is_persistent()
    ids = [getattr(item, "custom_id", None) for item in view.children]
    assert ids == [
        "lockstep:np:previous:dc-1-2",
        "lockstep:np:pause:dc-1-2",
        "lockstep:np:skip:dc-1-2",
        None,  # the link button
    ]
    link = view.children[3]
    assert isinstance(link, discord.ui.Button) and link.url == URL
    # The same state always gives the same ids: a restarted bot recognises old messages.
    assert ids[:3] == [getattr(i, "custom_id", None) for i in controls_view(playing).children][:3]

    paused_room, _ = room_playing("a").apply(Pause(by=ANA), 1.0)
    paused = controls_view(snapshot_of(paused_room, 1.0, WALL, URL))
    assert getattr(paused.children[1], "custom_id", None) == "lockstep:np:play:dc-1-2"


def test_custom_ids_fit_discord_and_parse_back() -> None:
    longest = "a" * 64
    for action in ("previous", "play", "pause", "skip"):
        value = custom_id(action, longest)
        assert len(value) <= CUSTOM_ID_MAX
        match = TEMPLATE.fullmatch(value)
        assert match is not None and match["action"] == action and match["room"] == longest
    assert TEMPLATE.fullmatch("lockstep:np:explode:dc-1") is None
    assert TEMPLATE.fullmatch("lockstep:np:pause:../x") is None
    with pytest.raises(ValueError, match="unknown control"):
        custom_id("explode", "dc-1")
    button = ControlButton("skip", "dc-1-2")
    assert button.item.custom_id == "lockstep:np:skip:dc-1-2"


@pytest.mark.parametrize(
    ("base", "public"),
    [
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
        ("http://192.168.1.20:8000", False),
        ("http://[::1]:8000", False),
        ("http://myserver:8000", False),
        ("http://party.local", False),
        ("https://party.example.org", True),
        ("https://8.8.8.8", True),
    ],
)
def test_covers_are_linked_when_discord_can_fetch_them_else_attached(
    base: str, public: bool
) -> None:
    assert reachable_by_discord(base) is public
    plan = cover_plan(base, "t1", has_cover=True, mime="image/png")
    if public:
        assert plan.url == f"{base}/api/tracks/t1/cover" and not plan.attach
    else:
        assert plan.url == "attachment://cover.png" and plan.attach
    assert cover_plan(base, "t1", has_cover=False).url is None  # no art: no SVG placeholder
    assert cover_plan(base, None, has_cover=True).url is None


def test_a_private_rooms_link_carries_an_invite_the_web_server_accepts() -> None:
    from urllib.parse import parse_qs, urlsplit

    from bot.nowplaying import Renderer
    from shared.tokens import Tokens

    tokens = Tokens("a secret for this test")
    renderer = Renderer(None, "https://party.example.org", tokens, lambda: 0.0)  # type: ignore[arg-type]
    public = Room.create("dc-1-2", "#music", 0.0)
    assert renderer.player_url(public) == "https://party.example.org/r/dc-1-2"
    private = Room.create("dc-5f3a", "#secret", 0.0, private=True)
    url = urlsplit(renderer.player_url(private))
    assert url.path == "/r/dc-5f3a"
    (token,) = parse_qs(url.query)["invite"]
    assert tokens.invites_to(token, "dc-5f3a")
    assert not tokens.invites_to(token, "dc-1-2")
