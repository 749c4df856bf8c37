"""Tag, stream-info and cover extraction for single files of every supported format."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from audio_kit import FORMATS, TAGS, Fmt, Kit, ffmpeg
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TDOR, TDRC, TIT2, TORY, TYER
from mutagen.mp4 import MP4, MP4Cover

from shared.library.tags import TagError, read_tags


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.key for f in FORMATS])
def test_reads_tags_and_stream_info(kit: Kit, fmt: Fmt) -> None:
    tags = read_tags(kit.files[fmt.key])

    assert tags.title == f"{fmt.key} song"
    assert tags.codec == fmt.codec
    assert tags.mime == fmt.mime
    assert tags.duration == pytest.approx(1.0, abs=0.1)
    assert tags.bitrate is not None and tags.bitrate > 8000
    assert tags.sample_rate == (48000 if fmt.codec == "opus" else 44100)
    assert tags.artist == TAGS["artist"]
    if fmt.tags == "name":  # AIFF's own chunks hold only a name and an author
        assert (tags.album, tags.track_no, tags.year) == (None, None, None)
        return
    assert tags.album == TAGS["album"]
    assert tags.track_no == 3  # "3/12"
    assert tags.year == 2019  # "2019-05-01"
    if fmt.tags == "full":
        assert tags.album_artist == TAGS["album_artist"]
        assert tags.disc_no == 1  # "1/2"
    else:
        assert tags.album_artist is None and tags.disc_no is None


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.key for f in FORMATS])
def test_embedded_cover_is_the_original_image(kit: Kit, fmt: Fmt) -> None:
    cover = read_tags(kit.files[fmt.key]).cover
    if fmt.cover:
        assert cover == kit.cover_bytes()
    else:
        assert cover is None


def test_title_falls_back_to_file_name(kit: Kit) -> None:
    tags = read_tags(kit.files["plain"])
    assert tags.title == "No Tags Here"
    assert tags.artist is None and tags.album is None and tags.track_no is None
    assert tags.duration == pytest.approx(1.0, abs=0.1)


def test_reads_from_an_open_file_object(kit: Kit) -> None:
    data = kit.files["flac"].read_bytes()
    tags = read_tags("elsewhere/Some Name.flac", io.BytesIO(data))
    assert tags.title == "flac song"
    assert tags.codec == "flac"


def test_front_cover_is_preferred_over_other_pictures(kit: Kit, tmp_path: Path) -> None:
    from mutagen.flac import Picture

    path = tmp_path / "two.flac"
    shutil.copyfile(kit.files["flac"], path)
    audio = FLAC(path)
    audio.clear_pictures()
    back = Picture()
    back.type, back.mime, back.data = 4, "image/jpeg", kit.cover_jpg.read_bytes()
    front = Picture()
    front.type, front.mime, front.data = 3, "image/png", kit.cover_bytes()
    audio.add_picture(back)
    audio.add_picture(front)
    audio.save()
    assert read_tags(path).cover == kit.cover_bytes()


def test_image_that_is_not_an_image_is_ignored(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "junkart.m4a"
    shutil.copyfile(kit.files["aac"], path)
    audio = MP4(path)
    audio["covr"] = [MP4Cover(b"definitely not a picture", imageformat=MP4Cover.FORMAT_JPEG)]
    audio.save()
    assert read_tags(path).cover is None


@pytest.mark.parametrize(
    ("track", "expected"),
    [("3/12", 3), ("07", 7), (" 5 ", 5), ("A1", None), ("0", None), ("", None), ("x/12", None)],
)
def test_track_numbers(kit: Kit, tmp_path: Path, track: str, expected: int | None) -> None:
    path = tmp_path / "t.flac"
    shutil.copyfile(kit.files["flac"], path)
    audio = FLAC(path)
    audio["tracknumber"] = [track]
    audio.save()
    assert read_tags(path).track_no == expected


@pytest.mark.parametrize(
    ("date", "expected"),
    [("2019-05-01", 2019), ("1969", 1969), ("05/01/1999", 1999), ("unknown", None), ("12", None)],
)
def test_years(kit: Kit, tmp_path: Path, date: str, expected: int | None) -> None:
    path = tmp_path / "y.flac"
    shutil.copyfile(kit.files["flac"], path)
    audio = FLAC(path)
    audio["date"] = [date]
    audio.save()
    assert read_tags(path).year == expected


_ID3_DATES: list[tuple[str, int, list[Any], int | None]] = [
    ("v2.4 TDRC", 4, [TDRC(encoding=3, text="2001-02-03")], 2001),
    ("v2.3 TYER and TDAT", 3, [TDRC(encoding=3, text="1999-05-06")], 1999),  # saved as v2.3
    ("TYER only", 4, [TYER(encoding=3, text="1988")], 1988),
    ("TDRC beats TYER", 4, [TYER(encoding=3, text="1966"), TDRC(encoding=3, text="2010")], 2010),
    ("TORY only", 3, [TORY(encoding=3, text="1955")], 1955),
    ("TDOR beats TORY", 4, [TORY(encoding=3, text="1955"), TDOR(encoding=3, text="1944")], 1944),
    # mutagen's v2.4 upgrade drops a TYER it cannot turn into a date
    ("unparsable TYER", 4, [TYER(encoding=3, text="c. 1977")], None),
]


@pytest.mark.parametrize(
    ("version", "frames", "expected"),
    [case[1:] for case in _ID3_DATES],
    ids=[case[0] for case in _ID3_DATES],
)
def test_id3_years_from_every_generation_of_date_frame(
    kit: Kit, tmp_path: Path, version: int, frames: list[Any], expected: int | None
) -> None:
    path = tmp_path / "dated.mp3"
    shutil.copyfile(kit.files["base"], path)
    tags = ID3()
    for frame in [TIT2(encoding=3, text="Dated"), *frames]:
        tags.add(frame)
    tags.save(path, v2_version=version)
    assert read_tags(path).year == expected


def test_id3v22_frames_are_read(kit: Kit, tmp_path: Path) -> None:
    # mutagen cannot write ID3v2.2, so build one: 3-letter ids, 3-byte sizes, PIC not APIC
    def frame(fid: bytes, payload: bytes) -> bytes:
        return fid + len(payload).to_bytes(3, "big") + payload

    png = kit.cover_bytes()
    body = b"".join(
        [
            frame(b"TT2", b"\0Old Title"),
            frame(b"TP1", b"\0Old Artist"),
            frame(b"TYE", b"\x001999"),
            frame(b"PIC", b"\0PNG\x03\0" + png),
        ]
    )
    size = bytes((len(body) >> shift) & 0x7F for shift in (21, 14, 7, 0))  # syncsafe
    path = tmp_path / "v22.mp3"
    path.write_bytes(b"ID3\x02\0\0" + size + body + kit.files["base"].read_bytes())
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.year) == ("Old Title", "Old Artist", 1999)
    assert tags.cover == png


def test_multiple_artists_are_joined(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "duo.flac"
    shutil.copyfile(kit.files["flac"], path)
    audio = FLAC(path)
    audio["artist"] = ["Alpha", "Beta", "Alpha"]
    audio.save()
    assert read_tags(path).artist == "Alpha; Beta"


def _truncate(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.mark.parametrize("key", ["mp3", "wav", "aiff", "aac", "alac", "vorbis", "opus"])
def test_truncated_files_are_rejected(kit: Kit, tmp_path: Path, key: str) -> None:
    src = kit.files[key]
    with pytest.raises(TagError):
        read_tags(_truncate(src, tmp_path / src.name, 0.5))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("random.mp3", os.urandom(20_000)),
        ("text.flac", b"just some words\n" * 200),
        ("text.mp3", b"not an mp3 at all\n" * 500),
        ("empty.ogg", b""),
        ("random.m4a", os.urandom(4_000)),
        ("header-only.wav", b"RIFF\x24\x00\x00\x00WAVEfmt "),
        ("png.opus", b"\x89PNG\r\n\x1a\n" + bytes(200)),
    ],
)
def test_non_audio_is_rejected_with_a_reason(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TagError) as err:
        read_tags(path)
    assert str(err.value) and "\n" not in str(err.value)


def test_webm_is_not_readable_by_mutagen(kit: Kit) -> None:
    with pytest.raises(TagError, match="not a recognised audio format"):
        read_tags(kit.files["webm"])


def test_missing_file_is_a_tag_error(tmp_path: Path) -> None:
    with pytest.raises(TagError, match="cannot open"):
        read_tags(tmp_path / "gone.mp3")


def test_mislabelled_file_is_read_by_its_content(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "actually-flac.mp3"
    shutil.copyfile(kit.files["flac"], path)
    tags = read_tags(path)
    assert (tags.codec, tags.mime) == ("flac", "audio/flac")


def test_video_without_audio_is_rejected(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "silent-film.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-c:v", "mjpeg", str(path))
    with pytest.raises(TagError, match="no audio track"):
        read_tags(path)
