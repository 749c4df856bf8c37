"""The edit schedule for now-playing messages, with time as a plain argument."""

from __future__ import annotations

import itertools

from bot.nowplaying import EditThrottle


def run(
    throttle: EditThrottle[str], marks: list[tuple[float, str]], until: float
) -> list[tuple[float, str]]:
    """Mark at the given times; edit whenever the throttle allows (edits take no time)."""
    edits: list[tuple[float, str]] = []
    pending = sorted(marks)
    now = 0.0
    while now <= until:
        while pending and pending[0][0] <= now:
            throttle.mark(pending[0][1], pending.pop(0)[0])
        for key in throttle.due(now):
            throttle.sent(key, now)
            edits.append((now, key))
        wake = throttle.next_due(now)
        upcoming = [t for t, _ in pending]
        candidates = [t for t in (wake, *upcoming) if t is not None and t > now]
        if not candidates:
            break
        now = min(candidates)
    return edits


def test_a_burst_on_one_message_becomes_a_leading_and_a_trailing_edit() -> None:
    throttle: EditThrottle[str] = EditThrottle(interval=3.0)
    burst = [(i * 0.05, "room") for i in range(20)]  # 20 changes within a second
    edits = run(throttle, burst, until=30)
    assert edits == [(0.0, "room"), (3.0, "room")]


def test_a_quiet_message_is_edited_at_once() -> None:
    throttle: EditThrottle[str] = EditThrottle(interval=3.0)
    edits = run(throttle, [(0.0, "a"), (10.0, "a"), (20.5, "a")], until=30)
    assert edits == [(0.0, "a"), (10.0, "a"), (20.5, "a")]


def test_no_message_is_edited_more_often_than_its_interval() -> None:
    throttle: EditThrottle[str] = EditThrottle(interval=2.5)
    marks = [(i * 0.1, "a") for i in range(300)]  # a change every 100 ms for 30 s
    times = [t for t, _ in run(throttle, marks, until=60)]
    assert all(b - a >= 2.5 for a, b in itertools.pairwise(times))
    assert times[-1] >= 29.9  # and the last change still gets its edit


def test_a_slow_edit_pushes_the_next_one_back() -> None:
    throttle: EditThrottle[str] = EditThrottle(interval=3.0)
    throttle.mark("a", 0.0)
    assert throttle.due(0.0) == ["a"]
    throttle.mark("a", 0.5)
    throttle.sent("a", 2.0)  # the request took two seconds
    assert throttle.due(4.0) == []
    assert throttle.next_due(4.0) == 5.0
    assert throttle.due(5.0) == ["a"]


def test_all_messages_share_a_global_budget() -> None:
    throttle: EditThrottle[str] = EditThrottle(interval=3.0, rate=4.0, burst=8.0)
    marks = [(0.0, f"room{i}") for i in range(40)]  # 40 channels change at once
    edits = run(throttle, marks, until=60)
    assert len(edits) == 40  # everyone gets their edit...
    assert sum(1 for t, _ in edits if t == 0.0) == 8  # ...the burst at once...
    for start in range(0, 8):  # ...then no more than `rate` a second
        assert sum(1 for t, _ in edits if start + 0.001 < t <= start + 1.001) <= 4
    assert {key for _, key in edits} == {f"room{i}" for i in range(40)}


def test_forgetting_a_room_drops_its_pending_edit() -> None:
    throttle: EditThrottle[str] = EditThrottle()
    throttle.mark("a", 0.0)
    throttle.forget("a")
    assert throttle.due(0.0) == []
    assert throttle.next_due(0.0) is None
