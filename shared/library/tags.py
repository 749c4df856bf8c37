"""Read the tags, stream facts and embedded cover of one audio file with mutagen.

`read_tags` is a pure function of the file's bytes (and its name, for the title fallback):
it returns a `TrackTags` or raises `TagError` whose message is a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import mutagen
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, Frames, Frames_2_2
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from .covers import MAX_COVER_BYTES, sniff_image_mime

__all__ = ["READER_VERSION", "TagError", "TrackTags", "read_tags"]

# Bump when read_tags learns something new (a format, a tag, a fix): the next scan then
# re-reads files it would otherwise trust from the index, including ones it skipped.
READER_VERSION = 1

# Longest tag value kept; anything longer is junk or an abuse of the field.
_MAX_TEXT = 1024
_MULTI_SEP = "; "
_TRUNCATED = 0.9  # less than this share of the audio its headers announce
_LEADING_INT = re.compile(r"\s*0*(\d{1,9})")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# Picture types: 3 = front cover, 0 = other; anything else (back, artist...) is a last resort.
_FRONT_COVER = 3
_OTHER_PICTURE = 0

_OGG_KINDS: dict[bytes, type[Any]] = {
    b"\x01vorbis": OggVorbis,
    b"OpusHead": OggOpus,
    b"\x7fFLAC": OggFLAC,
    b"Speex   ": OggSpeex,
}
# What mutagen may choose from when the magic bytes do not settle the format.
_ALL_KINDS: list[type[Any]] = [MP3, FLAC, MP4, WAVE, AIFF, OggVorbis, OggOpus, OggFLAC, OggSpeex]
# Parse only the ID3 frames we use, with their v2.2 ancestors and the v2.3 date frames that
# mutagen translates into them; the rest (comments, lyrics, private data...) stay raw bytes.
_ID3_KINDS = (MP3, WAVE, AIFF)
_ID3_WANTED = {
    *("TIT2", "TPE1", "TALB", "TPE2", "TRCK", "TPOS", "TDRC", "TDOR", "TXXX", "APIC"),
    *("TYER", "TDAT", "TIME", "TORY"),
    *("TT2", "TP1", "TAL", "TP2", "TRK", "TPA", "TYE", "TDA", "TIM", "TOR", "TXX", "PIC"),
}
_ID3_FRAMES: dict[str, Any] = {
    name: cls for name, cls in {**Frames, **Frames_2_2}.items() if name in _ID3_WANTED
}
# mutagen upgrades every tag to v2.4 on loading unless told not to (translate=False), which
# costs a tenth of a small MP3's parse time. Only its folding of these older date frames into
# TDRC/TDOR changes what we read (v2.2 names arrive already renamed to them; the rest touches
# frames we do not load, or the APIC mime we ignore), so it is run only when one is there.
_ID3_V23_DATES = frozenset({"TYER", "TDAT", "TIME", "TORY"})

# mutagen ships type hints but leaves these callables unannotated
_Picture: Any = Picture


class TagError(Exception):
    """The file is not playable audio that we can describe; str(err) is a one-line reason."""


@dataclass(frozen=True, slots=True)
class TrackTags:
    title: str
    artist: str | None
    album: str | None
    album_artist: str | None
    track_no: int | None
    disc_no: int | None
    year: int | None
    duration: float
    codec: str
    bitrate: int | None
    sample_rate: int | None
    mime: str
    cover: bytes | None  # embedded image bytes, already checked to be jpeg/png/webp/gif


@dataclass(slots=True)
class _Fields:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    track_no: int | None = None
    disc_no: int | None = None
    year: int | None = None
    cover: bytes | None = None


def read_tags(path: str | os.PathLike[str], fileobj: IO[bytes] | None = None) -> TrackTags:
    """Describe one audio file. `fileobj`, if given, holds the file's bytes (the caller has it
    open already); `path` then only names the file."""
    name = os.fspath(path)
    if fileobj is not None:
        return _read_or_fail(name, fileobj)
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed below; open errors get their own reason
    except OSError as e:
        raise TagError(f"cannot open: {_one_line(e.strerror or str(e))}") from e
    with f:
        return _read_or_fail(name, f)


def _read_or_fail(name: str, f: IO[bytes]) -> TrackTags:
    try:
        return _read(name, f)
    except OSError as e:
        raise TagError(f"cannot read: {_one_line(e.strerror or str(e))}") from e


def _read(name: str, f: IO[bytes]) -> TrackTags:
    size = _size_of(f)
    if size == 0:
        raise TagError("empty file")
    head = f.read(64)
    f.seek(0)
    kind = _kind_for(name, head)
    try:
        if kind is None:
            audio = _detect(f, name)
        elif kind in _ID3_KINDS:
            audio = kind(f, filename=name, known_frames=_ID3_FRAMES, translate=False)
            tags = audio.tags
            if tags is not None and not _ID3_V23_DATES.isdisjoint(tags.keys()):
                tags.update_to_v24()
        else:
            audio = kind(f, filename=name)
    except TagError:
        raise
    except mutagen.MutagenError as e:
        raise TagError(f"unreadable or truncated: {_one_line(str(e)) or type(e).__name__}") from e
    except (ValueError, struct.error, EOFError, IndexError, KeyError, OverflowError) as e:
        # mutagen lets these escape on some corrupt inputs
        raise TagError(f"corrupt: {_one_line(str(e)) or type(e).__name__}") from e
    if audio is None or audio.info is None:
        raise TagError("not a recognised audio format")

    info = audio.info
    if isinstance(audio, MP3) and getattr(info, "sketchy", False):
        raise TagError("no valid MPEG audio frames")
    duration = float(getattr(info, "length", 0.0) or 0.0)
    if not math.isfinite(duration) or duration <= 0:
        raise TagError("no duration")

    codec, mime = _codec_and_mime(audio, f)
    declared = _positive(info, "bitrate")
    if declared and (codec == "pcm" or isinstance(audio, MP3)):
        # PCM and MP3 (Xing/VBRI byte counts) state their audio size independently of the file
        # length; a file much shorter than that was cut off. Tags only ever add bytes.
        expected = duration * declared / 8
        if size < _TRUNCATED * expected:
            raise TagError(f"truncated: {size} bytes of about {int(expected)}")
    fields = _fields(audio, f)
    sample_rate = 48000 if isinstance(audio, OggOpus) else _positive(info, "sample_rate")
    bitrate = declared or int(size * 8 / duration) or None
    title = fields.title or Path(name).stem or Path(name).name
    return TrackTags(
        title=title,
        artist=fields.artist,
        album=fields.album,
        album_artist=fields.album_artist,
        track_no=fields.track_no,
        disc_no=fields.disc_no,
        year=fields.year,
        duration=duration,
        codec=codec,
        bitrate=bitrate,
        sample_rate=sample_rate,
        mime=mime,
        cover=fields.cover,
    )


def _size_of(f: IO[bytes]) -> int:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    return size


def _kind_for(name: str, head: bytes) -> type[Any] | None:
    """Pick the mutagen class from the magic bytes, which settle it for every container we
    serve; mutagen.File's scoring of every format costs a third of a small file's parse time,
    and its extension bonus would misread a FLAC file named .mp3."""
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS"):
        return _OGG_KINDS.get(head[28:36]) or _OGG_KINDS.get(head[28:35])
    if head[4:8] == b"ftyp":
        return MP4
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAVE
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 in (0xE2, 0xE4, 0xE6):
        return MP3  # MPEG audio frame sync with a layer set (ADTS AAC has layer 0)
    if head.startswith(b"ID3") and os.path.splitext(name)[1].lower() == ".mp3":
        return MP3  # ID3 could also front FLAC or AAC, but not in a file called .mp3
    return None


def _detect(f: IO[bytes], name: str) -> Any:
    return mutagen.File(f, filename=name, options=_ALL_KINDS)


def _codec_and_mime(audio: Any, f: IO[bytes]) -> tuple[str, str]:
    info = audio.info
    if isinstance(audio, MP3):
        layer = getattr(info, "layer", 3)
        return ("mp3" if layer == 3 else f"mp{layer}"), "audio/mpeg"
    if isinstance(audio, FLAC):
        return "flac", "audio/flac"
    if isinstance(audio, OggVorbis):
        return "vorbis", "audio/ogg"
    if isinstance(audio, OggOpus):
        return "opus", "audio/ogg"
    if isinstance(audio, OggFLAC):
        return "flac", "audio/ogg"
    if isinstance(audio, OggSpeex):
        return "speex", "audio/ogg"
    if isinstance(audio, MP4):
        return _mp4_codec(str(getattr(info, "codec", "") or "")), "audio/mp4"
    if isinstance(audio, WAVE):
        return _WAVE_FORMATS.get(int(getattr(info, "audio_format", 1)), "pcm"), "audio/wav"
    if isinstance(audio, AIFF):
        return _aiff_codec(f), "audio/aiff"
    raise TagError(f"unsupported format {type(audio).__name__}")


def _mp4_codec(raw: str) -> str:
    if not raw:
        raise TagError("no audio track")
    low = raw.lower()
    if low.startswith("mp4a.40") or low in ("mp4a", "mp4a.66", "mp4a.67", "mp4a.68"):
        return "aac"
    if low in ("mp4a.69", "mp4a.6b"):
        return "mp3"
    return {"alac": "alac", "ac-3": "ac3", "ec-3": "eac3", "flac": "flac", "opus": "opus"}.get(
        low, low
    )


# WAVE format tags; 0xFFFE (extensible) nearly always wraps PCM.
_WAVE_FORMATS = {1: "pcm", 3: "pcm", 0xFFFE: "pcm", 6: "alaw", 7: "mulaw", 0x55: "mp3", 2: "adpcm"}
_AIFC_PCM = {b"NONE", b"sowt", b"twos", b"raw ", b"in24", b"in32", b"fl32", b"fl64", b"FL32"}


def _aiff_codec(f: IO[bytes]) -> str:
    """AIFF is always PCM; AIFF-C names its compression in the COMM chunk (mutagen ignores it)."""
    f.seek(8)
    if f.read(4) != b"AIFC":
        return "pcm"
    comm = _iff_chunks(f, 12, big_endian=True, wanted={b"COMM"}).get(b"COMM", b"")
    comp = comm[18:22]
    if not comp or comp in _AIFC_PCM:
        return "pcm"
    return {b"ulaw": "mulaw", b"ULAW": "mulaw", b"alaw": "alaw", b"ALAW": "alaw"}.get(
        comp, comp.decode("latin-1").strip().lower() or "pcm"
    )


# ---------------------------------------------------------------------------------- tag fields


def _fields(audio: Any, f: IO[bytes]) -> _Fields:
    tags = audio.tags
    if isinstance(tags, ID3):
        return _id3_fields(tags)
    if isinstance(audio, MP4):
        return _mp4_fields(tags) if tags is not None else _Fields()
    if isinstance(audio, FLAC):
        out = _vorbis_fields(tags) if tags is not None else _Fields()
        out.cover = _best_picture((p.type, p.data) for p in audio.pictures) or out.cover
        return out
    if isinstance(audio, (OggVorbis, OggOpus, OggFLAC, OggSpeex)):
        return _vorbis_fields(tags) if tags is not None else _Fields()
    if isinstance(audio, WAVE):
        return _riff_info_fields(f)
    if isinstance(audio, AIFF):
        return _aiff_text_fields(f)
    return _Fields()


def _id3_fields(tags: Any) -> _Fields:
    def text(*keys: str) -> str | None:
        for key in keys:
            frame = tags.get(key)
            if frame is not None:
                value = _join(getattr(frame, "text", ()))
                if value:
                    return value
        return None

    pictures = ((int(fr.type), fr.data) for fr in tags.getall("APIC"))
    return _Fields(
        title=text("TIT2"),
        artist=text("TPE1"),
        album=text("TALB"),
        album_artist=text("TPE2", "TXXX:ALBUMARTIST", "TXXX:ALBUM ARTIST", "TXXX:album artist"),
        track_no=_number(text("TRCK")),
        disc_no=_number(text("TPOS")),
        year=_year(text("TDRC", "TDOR", "TYER", "TXXX:originalyear")),
        cover=_best_picture(pictures),
    )


def _mp4_fields(tags: Any) -> _Fields:
    def text(key: str) -> str | None:
        return _join(tags.get(key, ()))

    def pair(key: str) -> int | None:
        values = tags.get(key)
        if values and isinstance(values[0], tuple) and values[0]:
            return _valid_number(values[0][0])
        return None

    covers = tags.get("covr") or ()
    return _Fields(
        title=text("\xa9nam"),
        artist=text("\xa9ART"),
        album=text("\xa9alb"),
        album_artist=text("aART"),
        track_no=pair("trkn"),
        disc_no=pair("disk"),
        year=_year(text("\xa9day")),
        cover=_best_picture((_FRONT_COVER, bytes(c)) for c in covers),
    )


def _vorbis_fields(tags: Any) -> _Fields:
    def text(*keys: str) -> str | None:
        for key in keys:
            value = _join(tags.get(key) or ())
            if value:
                return value
        return None

    return _Fields(
        title=text("title"),
        artist=text("artist"),
        album=text("album"),
        album_artist=text("albumartist", "album artist", "album_artist", "ensemble"),
        track_no=_number(text("tracknumber", "track")),
        disc_no=_number(text("discnumber", "disc")),
        year=_year(text("date", "year", "originaldate", "originalyear")),
        cover=_vorbis_picture(tags),
    )


def _vorbis_picture(tags: Any) -> bytes | None:
    """Ogg files carry art as base64 FLAC picture blocks (METADATA_BLOCK_PICTURE), or in the
    older COVERART field as bare base64 image bytes."""

    def blocks() -> Iterable[tuple[int, bytes]]:
        for b64 in tags.get("metadata_block_picture") or ():
            try:
                pic = _Picture(base64.b64decode(b64))
            except (binascii.Error, ValueError, struct.error, mutagen.MutagenError):
                continue
            yield int(pic.type), pic.data
        for b64 in tags.get("coverart") or ():
            try:
                yield _OTHER_PICTURE, base64.b64decode(b64)
            except (binascii.Error, ValueError):
                continue

    return _best_picture(blocks())


def _best_picture(pictures: Iterable[tuple[int, bytes]]) -> bytes | None:
    """The front cover if there is one, else the first usable image."""
    best: bytes | None = None
    best_rank = 3
    for ptype, data in pictures:
        if not data or len(data) > MAX_COVER_BYTES or sniff_image_mime(data[:16]) is None:
            continue
        rank = 0 if ptype == _FRONT_COVER else 1 if ptype == _OTHER_PICTURE else 2
        if rank < best_rank:
            best, best_rank = data, rank
            if rank == 0:
                break
    return best


# RIFF INFO (WAV) and AIFF text chunks: mutagen reads only ID3 in these containers, but
# ffmpeg and most editors write the native chunks.
_RIFF_INFO_KEYS = {b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"ICRD": "year"}
_RIFF_TRACK_KEYS = (b"IPRT", b"ITRK", b"TRCK")
_MAX_TEXT_CHUNK = 64 * 1024
_MAX_CHUNKS = 256


def _riff_info_fields(f: IO[bytes]) -> _Fields:
    out = _Fields()
    lst = _iff_chunks(f, 12, big_endian=False, wanted={b"LIST"}, list_type=b"INFO").get(b"LIST")
    if not lst:
        return out
    values: dict[bytes, str] = {}
    pos = 4
    while pos + 8 <= len(lst):
        cid = lst[pos : pos + 4]
        (size,) = struct.unpack_from("<I", lst, pos + 4)
        values[cid] = _decode(lst[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)
    out.title = _clean(values.get(b"INAM"))
    out.artist = _clean(values.get(b"IART"))
    out.album = _clean(values.get(b"IPRD"))
    out.year = _year(values.get(b"ICRD"))
    for key in _RIFF_TRACK_KEYS:
        if out.track_no is None:
            out.track_no = _number(values.get(key))
    return out


def _aiff_text_fields(f: IO[bytes]) -> _Fields:
    chunks = _iff_chunks(f, 12, big_endian=True, wanted={b"NAME", b"AUTH"})
    return _Fields(
        title=_clean(_decode(chunks.get(b"NAME", b""))),
        artist=_clean(_decode(chunks.get(b"AUTH", b""))),
    )


def _iff_chunks(
    f: IO[bytes],
    start: int,
    *,
    big_endian: bool,
    wanted: set[bytes],
    list_type: bytes | None = None,
) -> dict[bytes, bytes]:
    """The first of each wanted top-level chunk (small ones only), found by seeking over the
    others so the audio data is never read."""
    fmt = ">I" if big_endian else "<I"
    found: dict[bytes, bytes] = {}
    f.seek(start)
    for _ in range(_MAX_CHUNKS):
        header = f.read(8)
        if len(header) < 8:
            break
        cid = header[:4]
        (size,) = struct.unpack(fmt, header[4:])
        if cid in wanted and cid not in found and size <= _MAX_TEXT_CHUNK:
            data = f.read(size)
            if list_type is None or data[:4] == list_type:
                found[cid] = data
                if len(found) == len(wanted):
                    break
            f.seek((size & 1) + size - len(data), os.SEEK_CUR)
        else:
            f.seek(size + (size & 1), os.SEEK_CUR)
    return found


# ----------------------------------------------------------------------------------- helpers


def _decode(raw: bytes) -> str:
    raw = raw.split(b"\0", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value.replace("\0", " ").strip())[:_MAX_TEXT]
    return value or None


def _join(values: Sequence[object]) -> str | None:
    """Multi-valued tags (several ARTIST comments, ID3 null-separated lists) become one string."""
    if len(values) == 1:  # the usual case
        only = values[0]
        return _clean(only if isinstance(only, str) else str(only))
    seen: list[str] = []
    for value in values:
        text = _clean(value if isinstance(value, str) else str(value))
        if text and text not in seen:
            seen.append(text)
    return _clean(_MULTI_SEP.join(seen)) if seen else None


def _valid_number(n: object) -> int | None:
    return n if isinstance(n, int) and 0 < n < 100_000 else None


def _number(value: str | None) -> int | None:
    """'3/12' -> 3, '07' -> 7; vinyl sides like 'A1' are not numbers."""
    if not value:
        return None
    m = _LEADING_INT.match(value)
    return _valid_number(int(m.group(1))) if m else None


def _year(value: str | None) -> int | None:
    if not value:
        return None
    m = _YEAR.search(value)
    if m is None:
        return None
    year = int(m.group(1))
    return year if year > 0 else None


def _positive(info: Any, attr: str) -> int | None:
    value = getattr(info, attr, None)
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return int(value)
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
