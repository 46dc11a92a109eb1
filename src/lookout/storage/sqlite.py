"""SqliteStore: the embedded :class:`~lookout.pipeline.ports.Store` on one SQLite file.

Durability. ``write`` runs one small transaction per batch (group commit) and returns after
its COMMIT: the batch's rows go into the ``journal`` table as one entry (its track points and
vessel states as their field tuples, statics, counters; :mod:`marshal`), with its receipts.
:meth:`SqliteStore.commit` commits several batches in one such transaction (one sync for all:
the writer process of :mod:`lookout.storage.sqlite_process` commits whatever waits). The
derived tables (track, vessels, statics, counters) are written from memory in larger
groups, at least every ``materialize_rows`` track points or ``materialize_interval_s`` seconds,
before any read, and on ``close``; that transaction deletes the journal entries it covers, so
every batch reaches the derived tables exactly once. Opening a database replays the journal
entries a crash left behind. Writing 20,000 indexed rows at once instead of 1,000 costs a
fraction per row, because each index page is written once per group instead of once per
batch; and a vessel updated in many batches is upserted once per group.

Reads see every committed write: a read first writes the pending groups (read-your-writes).
The database runs in WAL mode. With ``synchronous="FULL"`` (the default) every
commit syncs the WAL to disk, so a committed batch survives the process being killed *and* a
power loss or OS crash. With ``"NORMAL"`` the WAL is synced only at checkpoints: a committed
batch survives the process being killed, but the last batches before a power loss may be
lost (the file stays consistent). NORMAL writes faster; choose it only if the senders can
re-send. ``"OFF"`` and ``"EXTRA"`` are accepted too.

Threads. One writer connection behind a lock: ``write`` and ``prune`` may be called from any
thread, one at a time. Reads use one connection per reading thread (see
:mod:`lookout.storage.sqlite_reads`). A ``":memory:"`` database lives in a single
connection, so there every read goes through the writer connection under the lock (for
tests).

Upserts. The pipeline decides what a vessel's latest state is; the store upserts the
:class:`VesselState` it is given, even if it was observed before the stored one.

Retention. ``prune(before_ts)`` deletes the track points and the statics history observed
before ``before_ts`` (vessels' latest states stay). With ``retention_s`` set, ``write``
prunes by itself to keep ``retention_s`` seconds before the newest ``observed_ts`` written
since this store was opened, at most once per 60 s of that data time (the first time on the
first write). Data time, not the wall clock: a replay of old files keeps its window. One
write deletes at most 10,000 points; a larger backlog is worked off by the next writes. A
failed automatic prune is logged, never reported as a failed write (the batch is committed).

Receipts. A receipt records the wall-clock time (``clock``) it was committed; ``write``
deletes those older than ``receipt_ttl_s`` at most once an hour of wall-clock time. A key
already stored keeps its first receipt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import marshal
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from operator import attrgetter, itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any

from lookout.model import TrackPoint
from lookout.model.rows import TRACK_POINT_FIELDS, VESSEL_STATE_FIELDS, TrackRows, VesselRows
from lookout.pipeline.ports import StoreBatch
from lookout.storage import sqlite_sql as sql
from lookout.storage.migrations import load_migrations, migrate
from lookout.storage.sqlite_reads import SqliteReads, connect

__all__ = [
    "JOURNAL_MARSHAL_VERSION",
    "Entry",
    "Receipts",
    "SqliteStore",
    "Write",
    "batch_entry",
    "check_options",
]

log = logging.getLogger(__name__)

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_PRUNE_EVERY_S = 60.0
# Automatic retention deletes at most this many track points per write, so one write never
# stalls on a large backlog; the next writes go on until it is gone.
_PRUNE_CHUNK = 10_000
_RECEIPT_PRUNE_EVERY_S = 3600.0
_WRITER_CACHE_KIB = 64 * 1024
# Checkpoint the WAL every ~40 MB instead of SQLite's 4 MB: fewer, larger checkpoints copy
# each hot page (vessels, index tails) once instead of once per batch; measured ~25 % faster.
_WAL_CHECKPOINT_PAGES = 10_000
_WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
JOURNAL_MARSHAL_VERSION = 2
"""The :mod:`marshal` format of journal entries (tuples of int/float/str/None). Format 2 has
no back-references: twice as fast to write as format 4 for a third more bytes (the writer
process has time to spare, the pipeline has not). ``marshal.loads`` reads every format, so
entries written with another one are replayed all the same."""
_INSERT_JOURNAL = "INSERT INTO journal (entry) VALUES (?)"
_track_values = attrgetter(*TRACK_POINT_FIELDS)
_vessel_values = attrgetter(*VESSEL_STATE_FIELDS)

Entry = tuple[list[Any], ...]
"""A journal entry: see :func:`batch_entry`."""
Receipts = list[tuple[str, str]]
Write = tuple[bytes, Entry, Receipts]
"""One batch to commit: its journal entry marshalled, the entry itself, its receipts."""


def _check_positions(rows: list[tuple[Any, ...]], what: str) -> None:
    """Refuse a batch with a position that is not finite WGS84 degrees (columns 3 and 4 of
    track and vessel rows) before it reaches the journal: the derived tables would refuse it
    later, after the sender was acknowledged."""
    if not rows:
        return
    lats, lons = list(map(_lat, rows)), list(map(_lon, rows))
    try:  # the common case in C: all numbers, finite, in range
        if (
            math.isfinite(sum(lats) + sum(lons))
            and -90.0 <= min(lats) <= max(lats) <= 90.0
            and -180.0 <= min(lons) <= max(lons) <= 180.0
            and set(map(type, lats)) | set(map(type, lons)) <= _NUMBER
        ):
            return
    except TypeError:
        pass
    for row in rows:
        lat, lon = row[3], row[4]
        if not (
            isinstance(lat, float | int)
            and isinstance(lon, float | int)
            and -90.0 <= lat <= 90.0
            and -180.0 <= lon <= 180.0
        ):
            raise sqlite3.IntegrityError(
                f"{what} of MMSI {row[0]} has no valid position (lat={lat!r}, lon={lon!r})"
            )


_lat, _lon, _observed_ts = itemgetter(3), itemgetter(4), itemgetter(2)
_NUMBER = frozenset({float, int, bool})


class _Pending:
    """Rows committed to the journal but not yet to the derived tables."""

    __slots__ = (
        "counts", "detections", "events", "journal_id", "newest_ts", "rejects", "statics",
        "track", "track_rows", "vessels",
    )  # fmt: skip

    def __init__(self) -> None:
        self.track: list[tuple[list[tuple[Any, ...]], float | None]] = []
        """Track rows per journal entry, with the entry's receive time."""
        self.track_rows = 0
        self.vessels: dict[int, tuple[Any, ...]] = {}
        self.statics: list[tuple[Any, ...]] = []
        self.counts: list[tuple[Any, ...]] = []
        self.rejects: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.detections: list[tuple[Any, ...]] = []
        self.journal_id: int | None = None
        self.newest_ts: float | None = None

    def add(self, entry: tuple[list[Any], ...], journal_id: int) -> None:
        track, vessels, statics, counts, rejects, *rest = entry
        # Older entries lack the receive time (five elements), events (six), detections (seven).
        received = rest[0][0] if rest and rest[0] else None
        if len(rest) > 1:
            self.events += rest[1]
        if len(rest) > 2:  # detections journaled before 0006 carry no feed
            self.detections += [(*row, "")[:7] for row in rest[2]]
        self.track.append((track, received))
        self.track_rows += len(track)
        for row in vessels:  # a later state of a vessel replaces an earlier one, as upserts do
            self.vessels[row[0]] = row
        self.statics += statics
        self.counts += counts
        self.rejects += rejects
        self.journal_id = journal_id
        newest = max(map(_observed_ts, track), default=None)
        if newest is not None and (self.newest_ts is None or newest > self.newest_ts):
            self.newest_ts = newest

    def __bool__(self) -> bool:
        return self.journal_id is not None


def check_options(path: str, synchronous: str, retention_s: float | None) -> str:
    """Refuse bad store options clearly; returns the ``synchronous`` level in capitals."""
    level = synchronous.upper()
    if level not in _SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {_SYNCHRONOUS}, not {synchronous!r}")
    if retention_s is not None and retention_s <= 0:
        raise ValueError(f"retention_s must be positive, not {retention_s}")
    if path != ":memory:" and not Path(path).parent.is_dir():
        raise FileNotFoundError(f"folder of the database does not exist: {path}")
    return level


def _track_row(point: TrackPoint, received_ts: float | None) -> tuple[Any, ...]:
    """A point's row; its own ``received_ts`` (when set and not the batch's) rides along."""
    row: tuple[Any, ...] = _track_values(point)
    own = point.received_ts
    return row if own is None or own == received_ts else (*row, own)


def batch_entry(batch: StoreBatch) -> tuple[Entry, Receipts]:
    """A batch as plain rows: its journal entry (track points and vessel states as their field
    tuples, statics, counter and reject rows, the receive time, event versions, detections)
    and its receipts as ``(key, JSON)``."""
    track = batch.track
    vessels = batch.vessels
    counts, rejects = sql.count_rows(batch.counts)
    received = batch.received_ts
    entry = (
        track.rows if isinstance(track, TrackRows) else [_track_row(p, received) for p in track],
        vessels.rows if isinstance(vessels, VesselRows) else [_vessel_values(v) for v in vessels],
        sql.static_rows(batch.statics),
        counts,
        rejects,
        [] if received is None else [received],
        sql.event_rows(batch.events),
        sql.detection_rows(batch.detections),
    )
    return entry, [(k, json.dumps(asdict(r))) for k, r in batch.receipts.items()]


class SqliteStore(SqliteReads):
    """The fused picture in one SQLite file (see the module docstring for the guarantees)."""

    def __init__(
        self,
        path: Path | str,
        *,
        synchronous: str = "FULL",
        retention_s: float | None = None,
        receipt_ttl_s: float | None = 7 * 86_400.0,
        clock: Callable[[], float] = time.time,
        materialize_rows: int = 20_000,
        materialize_interval_s: float = 1.0,
    ) -> None:
        self._path = str(path)
        self._memory = self._path == ":memory:"
        level = check_options(self._path, synchronous, retention_s)
        self._retention_s = retention_s
        self._receipt_ttl_s = receipt_ttl_s
        self._clock = clock
        self._rows = sql.RowCodec()
        self._lock = threading.Lock()
        self._readers_lock = threading.Lock()
        self._readers: dict[threading.Thread, sqlite3.Connection] = {}
        self._closed = False
        self._newest_ts: float | None = None
        self._pruned_at_ts: float | None = None
        self._prune_backlog = False
        self._receipts_pruned_at: float | None = None
        self._materialize_rows = materialize_rows
        self._materialize_interval_s = materialize_interval_s
        self._pending = _Pending()
        self._materialized_at = clock()
        self._writer = self._open_writer(level)
        with self._lock:
            self._replay_journal()

    def _open_writer(self, synchronous: str) -> sqlite3.Connection:
        conn = connect(self._path)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute(f"PRAGMA cache_size = -{_WRITER_CACHE_KIB}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT_BYTES}")
            migrate(conn, load_migrations(), now_ts=self._clock())
        except BaseException:
            conn.close()
            raise
        return conn

    # -- writing ---------------------------------------------------------------------------

    def write(self, batch: StoreBatch) -> None:
        """Commit the batch to the journal in one transaction; returns once it is durable."""
        entry, receipts = batch_entry(batch)
        now = self._clock()
        blob = marshal.dumps(entry, JOURNAL_MARSHAL_VERSION)
        (error,) = self.commit([(blob, entry, receipts)], now)
        if error is not None:
            raise error
        self.materialize_if_due(now)

    def commit(self, writes: Sequence[Write], now: float) -> list[Exception | None]:
        """Commit several batches to the journal in one transaction (group commit: one sync
        for all); per batch, the error that refused it or ``None`` once it is durable.

        A batch with a position that is not WGS84 degrees is refused on its own, before the
        transaction; if the transaction fails, every other batch fails with it. ``now`` is
        the wall-clock time the receipts are recorded at.
        """
        errors: list[Exception | None] = []
        accepted: list[Write] = []
        for write in writes:
            try:
                _check_positions(write[1][0], "track point")
                _check_positions(write[1][1], "vessel")
            except sqlite3.IntegrityError as exc:
                errors.append(exc)
                continue
            errors.append(None)
            accepted.append(write)
        if not accepted:
            return errors
        receipts = [(key, receipt, now) for _, _, rows in accepted for key, receipt in rows]
        with self._lock:
            self._check_open()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [conn.execute(_INSERT_JOURNAL, (blob,)).lastrowid for blob, _, _ in accepted]
                if receipts:
                    conn.executemany(sql.INSERT_RECEIPT, receipts)
                conn.execute("COMMIT")
            except Exception as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return [error or exc for error in errors]
            for (_, entry, _), journal_id in zip(accepted, ids, strict=True):
                assert journal_id is not None
                self._pending.add(entry, journal_id)
            try:
                self._expire_receipts(now)
            except sqlite3.Error:  # the batches are committed: report, do not fail them
                log.exception("expiring receipts of %s failed", self._path)
        return errors

    def materialize_if_due(self, now: float) -> bool:
        """Write the journal out to the derived tables if ``materialize_rows`` track points or
        ``materialize_interval_s`` seconds have gathered; whether rows still wait."""
        with self._lock:
            self._check_open()
            if (
                self._pending.track_rows >= self._materialize_rows
                or now - self._materialized_at >= self._materialize_interval_s
            ):
                self._materialize()
            return bool(self._pending)

    def flush(self) -> None:
        """Write what the journal holds to the derived tables now (reads do this anyway)."""
        with self._lock:
            self._check_open()
            self._materialize()

    def _materialize(self) -> None:
        """Write the pending rows to the derived tables and drop their journal entries, in
        one transaction; lock held."""
        pending = self._pending
        self._materialized_at = self._clock()
        if not pending:
            return
        self._transaction(
            (sql.INSERT_TRACK, self._rows.encode_track(pending.track)),
            (sql.UPSERT_VESSEL, self._rows.encode_vessels(pending.vessels.values())),
            (sql.INSERT_STATIC, pending.statics),
            (sql.ADD_COUNTS, pending.counts),
            (sql.ADD_REJECTS, pending.rejects),
            *zip(
                (sql.INSERT_EVENT_VERSION, sql.UPSERT_EVENT, sql.ADD_EVENT_VESSEL),
                sql.event_writes(pending.events),
                strict=True,
            ),
            (sql.INSERT_DETECTION, pending.detections),
            ("DELETE FROM journal WHERE id <= ?", [(pending.journal_id,)]),
        )
        self._pending = _Pending()
        try:
            self._housekeeping(pending.newest_ts, self._materialized_at)
        except sqlite3.Error:  # the rows are committed: report, do not fail the write
            log.exception("automatic pruning of %s failed", self._path)

    def _replay_journal(self) -> None:
        """Bring the derived tables up to date with what a crash left in the journal."""
        rows = self._writer.execute("SELECT id, entry FROM journal ORDER BY id").fetchall()
        for journal_id, blob in rows:
            self._pending.add(marshal.loads(blob), journal_id)
        if rows:
            log.info("replaying %d journal entries into %s", len(rows), self._path)
            self._materialize()

    def prune(self, before_ts: float) -> int:
        """Delete track points and statics observed before ``before_ts``; returns the points."""
        with self._lock:
            self._check_open()
            self._materialize()
            return self._prune(before_ts)

    def prune_receipts(self, created_before_ts: float) -> int:
        """Delete receipts committed before ``created_before_ts`` (wall clock); how many."""
        with self._lock:
            self._check_open()
            rows = self._transaction(
                ("DELETE FROM receipts WHERE created_ts < ?", [(created_before_ts,)])
            )
        return rows[0]

    def _prune(self, before_ts: float, most: int = -1) -> int:
        """Delete up to ``most`` track points (all if negative) and all statics before."""
        deleted = self._transaction(
            (
                "DELETE FROM track WHERE rowid IN"
                " (SELECT rowid FROM track WHERE observed_ts < ? LIMIT ?)",
                [(before_ts, most)],
            ),
            ("DELETE FROM statics WHERE observed_ts < ?", [(before_ts,)]),
        )
        return deleted[0]

    def _transaction(self, *steps: tuple[str, Sequence[tuple[Any, ...]]]) -> list[int]:
        """Run ``executemany`` per step in one transaction; rows changed per step."""
        conn = self._writer
        changed: list[int] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement, rows in steps:
                changed.append(conn.executemany(statement, rows).rowcount if rows else 0)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return changed

    def _expire_receipts(self, now: float) -> None:
        """Receipt expiry (wall clock), at most once per hour; lock held."""
        if self._receipt_ttl_s is not None:
            last = self._receipts_pruned_at
            if last is None or now - last >= _RECEIPT_PRUNE_EVERY_S:
                self._receipts_pruned_at = now
                self._transaction(
                    ("DELETE FROM receipts WHERE created_ts < ?", [(now - self._receipt_ttl_s,)])
                )

    def _housekeeping(self, newest_ts: float | None, now: float) -> None:
        """Automatic retention (data time); lock held."""
        if newest_ts is not None and (self._newest_ts is None or newest_ts > self._newest_ts):
            self._newest_ts = newest_ts
        if self._retention_s is not None and self._newest_ts is not None:
            last = self._pruned_at_ts
            if self._prune_backlog or last is None or self._newest_ts - last >= _PRUNE_EVERY_S:
                if not self._prune_backlog:
                    self._pruned_at_ts = self._newest_ts
                cutoff = self._newest_ts - self._retention_s
                self._prune_backlog = self._prune(cutoff, _PRUNE_CHUNK) >= _PRUNE_CHUNK

    # -- reading ---------------------------------------------------------------------------

    def _committed(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._reading() if self._memory else super()._committed()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection holding one read snapshot for the duration of the block."""
        if self._memory:
            with self._lock:
                self._check_open()
                self._materialize()
                yield self._writer
            return
        if self._pending:
            with self._lock:
                self._check_open()
                self._materialize()
        with self._snapshot() as conn:
            yield conn

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection; later calls do nothing, other methods raise."""
        with self._lock, self._readers_lock:
            if self._closed:
                return
            try:
                self._materialize()
            except sqlite3.Error:  # still in the journal: replayed at the next open
                log.exception("writing pending rows of %s on close failed", self._path)
            self._closed = True
            self._close_readers()
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA optimize")
            self._writer.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
