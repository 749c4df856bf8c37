"""Content-addressed cover storage and folder-art naming."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_kit import Kit

from shared.library.covers import CoverStore, folder_art_rank, sniff_image_mime


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\r", "image/png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"<svg xmlns=...>", None),
        (b"", None),
    ],
)
def test_sniffs_image_type_from_magic_bytes(head: bytes, mime: str | None) -> None:
    assert sniff_image_mime(head) == mime


def test_same_bytes_are_stored_once(tmp_path: Path, kit: Kit) -> None:
    store = CoverStore(tmp_path / "covers")
    data = kit.cover_bytes()
    first = store.put_bytes(data)
    second = store.put_bytes(bytes(data))
    assert first is not None and first == second
    assert first.mime == "image/png" and first.size == len(data)
    path = store.path_for(first.digest, first.mime)
    assert path.read_bytes() == data and path.suffix == ".png"
    assert [p for p in (tmp_path / "covers").rglob("*") if p.is_file()] == [path]


def test_folder_file_is_stored_under_its_content_hash(tmp_path: Path, kit: Kit) -> None:
    store = CoverStore(tmp_path / "covers")
    from_file = store.put_file(str(kit.cover_jpg))
    from_bytes = store.put_bytes(kit.cover_jpg.read_bytes())
    assert from_file is not None and from_file == from_bytes
    assert from_file.mime == "image/jpeg"
    assert (
        store.path_for(from_file.digest, from_file.mime).read_bytes() == kit.cover_jpg.read_bytes()
    )


def test_non_images_are_not_stored(tmp_path: Path) -> None:
    store = CoverStore(tmp_path / "covers")
    fake = tmp_path / "cover.jpg"
    fake.write_text("this is text")
    assert store.put_bytes(b"plain text") is None
    assert store.put_file(str(fake)) is None
    assert not any(p.is_file() for p in (tmp_path / "covers").rglob("*"))


def test_prune_keeps_only_referenced_images(tmp_path: Path, kit: Kit) -> None:
    store = CoverStore(tmp_path / "covers")
    keep = store.put_bytes(kit.cover_bytes())
    drop = store.put_bytes(kit.cover_jpg.read_bytes())
    assert keep is not None and drop is not None
    assert store.prune({keep.digest}) == 1
    assert store.path_for(keep.digest, keep.mime).is_file()
    assert not store.path_for(drop.digest, drop.mime).exists()


@pytest.mark.parametrize(
    ("name", "is_art"),
    [
        ("cover.jpg", True),
        ("Cover.JPG", True),
        ("folder.jpeg", True),
        ("FRONT.png", True),
        ("cover.webp", True),
        ("back.jpg", False),
        ("cover.gif", False),
        ("cover.jpg.txt", False),
        ("albumcover.jpg", False),
    ],
)
def test_folder_art_names(name: str, is_art: bool) -> None:
    assert (folder_art_rank(name) is not None) == is_art


def test_cover_beats_folder_beats_front() -> None:
    ranks = [folder_art_rank(n) for n in ("cover.png", "folder.jpg", "front.jpg")]
    assert ranks == sorted(ranks)  # type: ignore[type-var]
