"""Real audio files for the library tests: made once per session with ffmpeg (and mutagen
where ffmpeg cannot embed the art), then copied into each test's own music folder.

A module of its own (not conftest) so test modules can import it by a name no other
directory's conftest shares.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mutagen.aiff import AIFF
from mutagen.flac import Picture
from mutagen.id3 import APIC, ID3, TALB, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from shared.library import Library

TAGS = {
    "artist": "Beyoncé",
    "album": "Ωmega Album",
    "album_artist": "The Testers",
    "track": "3/12",
    "disc": "1/2",
    "date": "2019-05-01",
}


@dataclass(frozen=True)
class Fmt:
    key: str
    filename: str
    codec: str
    mime: str
    cover: bool  # has embedded art
    # which tags the container keeps: all of them, RIFF INFO's subset, or AIFF's NAME/AUTH
    tags: str = "full"


FORMATS = [
    Fmt("mp3", "mp3.mp3", "mp3", "audio/mpeg", cover=True),
    Fmt("flac", "flac.flac", "flac", "audio/flac", cover=True),
    Fmt("aac", "aac.m4a", "aac", "audio/mp4", cover=True),
    Fmt("alac", "alac.m4a", "alac", "audio/mp4", cover=True),
    Fmt("vorbis", "vorbis.ogg", "vorbis", "audio/ogg", cover=True),
    Fmt("opus", "opus.opus", "opus", "audio/ogg", cover=True),
    Fmt("opus_ogg", "opus_in.ogg", "opus", "audio/ogg", cover=False),
    Fmt("wav", "wav.wav", "pcm", "audio/wav", cover=False, tags="info"),
    Fmt("wav_id3", "wav_id3.wav", "pcm", "audio/wav", cover=True),
    Fmt("aiff", "aiff.aiff", "pcm", "audio/aiff", cover=True),
    Fmt("aif", "aif.aif", "pcm", "audio/aiff", cover=False, tags="name"),
    Fmt("aifc", "aifc.aifc", "pcm", "audio/aiff", cover=False, tags="name"),
]


@dataclass(frozen=True)
class Kit:
    dir: Path
    cover_png: Path
    cover_jpg: Path
    files: Mapping[str, Path]  # format key -> tagged file; also "plain", "webm", "base"

    def cover_bytes(self) -> bytes:
        return self.cover_png.read_bytes()


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def _metadata(title: str) -> list[str]:
    out = ["-metadata", f"title={title}"]
    for key, value in TAGS.items():
        out += ["-metadata", f"{key}={value}"]
    return out


def _sine(freq: int, seconds: float = 1.0) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}"]


def _art(cover: Path) -> list[str]:
    return [
        "-i",
        str(cover),
        "-map",
        "0",
        "-map",
        "1",
        "-c:v",
        "copy",
        "-disposition:v",
        "attached_pic",
    ]


def _picture_block(data: bytes) -> str:
    pic = Picture()
    pic.type = 3
    pic.mime = "image/png"
    pic.data = data
    return base64.b64encode(pic.write()).decode("ascii")


def _add_id3(path: Path, title: str, cover: bytes | None) -> None:
    wav = WAVE(path)
    wav.add_tags()
    tags = wav.tags
    tags.add(TIT2(encoding=3, text=[title]))
    tags.add(TPE1(encoding=3, text=[TAGS["artist"]]))
    tags.add(TALB(encoding=3, text=[TAGS["album"]]))
    tags.add(TPE2(encoding=3, text=[TAGS["album_artist"]]))
    tags.add(TRCK(encoding=3, text=[TAGS["track"]]))
    tags.add(TPOS(encoding=3, text=[TAGS["disc"]]))
    tags.add(TDRC(encoding=3, text=[TAGS["date"]]))
    if cover is not None:
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="", data=cover))
    wav.save()


def build_kit(d: Path) -> Kit:
    png, jpg = d / "cover.png", d / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-frames:v", "1", str(png))
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=32x32:d=1", "-frames:v", "1", str(jpg))
    files: dict[str, Path] = {}
    for i, fmt in enumerate(FORMATS):
        out = d / fmt.filename
        title = f"{fmt.key} song"
        src = _sine(300 + 40 * i)
        meta = _metadata(title)
        match fmt.key:
            case "mp3":
                ffmpeg(
                    *src, *_art(png), *meta, "-c:a", "libmp3lame", "-id3v2_version", "3", str(out)
                )
            case "flac":
                ffmpeg(*src, *_art(png), *meta, "-c:a", "flac", str(out))
            case "aac":
                ffmpeg(*src, *_art(png), *meta, "-c:a", "aac", str(out))
            case "alac":
                ffmpeg(*src, *_art(png), *meta, "-c:a", "alac", str(out))
            case "vorbis" | "opus" | "opus_ogg":
                codec = "libvorbis" if fmt.key == "vorbis" else "libopus"
                ffmpeg(*src, *meta, "-c:a", codec, str(out))
                if fmt.cover:
                    ogg = OggVorbis(out) if fmt.key == "vorbis" else OggOpus(out)
                    ogg["metadata_block_picture"] = [_picture_block(png.read_bytes())]
                    ogg.save()
            case "wav":
                ffmpeg(*src, *meta, "-c:a", "pcm_s16le", str(out))  # RIFF INFO tags
            case "wav_id3":
                ffmpeg(*src, "-c:a", "pcm_s16le", str(out))
                _add_id3(out, title, png.read_bytes())
            case "aiff":
                ffmpeg(*src, *meta, "-c:a", "pcm_s16be", "-write_id3v2", "1", str(out))
                aiff = AIFF(out)
                aiff.tags.add(
                    APIC(encoding=3, mime="image/png", type=3, desc="", data=png.read_bytes())
                )
                aiff.save()
            case "aif" | "aifc":  # native NAME and AUTH chunks; f32 makes ffmpeg write AIFF-C
                codec = "pcm_s16be" if fmt.key == "aif" else "pcm_f32be"
                author = ["-metadata", f"author={TAGS['artist']}"]
                ffmpeg(*src, *meta, *author, "-c:a", codec, str(out))
        files[fmt.key] = out
    files["plain"] = d / "No Tags Here.mp3"
    ffmpeg(
        *_sine(1000),
        "-map_metadata",
        "-1",
        "-c:a",
        "libmp3lame",
        "-write_xing",
        "0",
        str(files["plain"]),
    )
    # Bigger than the 2 x 64 KiB a fingerprint reads, so that path is exercised too.
    files["long"] = d / "long.flac"
    ffmpeg(*_sine(440, 12.0), "-metadata", "title=Long Song", "-c:a", "flac", str(files["long"]))
    files["webm"] = d / "clip.webm"
    ffmpeg(*_sine(700), "-c:a", "libopus", str(files["webm"]))
    # A small tagged mp3 without art, the template for tests that need many distinct files.
    files["base"] = d / "base.mp3"
    ffmpeg(
        *_sine(523, 0.5),
        "-map_metadata",
        "-1",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "32k",
        str(files["base"]),
    )
    return Kit(d, png, jpg, files)


def write_mp3(
    kit: Kit,
    dst: Path,
    title: str,
    *,
    artist: str | None = None,
    album: str | None = None,
    album_artist: str | None = None,
    track: str | None = None,
    cover: bytes | None = None,
) -> Path:
    """A copy of the template mp3 with its own ID3 tags (so its content, and id, are its own)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kit.files["base"], dst)
    tags = ID3()
    tags.add(TIT2(encoding=3, text=[title]))
    if artist:
        tags.add(TPE1(encoding=3, text=[artist]))
    if album:
        tags.add(TALB(encoding=3, text=[album]))
    if album_artist:
        tags.add(TPE2(encoding=3, text=[album_artist]))
    if track:
        tags.add(TRCK(encoding=3, text=[track]))
    if cover is not None:
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="", data=cover))
    tags.save(dst)
    return dst


MakeLibrary = Callable[..., Library]
