"""The read side of the SQLite stores: queries over per-thread reader connections.

:class:`SqliteReads` answers the read methods of the :class:`~lookout.pipeline.ports.Store`
port for :class:`~lookout.storage.sqlite.SqliteStore` and
:class:`~lookout.storage.sqlite_process.SqliteProcessStore`; each store says, in
:meth:`SqliteReads._reading`, how a read gets a connection that sees every committed write.

Reads use one connection per reading thread (WAL lets readers run beside the writer and each
other, e.g. the API's thread pool while the pipeline writes); each read method sees one
committed snapshot. Reader connections of threads that ended are closed when the next one
opens; :meth:`SqliteReads._close_readers` closes them all.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from lookout.model import (
    BBox,
    Detection,
    IngestReceipt,
    SourceStats,
    StaticReport,
    TrackPoint,
    VesselState,
)
from lookout.pipeline.ports import EventQuery
from lookout.storage import sqlite_sql as sql
from lookout.storage.counters import source_stats

__all__ = ["BUSY_TIMEOUT_MS", "SqliteReads", "connect"]

BUSY_TIMEOUT_MS = 10_000


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode, usable from any thread, waiting on locks."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


class SqliteReads:
    """Read methods of the SQLite stores (see the module docstring)."""

    _path: str
    _closed: bool
    _rows: sql.RowCodec
    _readers: dict[threading.Thread, sqlite3.Connection]
    _readers_lock: threading.Lock

    def _reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """A connection holding one read snapshot that sees every committed write."""
        raise NotImplementedError

    def _committed(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read snapshot of the tables a commit writes itself (receipts), which the journal
        need not be written out for."""
        self._check_open()
        return self._snapshot()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the store {self._path} is closed")

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """This thread's reader connection inside one read transaction."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def _reader(self) -> sqlite3.Connection:
        thread = threading.current_thread()
        conn = self._readers.get(thread)
        if conn is not None:
            return conn
        with self._readers_lock:
            self._check_open()
            for ended in [t for t in self._readers if not t.is_alive()]:
                self._readers.pop(ended).close()
            conn = connect(self._path)
            conn.execute("PRAGMA query_only = ON")
            self._readers[thread] = conn
        return conn

    def _close_readers(self) -> None:
        """Close every reader connection; ``_readers_lock`` held."""
        for conn in self._readers.values():
            conn.close()
        self._readers.clear()

    def receipt(self, idempotency_key: str) -> IngestReceipt | None:
        with self._committed() as conn:
            row = conn.execute(
                "SELECT receipt FROM receipts WHERE key = ?", (idempotency_key,)
            ).fetchone()
        return None if row is None else IngestReceipt(**json.loads(row[0]))

    def vessels(self, bbox: BBox | None = None, limit: int = 10_000) -> list[VesselState]:
        """Latest states whose position is in ``bbox`` (all if ``None``), by MMSI, at most
        ``limit``."""
        if limit <= 0:
            return []
        query, params = sql.vessels_query(bbox, limit)
        with self._reading() as conn:
            rows = conn.execute(query, params).fetchall()
        return [self._rows.vessel(row) for row in rows]

    def vessel(self, mmsi: int) -> VesselState | None:
        with self._reading() as conn:
            return self._vessel_in(conn, mmsi)

    def _vessel_in(self, conn: sqlite3.Connection, mmsi: int) -> VesselState | None:
        row = conn.execute(sql.SELECT_VESSEL, (mmsi,)).fetchone()
        return None if row is None else self._rows.vessel(row)

    def vessels_at(
        self, at_ts: float, lookback_s: float = 3600.0, limit: int = 100_000
    ) -> list[TrackPoint]:
        """The latest point per vessel and source in ``[at_ts - lookback_s, at_ts]``."""
        if limit <= 0:
            return []
        with self._reading() as conn:
            rows = conn.execute(sql.SELECT_TRACK_AT, (at_ts - lookback_s, at_ts, limit))
            return self._rows.points(rows.fetchall())

    def track(
        self,
        mmsi: int,
        start_ts: float | None = None,
        end_ts: float | None = None,
        limit: int = 10_000,
    ) -> list[TrackPoint]:
        """Points with ``start_ts <= observed_ts <= end_ts`` in time order (ties in write
        order); with more than ``limit``, the earliest ``limit``."""
        if limit <= 0:
            return []
        low = -math.inf if start_ts is None else start_ts
        high = math.inf if end_ts is None else end_ts
        with self._reading() as conn:
            rows = conn.execute(sql.SELECT_TRACK, (mmsi, low, high, limit)).fetchall()
        return self._rows.points(rows)

    def statics(self, mmsi: int) -> list[StaticReport]:
        """Identity history, oldest ``observed_ts`` first (ties in write order)."""
        with self._reading() as conn:
            rows = conn.execute(sql.SELECT_STATICS, (mmsi,)).fetchall()
        return [sql.static_from_row(*row) for row in rows]

    def ingest_stats(self) -> list[SourceStats]:
        """Counters per (member, source), sorted by member then source."""
        with self._reading() as conn:
            totals = conn.execute(sql.SELECT_COUNTS).fetchall()
            rejects = conn.execute(sql.SELECT_REJECTS).fetchall()
        return source_stats(totals, rejects)

    def events(self, query: EventQuery | None = None) -> list[dict[str, Any]]:
        """Latest version of each selected event, newest ``ts`` first (ties by id)."""
        query_sql, params = sql.events_query(query if query is not None else EventQuery())
        with self._reading() as conn:
            rows = conn.execute(query_sql, params).fetchall()
        return [{**json.loads(payload), "version": versions} for payload, versions in rows]

    def event_history(self, event_id: str) -> list[dict[str, Any]]:
        """Every version of one event, oldest first, numbered from 1."""
        with self._reading() as conn:
            rows = conn.execute(sql.SELECT_EVENT_HISTORY, (event_id,)).fetchall()
        return [{**json.loads(payload), "version": n} for n, (payload,) in enumerate(rows, 1)]

    def detections(
        self, since_ts: float | None = None, until_ts: float | None = None, limit: int = 1000
    ) -> list[Detection]:
        """Stored detections in the time range, newest first (ties by member and id)."""
        low = -math.inf if since_ts is None else since_ts
        high = math.inf if until_ts is None else until_ts
        with self._reading() as conn:
            rows = conn.execute(sql.SELECT_DETECTIONS, (low, high, max(limit, 0))).fetchall()
        return [
            Detection(str(i), float(t), float(a), float(o), str(s), str(m), str(f))
            for i, t, a, o, s, m, f in rows
        ]
