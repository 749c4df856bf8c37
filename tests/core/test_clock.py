"""The playback clock: positions are derived from an anchor, never stored while playing.

Time is a plain float, so every expectation below is exact.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.core import DomainError, ErrorCode, PlaybackClock


def playing(duration: float = 200.0, now: float = 10.0, position: float = 0.0) -> PlaybackClock:
    return PlaybackClock().start(duration, now, position)


def test_a_fresh_clock_is_stopped_at_zero() -> None:
    clock = PlaybackClock()
    assert clock.playing is False
    assert clock.position_at(0.0) == 0.0
    assert clock.position_at(1000.0) == 0.0
    assert clock.deadline() is None


def test_start_anchors_the_track_at_now() -> None:
    clock = playing(duration=200.0, now=10.0)
    assert clock.playing is True
    assert clock.duration == 200.0
    assert clock.anchor == 10.0
    assert clock.position_at(10.0) == 0.0
    assert clock.position_at(25.0) == 15.0
    assert clock.position_at(209.5) == 199.5


def test_start_from_a_position() -> None:
    clock = playing(duration=200.0, now=10.0, position=50.0)
    assert clock.position_at(10.0) == 50.0
    assert clock.position_at(20.0) == 60.0


def test_start_forgets_the_previous_track() -> None:
    old = playing(duration=30.0, now=0.0).seeked(25.0, 5.0).paused(6.0)
    clock = old.start(100.0, 50.0)
    assert clock == PlaybackClock(position=0.0, anchor=50.0, playing=True, duration=100.0)


def test_start_clamps_its_position_to_the_track() -> None:
    assert playing(duration=100.0, position=-5.0).position_at(10.0) == 0.0
    assert playing(duration=100.0, position=500.0).position_at(10.0) == 100.0


def test_position_is_clamped_to_zero_and_the_duration() -> None:
    clock = playing(duration=200.0, now=10.0)
    # Before the anchor (a client asking about a moment just before the start).
    assert clock.position_at(4.0) == 0.0
    # Long after the end: the track does not run on past its length.
    assert clock.position_at(210.0) == 200.0
    assert clock.position_at(10_000.0) == 200.0


def test_deadline_is_the_anchor_plus_what_remains() -> None:
    assert playing(duration=200.0, now=10.0).deadline() == 210.0
    assert playing(duration=200.0, now=10.0, position=50.0).deadline() == 160.0
    # At the deadline the position is exactly the duration.
    clock = playing(duration=200.0, now=10.0, position=50.0)
    deadline = clock.deadline()
    assert deadline is not None
    assert clock.position_at(deadline) == 200.0


def test_pause_freezes_the_position() -> None:
    clock = playing(duration=200.0, now=10.0).paused(30.0)
    assert clock.playing is False
    assert clock.anchor == 30.0
    assert clock.position_at(30.0) == 20.0
    assert clock.position_at(31.0) == 20.0
    assert clock.position_at(10_000.0) == 20.0
    assert clock.position_at(0.0) == 20.0
    assert clock.deadline() is None


def test_pausing_after_the_end_keeps_the_end() -> None:
    clock = playing(duration=200.0, now=10.0).paused(500.0)
    assert clock.position_at(600.0) == 200.0


def test_resume_continues_from_the_paused_position() -> None:
    clock = playing(duration=200.0, now=10.0).paused(30.0).resumed(100.0)
    assert clock.playing is True
    assert clock.anchor == 100.0
    assert clock.position_at(100.0) == 20.0
    assert clock.position_at(110.0) == 30.0
    assert clock.deadline() == 100.0 + 180.0


def test_pause_and_resume_in_a_row_lose_no_time() -> None:
    clock = playing(duration=200.0, now=0.0)
    for pause_at, resume_at in [(10.0, 20.0), (25.0, 40.0), (50.0, 51.0)]:
        clock = clock.paused(pause_at).resumed(resume_at)
    # Played 10 + 5 + 10 seconds before the last resume at 51.
    assert clock.position_at(51.0) == 25.0
    assert clock.position_at(61.0) == 35.0


def test_seek_while_playing_moves_the_anchor() -> None:
    clock = playing(duration=200.0, now=10.0).seeked(50.0, 40.0)
    assert clock.playing is True
    assert clock.position_at(40.0) == 50.0
    assert clock.position_at(45.0) == 55.0
    assert clock.deadline() == 40.0 + 150.0


def test_seek_while_paused_stays_paused() -> None:
    clock = playing(duration=200.0, now=10.0).paused(20.0).seeked(120.0, 30.0)
    assert clock.playing is False
    assert clock.position_at(30.0) == 120.0
    assert clock.position_at(99.0) == 120.0
    assert clock.deadline() is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (-5.0, 0.0),
        (-1e300, 0.0),
        (0, 0.0),
        (75, 75.0),
        (199.5, 199.5),
        (200.0, 200.0),
        (200.01, 200.0),
        (1e300, 200.0),
    ],
)
def test_seek_clamps_to_the_track(target: float, expected: float) -> None:
    clock = playing(duration=200.0, now=10.0).seeked(target, 40.0)
    assert clock.position_at(40.0) == expected
    assert isinstance(clock.position, float)


def test_seek_to_the_end_makes_the_deadline_now() -> None:
    clock = playing(duration=200.0, now=10.0).seeked(200.0, 40.0)
    assert clock.deadline() == 40.0


@pytest.mark.parametrize(
    "bad",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        "10",
        "",
        None,
        True,
        False,
        [10.0],
        10j,
    ],
    ids=repr,
)
def test_seek_refuses_what_is_not_a_finite_number(bad: Any) -> None:
    clock = playing(duration=200.0, now=10.0, position=5.0)
    with pytest.raises(DomainError) as info:
        clock.seeked(bad, 40.0)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    # A value, not an object that was half-updated.
    assert clock == PlaybackClock(position=5.0, anchor=10.0, playing=True, duration=200.0)


def test_stop_resets_everything() -> None:
    clock = playing(duration=200.0, now=10.0).seeked(50.0, 20.0).stopped(30.0)
    assert clock == PlaybackClock(anchor=30.0)
    assert clock.playing is False
    assert clock.duration is None
    assert clock.position_at(100.0) == 0.0
    assert clock.deadline() is None


def test_a_clock_without_a_duration_has_no_deadline_and_no_upper_bound() -> None:
    clock = PlaybackClock(anchor=0.0, playing=True)
    assert clock.deadline() is None
    assert clock.position_at(1e6) == 1e6
    assert clock.position_at(-5.0) == 0.0


def test_rate_scales_the_position_and_the_deadline() -> None:
    clock = PlaybackClock(position=0.0, anchor=0.0, playing=True, rate=2.0, duration=100.0)
    assert clock.position_at(10.0) == 20.0
    assert clock.deadline() == 50.0


def test_a_start_scheduled_in_the_future_holds_its_position_until_then() -> None:
    clock = PlaybackClock().start(duration=100.0, now=10.0, position=30.0)
    assert clock.position_at(9.5) == 30.0
    assert clock.position_at(10.0) == 30.0
    assert clock.position_at(12.5) == 32.5
    assert clock.deadline() == 80.0
