"""The lead a playback change is scheduled ahead by, as plain function calls."""

from __future__ import annotations

import math

from shared.core import MAX_LEAD, MIN_LEAD, playback_lead


def test_a_quiet_local_room_gets_the_minimum_lead() -> None:
    assert playback_lead([0.001, 0.002], listeners=2) == MIN_LEAD
    assert playback_lead([], listeners=0) == MIN_LEAD


def test_the_slowest_listener_sets_the_lead() -> None:
    fast = playback_lead([0.01, 0.02], listeners=2)
    slow = playback_lead([0.01, 0.02, 0.4], listeners=3)
    assert slow > fast
    assert slow >= 0.4 + 0.15  # the round trip plus the player's preparation


def test_a_big_room_gets_more_time_for_the_broadcast() -> None:
    assert playback_lead([0.2], listeners=2000) > playback_lead([0.2], listeners=2)


def test_one_terrible_link_cannot_make_the_room_sluggish() -> None:
    assert playback_lead([0.01, 30.0], listeners=2) == MAX_LEAD


def test_nonsense_round_trips_are_ignored() -> None:
    assert playback_lead([math.nan, -1.0, math.inf, 0.3], listeners=1) == playback_lead(
        [0.3], listeners=1
    )
