"""The SQLite index of the music library: incremental scans, lookups and full-text search.

Scans run in a worker thread (one at a time) while other threads read: every thread gets its
own connection, the database is in WAL mode, and a scan commits in batches of a few hundred
rows so readers see progress and memory stays flat however large the library is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import sqlite3
import stat
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .covers import CoverStore, StoredImage
from .scanner import AudioFile, DirListing, fingerprint_file, inside, track_id, walk
from .tags import READER_VERSION, TagError, TrackTags, read_tags

__all__ = ["MAX_LIMIT", "Cover", "Library", "Page", "ScanReport", "Track"]

log = logging.getLogger("lockstep.library")

SCHEMA_VERSION = 3
MAX_LIMIT = 500
_BATCH = 400  # rows per write transaction
_BUSY_SECONDS = 10.0
_MAX_QUERY_CHARS = 500
_MAX_TOKENS = 24

# cover_src values: where a track's cover came from
_NO_COVER, _EMBEDDED, _FOLDER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Track:
    id: str
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
    size: int
    mtime_ns: int
    has_cover: bool
    root: str
    relpath: str


@dataclass(frozen=True, slots=True)
class ScanReport:
    seen: int
    added: int
    updated: int
    moved: int
    removed: int
    unchanged: int
    skipped: int
    seconds: float
    covers: int = 0  # cover images newly written to the cover store
    missing_roots: tuple[str, ...] = ()  # configured roots not found (their tracks are kept)


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[Track, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Cover:
    path: Path
    mime: str
    etag: str


_SCHEMA = [
    """CREATE TABLE tracks (
        pk INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        root TEXT NOT NULL,
        relpath TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        fingerprint BLOB NOT NULL,
        title TEXT NOT NULL,
        artist TEXT,
        album TEXT,
        album_artist TEXT,
        track_no INTEGER,
        disc_no INTEGER,
        year INTEGER,
        duration REAL NOT NULL,
        codec TEXT NOT NULL,
        bitrate INTEGER,
        sample_rate INTEGER,
        mime TEXT NOT NULL,
        cover TEXT,
        cover_src INTEGER NOT NULL DEFAULT 0,
        sort_key TEXT NOT NULL,
        reader INTEGER NOT NULL,
        UNIQUE (root, relpath)
    )""",
    "CREATE INDEX tracks_fingerprint ON tracks (fingerprint)",
    "CREATE INDEX tracks_sort ON tracks (sort_key)",
    """CREATE TABLE covers (
        digest TEXT PRIMARY KEY, mime TEXT NOT NULL, size INTEGER NOT NULL
    ) WITHOUT ROWID""",
    # What folder art each directory had at the last scan, so a new or changed cover.jpg is
    # noticed even when the audio files beside it are unchanged.
    """CREATE TABLE folder_art (
        root TEXT NOT NULL, dir TEXT NOT NULL, name TEXT NOT NULL,
        size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, cover TEXT,
        PRIMARY KEY (root, dir)
    ) WITHOUT ROWID""",
    # Track fields in dataclass order, then what paging needs.
    """CREATE VIEW track_rows AS SELECT
        id, title, artist, album, album_artist, track_no, disc_no, year, duration, codec,
        bitrate, sample_rate, mime, size, mtime_ns, cover IS NOT NULL AS has_cover, root,
        relpath, sort_key, pk
    FROM tracks""",
    # Files with an audio extension that could not be read, so an unchanged bad file is not
    # parsed again on every scan (still counted and logged as skipped).
    """CREATE TABLE skipped (
        root TEXT NOT NULL, relpath TEXT NOT NULL, size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL, reader INTEGER NOT NULL,
        PRIMARY KEY (root, relpath)
    ) WITHOUT ROWID""",
    """CREATE VIRTUAL TABLE tracks_fts USING fts5 (
        title, artist, album, album_artist,
        content='tracks', content_rowid='pk',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )""",
    # No AFTER INSERT trigger: the scan indexes each batch of new rows in one statement
    # (_INDEX_NEW), three times faster than a trigger firing per row.
    """CREATE TRIGGER tracks_ad AFTER DELETE ON tracks BEGIN
        INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album, album_artist)
        VALUES ('delete', old.pk, old.title, old.artist, old.album, old.album_artist);
    END""",
    """CREATE TRIGGER tracks_au AFTER UPDATE OF title, artist, album, album_artist ON tracks
    BEGIN
        INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album, album_artist)
        VALUES ('delete', old.pk, old.title, old.artist, old.album, old.album_artist);
        INSERT INTO tracks_fts (rowid, title, artist, album, album_artist)
        VALUES (new.pk, new.title, new.artist, new.album, new.album_artist);
    END""",
]
_DROP = [
    "DROP TRIGGER IF EXISTS tracks_ai",  # before schema 3
    "DROP TRIGGER IF EXISTS tracks_ad",
    "DROP TRIGGER IF EXISTS tracks_au",
    "DROP VIEW IF EXISTS track_rows",
    "DROP TABLE IF EXISTS tracks_fts",
    "DROP TABLE IF EXISTS tracks",
    "DROP TABLE IF EXISTS covers",
    "DROP TABLE IF EXISTS folder_art",
    "DROP TABLE IF EXISTS skipped",
]

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
_SORT_KEY_COL = 18  # in track_rows, after the Track fields
_TIER_COL = 20

_INSERT = """
    INSERT INTO tracks (
        id, root, relpath, size, mtime_ns, fingerprint, title, artist, album, album_artist,
        track_no, disc_no, year, duration, codec, bitrate, sample_rate, mime, cover, cover_src,
        sort_key, reader
    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# Index the rows inserted since max(pk) was `?`: SQLite numbers a new row max(pk) + 1 (pk is
# never set by hand, so far from the 2**63 limit where that stops), and the scan's write
# transaction is the only writer.
_INDEX_NEW = """
    INSERT INTO tracks_fts (rowid, title, artist, album, album_artist)
    SELECT pk, title, artist, album, album_artist FROM tracks WHERE pk > ?
"""
_UPDATE = """
    UPDATE tracks SET
        size = ?, mtime_ns = ?, fingerprint = ?, title = ?, artist = ?, album = ?,
        album_artist = ?, track_no = ?, disc_no = ?, year = ?, duration = ?, codec = ?,
        bitrate = ?, sample_rate = ?, mime = ?, cover = ?, cover_src = ?, sort_key = ?, reader = ?
    WHERE id = ?
"""
# A moved track keeps its embedded cover; folder art follows the new folder.
_MOVE = (
    "UPDATE tracks SET root = ?, relpath = ?, size = ?, mtime_ns = ?, "
    "cover = CASE cover_src WHEN 1 THEN cover ELSE ? END, "
    "cover_src = CASE cover_src WHEN 1 THEN 1 ELSE ? END WHERE id = ?"
)
_PRUNE_COVERS = """
    DELETE FROM covers WHERE digest NOT IN (
        SELECT cover FROM tracks WHERE cover IS NOT NULL
        UNION SELECT cover FROM folder_art WHERE cover IS NOT NULL
    )
"""
_SET_COVER = "UPDATE tracks SET cover = ?, cover_src = ? WHERE id = ? AND cover_src != 1"


def _track(row: Sequence[Any]) -> Track:
    return Track(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11], row[12], row[13], row[14], bool(row[15]), row[16], row[17],
    )  # fmt: skip


class Library:
    """The music library index. `roots` maps a short root name (e.g. "music") to a folder;
    cover images are stored under `cover_dir`. Thread-safe: each thread uses its own SQLite
    connection, opened on first use; `close()` closes them all (call it once nothing else uses
    the library, e.g. at shutdown)."""

    def __init__(self, db_path: Path, roots: Mapping[str, Path], cover_dir: Path) -> None:
        self._db_path = Path(db_path)
        self._store = CoverStore(Path(cover_dir))
        self._roots = _check_roots(roots)
        self._scan_lock = threading.Lock()
        self._local = threading.local()
        # Every connection, whichever thread opened it, so close() can close worker threads' too.
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._generation = 0
        self._db_path.parent.mkdir(parents=True, exist_ok=True)
        self._store.root.mkdir(parents=True, exist_ok=True)
        try:
            _ensure_schema(self._conn())
        except sqlite3.OperationalError:
            self.close()
            raise  # locked, read-only, disk full: not something to repair by rebuilding
        except sqlite3.DatabaseError as e:
            # Not a database, or corrupt. The index is derived from the music files, so set
            # the damaged file aside and start a fresh one; the next scan fills it.
            self.close()
            aside = self._db_path.with_name(self._db_path.name + ".corrupt")
            log.warning("library database %s is unusable (%s); moved to %s", db_path, e, aside)
            os.replace(self._db_path, aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self._db_path}{suffix}").unlink(missing_ok=True)
            _ensure_schema(self._conn())

    # ---------------------------------------------------------------------------- connections

    def _connect(self) -> sqlite3.Connection:
        # timeout= is SQLite's busy timeout; autocommit mode, as writes use explicit BEGIN
        conn = sqlite3.connect(
            self._db_path,
            timeout=_BUSY_SECONDS,
            isolation_level=None,
            check_same_thread=False,  # each stays with its thread; only close() crosses over
        )
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; fsync per checkpoint only
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", None) != self._generation:
            conn = self._connect()
            with self._conns_lock:
                self._conns.append(conn)
                self._local.conn, self._local.generation = conn, self._generation
        return conn

    def close(self) -> None:
        """Close every thread's connection; safe to call twice (a later call reconnects)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
            self._generation += 1
        for conn in conns:
            conn.close()

    def check(self) -> bool:
        """True if the database answers a trivial query (for health checks)."""
        try:
            row = self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return bool(row == (1,))

    # -------------------------------------------------------------------------------- scanning

    def set_roots(self, roots: Mapping[str, Path]) -> None:
        """Roots for the next scan, which drops the tracks of roots no longer listed."""
        self._roots = _check_roots(roots)

    def scan(self) -> ScanReport:
        """Bring the index in line with the roots; blocking, one scan at a time (a second
        caller waits, then scans again, cheaply)."""
        with self._scan_lock:
            conn = self._connect()
            try:
                report = _Scan(conn, dict(self._roots), self._store).run()
            finally:
                conn.close()
        log.info(
            "library scan: %d seen, %d added, %d updated, %d moved, %d removed, "
            "%d unchanged, %d skipped, %d new covers in %.2fs",
            report.seen, report.added, report.updated, report.moved, report.removed,
            report.unchanged, report.skipped, report.covers, report.seconds,
        )  # fmt: skip
        return report

    # --------------------------------------------------------------------------------- lookups

    def get(self, track_id: str) -> Track | None:
        sql = "SELECT * FROM track_rows WHERE id = ?"
        row = self._conn().execute(sql, (track_id,)).fetchone()
        return _track(row) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Track]:
        # one bound JSON array instead of a variable number of placeholders
        sql = "SELECT * FROM track_rows WHERE id IN (SELECT value FROM json_each(?))"
        rows = self._conn().execute(sql, (json.dumps(list(dict.fromkeys(ids))),))
        return {row[0]: _track(row) for row in rows}

    def find_by_relpath(self, root: str, relpath: str) -> Track | None:
        sql = "SELECT * FROM track_rows WHERE root = ? AND relpath = ?"
        row = self._conn().execute(sql, (root, relpath)).fetchone()
        return _track(row) if row else None

    def path_of(self, track_id: str) -> Path | None:
        """The file to serve, if it still resolves to a file inside its root."""
        row = (
            self._conn()
            .execute("SELECT root, relpath FROM tracks WHERE id = ?", (track_id,))
            .fetchone()
        )
        if row is None:
            return None
        root = self._roots.get(row[0])
        if root is None:
            return None
        root_real = os.path.realpath(root)
        # resolve again now: a symlink may have been repointed outside the root since the scan
        resolved = os.path.realpath(os.path.join(root_real, row[1]))
        if not inside(resolved, root_real) or not os.path.isfile(resolved):
            return None
        return Path(resolved)

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM tracks").fetchone()[0])

    def cover(self, track_id: str) -> Cover | None:
        """The track's cover image (embedded, else folder art), if it has one."""
        row = (
            self._conn()
            .execute(
                "SELECT c.digest, c.mime FROM tracks t JOIN covers c ON c.digest = t.cover "
                "WHERE t.id = ?",
                (track_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        path = self._store.path_for(row[0], row[1])
        if not path.is_file():
            return None
        return Cover(path=path, mime=row[1], etag=row[0])

    # ---------------------------------------------------------------------------------- search

    def search(self, q: str = "", limit: int = 50, cursor: str | None = None) -> Page:
        """Library order for an empty query, else best match first. Every user token is
        quoted and prefix-matched, so the text can never be read as FTS5 syntax."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
        if not q.strip():
            return self._browse(limit, cursor)
        tokens = _tokens(q)
        if not tokens:
            if cursor is not None:
                _decode_cursor(cursor, "s", _query_digest(tokens))
            return Page((), None)
        return self._match(tokens, limit, cursor)

    def _browse(self, limit: int, cursor: str | None) -> Page:
        after = "" if cursor is None else _decode_cursor(cursor, "a", "")[1]
        sql = "SELECT * FROM track_rows WHERE sort_key > ? ORDER BY sort_key LIMIT ?"
        rows = self._conn().execute(sql, (after, limit + 1)).fetchall()
        return _page(rows, limit, lambda r: _encode_cursor("a", "", r[_SORT_KEY_COL], None))

    def _match(self, tokens: list[str], limit: int, cursor: str | None) -> Page:
        digest = _query_digest(tokens)
        quoted = [f'"{t}"*' for t in tokens]
        words = " ".join(quoted)
        per_column = [f"{{{cols}}} : ({words})" for cols in _TIER_COLUMNS]
        per_column.append("{title} : (" + " OR ".join(quoted) + ")")
        tier, key = (-1, "") if cursor is None else _decode_cursor(cursor, "s", digest)
        params = (words, *per_column, tier, key, limit + 1)
        rows = self._conn().execute(_SEARCH, params).fetchall()
        return _page(
            rows,
            limit,
            lambda r: _encode_cursor("s", digest, r[_SORT_KEY_COL], r[_TIER_COL]),
        )


def _page(rows: list[Any], limit: int, make_cursor: Callable[[Any], str]) -> Page:
    items = tuple(_track(r) for r in rows[:limit])
    next_cursor = make_cursor(rows[limit - 1]) if len(rows) > limit else None
    return Page(items, next_cursor)


def _check_roots(roots: Mapping[str, Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, path in roots.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"root names must be non-empty strings, got {name!r}")
        out[name] = Path(os.path.abspath(path))
    return out


def _ensure_schema(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 2:
            # 2 differs only by the insert trigger, whose work _write now does: keep the rows
            # rather than re-reading the whole library.
            conn.execute("DROP TRIGGER IF EXISTS tracks_ai")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            # The index is derived data: an older layout is rebuilt by the next scan.
            for stmt in _DROP if version else ():
                conn.execute(stmt)
            for stmt in _SCHEMA:
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# ----------------------------------------------------------------------------- search helpers

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


def _sort_key(tags: TrackTags, tid: str) -> str:
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


# ------------------------------------------------------------------------------------ the scan


class _Row(NamedTuple):
    id: str
    size: int
    mtime_ns: int
    cover_src: int
    stale: bool  # must be read again even if the file is unchanged


class _Bad(NamedTuple):
    size: int
    mtime_ns: int
    reason: str


class _Art(NamedTuple):
    name: str
    size: int
    mtime_ns: int
    cover: str | None


class _Scan:
    """One pass over all roots. Holds only per-row bookkeeping for the existing index (path ->
    id, size, mtime) and the rows waiting for the next batch commit."""

    def __init__(self, conn: sqlite3.Connection, roots: dict[str, Path], store: CoverStore):
        self.conn = conn
        self.roots = roots
        self.store = store
        self.existing: dict[str, dict[str, _Row]] = {}
        self.ids: set[str] = set()
        self.known_covers: set[str] = set()
        self.folder_state: dict[tuple[str, str], _Art] = {}
        self.known_bad: dict[str, dict[str, _Bad]] = {}
        self.last_embedded: tuple[bytes, StoredImage | None] | None = None
        self.pending: dict[str, list[tuple[Any, ...]]] = {
            k: []
            for k in (
                *("covers", "insert", "update", "move", "set_cover", "delete", "art"),
                *("bad_forget", "bad"),
            )
        }
        self.n_pending = 0
        self.had_rows = False
        self.changed = False
        self.seen = self.added = self.updated = self.moved = 0
        self.removed = self.unchanged = self.skipped = self.new_covers = 0

    def run(self) -> ScanReport:
        started = time.perf_counter()
        self._load()
        missing: list[str] = []
        for name in sorted(self.roots):
            root = self.roots[name]
            if not root.is_dir():
                # An unmounted drive must not empty the library: keep its rows until it is
                # back or the root is removed from the configuration.
                log.warning("library root %r (%s) is missing; keeping its tracks", name, root)
                missing.append(name)
                self.existing.pop(name, None)
                continue
            unreadable: list[str] = []
            for listing in walk(root, unreadable):
                self._directory(name, listing)
            if unreadable:
                self._keep_unlisted(name, unreadable)
        self._flush()
        self._remove_leftovers(set(missing))
        if self.changed:
            self._prune_covers()
        return ScanReport(
            seen=self.seen,
            added=self.added,
            updated=self.updated,
            moved=self.moved,
            removed=self.removed,
            unchanged=self.unchanged,
            skipped=self.skipped,
            seconds=time.perf_counter() - started,
            covers=self.new_covers,
            missing_roots=tuple(missing),
        )

    def _load(self) -> None:
        # Images deleted from the cover store behind our back are stored again: their tracks
        # and folders are treated as changed.
        lost: set[str] = set()
        for digest, mime in self.conn.execute("SELECT digest, mime FROM covers"):
            if self.store.path_for(digest, mime).is_file():
                self.known_covers.add(digest)
            else:
                lost.add(digest)
        rows = self.conn.execute(
            "SELECT root, relpath, id, size, mtime_ns, cover_src, cover, reader FROM tracks"
        )
        for root, relpath, tid, size, mtime_ns, cover_src, cover, reader in rows:
            stale = reader != READER_VERSION or (cover_src == _EMBEDDED and cover in lost)
            row = _Row(tid, size, mtime_ns, cover_src, stale)
            self.existing.setdefault(root, {})[relpath] = row
            self.ids.add(tid)
        self.had_rows = bool(self.ids)
        for root, d, name, size, mtime_ns, cover in self.conn.execute(
            "SELECT root, dir, name, size, mtime_ns, cover FROM folder_art"
        ):
            if cover not in lost:
                self.folder_state[(root, d)] = _Art(name, size, mtime_ns, cover)
        for root, relpath, size, mtime_ns, reason, reader in self.conn.execute(
            "SELECT root, relpath, size, mtime_ns, reason, reader FROM skipped"
        ):
            if reader != READER_VERSION:
                size = -1  # a newer reader may cope with it
            self.known_bad.setdefault(root, {})[relpath] = _Bad(size, mtime_ns, reason)

    def _keep_unlisted(self, root: str, unreadable: list[str]) -> None:
        """A directory we could not list (permissions, I/O error) is not a deleted one: keep
        its rows as they are rather than emptying that part of the library."""
        prefixes = tuple(d + "/" for d in unreadable if d)
        everything = "" in unreadable
        for table in (self.existing.get(root, {}), self.known_bad.get(root, {})):
            for relpath in [r for r in table if everything or r.startswith(prefixes)]:
                del table[relpath]
        for key in [k for k in self.folder_state if k[0] == root]:
            if everything or key[1] in unreadable or (key[1] + "/").startswith(prefixes):
                del self.folder_state[key]

    # --------------------------------------------------------------------------- per directory

    def _directory(self, root: str, listing: DirListing) -> None:
        art_cover, art_changed = self._folder_art(root, listing)
        rows = self.existing.get(root)
        bad_rows = self.known_bad.get(root)
        for f in listing.files:
            self.seen += 1
            row = rows.pop(f.relpath, None) if rows else None
            if (
                row is not None
                and not row.stale
                and (row.size, row.mtime_ns) == (f.size, f.mtime_ns)
            ):
                self.unchanged += 1
                if art_changed and row.cover_src != _EMBEDDED:
                    src = _FOLDER if art_cover else _NO_COVER
                    self._queue("set_cover", (art_cover, src, row.id))
                continue
            bad = bad_rows.pop(f.relpath, None) if bad_rows else None
            if bad is not None:
                if (bad.size, bad.mtime_ns) == (f.size, f.mtime_ns):
                    self._skip(root, f, None, bad.reason)
                    continue
                self._queue("bad_forget", (root, f.relpath))
            self._read(root, f, row, art_cover)
            if self.n_pending >= _BATCH:
                self._flush()

    def _folder_art(self, root: str, listing: DirListing) -> tuple[str | None, bool]:
        """The folder image's cover digest, and whether it differs from the last scan."""
        key = (root, listing.relpath)
        prev = self.folder_state.pop(key, None)
        art = listing.art
        if art is None:
            if prev is None:
                return None, False
            self._queue("art", (root, listing.relpath, None, 0, 0, None))
            return None, prev.cover is not None
        name = art.relpath.rsplit("/", 1)[-1]
        if prev is not None and (prev.name, prev.size, prev.mtime_ns) == (
            name,
            art.size,
            art.mtime_ns,
        ):
            return prev.cover, False
        try:
            stored = self.store.put_file(art.path)
        except OSError as e:
            log.warning("cannot read folder art %s/%s: %s", root, art.relpath, e.strerror or e)
            stored = None
        cover = self._remember_cover(stored.digest, stored.mime, stored.size) if stored else None
        self._queue("art", (root, listing.relpath, name, art.size, art.mtime_ns, cover))
        return cover, (prev.cover if prev else None) != cover

    def _remember_cover(self, digest: str, mime: str, size: int) -> str:
        if digest not in self.known_covers:
            self.known_covers.add(digest)
            self.new_covers += 1
            self._queue("covers", (digest, mime, size))
        return digest

    # -------------------------------------------------------------------------------- per file

    def _read(self, root: str, f: AudioFile, row: _Row | None, art_cover: str | None) -> None:
        try:
            f.relpath.encode("utf-8")
        except UnicodeEncodeError:
            self._skip(root, f, row, "file name is not valid UTF-8")
            return
        try:
            with open(f.path, "rb", buffering=0) as fh:
                fp = fingerprint_file(fh, f.size)
                if row is None and self._claim_move(root, f, fp.digest, art_cover):
                    return
                tags = read_tags(f.path, fp.data)
        except TagError as e:
            self._skip(root, f, row, str(e))
            self._queue("bad", (root, f.relpath, f.size, f.mtime_ns, str(e), READER_VERSION))
            return
        except OSError as e:
            self._skip(root, f, row, f"cannot read: {e.strerror or e}")
            return
        except Exception as e:  # a bad file must never stop the scan
            self._skip(root, f, row, f"unexpected {type(e).__name__}: {e}")
            return

        cover, src = art_cover, (_FOLDER if art_cover else _NO_COVER)
        if tags.cover is not None:
            try:
                stored = self._put_embedded(tags.cover)
            except OSError as e:
                log.warning("cannot store cover of %s/%s: %s", root, f.relpath, e)
                stored = None
            if stored is not None:
                cover = self._remember_cover(stored.digest, stored.mime, stored.size)
                src = _EMBEDDED
        tid = row.id if row is not None else self._new_id(fp.digest, root, f.relpath)
        values = (
            tags.title, tags.artist, tags.album, tags.album_artist, tags.track_no,
            tags.disc_no, tags.year, tags.duration, tags.codec, tags.bitrate,
            tags.sample_rate, tags.mime, cover, src, _sort_key(tags, tid), READER_VERSION,
        )  # fmt: skip
        if row is None:
            self.added += 1
            self._queue("insert", (tid, root, f.relpath, f.size, f.mtime_ns, fp.digest, *values))
        else:
            self.updated += 1
            self._queue("update", (f.size, f.mtime_ns, fp.digest, *values, tid))

    def _put_embedded(self, data: bytes) -> StoredImage | None:
        # An album's tracks mostly embed the same picture, and the walk meets them one after
        # another: comparing bytes with the previous cover is far cheaper than hashing it and
        # checking the store again.
        last = self.last_embedded
        if last is not None and last[0] == data:
            return last[1]
        stored = self.store.put_bytes(data)
        self.last_embedded = (data, stored)
        return stored

    def _claim_move(self, root: str, f: AudioFile, fp: bytes, art_cover: str | None) -> bool:
        """A new path whose content matches a row whose file is gone is that track, moved."""
        if not self.had_rows:
            return False
        for tid, old_root, old_rel in self.conn.execute(
            "SELECT id, root, relpath FROM tracks WHERE fingerprint = ?", (fp,)
        ):
            rows = self.existing.get(old_root, {})
            old = rows.get(old_rel)
            if old is None or old.id != tid:
                continue  # already seen in this scan: the new path is a copy
            if self._still_there(old_root, old_rel, old):
                continue  # not walked yet but unchanged on disk: also a copy
            del rows[old_rel]
            src = _FOLDER if art_cover else _NO_COVER
            self._queue("move", (root, f.relpath, f.size, f.mtime_ns, art_cover, src, tid))
            self.moved += 1
            return True
        return False

    def _still_there(self, root: str, relpath: str, row: _Row) -> bool:
        base = self.roots.get(root)
        if base is None:
            return False
        try:
            st = os.stat(os.path.join(base, relpath))
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns) == (
            row.size,
            row.mtime_ns,
        )

    def _new_id(self, fp: bytes, root: str, relpath: str) -> str:
        tid = track_id(fp)
        attempt = 0
        while tid in self.ids:
            # identical content elsewhere: salt with the location, deterministically
            attempt += 1
            salt = f"{root}\0{relpath}" + (f"\0{attempt}" if attempt > 1 else "")
            tid = track_id(fp, salt)
        self.ids.add(tid)
        return tid

    def _skip(self, root: str, f: AudioFile, row: _Row | None, reason: str) -> None:
        log.warning("skipped %s/%s: %s", root, f.relpath, reason)
        self.skipped += 1
        if row is not None:  # it was indexed, but is no longer playable
            self._queue("delete", (row.id,))
            self.removed += 1

    # --------------------------------------------------------------------------------- writing

    def _queue(self, kind: str, values: tuple[Any, ...]) -> None:
        self.pending[kind].append(values)
        self.n_pending += 1

    def _flush(self) -> None:
        if not self.n_pending:
            return
        p = self.pending
        statements: list[tuple[str, Sequence[tuple[Any, ...]]]] = [
            ("INSERT OR IGNORE INTO covers (digest, mime, size) VALUES (?, ?, ?)", p["covers"]),
            (_UPDATE, p["update"]),
            (_MOVE, p["move"]),
            (_SET_COVER, p["set_cover"]),
            ("DELETE FROM tracks WHERE id = ?", p["delete"]),
            (
                "INSERT OR REPLACE INTO folder_art (root, dir, name, size, mtime_ns, cover) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [a for a in p["art"] if a[2] is not None],
            ),
            (
                "DELETE FROM folder_art WHERE root = ? AND dir = ?",
                [a[:2] for a in p["art"] if a[2] is None],
            ),
            ("DELETE FROM skipped WHERE root = ? AND relpath = ?", p["bad_forget"]),
            (
                "INSERT OR REPLACE INTO skipped (root, relpath, size, mtime_ns, reason, reader) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                p["bad"],
            ),
        ]
        self._write(statements, p["insert"])
        for rows in p.values():
            rows.clear()
        self.n_pending = 0
        self.changed = True

    def _write(
        self,
        statements: list[tuple[str, Sequence[tuple[Any, ...]]]],
        inserts: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        """Run each statement over its rows in one transaction; `inserts` are new tracks."""
        if not inserts and not any(rows for _sql, rows in statements):
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if inserts:
                (last,) = self.conn.execute("SELECT coalesce(max(pk), 0) FROM tracks").fetchone()
                self.conn.executemany(_INSERT, inserts)
                self.conn.execute(_INDEX_NEW, (last,))
            for sql, rows in statements:
                if rows:
                    self.conn.executemany(sql, rows)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _remove_leftovers(self, keep_roots: set[str]) -> None:
        """Rows whose file was not seen (deleted, now hidden, or its root dropped)."""
        gone = [
            (row.id,)
            for root, rows in self.existing.items()
            if root not in keep_roots
            for row in rows.values()
        ]
        stale_art = [key for key in self.folder_state if key[0] not in keep_roots]
        stale_bad = [
            (root, relpath)
            for root, rows in self.known_bad.items()
            if root not in keep_roots
            for relpath in rows
        ]
        self.existing.clear()
        for i in range(0, len(gone), _BATCH):
            self._write([("DELETE FROM tracks WHERE id = ?", gone[i : i + _BATCH])])
        self._write(
            [
                ("DELETE FROM folder_art WHERE root = ? AND dir = ?", stale_art),
                ("DELETE FROM skipped WHERE root = ? AND relpath = ?", stale_bad),
            ]
        )
        self.removed += len(gone)
        self.changed = self.changed or bool(gone or stale_art)

    def _prune_covers(self) -> None:
        """Forget cover images no track or folder uses any more."""
        self._write([(_PRUNE_COVERS, [()])])
        keep = {d for (d,) in self.conn.execute("SELECT digest FROM covers")}
        self.store.prune(keep)
