"""The pure text helpers: durations, seek positions, choice names."""

from __future__ import annotations

import pytest

from bot.format import CHOICE_MAX, choice_name, duration, parse_position, safe, shorten


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("83", (83.0, False)),
        ("1:23", (83.0, False)),
        ("1:02:03", (3723.0, False)),
        ("+10", (10.0, True)),
        ("-10", (-10.0, True)),
        ("-1:30", (-90.0, True)),
        (" 12.5 ", (12.5, False)),
        ("0", (0.0, False)),
    ],
)
def test_positions_people_type(text: str, expected: tuple[float, bool]) -> None:
    assert parse_position(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "1:2:3:4", "1:75", "+", "--5", "1e5", "nan", "99999999"]
)
def test_bad_positions_say_what_to_type(text: str) -> None:
    with pytest.raises(ValueError, match=r"83|1:23|59|within the track"):
        parse_position(text)


def test_durations() -> None:
    assert duration(0) == "0:00"
    assert duration(83.9) == "1:23"
    assert duration(3723) == "1:02:03"
    assert duration(float("nan")) == "0:00"


def test_choice_names_fit_discords_limit_and_keep_what_fits() -> None:
    assert choice_name("Song", "Band", "Album", 83) == "Song — Band (Album) · 1:23"
    long_album = "x" * 95
    assert choice_name("Song", "Band", long_album, 83) == "Song — Band · 1:23"
    name = choice_name("t" * 300, "a" * 300, None, 83)
    assert len(name) == CHOICE_MAX
    assert name.endswith("… · 1:23")


def test_user_text_cannot_format_or_mention() -> None:
    assert safe("**bold** @everyone") == "\\*\\*bold\\*\\* @\u200beveryone"
    assert shorten("abcdef", 4) == "abc…"
