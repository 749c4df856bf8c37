"""Full-text search, library order and cursor pagination."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_kit import Kit, write_mp3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.library import Library, Page, Track

# (title, artist, album, album artist, track)
CATALOGUE = [
    ("Come Together", "The Beatles", "Abbey Road", None, "1"),
    ("Something", "The Beatles", "Abbey Road", None, "2"),
    ("Help!", "The Beatles", "Help!", None, "1/14"),
    ("Halo", "Beyoncé", "I Am... Sasha Fierce", None, "3"),
    ("Déjà Vu", "Beyoncé", "B'Day", None, "2"),
    ("Crazy in Love", "Beyoncé feat. Jay-Z", "Dangerously in Love", "Beyoncé", "1"),
    ("Beat It", "Michael Jackson", "Thriller", None, "5"),
    ("Heroes", "David Bowie", "Heroes", None, "3"),
    ("Beauty and the Beast", "David Bowie", "Heroes", None, "1"),
    ("Ashes to Ashes", "David Bowie", "Scary Monsters", None, None),
    ("NEAR AND FAR", "Operator Band", "Boolean (Live)", None, "1"),
    ("Untitled Demo", None, None, None, None),
]


@pytest.fixture(scope="module")
def library(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    base = tmp_path_factory.mktemp("search")
    music = base / "music"
    for n, (title, artist, album, album_artist, track) in enumerate(CATALOGUE):
        write_mp3(
            kit,
            music / f"{n:02d}.mp3",
            title,
            artist=artist,
            album=album,
            album_artist=album_artist,
            track=track,
        )
    lib = Library(base / "lib.sqlite3", {"music": music}, base / "covers")
    lib.scan()
    yield lib
    lib.close()


def titles(page: Page) -> list[str]:
    return [t.title for t in page.items]


def test_empty_query_is_the_library_in_order(library: Library) -> None:
    page = library.search("")
    assert page.next_cursor is None
    assert titles(page) == [
        "Come Together",  # The Beatles (sorted as "Beatles"), Abbey Road, 1
        "Something",  # Abbey Road, 2
        "Help!",  # Help!
        "Déjà Vu",  # Beyoncé, B'Day
        "Crazy in Love",  # album artist Beyoncé, Dangerously in Love
        "Halo",  # Beyoncé, I Am...
        "Beauty and the Beast",  # David Bowie, Heroes, 1
        "Heroes",  # David Bowie, Heroes, 3
        "Ashes to Ashes",  # David Bowie, Scary Monsters
        "Beat It",  # Michael Jackson
        "NEAR AND FAR",  # Operator Band
        "Untitled Demo",  # no artist: last
    ]
    assert titles(library.search("   ")) == titles(page)


def test_prefix_matching(library: Library) -> None:
    assert set(titles(library.search("beatl"))) == {"Come Together", "Something", "Help!"}
    assert titles(library.search("abb")) == ["Come Together", "Something"]
    assert titles(library.search("ashes to")) == ["Ashes to Ashes"]


def test_diacritics_are_ignored_both_ways(library: Library) -> None:
    plain = set(titles(library.search("Beyonce")))
    assert plain == {"Halo", "Déjà Vu", "Crazy in Love"}
    assert set(titles(library.search("BEYONCÉ"))) == plain
    assert titles(library.search("deja vu")) == ["Déjà Vu"]


def test_every_token_must_match(library: Library) -> None:
    assert titles(library.search("bowie ash")) == ["Ashes to Ashes"]
    # both words match both tracks; the one with a word in its title comes first
    assert titles(library.search("bowie heroes")) == ["Heroes", "Beauty and the Beast"]
    assert titles(library.search("beatles thriller")) == []


def test_title_hits_rank_above_artist_above_album(library: Library) -> None:
    # "Heroes" is a title and an album: the title first, then the album's other tracks
    assert titles(library.search("heroes")) == ["Heroes", "Beauty and the Beast"]
    # "beat" is in a title ("Beat It"), then it is the Beatles, in album order
    assert titles(library.search("beat")) == [
        "Beat It",
        "Come Together",
        "Something",
        "Help!",
    ]
    assert titles(library.search("love"))[0] == "Crazy in Love"


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"beat',
        "*",
        "beat*",
        "NEAR",
        "NEAR(",
        "near(beat, 2)",
        "(",
        ")",
        "AND",
        "OR NOT",
        "title:help",
        "^help",
        "-help",
        "+",
        "a'b",
        "\\",
        "\0",
        "{title}: x",
        "💥",
        "a" * 5000,
        " ".join(["x"] * 200),
    ],
)
def test_hostile_queries_do_not_raise(library: Library, query: str) -> None:
    page = library.search(query)
    assert isinstance(page.items, tuple)


def test_fts_keywords_are_plain_words(library: Library) -> None:
    assert titles(library.search("near and")) == ["NEAR AND FAR"]
    assert titles(library.search('"boolean (live)"')) == ["NEAR AND FAR"]
    assert titles(library.search("help!")) == ["Help!"]


def test_query_of_only_punctuation_matches_nothing(library: Library) -> None:
    assert library.search("!!! ??? ---") == Page((), None)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_arbitrary_text_never_raises(library: Library, query: str) -> None:
    library.search(query, limit=5)


def _all_pages(library: Library, query: str, limit: int) -> list[Track]:
    seen: list[Track] = []
    cursor = None
    pages = 0
    while True:
        page = library.search(query, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            return seen
        assert page.items, "a page with a next cursor is never empty"
        cursor = page.next_cursor
        assert pages < 100


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 10, 11, 500])
@pytest.mark.parametrize("query", ["", "beatles", "b", "e"])
def test_pagination_covers_every_track_exactly_once(
    library: Library, query: str, limit: int
) -> None:
    everything = library.search(query, limit=500).items
    paged = _all_pages(library, query, limit)
    assert [t.id for t in paged] == [t.id for t in everything]
    assert len({t.id for t in paged}) == len(paged)
    if query == "":
        assert len(paged) == library.count()


def test_last_page_has_no_cursor(library: Library) -> None:
    assert library.search("", limit=len(CATALOGUE)).next_cursor is None
    assert library.search("", limit=len(CATALOGUE) - 1).next_cursor is not None


@pytest.mark.parametrize("limit", [0, -1, 501, 10**9])
def test_limit_out_of_range(library: Library, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        library.search("", limit=limit)


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "!!!!", "eyJhIjoxfQ", "WzEsImEiLCIiLDFd", "W10", "bnVsbA", "😀"],
)
def test_bad_cursor_is_a_clear_value_error(library: Library, cursor: str) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        library.search("", cursor=cursor)
    with pytest.raises(ValueError, match="invalid cursor"):
        library.search("beat", cursor=cursor)


def test_cursor_from_another_query_is_rejected(library: Library) -> None:
    browse = library.search("", limit=1).next_cursor
    beat = library.search("beat", limit=1).next_cursor
    assert browse is not None and beat is not None
    with pytest.raises(ValueError, match="different query"):
        library.search("beat", cursor=browse)
    with pytest.raises(ValueError, match="different query"):
        library.search("bowie", cursor=beat)
    with pytest.raises(ValueError, match="different query"):
        library.search("", cursor=beat)
    # the same words typed differently are the same query
    assert library.search("BEAT ", limit=1, cursor=beat).items


def test_cursor_is_opaque(library: Library, tmp_path: Path) -> None:
    cursor = library.search("", limit=1).next_cursor
    assert cursor is not None
    assert "music" not in cursor and ".mp3" not in cursor
    assert cursor.isascii() and all(c.isalnum() or c in "-_" for c in cursor)
