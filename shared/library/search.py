"""Search and browse: turning a user's query into safe FTS5 terms, ranking, paging cursors,
and the sort keys that define library order (which the scan stores with each track).

`plan()` checks a request and builds its SQL without touching the database; the caller runs it
on a connection and hands the rows to `Query.page()`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .models import Page
from .schema import SORT_KEY_COL, track_from_row
from .tags import TrackTags

__all__ = ["MAX_LIMIT", "Query", "plan", "sort_key"]

MAX_LIMIT = 500
_MAX_QUERY_CHARS = 500
_MAX_TOKENS = 24

# Matches are ranked in tiers, then in library order: every word in the title; every word in
# the artist fields; every word in the album; words spread over fields, some in the title; the
# rest. (bm25 would mostly rank by tag length, scattering an artist's tracks.) ?1 is the whole
# query, ?2-?5 the same words confined to those columns.
_SEARCH = """
    SELECT * FROM (
        SELECT v.*, CASE
            WHEN v.pk IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?2) THEN 0
            WHEN v.pk IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?3) THEN 1
            WHEN v.pk IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?4) THEN 2
            WHEN v.pk IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?5) THEN 3
            ELSE 4 END AS tier
        FROM tracks_fts JOIN track_rows v ON v.pk = tracks_fts.rowid
        WHERE tracks_fts MATCH ?1
    )
    WHERE (tier, sort_key) > (?6, ?7)
    ORDER BY tier, sort_key
    LIMIT ?8
"""
_TIER_COLUMNS = ("title", "artist album_artist", "album")
_LAST_TIER = 4
_TIER_COL = 20  # in _SEARCH rows: track_rows, then the tier
_BROWSE = "SELECT * FROM track_rows WHERE sort_key > ? ORDER BY sort_key LIMIT ?"


@dataclass(frozen=True, slots=True)
class Query:
    """One page's worth of a search or browse, ready to run."""

    sql: str
    params: tuple[Any, ...]
    limit: int
    mode: str  # "a": browse all in library order; "s": full-text search
    digest: str  # of the search words, so a cursor is only taken back by the same search

    def page(self, rows: Sequence[Sequence[Any]]) -> Page:
        """The Page for the rows `sql` returned (one more than `limit` if there are more)."""
        items = tuple(track_from_row(r) for r in rows[: self.limit])
        if len(rows) <= self.limit:
            return Page(items, None)
        last = rows[self.limit - 1]
        tier = last[_TIER_COL] if self.mode == "s" else None
        return Page(items, _encode_cursor(self.mode, self.digest, last[SORT_KEY_COL], tier))


def plan(q: str, limit: int, cursor: str | None) -> Query | None:
    """The query for Library.search() (None: nothing can match). Raises ValueError for a bad
    limit or a cursor that is not from the same query. Every user token is quoted and
    prefix-matched, so the text can never be read as FTS5 syntax."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if not q.strip():
        after = "" if cursor is None else _decode_cursor(cursor, "a", "")[1]
        return Query(_BROWSE, (after, limit + 1), limit, "a", "")
    tokens = _tokens(q)
    digest = _query_digest(tokens)
    if not tokens:
        if cursor is not None:
            _decode_cursor(cursor, "s", digest)
        return None
    quoted = [f'"{t}"*' for t in tokens]
    words = " ".join(quoted)
    per_column = [f"{{{cols}}} : ({words})" for cols in _TIER_COLUMNS]
    per_column.append("{title} : (" + " OR ".join(quoted) + ")")
    tier, key = (-1, "") if cursor is None else _decode_cursor(cursor, "s", digest)
    return Query(_SEARCH, (words, *per_column, tier, key, limit + 1), limit, "s", digest)


# --------------------------------------------------------------------------------- tokens

# unicode61 splits on everything that is not a letter or a digit; do the same, so each token
# is a plain word that is safe inside double quotes.
_TOKEN = re.compile(r"[^\W_]+")


def _tokens(q: str) -> list[str]:
    text = unicodedata.normalize("NFC", q[:_MAX_QUERY_CHARS])
    return _TOKEN.findall(text)[:_MAX_TOKENS]


def _query_digest(tokens: list[str]) -> str:
    joined = "\x1f".join(t.casefold() for t in tokens).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=6).hexdigest()


def _encode_cursor(mode: str, digest: str, key: str, tier: int | None) -> str:
    payload = [1, mode, digest, key] + ([] if tier is None else [tier])
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str, mode: str, digest: str) -> tuple[int, str]:
    """Returns (tier, sort key) of the last row of the previous page, from a cursor made by
    the same query."""
    invalid = "invalid cursor: not a cursor returned by search()"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as e:
        raise ValueError(invalid) from e
    if (
        not isinstance(payload, list)
        or len(payload) not in (4, 5)
        or payload[0] != 1
        or not isinstance(payload[3], str)
    ):
        raise ValueError(invalid)
    if payload[1] != mode or payload[2] != digest:
        raise ValueError("invalid cursor: it belongs to a different query")
    if mode == "a":
        return 0, payload[3]
    tier = payload[4] if len(payload) == 5 else None
    if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier <= _LAST_TIER:
        raise ValueError(invalid)
    return tier, payload[3]


# ------------------------------------------------------------------------------ sort keys

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _fold(text: str) -> str:
    if text.isascii():  # most tags: NFKD leaves ASCII alone and it has no combining marks
        bare = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _CONTROL.sub(" ", bare.casefold()).strip()


def sort_key(tags: TrackTags, tid: str) -> str:
    """One string whose byte order is library order: album artist (or artist, without a
    leading 'The'), album, disc, track, title, id. Unknown artists and albums sort last."""
    artist = _fold(tags.album_artist or tags.artist or "")
    if artist.startswith("the ") and len(artist) > 4:
        artist = artist[4:]
    album = _fold(tags.album or "")
    return "\x1f".join(
        (
            "0" + artist if artist else "1",
            "0" + album if album else "1",
            f"{tags.disc_no or 0:05d}",
            f"{tags.track_no or 99_999:05d}",
            _fold(tags.title),
            tid,
        )
    )
