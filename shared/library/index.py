"""The library facade: `Library` owns the SQLite index's connections and the cover store, runs
scans (scan.py) and answers lookups and searches (search.py) for the rest of the service.

Scans run in a worker thread (one at a time) while other threads read: each call borrows a
connection from a small pool, the database is in WAL mode, and a scan commits in batches of a
few hundred rows so readers see progress and memory stays flat however large the library is.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .covers import CoverStore
from .models import Cover, Page, ScanReport, Track
from .scan import Scan
from .scanner import inside
from .schema import ensure_schema, track_from_row
from .search import MAX_LIMIT, plan

__all__ = ["MAX_LIMIT", "Cover", "Library", "Page", "ScanReport", "Track"]

log = logging.getLogger("lockstep.library")

_BUSY_SECONDS = 10.0
_MAX_IDLE = 4  # pooled connections kept open between calls


class Library:
    """The music library index. `roots` maps a short root name (e.g. "music") to a folder;
    cover images are stored under `cover_dir`. Thread-safe: each call borrows a pooled SQLite
    connection and hands it back; `close()` (e.g. at shutdown) closes the idle ones at once and
    the others as their calls finish. A call after `close()` simply opens new connections."""

    def __init__(self, db_path: Path, roots: Mapping[str, Path], cover_dir: Path) -> None:
        self._db_path = Path(db_path)
        self._store = CoverStore(Path(cover_dir))
        self._roots = _check_roots(roots)
        self._scan_lock = threading.Lock()
        self._stop = threading.Event()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._generation = 0  # bumped by close(): older connections are closed when handed back
        self._db_path.parent.mkdir(parents=True, exist_ok=True)
        self._store.root.mkdir(parents=True, exist_ok=True)
        try:
            with self._connection() as conn:
                ensure_schema(conn)
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
            with self._connection() as conn:
                ensure_schema(conn)

    # ---------------------------------------------------------------------------- connections

    def _connect(self) -> sqlite3.Connection:
        # timeout= is SQLite's busy timeout; autocommit mode, as writes use explicit BEGIN
        conn = sqlite3.connect(
            self._db_path,
            timeout=_BUSY_SECONDS,
            isolation_level=None,
            check_same_thread=False,  # pooled: used by one thread at a time, not always the same
        )
        try:
            conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; fsync per checkpoint
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection for one call: an idle one, else a new one."""
        with self._pool_lock:
            generation = self._generation
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except BaseException:
            # It may hold an unfinished statement (or be what failed): not worth reusing.
            conn.close()
            raise
        with self._pool_lock:
            keep = generation == self._generation and len(self._idle) < _MAX_IDLE
            if keep:
                self._idle.append(conn)
        if not keep:
            conn.close()

    def close(self) -> None:
        """Close the idle connections now, and those in use as their calls return them (never
        under a running query). Safe to call twice; a later call opens new connections."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            conn.close()

    def check(self) -> bool:
        """True if the database answers a trivial query (for health checks)."""
        try:
            with self._connection() as conn:
                row = conn.execute("SELECT 1").fetchone()
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
            self._stop.clear()  # a stop asked for before this scan began is not for it
            conn = self._connect()  # its own: a scan's write transactions are not pooled
            try:
                report = Scan(conn, dict(self._roots), self._store, self._stop).run()
            finally:
                conn.close()
        log.info(
            "library scan%s: %d seen, %d added, %d updated, %d moved, %d removed, "
            "%d unchanged, %d skipped, %d new covers in %.2fs",
            " (stopped early)" if report.stopped else "",
            report.seen, report.added, report.updated, report.moved, report.removed,
            report.unchanged, report.skipped, report.covers, report.seconds,
        )  # fmt: skip
        return report

    def stop_scan(self) -> None:
        """Ask the running scan, if any, to stop soon: it commits what it has indexed so far,
        skips removing tracks (it did not see every file) and reports `stopped=True`."""
        self._stop.set()

    # --------------------------------------------------------------------------------- lookups

    def get(self, track_id: str) -> Track | None:
        sql = "SELECT * FROM track_rows WHERE id = ?"
        with self._connection() as conn:
            row = conn.execute(sql, (track_id,)).fetchone()
        return track_from_row(row) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Track]:
        # one bound JSON array instead of a variable number of placeholders
        sql = "SELECT * FROM track_rows WHERE id IN (SELECT value FROM json_each(?))"
        wanted = json.dumps(list(dict.fromkeys(ids)))
        with self._connection() as conn:
            rows = conn.execute(sql, (wanted,)).fetchall()
        return {row[0]: track_from_row(row) for row in rows}

    def find_by_relpath(self, root: str, relpath: str) -> Track | None:
        sql = "SELECT * FROM track_rows WHERE root = ? AND relpath = ?"
        with self._connection() as conn:
            row = conn.execute(sql, (root, relpath)).fetchone()
        return track_from_row(row) if row else None

    def path_of(self, track_id: str) -> Path | None:
        """The file to serve, if it still resolves to a file inside its root."""
        sql = "SELECT root, relpath FROM tracks WHERE id = ?"
        with self._connection() as conn:
            row = conn.execute(sql, (track_id,)).fetchone()
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

    def ids(self) -> frozenset[str]:
        """Every track id in the index."""
        with self._connection() as conn:
            return frozenset(row[0] for row in conn.execute("SELECT id FROM tracks"))

    def count(self) -> int:
        with self._connection() as conn:
            return int(conn.execute("SELECT count(*) FROM tracks").fetchone()[0])

    def cover(self, track_id: str) -> Cover | None:
        """The track's cover image (embedded, else folder art), if it has one."""
        sql = (
            "SELECT c.digest, c.mime FROM tracks t JOIN covers c ON c.digest = t.cover "
            "WHERE t.id = ?"
        )
        with self._connection() as conn:
            row = conn.execute(sql, (track_id,)).fetchone()
        if row is None:
            return None
        path = self._store.path_for(row[0], row[1])
        if not path.is_file():
            return None
        return Cover(path=path, mime=row[1], etag=row[0])

    # ---------------------------------------------------------------------------------- search

    def search(self, q: str = "", limit: int = 50, cursor: str | None = None) -> Page:
        """Library order for an empty query, else best match first; `cursor` is the previous
        page's next_cursor. Raises ValueError for a bad limit or cursor."""
        query = plan(q, limit, cursor)
        if query is None:
            return Page((), None)
        with self._connection() as conn:
            rows = conn.execute(query.sql, query.params).fetchall()
        return query.page(rows)


def _check_roots(roots: Mapping[str, Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, path in roots.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"root names must be non-empty strings, got {name!r}")
        out[name] = Path(os.path.abspath(path))
    return out
