"""The scan's writes: changes are queued as the walk finds them and written in batches of a
few hundred rows, each batch in one transaction, so readers see progress, memory stays flat,
and the full-text index never disagrees with the tracks table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = ["BATCH", "Writer"]

BATCH = 400  # rows per write transaction

_Statements = list[tuple[str, Sequence[tuple[Any, ...]]]]  # each SQL with the rows to run it on

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
# cover_src 1 is EMBEDDED (schema.py). A moved track keeps its embedded cover; folder art
# follows the new folder.
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
# New folder art reaches the folder's tracks that have no embedded cover.
_SET_COVER = "UPDATE tracks SET cover = ?, cover_src = ? WHERE id = ? AND cover_src != 1"
_ART_SET = (
    "INSERT OR REPLACE INTO folder_art (root, dir, name, size, mtime_ns, cover) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_TRACK_DELETE = "DELETE FROM tracks WHERE id = ?"
_ART_DELETE = "DELETE FROM folder_art WHERE root = ? AND dir = ?"
_BAD_FORGET = "DELETE FROM skipped WHERE root = ? AND relpath = ?"
_KINDS = ("covers", "insert", "update", "move", "set_cover", "delete", "art", "bad_forget", "bad")


class Writer:
    """The rows waiting for the next batch commit, by kind. Each kind's values are the
    parameters of its statement in flush(); an "art" row with no name (a[2]) deletes that
    folder's row, the others set it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pending: dict[str, list[tuple[Any, ...]]] = {k: [] for k in _KINDS}
        self.n_pending = 0

    def queue(self, kind: str, values: tuple[Any, ...]) -> None:
        self.pending[kind].append(values)
        self.n_pending += 1

    def drop_art(self, root: str, relpath: str) -> None:
        """Forget a queued folder-art change that has not been written yet."""
        art = self.pending["art"]
        kept = [a for a in art if a[:2] != (root, relpath)]
        self.n_pending -= len(art) - len(kept)
        art[:] = kept

    def flush(self) -> bool:
        """Write everything queued in one transaction; False if nothing was."""
        if not self.n_pending:
            return False
        p = self.pending
        statements: _Statements = [
            ("INSERT OR IGNORE INTO covers (digest, mime, size) VALUES (?, ?, ?)", p["covers"]),
            (_UPDATE, p["update"]),
            (_MOVE, p["move"]),
            (_SET_COVER, p["set_cover"]),
            (_TRACK_DELETE, p["delete"]),
            (_ART_SET, [a for a in p["art"] if a[2] is not None]),
            (_ART_DELETE, [a[:2] for a in p["art"] if a[2] is None]),
            (_BAD_FORGET, p["bad_forget"]),
            (
                "INSERT OR REPLACE INTO skipped (root, relpath, size, mtime_ns, reason, reader) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                p["bad"],
            ),
        ]
        self.write(statements, p["insert"])
        for rows in p.values():
            rows.clear()
        self.n_pending = 0
        return True

    def write(self, statements: _Statements, inserts: Sequence[tuple[Any, ...]] = ()) -> None:
        """Run each statement over its rows in one transaction; `inserts` are new tracks."""
        if not inserts and not any(rows for _sql, rows in statements):
            return
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if inserts:
                (last,) = conn.execute("SELECT coalesce(max(pk), 0) FROM tracks").fetchone()
                conn.executemany(_INSERT, inserts)
                conn.execute(_INDEX_NEW, (last,))
            for sql, rows in statements:
                if rows:
                    conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def remove(
        self,
        track_ids: Sequence[tuple[str]],
        art: Sequence[tuple[str, str]] = (),
        bad: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Delete tracks (by id), folder-art rows and known-bad files, in one transaction."""
        self.write([(_TRACK_DELETE, track_ids), (_ART_DELETE, art), (_BAD_FORGET, bad)])

    def prune_covers(self) -> set[str]:
        """Forget cover images no track or folder uses any more; the digests still used."""
        self.write([(_PRUNE_COVERS, [()])])
        return {d for (d,) in self.conn.execute("SELECT digest FROM covers")}
