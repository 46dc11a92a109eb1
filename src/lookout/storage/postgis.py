"""PostgisStore: the production :class:`~lookout.pipeline.ports.Store` on PostgreSQL + PostGIS.

Answers exactly as :class:`~lookout.storage.sqlite.SqliteStore` does (the same contract suite
runs against both); the schema is ``migrations_pg``.

Durability. ``write`` commits the whole batch in one transaction and returns after its
COMMIT: with PostgreSQL's default ``synchronous_commit = on`` the commit has reached the
server's write-ahead log on disk. Track points, statics and vessel states go in by binary
``COPY ... FROM STDIN``, the rest by pipelined statements, and batches written from several
threads at once share a transaction (group commit, :mod:`~lookout.storage.postgis_write`). A batch
with a position outside WGS84 degrees (or not finite) breaks a CHECK constraint and fails as a
whole; nothing of it is stored.

Migrations. Opening a database applies the pending files of ``migrations_pg`` in one
transaction under an advisory lock, recorded in ``schema_version``: a second process opening
the same database waits for the first and applies nothing. The first migration runs
``CREATE EXTENSION IF NOT EXISTS postgis``; when Lookout's role may not create extensions,
a superuser runs it once beforehand (docs/storage.md).

Threads. One writer connection behind a lock: ``write`` and ``prune`` may be called from
any thread (concurrent writes are committed together). Each read takes a connection of a
small pool (opened on demand, a few kept idle): a read of one statement runs on its own (one
round trip; a statement sees one committed snapshot), a read of several in one ``REPEATABLE
READ READ ONLY`` transaction.

Server restarts. An idle connection the server closed (a restart, an administrator) is
noticed before use (it has something to read: the server's goodbye, or end of file) and
opened again, so the first write and reads after a restart succeed. A write that meets the
break mid-transaction fails (nothing acknowledged: its sender re-sends); while the server is
down every call raises :class:`~lookout.storage.StoreOutage` at once (connection refused;
the API answers 503).
:meth:`PostgisStore.ping` tells whether the server answers again (the runtime asks it to end
an outage, docs/deployment.md). A batch whose every receipt key is already stored (a second
process node committed the same raw batch first) is rolled back, not written twice.

Retention and receipts: as :class:`~lookout.storage.sqlite.SqliteStore` (``retention_s`` in
data time, at most 10,000 points per write; receipts older than ``receipt_ttl_s`` of wall
clock deleted at most once an hour).
"""

from __future__ import annotations

import json
import logging
import math
import select
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the PostGIS store needs psycopg: pip install 'lookout[postgres]'") from exc

from lookout.model import (
    BBox,
    Detection,
    IngestReceipt,
    SourceStats,
    StaticReport,
    TrackPoint,
    VesselState,
)
from lookout.pipeline.ports import EventQuery, StoreBatch
from lookout.storage import StoreOutage
from lookout.storage import postgis_sql as sql
from lookout.storage.counters import source_stats
from lookout.storage.postgis_write import Waiting, gather, write_rows

__all__ = ["PostgisStore", "alive", "connect", "describe"]

log = logging.getLogger(__name__)

_IDLE_READERS = 4
_PRUNE_EVERY_S = 60.0
_PRUNE_CHUNK = 10_000
_RECEIPT_PRUNE_EVERY_S = 3600.0

Connection = psycopg.Connection[Any]


def connect(dsn: str, *, connect_timeout_s: float = 10.0) -> Connection:
    """An autocommit connection (transactions are explicit blocks) to ``dsn``; libpq fills
    in what it lacks (``PGPASSWORD``, ``~/.pgpass``, ``PGHOST``...)."""
    return psycopg.connect(
        dsn,
        autocommit=True,
        connect_timeout=max(1, math.ceil(connect_timeout_s)),
        application_name="lookout",
    )


def describe(conn: Connection) -> str:
    """Where a connection goes, without its password: ``user@host:port/dbname``."""
    info = conn.info
    return f"{info.user}@{info.host}:{info.port}/{info.dbname}"


class PostgisStore:
    """The fused picture in one PostgreSQL database (see the module docstring)."""

    def __init__(
        self,
        dsn: str,
        *,
        retention_s: float | None = None,
        receipt_ttl_s: float | None = 7 * 86_400.0,
        clock: Callable[[], float] = time.time,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if retention_s is not None and retention_s <= 0:
            raise ValueError(f"retention_s must be positive, not {retention_s}")
        self._dsn = dsn
        self._timeout_s = connect_timeout_s
        self._retention_s = retention_s
        self._receipt_ttl_s = receipt_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[Waiting] = []
        self._readers_lock = threading.Lock()
        self._idle: list[Connection] = []
        self._closed = False
        self._newest_ts: float | None = None
        self._pruned_at_ts: float | None = None
        self._prune_backlog = False
        self._receipts_pruned_at: float | None = None
        self._writer = connect(dsn, connect_timeout_s=connect_timeout_s)
        try:
            sql.migrate(self._writer, sql.pg_migrations(), now_ts=clock())
            self._writer.execute(sql.CREATE_VESSELS_IN)
        except BaseException:
            self._writer.close()
            raise
        self.name = describe(self._writer)
        """Where the store is, for messages: ``user@host:port/dbname`` (no password)."""

    # -- writing ---------------------------------------------------------------------------

    def write(self, batch: StoreBatch) -> None:
        """Commit the batch in one transaction (shared with batches other threads write at
        the same moment, :mod:`~lookout.storage.postgis_write`); returns once it is durable."""
        mine = Waiting(batch)
        with self._queue_lock:
            self._queue.append(mine)
        with self._lock:
            if not mine.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        if mine.error is not None:
            raise mine.error

    def _commit(self, group: list[Waiting]) -> None:
        """Commit ``group`` in one transaction, or each alone if that fails for a reason
        other than the connection; lock held. Marks every batch done."""
        try:
            self._check_open()
            self._write([w.batch for w in group])
        except Exception as exc:
            # StoreOutage (a RuntimeError): the server may have committed; RuntimeError: closed
            if len(group) == 1 or isinstance(exc, RuntimeError):
                for waiting in group:
                    waiting.error = exc
            else:
                log.warning("a group of %d batches failed (%s); one at a time", len(group), exc)
                for waiting in group:
                    try:
                        self._write([waiting.batch])
                    except Exception as alone:
                        waiting.error = alone
        finally:
            for waiting in group:
                waiting.done = True

    def _write(self, batches: list[StoreBatch]) -> None:
        rows = gather(batches)
        now = self._clock()
        with self._answering():
            write_rows(self._writable(), rows, now)
        self._housekeeping(rows.newest_ts(), now)

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """Turn "the server does not answer" (psycopg's OperationalError: refused, dropped,
        starting up, shutting down) into :class:`~lookout.storage.StoreOutage`."""
        try:
            yield
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreOutage(f"PostgreSQL at {self.name} does not answer: {reason}") from exc

    def _writable(self) -> Connection:
        """The writer connection, opened again if the server dropped it; lock held."""
        if not alive(self._writer):
            log.warning("connection to %s lost; connecting again", self.name)
            self._writer.close()
            self._writer = connect(self._dsn, connect_timeout_s=self._timeout_s)
            self._writer.execute(sql.CREATE_VESSELS_IN)
        return self._writer

    def ping(self) -> bool:
        """Whether the server answers (on the writer connection, opened again if lost)."""
        with self._lock:
            self._check_open()
            try:
                self._writable().execute("SELECT 1")
            except psycopg.Error as exc:
                log.debug("%s does not answer: %s", self.name, exc)
                return False
            return True

    def prune(self, before_ts: float) -> int:
        """Delete track points and statics observed before ``before_ts``; returns the points."""
        with self._lock:
            self._check_open()
            return self._prune(before_ts)

    def _prune(self, before_ts: float, most: int | None = None) -> int:
        """Delete up to ``most`` track points (all if ``None``) and all statics before."""
        conn = self._writable()
        with conn.transaction():
            if most is None:
                cur = conn.execute("DELETE FROM track WHERE observed_ts < %s", (before_ts,))
            else:
                cur = conn.execute(
                    "DELETE FROM track WHERE id IN"
                    " (SELECT id FROM track WHERE observed_ts < %s LIMIT %s)",
                    (before_ts, most),
                )
            conn.execute("DELETE FROM statics WHERE observed_ts < %s", (before_ts,))
        return max(cur.rowcount, 0)

    def _housekeeping(self, newest_ts: float | None, now: float) -> None:
        """Receipt expiry (wall clock) and automatic retention (data time), after a commit:
        a failure is logged, never reported as a failed write; lock held."""
        try:
            self._expire_receipts(now)
            self._retain(newest_ts)
        except psycopg.Error:
            log.exception("housekeeping of %s failed", self.name)

    def _expire_receipts(self, now: float) -> None:
        if self._receipt_ttl_s is None:
            return
        last = self._receipts_pruned_at
        if last is None or now - last >= _RECEIPT_PRUNE_EVERY_S:
            self._receipts_pruned_at = now
            self._writable().execute(
                "DELETE FROM receipts WHERE created_ts < %s", (now - self._receipt_ttl_s,)
            )

    def _retain(self, newest_ts: float | None) -> None:
        if newest_ts is not None and (self._newest_ts is None or newest_ts > self._newest_ts):
            self._newest_ts = newest_ts
        if self._retention_s is None or self._newest_ts is None:
            return
        last = self._pruned_at_ts
        if self._prune_backlog or last is None or self._newest_ts - last >= _PRUNE_EVERY_S:
            if not self._prune_backlog:
                self._pruned_at_ts = self._newest_ts
            cutoff = self._newest_ts - self._retention_s
            self._prune_backlog = self._prune(cutoff, _PRUNE_CHUNK) >= _PRUNE_CHUNK

    # -- reading ---------------------------------------------------------------------------

    @contextmanager
    def _reading(self, snapshot: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor on a connection of the pool: for one statement (a statement sees one
        snapshot anyway, one round trip), or with ``snapshot`` in one ``REPEATABLE READ READ
        ONLY`` transaction for several."""
        with self._answering():
            conn = self._take_reader()
            try:
                if snapshot:
                    with conn.transaction(), conn.cursor() as cur:
                        yield cur
                else:
                    with conn.cursor() as cur:
                        yield cur
            finally:
                self._give_back(conn)

    def _take_reader(self) -> Connection:
        with self._readers_lock:
            self._check_open()
            while self._idle:
                idle = self._idle.pop()
                if alive(idle):
                    return idle
                idle.close()  # the server closed it (a restart): open a new one
        conn = connect(self._dsn, connect_timeout_s=self._timeout_s)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        return conn

    def _give_back(self, conn: Connection) -> None:
        with self._readers_lock:
            if not (self._closed or conn.broken) and len(self._idle) < _IDLE_READERS:
                self._idle.append(conn)
                return
        conn.close()

    def receipt(self, idempotency_key: str) -> IngestReceipt | None:
        with self._reading() as cur:
            row = cur.execute(
                "SELECT receipt FROM receipts WHERE key = %s", (idempotency_key,)
            ).fetchone()
        return None if row is None else IngestReceipt(**_json(row[0]))

    def receipts_of(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` have a receipt, in one round trip (a process node checks a
        fetched batch of raw messages at once; not part of the port)."""
        if not keys:
            return set()
        with self._reading() as cur:
            rows = cur.execute("SELECT key FROM receipts WHERE key = ANY(%s)", (list(keys),))
            return {str(row[0]) for row in rows.fetchall()}

    def vessels(self, bbox: BBox | None = None, limit: int = 10_000) -> list[VesselState]:
        """Latest states whose position is in ``bbox`` (all if ``None``), by MMSI, at most
        ``limit``."""
        self._check_open()
        if limit <= 0:
            return []
        query, params = sql.vessels_query(bbox, limit)
        with self._reading() as cur:
            rows = cur.execute(query, params).fetchall()
        return [sql.vessel_from_row(row) for row in rows]

    def vessel(self, mmsi: int) -> VesselState | None:
        with self._reading() as cur:
            row = cur.execute(sql.SELECT_VESSEL, (mmsi,)).fetchone()
        return None if row is None else sql.vessel_from_row(row)

    def vessels_of(self, mmsis: Sequence[int]) -> dict[int, VesselState]:
        """The latest states of those of ``mmsis`` the store knows, in one round trip (a
        process node recalls a batch's returning vessels at once; not part of the port)."""
        if not mmsis:
            return {}
        with self._reading() as cur:
            rows = cur.execute(sql.SELECT_VESSELS_OF, (list(mmsis),)).fetchall()
        return {state.mmsi: state for state in map(sql.vessel_from_row, rows)}

    def vessels_at(
        self, at_ts: float, lookback_s: float = 3600.0, limit: int = 100_000
    ) -> list[TrackPoint]:
        """The latest point per vessel and source in ``[at_ts - lookback_s, at_ts]``."""
        self._check_open()
        if limit <= 0:
            return []
        with self._reading() as cur:
            rows = cur.execute(sql.SELECT_TRACK_AT, (at_ts - lookback_s, at_ts, limit))
            return [sql.point_from_row(row) for row in rows.fetchall()]

    def track(
        self,
        mmsi: int,
        start_ts: float | None = None,
        end_ts: float | None = None,
        limit: int = 10_000,
    ) -> list[TrackPoint]:
        """Points with ``start_ts <= observed_ts <= end_ts`` in time order (ties in write
        order); with more than ``limit``, the earliest ``limit``."""
        self._check_open()
        if limit <= 0:
            return []
        low = -math.inf if start_ts is None else start_ts
        high = math.inf if end_ts is None else end_ts
        with self._reading() as cur:
            rows = cur.execute(sql.SELECT_TRACK, (mmsi, low, high, limit)).fetchall()
        return [sql.point_from_row(row) for row in rows]

    def statics(self, mmsi: int) -> list[StaticReport]:
        """Identity history, oldest ``observed_ts`` first (ties in write order)."""
        with self._reading() as cur:
            rows = cur.execute(sql.SELECT_STATICS, (mmsi,)).fetchall()
        return [StaticReport(*row) for row in rows]

    def ingest_stats(self) -> list[SourceStats]:
        """Counters per (member, source), sorted by member then source."""
        with self._reading(snapshot=True) as cur:
            totals = cur.execute(sql.SELECT_COUNTS).fetchall()
            rejects = cur.execute(sql.SELECT_REJECTS).fetchall()
        return source_stats(totals, rejects)

    def events(self, query: EventQuery | None = None) -> list[dict[str, Any]]:
        """Latest version of each selected event, newest ``ts`` first (ties by id)."""
        query_sql, params = sql.events_query(query if query is not None else EventQuery())
        with self._reading() as cur:
            rows = cur.execute(query_sql, params).fetchall()
        return [{**_json(payload), "version": versions} for payload, versions in rows]

    def event_history(self, event_id: str) -> list[dict[str, Any]]:
        """Every version of one event, oldest first, numbered from 1."""
        with self._reading() as cur:
            rows = cur.execute(sql.SELECT_EVENT_HISTORY, (event_id,)).fetchall()
        return [{**_json(payload), "version": n} for n, (payload,) in enumerate(rows, 1)]

    def detections(
        self, since_ts: float | None = None, until_ts: float | None = None, limit: int = 1000
    ) -> list[Detection]:
        """Stored detections in the time range, newest first (ties by member and id)."""
        low = -math.inf if since_ts is None else since_ts
        high = math.inf if until_ts is None else until_ts
        with self._reading() as cur:
            rows = cur.execute(sql.SELECT_DETECTIONS, (low, high, max(limit, 0))).fetchall()
        return [Detection(*row) for row in rows]

    # -- lifecycle -------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The newest migration applied to the database."""
        with self._reading(snapshot=True) as cur:
            return sql.schema_version(cur.connection)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the store {self.name} is closed")

    def close(self) -> None:
        """Close every connection; later calls do nothing, other methods raise."""
        with self._lock, self._readers_lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._idle:
                conn.close()
            self._idle.clear()
            self._writer.close()


def alive(conn: Connection) -> bool:
    """Whether an idle connection looks usable: open, not broken, and nothing to read (a
    server that shut down has sent its goodbye or closed the socket)."""
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable


def _json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
