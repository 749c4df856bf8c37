"""The queue: entries with a cursor on the current one; history before it, upcoming after it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from shared.core import HISTORY_LIMIT, DomainError, ErrorCode, Queue, RepeatMode, TrackRef


def track(n: int, duration: float = 100.0) -> TrackRef:
    return TrackRef(f"t{n}", duration, f"Track {n}")


def queue_of(count: int, cursor: int = 0, repeat: RepeatMode = RepeatMode.OFF) -> Queue:
    """Entries e1..e<count> holding tracks t1..t<count>, with entry index `cursor` current."""
    queue, _ = Queue(repeat=repeat).add([track(n) for n in range(1, count + 1)], "u1", "Uma")
    return queue.at(cursor)


def ids(entries: tuple[Any, ...]) -> list[str]:
    return [entry.id for entry in entries]


def refused(code: ErrorCode) -> Any:
    return pytest.raises(DomainError, check=lambda error: error.code is code)


# -- tracks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("duration", [0, -1.0, float("nan"), float("inf"), "60", None, True])
def test_a_track_needs_a_positive_finite_duration(duration: Any) -> None:
    with refused(ErrorCode.INVALID_ARGUMENT):
        TrackRef("t1", duration)


@pytest.mark.parametrize("track_id", ["", "a\nb", None, 5, "x" * 129])
def test_a_track_needs_a_printable_id(track_id: Any) -> None:
    with refused(ErrorCode.INVALID_ARGUMENT):
        TrackRef(track_id, 60.0)


# -- adding ------------------------------------------------------------------------------------
def test_the_first_entry_added_to_an_empty_queue_is_current() -> None:
    queue, added = Queue().add([track(1), track(2)], "u1", "Uma")
    assert ids(added) == ["e1", "e2"]
    assert queue.current is not None
    assert queue.current.id == "e1"
    assert ids(queue.upcoming) == ["e2"]
    assert queue.history == ()


def test_add_at_the_end_by_default() -> None:
    queue, added = queue_of(3).add([track(9)], "u2", "Vic")
    assert ids(added) == ["e4"]
    assert ids(queue.entries) == ["e1", "e2", "e3", "e4"]


def test_add_next_goes_right_after_the_current_entry() -> None:
    queue, _ = queue_of(4, cursor=1).add([track(8), track(9)], "u2", "Vic", at=0)
    assert ids(queue.entries) == ["e1", "e2", "e5", "e6", "e3", "e4"]
    assert queue.current is not None
    assert queue.current.id == "e2"
    assert ids(queue.upcoming) == ["e5", "e6", "e3", "e4"]


def test_add_at_an_upcoming_index() -> None:
    queue, _ = queue_of(4, cursor=1).add([track(9)], "u2", "Vic", at=1)
    assert ids(queue.upcoming) == ["e3", "e5", "e4"]
    queue, _ = queue_of(4, cursor=1).add([track(9)], "u2", "Vic", at=2)
    assert ids(queue.upcoming) == ["e3", "e4", "e5"]


def test_add_when_the_queue_ran_out_makes_the_new_entry_current() -> None:
    ran_out = queue_of(2).at(2)
    assert ran_out.current is None
    queue, _ = ran_out.add([track(9)], "u2", "Vic", at=0)
    assert queue.current is not None
    assert queue.current.id == "e3"
    assert ids(queue.history) == ["e1", "e2"]


@pytest.mark.parametrize("at", [-1, 3, 100, True, 1.0, "0"])
def test_add_at_an_index_out_of_range_is_refused(at: Any) -> None:
    queue = queue_of(4, cursor=1)  # two upcoming: valid positions are 0, 1 and 2
    with refused(ErrorCode.INVALID_ARGUMENT):
        queue.add([track(9)], "u2", "Vic", at=at)


def test_adding_nothing_is_refused() -> None:
    with refused(ErrorCode.INVALID_ARGUMENT):
        queue_of(2).add([], "u1", "Uma")


def test_the_same_track_twice_gets_two_entries() -> None:
    queue, added = Queue().add([track(1), track(1)], "u1", "Uma")
    queue, again = queue.add([track(1)], "u2", "Vic")
    entries = queue.entries
    assert [entry.track for entry in entries] == [track(1)] * 3
    assert len({entry.id for entry in entries}) == 3
    assert ids(added) + ids(again) == ids(entries)


def test_entry_ids_are_never_reused_after_a_removal() -> None:
    queue = queue_of(3).remove("e3")
    queue, added = queue.add([track(9)], "u1", "Uma")
    assert ids(added) == ["e4"]


def test_each_entry_records_who_added_it() -> None:
    queue, _ = Queue().add([track(1)], "u1", "Uma")
    queue, _ = queue.add([track(2), track(3)], "u2", "Vic")
    assert [(e.added_by, e.added_by_name) for e in queue.entries] == [
        ("u1", "Uma"),
        ("u2", "Vic"),
        ("u2", "Vic"),
    ]


def test_the_queue_is_full_at_its_limit() -> None:
    queue = queue_of(3)  # e1 current, two upcoming
    full, _ = queue.add([track(8), track(9)], "u1", "Uma", limit=4)
    assert len(full.upcoming) == 4
    with refused(ErrorCode.QUEUE_FULL):
        full.add([track(7)], "u1", "Uma", limit=4)
    with refused(ErrorCode.QUEUE_FULL):
        queue.add([track(7), track(8), track(9)], "u1", "Uma", limit=4)


def test_the_limit_counts_upcoming_entries_only() -> None:
    queue = queue_of(10, cursor=8)  # eight in history, one current, one upcoming
    bigger, _ = queue.add([track(11)], "u1", "Uma", limit=2)
    assert ids(bigger.upcoming) == ["e10", "e11"]


def test_adding_leaves_the_old_queue_alone() -> None:
    queue = queue_of(2)
    queue.add([track(9)], "u1", "Uma")
    assert ids(queue.entries) == ["e1", "e2"]
    assert queue.next_seq == 3


# -- removing ----------------------------------------------------------------------------------
def test_remove_before_the_cursor_keeps_the_current_entry() -> None:
    queue = queue_of(5, cursor=2).remove("e1")
    assert ids(queue.entries) == ["e2", "e3", "e4", "e5"]
    assert queue.cursor == 1
    assert queue.current is not None
    assert queue.current.id == "e3"


def test_remove_the_current_entry_makes_the_next_current() -> None:
    queue = queue_of(5, cursor=2).remove("e3")
    assert queue.cursor == 2
    assert queue.current is not None
    assert queue.current.id == "e4"


def test_remove_the_last_current_entry_leaves_no_current() -> None:
    queue = queue_of(3, cursor=2).remove("e3")
    assert queue.current is None
    assert ids(queue.history) == ["e1", "e2"]


def test_remove_after_the_cursor() -> None:
    queue = queue_of(5, cursor=2).remove("e5")
    assert ids(queue.entries) == ["e1", "e2", "e3", "e4"]
    assert queue.current is not None
    assert queue.current.id == "e3"


def test_remove_an_unknown_entry() -> None:
    with refused(ErrorCode.NOT_FOUND):
        queue_of(3).remove("e9")


# -- moving ------------------------------------------------------------------------------------
def test_move_an_upcoming_entry_to_next() -> None:
    queue = queue_of(5, cursor=1).move("e5", 0)
    assert ids(queue.entries) == ["e1", "e2", "e5", "e3", "e4"]
    assert queue.current is not None
    assert queue.current.id == "e2"


def test_move_an_upcoming_entry_to_the_end() -> None:
    queue = queue_of(5, cursor=1).move("e3", 2)
    assert ids(queue.upcoming) == ["e4", "e5", "e3"]


@pytest.mark.parametrize("entry_id", ["e1", "e2"])  # history, current
def test_only_upcoming_entries_move(entry_id: str) -> None:
    with refused(ErrorCode.INVALID_ARGUMENT):
        queue_of(5, cursor=1).move(entry_id, 0)


@pytest.mark.parametrize("to", [-1, 3, 50, True, 0.0, None])
def test_move_to_a_bad_index(to: Any) -> None:
    with refused(ErrorCode.INVALID_ARGUMENT):
        queue_of(5, cursor=1).move("e3", to)


def test_move_an_unknown_entry() -> None:
    with refused(ErrorCode.NOT_FOUND):
        queue_of(5, cursor=1).move("e42", 0)


# -- clear and shuffle -------------------------------------------------------------------------
def test_clear_drops_only_upcoming_entries() -> None:
    queue, dropped = queue_of(5, cursor=2).clear()
    assert ids(dropped) == ["e4", "e5"]
    assert ids(queue.entries) == ["e1", "e2", "e3"]
    assert queue.current is not None
    assert queue.current.id == "e3"
    assert ids(queue.history) == ["e1", "e2"]


def test_clear_when_nothing_is_upcoming() -> None:
    queue, dropped = queue_of(3, cursor=2).clear()
    assert dropped == ()
    assert ids(queue.entries) == ["e1", "e2", "e3"]


def test_shuffle_touches_only_upcoming_entries() -> None:
    before = queue_of(30, cursor=5)
    after = before.shuffle(seed=1)
    assert after.history == before.history
    assert after.current == before.current
    assert after.cursor == before.cursor
    assert Counter(after.upcoming) == Counter(before.upcoming)
    assert after.upcoming != before.upcoming  # 24! orders: this seed does move something


def test_shuffle_is_determined_by_the_seed() -> None:
    queue = queue_of(30, cursor=5)
    assert queue.shuffle(seed=7) == queue.shuffle(seed=7)
    assert queue.shuffle(seed=7).upcoming != queue.shuffle(seed=8).upcoming


def test_shuffle_keeps_repeated_tracks_as_separate_entries() -> None:
    queue, _ = Queue().add([track(1)] * 6, "u1", "Uma")
    shuffled = queue.shuffle(seed=3)
    assert sorted(ids(shuffled.entries)) == sorted(ids(queue.entries))


# -- moving through the queue ------------------------------------------------------------------
@pytest.mark.parametrize("track_ended", [True, False])
def test_following_with_repeat_off(track_ended: bool) -> None:
    queue = queue_of(3, cursor=1).following(track_ended=track_ended)
    assert queue.current is not None
    assert queue.current.id == "e3"
    at_end = queue.following(track_ended=track_ended)
    assert at_end.current is None
    assert at_end.cursor == 3


def test_following_with_repeat_one_replays_when_the_track_ends() -> None:
    queue = queue_of(3, cursor=1, repeat=RepeatMode.ONE)
    assert queue.following(track_ended=True) == queue


def test_following_with_repeat_one_still_skips() -> None:
    queue = queue_of(3, cursor=1, repeat=RepeatMode.ONE).following(track_ended=False)
    assert queue.current is not None
    assert queue.current.id == "e3"
    # Skipping the last entry does not loop: repeat one is about one track.
    assert queue.following(track_ended=False).current is None


@pytest.mark.parametrize("track_ended", [True, False])
def test_following_with_repeat_all_wraps(track_ended: bool) -> None:
    queue = queue_of(3, cursor=1, repeat=RepeatMode.ALL).following(track_ended=track_ended)
    assert queue.current is not None
    assert queue.current.id == "e3"
    wrapped = queue.following(track_ended=track_ended)
    assert wrapped.current is not None
    assert wrapped.current.id == "e1"
    assert ids(wrapped.entries) == ["e1", "e2", "e3"]


def test_following_on_an_empty_queue() -> None:
    for mode in RepeatMode:
        for track_ended in (True, False):
            assert Queue(repeat=mode).following(track_ended=track_ended).current is None


def test_preceding_goes_back_one_entry() -> None:
    for mode in RepeatMode:
        back = queue_of(3, cursor=2, repeat=mode).preceding()
        assert back is not None
        assert back.current is not None
        assert back.current.id == "e2"
        assert back.entries == queue_of(3).entries


def test_preceding_at_the_start() -> None:
    assert queue_of(3, repeat=RepeatMode.OFF).preceding() is None
    assert queue_of(3, repeat=RepeatMode.ONE).preceding() is None
    wrapped = queue_of(3, repeat=RepeatMode.ALL).preceding()
    assert wrapped is not None
    assert wrapped.current is not None
    assert wrapped.current.id == "e3"
    # A loop of one has nowhere else to go.
    assert queue_of(1, repeat=RepeatMode.ALL).preceding() is None


def test_preceding_when_the_queue_ran_out_goes_to_the_last_entry() -> None:
    back = queue_of(3).at(3).preceding()
    assert back is not None
    assert back.current is not None
    assert back.current.id == "e3"


def test_set_repeat() -> None:
    queue = queue_of(2)
    assert queue.with_repeat(RepeatMode.ALL).repeat is RepeatMode.ALL
    assert queue.with_repeat(RepeatMode("one")).repeat is RepeatMode.ONE
    assert queue.with_repeat(RepeatMode.ALL).entries == queue.entries


# -- history -----------------------------------------------------------------------------------
def test_history_is_trimmed_to_the_limit() -> None:
    count = HISTORY_LIMIT + 50
    queue = queue_of(count).at(HISTORY_LIMIT + 30)
    assert len(queue.history) == HISTORY_LIMIT
    assert queue.current is not None
    assert queue.current.id == f"e{HISTORY_LIMIT + 31}"
    assert queue.history[0].id == "e31"
    assert queue.history[-1].id == f"e{HISTORY_LIMIT + 30}"
    assert len(queue.upcoming) == 19


def test_history_stays_at_the_limit_while_playing_on() -> None:
    queue = queue_of(HISTORY_LIMIT + 5).at(HISTORY_LIMIT)
    assert len(queue.history) == HISTORY_LIMIT
    for n in range(1, 5):
        queue = queue.following(track_ended=True)
        assert len(queue.history) == HISTORY_LIMIT
        assert queue.history[0].id == f"e{n + 1}"
    queue = queue.following(track_ended=True)  # off the end
    assert queue.current is None
    assert len(queue.history) == HISTORY_LIMIT
    assert queue.history[-1].id == f"e{HISTORY_LIMIT + 5}"


def test_history_under_the_limit_is_kept() -> None:
    queue = queue_of(HISTORY_LIMIT + 1).at(HISTORY_LIMIT)
    assert len(queue.history) == HISTORY_LIMIT
    assert len(queue.entries) == HISTORY_LIMIT + 1


def test_repeat_all_keeps_the_whole_loop() -> None:
    count = HISTORY_LIMIT + 50
    queue = queue_of(count, repeat=RepeatMode.ALL).at(HISTORY_LIMIT + 30)
    assert len(queue.entries) == count
    assert len(queue.history) == HISTORY_LIMIT + 30
    looped = queue.at(count - 1).following(track_ended=True)
    assert looped.current is not None
    assert looped.current.id == "e1"
    assert len(looped.entries) == count
