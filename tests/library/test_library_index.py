"""End-to-end scans into a real SQLite index: what a listener (or the server) would notice."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from audio_kit import FORMATS, TAGS, Kit, MakeLibrary, write_mp3
from mutagen.id3 import ID3, TIT2

from shared.library import Library, Page, ScanReport, Track

ID_RE = re.compile(r"[a-z2-7]{16}")


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst


def _by_path(lib: Library) -> dict[str, Track]:
    tracks: dict[str, Track] = {}
    cursor = None
    while True:
        page = lib.search("", limit=500, cursor=cursor)
        tracks.update({f"{t.root}/{t.relpath}": t for t in page.items})
        if page.next_cursor is None:
            return tracks
        cursor = page.next_cursor


def _counts(report: ScanReport) -> tuple[int, ...]:
    return (
        report.added, report.updated, report.moved, report.removed, report.unchanged,
        report.skipped,
    )  # fmt: skip


# ------------------------------------------------------------------------ formats and tags


def test_scan_indexes_every_format(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    for fmt in FORMATS:
        _copy(kit.files[fmt.key], music / "Album" / fmt.filename)
    lib = make_library()

    report = lib.scan()

    assert report.seen == len(FORMATS) and report.added == len(FORMATS) and report.skipped == 0
    assert lib.count() == len(FORMATS)
    for fmt in FORMATS:
        track = lib.find_by_relpath("music", f"Album/{fmt.filename}")
        assert track is not None, fmt.key
        assert track.title == f"{fmt.key} song"
        assert (track.codec, track.mime) == (fmt.codec, fmt.mime)
        assert track.artist == TAGS["artist"]
        assert track.duration == pytest.approx(1.0, abs=0.1)
        assert track.size == (music / "Album" / fmt.filename).stat().st_size
        assert track.has_cover == fmt.cover
        assert track.root == "music" and ID_RE.fullmatch(track.id)
        assert lib.get(track.id) == track
        assert lib.path_of(track.id) == (music / "Album" / fmt.filename).resolve()


def test_track_fields_round_trip(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    _copy(kit.files["mp3"], music / "a" / "song.mp3")
    lib = make_library()
    lib.scan()
    track = lib.find_by_relpath("music", "a/song.mp3")
    assert track is not None
    assert (track.album, track.album_artist, track.track_no, track.disc_no, track.year) == (
        TAGS["album"],
        TAGS["album_artist"],
        3,
        1,
        2019,
    )
    assert track.bitrate is not None and 60_000 < track.bitrate < 70_000
    assert track.sample_rate == 44100
    assert track.mtime_ns == (music / "a" / "song.mp3").stat().st_mtime_ns


def test_title_falls_back_to_the_file_name(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    _copy(kit.files["plain"], music / "Some Artist - Great Song.mp3")
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    assert track.title == "Some Artist - Great Song"
    assert track.artist is None and not track.has_cover


# ---------------------------------------------------------------------------------- covers


def test_embedded_cover_is_served_and_shared(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    art = kit.cover_bytes()
    for n in (1, 2, 3):
        write_mp3(
            kit, music / "Album" / f"{n}.mp3", f"Track {n}", album="A", track=str(n), cover=art
        )
    _copy(kit.files["flac"], music / "Other" / "x.flac")  # same picture, other container
    lib = make_library()
    report = lib.scan()
    assert report.covers == 1

    covers = [lib.cover(t.id) for t in lib.search().items]
    assert all(c is not None for c in covers)
    assert len({c.path for c in covers if c}) == 1
    cover = covers[0]
    assert cover is not None
    assert cover.path.read_bytes() == art
    assert cover.mime == "image/png"
    assert cover.etag and cover.etag in cover.path.name
    stored = [p for p in cover.path.parent.parent.rglob("*") if p.is_file()]
    assert stored == [cover.path]


def test_folder_art_is_used_when_nothing_is_embedded(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "Album" / "1.mp3", "One")
    write_mp3(kit, music / "Album" / "2.mp3", "Two")
    write_mp3(kit, music / "Album" / "3.mp3", "Three", cover=kit.cover_bytes())
    shutil.copyfile(kit.cover_jpg, music / "Album" / "Cover.JPG")
    write_mp3(kit, music / "Bare" / "4.mp3", "Four")
    lib = make_library()
    lib.scan()
    t = {x.title: x for x in lib.search().items}

    one, two, three = lib.cover(t["One"].id), lib.cover(t["Two"].id), lib.cover(t["Three"].id)
    assert one is not None and two is not None and three is not None
    assert one.path == two.path and one.mime == "image/jpeg"
    assert one.path.read_bytes() == kit.cover_jpg.read_bytes()
    assert three.path.read_bytes() == kit.cover_bytes()  # embedded art wins
    assert lib.cover(t["Four"].id) is None and not t["Four"].has_cover


def test_folder_art_added_or_removed_later_is_noticed(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "Album" / "1.mp3", "One")
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    assert lib.cover(track.id) is None

    shutil.copyfile(kit.cover_jpg, music / "Album" / "folder.jpg")
    report = lib.scan()
    assert report.unchanged == 1
    cover = lib.cover(track.id)
    assert cover is not None and cover.path.read_bytes() == kit.cover_jpg.read_bytes()

    (music / "Album" / "folder.jpg").unlink()
    lib.scan()
    assert lib.cover(track.id) is None
    assert not cover.path.exists()  # no longer used by anything


def test_covers_of_removed_tracks_are_deleted(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    song = write_mp3(kit, music / "song.mp3", "Song", cover=kit.cover_bytes())
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    cover = lib.cover(track.id)
    assert cover is not None and cover.path.is_file()
    song.unlink()
    lib.scan()
    assert not cover.path.exists()


# ------------------------------------------------------------------------ incremental rescans


def test_unchanged_files_are_not_reread(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    song = write_mp3(kit, music / "song.mp3", "Original Title")
    lib = make_library()
    lib.scan()
    [before] = lib.search().items

    # New content of the same size under the same mtime: only a re-read could notice.
    st = song.stat()
    data = song.read_bytes().replace(b"Original Title", b"Modified Title")
    assert len(data) == st.st_size
    song.write_bytes(data)
    os.utime(song, ns=(st.st_atime_ns, st.st_mtime_ns))

    report = lib.scan()
    assert _counts(report) == (0, 0, 0, 0, 1, 0)
    assert lib.get(before.id) == before  # still the old title: the file was not reopened

    os.utime(song, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    report = lib.scan()
    assert _counts(report) == (0, 1, 0, 0, 0, 0)
    after = lib.get(before.id)
    assert after is not None and after.title == "Modified Title"
    assert lib.search("modified").items == (after,)
    assert lib.search("original").items == ()


def test_changed_file_keeps_its_id(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    song = write_mp3(kit, music / "song.mp3", "Before", artist="Someone")
    lib = make_library()
    lib.scan()
    [before] = lib.search().items
    tags = ID3(song)
    tags.add(TIT2(encoding=3, text=["After, with a much longer title than before"]))
    tags.save(song)

    report = lib.scan()
    assert report.updated == 1 and report.added == 0
    after = lib.get(before.id)
    assert after is not None and after.title.startswith("After") and after.artist == "Someone"
    assert after.size == song.stat().st_size


def test_deleted_file_is_removed(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    keep = write_mp3(kit, music / "keep.mp3", "Keep")
    gone = write_mp3(kit, music / "sub" / "gone.mp3", "Gone")
    lib = make_library()
    lib.scan()
    gone_track = lib.find_by_relpath("music", "sub/gone.mp3")
    assert gone_track is not None
    gone.unlink()

    report = lib.scan()
    assert _counts(report) == (0, 0, 0, 1, 1, 0)
    assert lib.get(gone_track.id) is None and lib.path_of(gone_track.id) is None
    assert lib.search("gone").items == ()
    assert [t.relpath for t in lib.search().items] == [keep.name]


def test_moved_file_keeps_its_id(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    write_mp3(kit, music / "Inbox" / "song.mp3", "Wanderer", album="Travels")
    lib = make_library()
    lib.scan()
    [before] = lib.search().items

    (music / "Sorted" / "Travels").mkdir(parents=True)
    (music / "Inbox" / "song.mp3").rename(music / "Sorted" / "Travels" / "01 Wanderer.mp3")
    report = lib.scan()

    assert _counts(report) == (0, 0, 1, 0, 0, 0)
    after = lib.get(before.id)
    assert after is not None and after.relpath == "Sorted/Travels/01 Wanderer.mp3"
    assert after.title == "Wanderer"
    assert lib.path_of(before.id) == (music / "Sorted" / "Travels" / "01 Wanderer.mp3").resolve()
    assert lib.count() == 1


def test_moved_file_picks_up_the_new_folder_art(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "a" / "song.mp3", "Song")
    _copy(kit.cover_png, music / "b" / "cover.png")
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    assert not track.has_cover
    (music / "a" / "song.mp3").rename(music / "b" / "song.mp3")
    assert lib.scan().moved == 1
    moved = lib.get(track.id)
    assert moved is not None and moved.has_cover


def test_large_file_is_read_and_tracked_by_its_edges(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    big = _copy(kit.files["long"], music / "big.flac")
    assert big.stat().st_size > 2 * 64 * 1024
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    assert (track.title, track.codec) == ("Long Song", "flac")
    assert track.duration == pytest.approx(12.0, abs=0.1)
    big.rename(music / "renamed.flac")
    assert lib.scan().moved == 1
    moved = lib.get(track.id)
    assert moved is not None and moved.relpath == "renamed.flac"


def test_file_moved_to_another_root_keeps_its_id(
    kit: Kit, tmp_path: Path, make_library: MakeLibrary
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_mp3(kit, one / "song.mp3", "Roamer")
    two.mkdir()
    lib = make_library({"one": one, "two": two})
    lib.scan()
    [before] = lib.search().items
    (one / "song.mp3").rename(two / "song.mp3")
    assert lib.scan().moved == 1
    after = lib.get(before.id)
    assert after is not None and (after.root, after.relpath) == ("two", "song.mp3")


def test_a_copy_is_a_new_track_not_a_move(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    write_mp3(kit, music / "b" / "song.mp3", "Twin")
    lib = make_library()
    lib.scan()
    [original] = lib.search().items
    # the copy sorts before the original, so the walk meets it first
    _copy(music / "b" / "song.mp3", music / "a" / "song.mp3")

    report = lib.scan()
    assert (report.added, report.moved, report.unchanged) == (1, 0, 1)
    tracks = _by_path(lib)
    assert tracks["music/b/song.mp3"].id == original.id
    assert tracks["music/a/song.mp3"].id != original.id


def test_copies_and_a_move_of_the_same_content(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    template = write_mp3(kit, music / "a" / "1.mp3", "Same")
    for n in (2, 3):
        _copy(template, music / "a" / f"{n}.mp3")
    lib = make_library()
    lib.scan()
    before = _by_path(lib)
    (music / "z").mkdir()
    (music / "a" / "2.mp3").rename(music / "z" / "2.mp3")
    for n in (4, 5):
        _copy(template, music / "b" / f"{n}.mp3")

    report = lib.scan()
    # b/4.mp3 is walked first of the new paths: it takes the id of the one that is gone
    assert (report.added, report.moved, report.unchanged) == (2, 1, 2)
    after = _by_path(lib)
    assert after["music/b/4.mp3"].id == before["music/a/2.mp3"].id
    assert len({t.id for t in after.values()}) == 5


def test_ids_are_stable_when_reindexing_from_scratch(
    kit: Kit, music: Path, tmp_path: Path, make_library: MakeLibrary
) -> None:
    for fmt in FORMATS[:5]:
        _copy(kit.files[fmt.key], music / "x" / fmt.filename)
    _copy(kit.files["mp3"], music / "y" / "copy of mp3.mp3")  # identical content
    first = make_library(name="first")
    first.scan()
    ids_first = {k: t.id for k, t in _by_path(first).items()}

    second = make_library(name="second")  # a brand-new database over the same files
    second.scan()
    ids_second = {k: t.id for k, t in _by_path(second).items()}

    assert ids_first == ids_second
    assert len(set(ids_first.values())) == len(ids_first) == 6


def test_ids_do_not_expose_paths(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    write_mp3(kit, music / "secret-folder" / "private.mp3", "Song")
    write_mp3(kit, music / "secret-folder" / "private2.mp3", "Song")
    lib = make_library()
    lib.scan()
    for track in lib.search().items:
        assert ID_RE.fullmatch(track.id)
        assert not {"secret", "private", "folder", "music"} & {
            track.id[i : i + 6] for i in range(11)
        }


def test_reopening_the_database_keeps_everything(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "song.mp3", "Persisted", cover=kit.cover_bytes())
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    lib.close()
    again = make_library()  # same db path and cover dir
    assert again.get(track.id) == track
    assert _counts(again.scan()) == (0, 0, 0, 0, 1, 0)
    assert again.cover(track.id) is not None


# -------------------------------------------------------------------------------- bad files


def test_bad_files_are_skipped_and_logged_once(
    kit: Kit, music: Path, make_library: MakeLibrary, caplog: pytest.LogCaptureFixture
) -> None:
    write_mp3(kit, music / "a-good.mp3", "Good One")
    (music / "bad").mkdir()
    (music / "bad" / "random.mp3").write_bytes(os.urandom(10_000))
    (music / "bad" / "text.flac").write_text("not audio\n" * 100)
    (music / "bad" / "empty.ogg").write_bytes(b"")
    half = kit.files["aac"].read_bytes()
    (music / "bad" / "truncated.m4a").write_bytes(half[: len(half) // 2])
    _copy(kit.files["webm"], music / "bad" / "clip.webm")
    (music / "bad" / "notes.txt").write_text("ignored silently")
    (music / "bad" / "album.cue").write_text("ignored silently")
    write_mp3(kit, music / "z-good.mp3", "Good Two")
    lib = make_library()

    with caplog.at_level(logging.INFO, logger="lockstep.library"):
        report = lib.scan()

    assert (report.seen, report.added, report.skipped) == (7, 2, 5)
    assert sorted(t.title for t in lib.search().items) == ["Good One", "Good Two"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    for name in ("random.mp3", "text.flac", "empty.ogg", "truncated.m4a", "clip.webm"):
        [line] = [r.getMessage() for r in warnings if f"bad/{name}" in r.getMessage()]
        assert ": " in line and "\n" not in line
    assert all(r.name == "lockstep.library" for r in caplog.records)
    [summary] = [r for r in caplog.records if r.levelno == logging.INFO]
    assert "2 added" in summary.getMessage() and "5 skipped" in summary.getMessage()


def test_file_that_turns_bad_is_dropped(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    song = write_mp3(kit, music / "song.mp3", "Fine For Now")
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    song.write_bytes(b"\0" * 5000)
    report = lib.scan()
    assert (report.skipped, report.removed) == (1, 1)
    assert lib.get(track.id) is None


def test_hidden_files_are_not_indexed_or_counted(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "visible.mp3", "Visible")
    write_mp3(kit, music / ".hidden.mp3", "Hidden File")
    write_mp3(kit, music / ".stash" / "song.mp3", "Hidden Dir")
    lib = make_library()
    report = lib.scan()
    assert (report.seen, report.skipped) == (1, 0)
    assert [t.title for t in lib.search().items] == ["Visible"]


def test_symlinks(kit: Kit, tmp_path: Path, make_library: MakeLibrary) -> None:
    music, outside = tmp_path / "music", tmp_path / "outside"
    write_mp3(kit, music / "real" / "inside.mp3", "Inside")
    write_mp3(kit, outside / "outside.mp3", "Outside")
    (music / "link-in.mp3").symlink_to(music / "real" / "inside.mp3")
    (music / "link-out.mp3").symlink_to(outside / "outside.mp3")
    (music / "dir-out").symlink_to(outside, target_is_directory=True)
    (music / "real" / "loop").symlink_to(music, target_is_directory=True)
    lib = make_library()
    lib.scan()
    tracks = _by_path(lib)
    assert sorted(tracks) == ["music/link-in.mp3", "music/real/inside.mp3"]
    assert lib.path_of(tracks["music/link-in.mp3"].id) == (music / "real" / "inside.mp3").resolve()

    # a link repointed outside the root after the scan is not served
    (music / "link-in.mp3").unlink()
    (music / "link-in.mp3").symlink_to(outside / "outside.mp3")
    assert lib.path_of(tracks["music/link-in.mp3"].id) is None


# ------------------------------------------------------------------------------------- roots


def test_set_roots_adds_and_removes_roots(
    kit: Kit, tmp_path: Path, make_library: MakeLibrary
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_mp3(kit, a / "one.mp3", "From A")
    write_mp3(kit, b / "two.mp3", "From B")
    lib = make_library({"a": a})
    lib.scan()
    assert [t.title for t in lib.search().items] == ["From A"]

    lib.set_roots({"b": b})
    report = lib.scan()
    assert (report.added, report.removed) == (1, 1)
    [track] = lib.search().items
    assert (track.title, track.root) == ("From B", "b")
    assert lib.find_by_relpath("a", "one.mp3") is None


def test_missing_root_keeps_its_tracks(kit: Kit, tmp_path: Path, make_library: MakeLibrary) -> None:
    music = tmp_path / "music"
    write_mp3(kit, music / "song.mp3", "Still Here")
    lib = make_library({"music": music})
    lib.scan()
    [track] = lib.search().items
    music.rename(tmp_path / "unplugged")

    report = lib.scan()
    assert report.missing_roots == ("music",) and report.removed == 0
    assert lib.get(track.id) == track
    assert lib.path_of(track.id) is None  # but nothing to serve

    (tmp_path / "unplugged").rename(music)
    assert lib.scan().unchanged == 1


def test_root_names_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="root names"):
        Library(tmp_path / "db", {"": tmp_path}, tmp_path / "covers")


# ---------------------------------------------------------------------- lookups and plumbing


def test_get_many_and_unknown_ids(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    for n in range(3):
        write_mp3(kit, music / f"{n}.mp3", f"Song {n}")
    lib = make_library()
    lib.scan()
    ids = [t.id for t in lib.search().items]
    got = lib.get_many([*ids, "nope", ids[0]])
    assert set(got) == set(ids)
    assert all(got[i].id == i for i in ids)
    assert lib.get_many([]) == {}
    assert lib.get("nope") is None and lib.path_of("nope") is None and lib.cover("nope") is None
    assert lib.find_by_relpath("music", "missing.mp3") is None
    assert lib.find_by_relpath("other", "0.mp3") is None


def test_database_is_wal_and_check_works(make_library: MakeLibrary, tmp_path: Path) -> None:
    lib = make_library()
    assert lib.check() is True
    assert lib.count() == 0
    with sqlite3.connect(tmp_path / "state" / "library.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    lib.close()
    lib.close()  # twice is fine
    assert lib.check() is True  # and a later call simply reconnects
    lib.close()


async def test_scan_in_a_worker_while_other_threads_read(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    for n in range(600):  # more than one write batch
        write_mp3(kit, music / f"d{n // 50}" / f"{n:03d}.mp3", f"Song {n}", artist="Load Tester")
    lib = make_library()
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                lib.search("load")
                lib.search("", limit=10)
                lib.count()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            lib.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        first, second = await asyncio.gather(
            asyncio.to_thread(lib.scan), asyncio.to_thread(lib.scan)
        )
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    # one scan at a time: whichever ran second found everything already indexed
    assert sorted([first.added, second.added]) == [0, 600]
    assert sorted([first.unchanged, second.unchanged]) == [0, 600]

    def search_and_close() -> Page:
        try:
            return lib.search("load tester", 500)
        finally:
            lib.close()  # from a worker thread, with nothing else running: closes what is idle

    page = await asyncio.to_thread(search_and_close)
    assert len(page.items) == 500 and page.next_cursor is not None


@pytest.mark.slow
def test_unchanged_rescan_is_fast(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    template = write_mp3(kit, music / "template.mp3", "Template")
    for n in range(2000):
        _copy(template, music / f"artist{n // 200}" / f"album{n // 20}" / f"{n:04d}.mp3")
    lib = make_library()
    assert lib.scan().added == 2001
    report = lib.scan()
    assert report.unchanged == 2001
    assert report.seconds < 0.5


def test_wiped_cover_store_is_refilled(kit: Kit, music: Path, make_library: MakeLibrary) -> None:
    write_mp3(kit, music / "a" / "embedded.mp3", "Embedded", cover=kit.cover_bytes())
    write_mp3(kit, music / "b" / "folder.mp3", "Folder")
    _copy(kit.cover_jpg, music / "b" / "cover.jpg")
    lib = make_library()
    lib.scan()
    tracks = {t.title: t for t in lib.search().items}
    covers = {title: lib.cover(t.id) for title, t in tracks.items()}
    for cover in covers.values():
        assert cover is not None
        cover.path.unlink()
    assert all(lib.cover(t.id) is None for t in tracks.values())

    report = lib.scan()
    assert report.covers == 2
    for title, t in tracks.items():
        cover = lib.cover(t.id)
        assert cover is not None and cover == covers[title] and cover.path.is_file()


def test_unlistable_directory_keeps_its_tracks(
    kit: Kit, music: Path, make_library: MakeLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_mp3(kit, music / "ok" / "1.mp3", "Readable")
    write_mp3(kit, music / "flaky" / "2.mp3", "Behind Bad Permissions")
    lib = make_library()
    lib.scan()
    flaky = str((music / "flaky").resolve())
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.fspath(path) == flaky:  # root ignores chmod, so fail the listing directly
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = lib.scan()
    assert (report.removed, report.unchanged) == (0, 1)
    assert lib.count() == 2


def test_corrupt_database_is_set_aside_and_rebuilt(
    kit: Kit, music: Path, tmp_path: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "song.mp3", "Survivor")
    db = tmp_path / "state" / "library.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"this is not an sqlite database, just junk " * 50)
    lib = make_library()
    assert (tmp_path / "state" / "library.sqlite3.corrupt").is_file()
    assert lib.scan().added == 1
    assert [t.title for t in lib.search().items] == ["Survivor"]


def test_known_bad_file_is_not_reparsed_until_it_changes(
    kit: Kit, music: Path, make_library: MakeLibrary, caplog: pytest.LogCaptureFixture
) -> None:
    good = write_mp3(kit, music / "staging" / "good.mp3", "Fixed Later")
    payload = good.read_bytes()
    good.unlink()
    bad = music / "song.mp3"
    bad.write_bytes(os.urandom(len(payload)))
    lib = make_library()
    assert lib.scan().skipped == 1

    # Same size and mtime, now valid: a re-parse would index it, the cache does not.
    st = bad.stat()
    bad.write_bytes(payload)
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lockstep.library"):
        report = lib.scan()
    assert (report.seen, report.skipped, report.added) == (1, 1, 0)
    assert ["song.mp3" in r.getMessage() for r in caplog.records] == [True]  # still logged

    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    report = lib.scan()
    assert (report.skipped, report.added) == (0, 1)
    assert [t.title for t in lib.search().items] == ["Fixed Later"]


def test_a_new_tag_reader_rereads_everything(
    kit: Kit, music: Path, make_library: MakeLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_mp3(kit, music / "a.mp3", "A")
    (music / "b.mp3").write_bytes(b"junk" * 100)
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    monkeypatch.setattr("shared.library.tags.READER_VERSION", 99)
    report = lib.scan()
    assert (report.updated, report.skipped, report.unchanged) == (1, 1, 0)
    assert lib.get(track.id) == track
    assert _counts(lib.scan()) == (0, 0, 0, 0, 1, 1)


def test_old_schema_is_rebuilt(
    kit: Kit, music: Path, tmp_path: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "a.mp3", "A")
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    lib.close()
    conn = sqlite3.connect(tmp_path / "state" / "library.sqlite3")
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    again = make_library()
    assert again.count() == 0  # rebuilt empty...
    assert again.scan().added == 1
    assert again.get(track.id) == track  # ...and the ids come back the same


def _fts_is_consistent(db: Path) -> bool:
    """FTS5's own check that the index holds exactly the rows of the tracks table."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("INSERT INTO tracks_fts (tracks_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    return True


def test_schema_2_index_is_upgraded_in_place(
    kit: Kit, music: Path, tmp_path: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "a.mp3", "Alpha Song")
    lib = make_library()
    lib.scan()
    [track] = lib.search().items
    lib.close()
    db = tmp_path / "state" / "library.sqlite3"
    conn = sqlite3.connect(db)  # what schema 2 had on top: the per-row insert trigger
    conn.execute(
        """CREATE TRIGGER tracks_ai AFTER INSERT ON tracks BEGIN
            INSERT INTO tracks_fts (rowid, title, artist, album, album_artist)
            VALUES (new.pk, new.title, new.artist, new.album, new.album_artist);
        END"""
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()

    again = make_library()
    assert again.get(track.id) == track  # kept, not rebuilt
    write_mp3(kit, music / "b.mp3", "Beta Song")
    assert _counts(again.scan()) == (1, 0, 0, 0, 1, 0)
    assert {t.title for t in again.search("song").items} == {"Alpha Song", "Beta Song"}
    assert _fts_is_consistent(db)  # the new row was indexed once, not by a trigger as well
    conn = sqlite3.connect(db)
    triggers = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    conn.close()
    assert "tracks_ai" not in triggers


def test_search_index_follows_batched_adds_updates_and_deletes(
    kit: Kit, music: Path, tmp_path: Path, make_library: MakeLibrary
) -> None:
    for n in range(450):  # more than one write batch
        write_mp3(kit, music / f"d{n // 50}" / f"{n:03d}.mp3", f"Tune {n}", artist="Batcher")
    lib = make_library()
    lib.scan()
    db = tmp_path / "state" / "library.sqlite3"
    assert _fts_is_consistent(db)
    assert len(lib.search("batcher", 500).items) == 450

    (music / "d0" / "000.mp3").unlink()
    write_mp3(kit, music / "d1" / "050.mp3", "Renamed Melody", artist="Batcher")
    write_mp3(kit, music / "d9" / "new.mp3", "Fresh Melody", artist="Batcher")
    assert _counts(lib.scan())[:4] == (1, 1, 0, 1)
    assert _fts_is_consistent(db)
    assert {t.title for t in lib.search("melody").items} == {"Renamed Melody", "Fresh Melody"}
    titles = {t.title for t in lib.search("batcher", 500).items}
    assert len(titles) == 450 and not {"Tune 0", "Tune 50"} & titles


def test_consecutive_tracks_with_different_art_keep_their_own(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    png, jpg = kit.cover_bytes(), kit.cover_jpg.read_bytes()
    pictures = [png, png, jpg, png, None, jpg]
    for n, art in enumerate(pictures):
        write_mp3(kit, music / "Mixed" / f"{n}.mp3", f"Track {n}", track=str(n + 1), cover=art)
    lib = make_library()
    assert lib.scan().covers == 2
    for n, art in enumerate(pictures):
        track = lib.find_by_relpath("music", f"Mixed/{n}.mp3")
        assert track is not None and track.has_cover is (art is not None)
        cover = lib.cover(track.id)
        assert (cover.path.read_bytes() if cover else None) == art


def test_close_while_another_thread_is_mid_search(
    kit: Kit, music: Path, make_library: MakeLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        write_mp3(kit, music / f"{n:02d}.mp3", f"Song {n}", artist="Paused Reader")
    lib = make_library()
    lib.scan()
    lib.close()  # from here on, every connection is opened by the wrapper below

    in_query, closed = threading.Event(), threading.Event()
    opened: list[sqlite3.Connection] = []
    searcher: list[int] = []
    waited: list[bool] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        running = [""]  # the statement being run; FTS5's own inner ones start with "--"

        def pause() -> int:
            # SQLite calls this every few dozen steps of a running statement: hold the
            # searcher's full-text query open (once) until the main thread has called close()
            mine = "MATCH" in running[0] and threading.get_ident() in searcher
            if mine and not in_query.is_set():
                in_query.set()
                waited.append(closed.wait(5))
            return 0  # carry on

        def trace(sql: str) -> None:
            if not sql.startswith("--"):
                running[0] = sql

        conn.set_trace_callback(trace)
        conn.set_progress_handler(pause, 50)
        opened.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    results: list[Page] = []
    errors: list[BaseException] = []

    def search() -> None:
        searcher.append(threading.get_ident())
        try:
            results.append(lib.search("paused reader", 50))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    thread = threading.Thread(target=search)
    thread.start()
    try:
        assert in_query.wait(10)
        assert lib.count() == 30  # another connection, idle once this returns
        lib.close()
    finally:
        closed.set()
        thread.join(10)
    assert not thread.is_alive() and errors == []
    assert waited == [True]  # close() returned while the query was still running
    [page] = results
    assert len(page.items) == 30 and {t.artist for t in page.items} == {"Paused Reader"}
    # close() closed the idle connection at once and the searcher's once it was handed back
    assert len(opened) == 2
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
    assert len(lib.search("paused reader", 50).items) == 30  # and the library reopens


# ------------------------------------------------------------------------------ stopping a scan


@contextmanager
def _stop_scan_at(lib: Library, marker: str) -> Iterator[threading.Event]:
    """Stop `lib`'s scan from another thread when it logs that it skipped `marker`, a bad file
    placed where the walk should stop; the scan waits until the stop is asked for. The event
    yielded is set once it has been."""
    asked = threading.Event()

    def stop() -> None:
        lib.stop_scan()
        asked.set()

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if marker in record.getMessage() and not asked.is_set():
                threading.Thread(target=stop).start()
                asked.wait(10)

    handler = Handler(logging.WARNING)
    logger = logging.getLogger("lockstep.library")
    logger.addHandler(handler)
    try:
        yield asked
    finally:
        logger.removeHandler(handler)


def test_stopped_scan_keeps_what_it_indexed_and_the_next_scan_finishes(
    kit: Kit, music: Path, tmp_path: Path, make_library: MakeLibrary
) -> None:
    for n in range(500):  # more than one write batch before the stop
        write_mp3(kit, music / f"d{n // 50:02d}" / f"{n:03d}.mp3", f"Song {n}", artist="Halted")
    (music / "d08" / "425-stop.mp3").write_bytes(b"\0" * 5000)  # walked just before 425.mp3
    db = tmp_path / "state" / "library.sqlite3"
    lib = make_library()

    with _stop_scan_at(lib, "d08/425-stop.mp3") as asked:
        report = lib.scan()
    assert asked.is_set() and report.stopped
    assert (report.seen, report.added, report.skipped, report.removed) == (426, 425, 1, 0)
    assert lib.count() == 425 and _fts_is_consistent(db)
    titles = {t.title for t in lib.search("halted", 500).items}
    assert titles == {f"Song {n}" for n in range(425)}

    report = lib.scan()  # picks up where the stopped one left off
    assert not report.stopped
    assert (report.added, report.unchanged, report.removed, report.skipped) == (75, 425, 0, 1)
    assert lib.count() == 500 and _fts_is_consistent(db)
    assert len(lib.search("halted", 500).items) == 500

    # Files deleted past the point where a scan stops are not noticed by it...
    shutil.rmtree(music / "d09")
    with _stop_scan_at(lib, "d08/425-stop.mp3"):
        report = lib.scan()
    assert report.stopped and (report.unchanged, report.removed) == (425, 0)
    assert lib.count() == 500
    # ...only by a complete one.
    report = lib.scan()
    assert not report.stopped and (report.unchanged, report.removed) == (450, 50)
    assert lib.count() == 450 and _fts_is_consistent(db)


def test_folder_art_found_by_a_stopped_scan_reaches_every_track(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "Album" / "1.mp3", "One")
    (music / "Album" / "2-stop.mp3").write_bytes(b"\0" * 5000)
    write_mp3(kit, music / "Album" / "3.mp3", "Three")
    lib = make_library()
    lib.scan()
    one, three = (
        lib.find_by_relpath("music", "Album/1.mp3"),
        lib.find_by_relpath("music", "Album/3.mp3"),
    )
    assert one is not None and three is not None

    shutil.copyfile(kit.cover_jpg, music / "Album" / "cover.jpg")
    with _stop_scan_at(lib, "Album/2-stop.mp3"):
        report = lib.scan()
    assert report.stopped and report.seen == 2
    assert lib.cover(one.id) is not None and lib.cover(three.id) is None  # not reached

    report = lib.scan()
    assert not report.stopped
    assert lib.cover(one.id) is not None and lib.cover(three.id) is not None


def test_stop_scan_only_stops_a_scan_that_is_running(
    kit: Kit, music: Path, make_library: MakeLibrary
) -> None:
    write_mp3(kit, music / "song.mp3", "Song")
    lib = make_library()
    lib.stop_scan()  # nothing running: forgotten when the next scan starts
    report = lib.scan()
    assert not report.stopped and report.added == 1
