"""A scan: one pass over the library's roots that brings the index in line with the files.

It compares what the walk finds with what the index held (path -> id, size, mtime), reads
only new or changed files, recognises moved files by content, stores cover art, and queues
the changes for the Writer. Memory holds that per-row bookkeeping, not the tracks.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import NamedTuple

from . import tags as _tags
from .covers import CoverStore, StoredImage
from .models import ScanReport
from .scanner import AudioFile, DirListing, fingerprint_file, track_id, walk
from .schema import EMBEDDED, FOLDER, NO_COVER
from .search import sort_key
from .tags import TagError, read_tags
from .writer import BATCH, Writer

__all__ = ["Scan"]

log = logging.getLogger("lockstep.library")


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


class Scan:
    """One pass over all roots; `run()` once. Setting `stop` makes it end soon, keeping what
    it has written (see run())."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        roots: dict[str, Path],
        store: CoverStore,
        stop: threading.Event,
    ) -> None:
        self.conn = conn
        self.roots = roots
        self.store = store
        self.stop = stop
        self.writer = Writer(conn)
        # read once, so the whole scan compares rows with one reader version
        self.reader_version = _tags.READER_VERSION
        self.existing: dict[str, dict[str, _Row]] = {}
        self.ids: set[str] = set()
        self.known_covers: set[str] = set()
        self.folder_state: dict[tuple[str, str], _Art] = {}
        self.known_bad: dict[str, dict[str, _Bad]] = {}
        self.last_embedded: tuple[bytes, StoredImage | None] | None = None
        # fingerprint -> rows with that content not yet ruled out as where a file moved from
        # (last first); see _claim_move()
        self.move_origins: dict[bytes, list[tuple[str, str, str]]] = {}
        self.had_rows = False
        self.changed = False
        self.seen = self.added = self.updated = self.moved = 0
        self.removed = self.unchanged = self.skipped = self.new_covers = 0

    def run(self) -> ScanReport:
        """Walk, write, then (only after a complete walk) remove the rows of files not seen.
        If stopped, what was written stays, in the same whole-batch transactions, and the
        report says `stopped`: the next scan carries on from the index as it is."""
        started = time.perf_counter()
        self._load()
        missing: list[str] = []
        complete = self._walk(missing)
        self._flush()
        # Only a complete walk shows which files are gone: a stopped one leaves the rows of
        # the files it did not reach as they were.
        if complete:
            complete = self._remove_leftovers(set(missing))
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
            stopped=not complete,
        )

    def _walk(self, missing: list[str]) -> bool:
        """Index every root's files; False if stopped before the end."""
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
                if not self._directory(name, listing):
                    return False
            if unreadable:
                self._keep_unlisted(name, unreadable)
        return True

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
            stale = reader != self.reader_version or (cover_src == EMBEDDED and cover in lost)
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
            if reader != self.reader_version:
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

    def _directory(self, root: str, listing: DirListing) -> bool:
        """Index one directory's files; False if stopped part way."""
        prev_art = self.folder_state.get((root, listing.relpath))
        art_cover, art_changed = self._folder_art(root, listing)
        rows = self.existing.get(root)
        bad_rows = self.known_bad.get(root)
        stop = self.stop
        for f in listing.files:
            if stop.is_set():
                if art_changed:
                    self._restore_art(root, listing.relpath, prev_art)
                return False
            self.seen += 1
            row = rows.pop(f.relpath, None) if rows else None
            if (
                row is not None
                and not row.stale
                and (row.size, row.mtime_ns) == (f.size, f.mtime_ns)
            ):
                self.unchanged += 1
                if art_changed and row.cover_src != EMBEDDED:
                    src = FOLDER if art_cover else NO_COVER
                    self.writer.queue("set_cover", (art_cover, src, row.id))
                continue
            bad = bad_rows.pop(f.relpath, None) if bad_rows else None
            if bad is not None:
                if (bad.size, bad.mtime_ns) == (f.size, f.mtime_ns):
                    self._skip(root, f, None, bad.reason)
                    continue
                self.writer.queue("bad_forget", (root, f.relpath))
            self._read(root, f, row, art_cover)
            if self.writer.n_pending >= BATCH:
                self._flush()
        return True

    def _restore_art(self, root: str, relpath: str, prev: _Art | None) -> None:
        """Put back what the index held for a folder whose art changed, when a stop leaves
        some of its files unvisited: the next scan then sees the change again and gives them
        the new art too (the files already done are set again, to the same)."""
        self.writer.drop_art(root, relpath)  # if not yet written
        if prev is None:
            self.writer.queue("art", (root, relpath, None, 0, 0, None))
        else:
            self.writer.queue(
                "art", (root, relpath, prev.name, prev.size, prev.mtime_ns, prev.cover)
            )

    def _folder_art(self, root: str, listing: DirListing) -> tuple[str | None, bool]:
        """The folder image's cover digest, and whether it differs from the last scan."""
        key = (root, listing.relpath)
        prev = self.folder_state.pop(key, None)
        art = listing.art
        if art is None:
            if prev is None:
                return None, False
            self.writer.queue("art", (root, listing.relpath, None, 0, 0, None))
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
        self.writer.queue("art", (root, listing.relpath, name, art.size, art.mtime_ns, cover))
        return cover, (prev.cover if prev else None) != cover

    def _remember_cover(self, digest: str, mime: str, size: int) -> str:
        if digest not in self.known_covers:
            self.known_covers.add(digest)
            self.new_covers += 1
            self.writer.queue("covers", (digest, mime, size))
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
            self.writer.queue(
                "bad", (root, f.relpath, f.size, f.mtime_ns, str(e), self.reader_version)
            )
            return
        except OSError as e:
            self._skip(root, f, row, f"cannot read: {e.strerror or e}")
            return
        except Exception as e:  # a bad file must never stop the scan
            self._skip(root, f, row, f"unexpected {type(e).__name__}: {e}")
            return

        cover, src = art_cover, (FOLDER if art_cover else NO_COVER)
        if tags.cover is not None:
            try:
                stored = self._put_embedded(tags.cover)
            except OSError as e:
                log.warning("cannot store cover of %s/%s: %s", root, f.relpath, e)
                stored = None
            if stored is not None:
                cover = self._remember_cover(stored.digest, stored.mime, stored.size)
                src = EMBEDDED
        tid = row.id if row is not None else self._new_id(fp.digest, root, f.relpath)
        values = (
            tags.title, tags.artist, tags.album, tags.album_artist, tags.track_no,
            tags.disc_no, tags.year, tags.duration, tags.codec, tags.bitrate,
            tags.sample_rate, tags.mime, cover, src, sort_key(tags, tid), self.reader_version,
        )  # fmt: skip
        if row is None:
            self.added += 1
            self.writer.queue(
                "insert", (tid, root, f.relpath, f.size, f.mtime_ns, fp.digest, *values)
            )
        else:
            self.updated += 1
            self.writer.queue("update", (f.size, f.mtime_ns, fp.digest, *values, tid))

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
        # A row ruled out stays ruled out for the rest of the scan, so each is looked at once
        # however many copies of its content turn up (else resuming a stopped scan of many
        # identical files is quadratic). Only contents found in the index are remembered.
        origins = self.move_origins.get(fp)
        if origins is None:
            sql = "SELECT id, root, relpath FROM tracks WHERE fingerprint = ? ORDER BY pk DESC"
            origins = self.conn.execute(sql, (fp,)).fetchall()
            if not origins:
                return False
            self.move_origins[fp] = origins
        while origins:
            tid, old_root, old_rel = origins.pop()
            rows = self.existing.get(old_root, {})
            old = rows.get(old_rel)
            if old is None or old.id != tid:
                continue  # already seen in this scan: the new path is a copy
            if self._still_there(old_root, old_rel, old):
                continue  # not walked yet but unchanged on disk: also a copy
            del rows[old_rel]
            src = FOLDER if art_cover else NO_COVER
            self.writer.queue("move", (root, f.relpath, f.size, f.mtime_ns, art_cover, src, tid))
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
            self.writer.queue("delete", (row.id,))
            self.removed += 1

    # --------------------------------------------------------------------------------- writing

    def _flush(self) -> None:
        if self.writer.flush():
            self.changed = True

    def _remove_leftovers(self, keep_roots: set[str]) -> bool:
        """Rows whose file was not seen (deleted, now hidden, or its root dropped). False if
        stopped part way (what is left goes at the next complete scan)."""
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
        for i in range(0, len(gone), BATCH):
            if self.stop.is_set():
                return False
            batch = gone[i : i + BATCH]
            self.writer.remove(batch)
            self.removed += len(batch)
            self.changed = True
        self.writer.remove((), stale_art, stale_bad)
        self.changed = self.changed or bool(stale_art)
        return True

    def _prune_covers(self) -> None:
        """Forget cover images no track or folder uses any more."""
        self.store.prune(self.writer.prune_covers())
