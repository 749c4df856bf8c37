"""Walking music roots: extensions, hidden names, symlinks, determinism; ids and fingerprints."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from shared.library import AUDIO_EXTENSIONS, has_audio
from shared.library.scanner import fingerprint_file, track_id, walk


def _touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _walked(root: Path) -> list[str]:
    return [f.relpath for listing in walk(root) for f in listing.files]


def test_audio_extensions_are_lower_case_with_dot() -> None:
    assert {".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".aiff", ".aif", ".aifc"} <= (
        AUDIO_EXTENSIONS
    )
    assert {".webm", ".weba"} <= AUDIO_EXTENSIONS
    assert all(e.startswith(".") and e == e.lower() for e in AUDIO_EXTENSIONS)


def test_walk_finds_audio_by_extension_in_sorted_order(tmp_path: Path) -> None:
    for rel in ["b/2.mp3", "b/1.FLAC", "a.ogg", "a/z.m4a", "notes.txt", "b/cover.jpg", "c.cue"]:
        _touch(tmp_path / rel)
    assert _walked(tmp_path) == ["a.ogg", "a/z.m4a", "b/1.FLAC", "b/2.mp3"]


def test_walk_reports_size_mtime_and_best_folder_art(tmp_path: Path) -> None:
    song = _touch(tmp_path / "album" / "song.mp3", b"12345")
    _touch(tmp_path / "album" / "front.png")
    _touch(tmp_path / "album" / "Folder.jpg")
    [listing] = list(walk(tmp_path))
    assert listing.relpath == "album"
    [f] = listing.files
    st = song.stat()
    assert (f.size, f.mtime_ns) == (5, st.st_mtime_ns)
    assert listing.art is not None and listing.art.relpath == "album/Folder.jpg"


def test_hidden_files_and_directories_are_skipped(tmp_path: Path) -> None:
    _touch(tmp_path / ".hidden.mp3")
    _touch(tmp_path / ".secret" / "song.mp3")
    _touch(tmp_path / "visible" / ".also-hidden" / "x.flac")
    _touch(tmp_path / "visible" / "ok.mp3")
    assert _walked(tmp_path) == ["visible/ok.mp3"]


def test_symlinks_inside_the_root_are_followed_outside_not(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    _touch(root / "real" / "a.mp3")
    _touch(outside / "b.mp3")
    (root / "alias.mp3").symlink_to(root / "real" / "a.mp3")
    (root / "escape.mp3").symlink_to(outside / "b.mp3")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "relative-escape").symlink_to(Path("..") / "outside", target_is_directory=True)
    (root / "dangling.mp3").symlink_to(root / "nowhere.mp3")
    assert _walked(root) == ["alias.mp3", "real/a.mp3"]


def test_symlinked_directory_inside_root_is_followed_once(tmp_path: Path) -> None:
    _touch(tmp_path / "zz-real" / "a.mp3")
    (tmp_path / "aa-link").symlink_to(tmp_path / "zz-real", target_is_directory=True)
    # the link sorts first, so the directory is walked through it and not again
    assert _walked(tmp_path) == ["aa-link/a.mp3"]


@pytest.mark.timeout(10)
def test_symlink_loops_terminate(tmp_path: Path) -> None:
    _touch(tmp_path / "d" / "a.mp3")
    (tmp_path / "d" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "d" / "self").symlink_to(tmp_path / "d", target_is_directory=True)
    (tmp_path / "x").symlink_to(tmp_path / "y")
    (tmp_path / "y").symlink_to(tmp_path / "x")
    assert _walked(tmp_path) == ["d/a.mp3"]


def test_root_reached_through_a_symlink(tmp_path: Path) -> None:
    _touch(tmp_path / "real" / "a.mp3")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    assert _walked(tmp_path / "link") == ["a.mp3"]


def test_unreadable_directory_does_not_stop_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path / "a" / "1.mp3")
    _touch(tmp_path / "b" / "2.mp3")
    _touch(tmp_path / "c" / "3.mp3")
    blocked = str((tmp_path / "b").resolve())
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.fspath(path) == blocked:  # tests run as root, where chmod 000 blocks nothing
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    unreadable: list[str] = []
    walked = [f.relpath for listing in walk(tmp_path, unreadable) for f in listing.files]
    assert walked == ["a/1.mp3", "c/3.mp3"]
    assert unreadable == ["b"]


def test_walk_of_missing_root_is_empty(tmp_path: Path) -> None:
    assert _walked(tmp_path / "missing") == []
    _touch(tmp_path / "file.mp3")
    assert _walked(tmp_path / "file.mp3") == []


def test_has_audio(tmp_path: Path) -> None:
    assert has_audio(tmp_path / "missing") is False
    assert has_audio(tmp_path) is False
    _touch(tmp_path / "cover.jpg")
    _touch(tmp_path / ".hidden" / "x.mp3")
    _touch(tmp_path / ".dot.mp3")
    assert has_audio(tmp_path) is False
    _touch(tmp_path / "deep" / "er" / "song.OPUS")
    assert has_audio(tmp_path) is True


def test_fingerprint_depends_on_content_and_size(tmp_path: Path) -> None:
    small, big = b"a" * 1000, os.urandom(300_000)

    def fp(data: bytes) -> bytes:
        return fingerprint_file(io.BytesIO(data), len(data)).digest

    assert fp(small) == fp(bytes(small))
    assert fp(small) != fp(small + b"a")
    assert fp(big) != fp(big[:-1] + bytes([big[-1] ^ 1]))  # last byte counts
    assert fp(big) != fp(bytes([big[0] ^ 1]) + big[1:])  # first byte counts
    # a large file comes back as the open file, rewound for the tag reader
    handle = io.BytesIO(big)
    result = fingerprint_file(handle, len(big))
    assert result.data is handle and handle.tell() == 0


@pytest.mark.parametrize("size", [1000, 2 * 64 * 1024, 300_000])
def test_fingerprint_of_an_unbuffered_file(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = _touch(tmp_path / "f.mp3", data)
    expected = fingerprint_file(io.BytesIO(data), size).digest
    with open(path, "rb", buffering=0) as raw:
        result = fingerprint_file(raw, size)
        assert result.digest == expected
        # handed back rewound and buffered (or in memory), whole
        assert result.data.tell() == 0
        assert not isinstance(result.data, io.RawIOBase)
        assert result.data.read() == data


@pytest.mark.parametrize(
    ("data", "fingerprint", "ids"),
    [
        (
            b"lockstep" * 1000,
            "b20461692a81b7f45c257e3059229695",
            ("azcfxci6hzcfv5iq", "zmqjqxwtlb3fcnvt"),
        ),
        (
            bytes(range(256)) * 1200,
            "d0e47cd312d8b3926a2688c288c5ea65",
            ("q3s4nepgog4u7mos", "awkx57df3oxrlrza"),
        ),
    ],
    ids=["whole", "edges"],
)
def test_fingerprints_and_ids_never_change(
    data: bytes, fingerprint: str, ids: tuple[str, str]
) -> None:
    """Track ids are stored by clients (queues, links): the same bytes must keep their id."""
    digest = fingerprint_file(io.BytesIO(data), len(data)).digest
    assert digest.hex() == fingerprint
    assert (track_id(digest), track_id(digest, "music\0a/b.mp3")) == ids


def test_track_ids_are_url_safe_and_salted() -> None:
    fp = b"\x01" * 16
    plain = track_id(fp)
    assert re.fullmatch(r"[a-z2-7]{16}", plain)
    assert track_id(fp) == plain
    assert track_id(fp, "music\0a/b.mp3") != plain
    assert track_id(b"\x02" * 16) != plain
