"""The SQLite layout of the library index: tables, the FTS5 index, and how an older layout is
brought up to date. Also the row-to-Track mapping, as it follows the `track_rows` view.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from .models import Track

__all__ = [
    "EMBEDDED",
    "FOLDER",
    "NO_COVER",
    "SCHEMA_VERSION",
    "SORT_KEY_COL",
    "ensure_schema",
    "track_from_row",
]

SCHEMA_VERSION = 3

# cover_src values: where a track's cover came from
NO_COVER, EMBEDDED, FOLDER = 0, 1, 2

SORT_KEY_COL = 18  # in track_rows, after the Track fields

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
    # (writer.py's _INDEX_NEW), three times faster than a trigger firing per row.
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


def track_from_row(row: Sequence[Any]) -> Track:
    """A Track from a `track_rows` row (its first columns are the fields, in order)."""
    return Track(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11], row[12], row[13], row[14], bool(row[15]), row[16], row[17],
    )  # fmt: skip


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the index, or bring an older one up to SCHEMA_VERSION."""
    conn.execute("PRAGMA journal_mode = WAL")
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 2:
            # 2 differs only by the insert trigger, whose work the scan's writer now does:
            # keep the rows rather than re-reading the whole library.
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
