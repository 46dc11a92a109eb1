"""How :class:`~lookout.storage.postgis.PostgisStore` commits batches: several in one
transaction, in few round trips.

Group commit. ``write`` may be called from several threads at once (the partitions of a
process node). A caller queues its batch and takes the writer lock; whoever holds it commits
*every* batch queued by then in one transaction, in queue order, and the others find theirs
done when they get the lock. A commit waits for the server's write-ahead log to reach the
disk (``synchronous_commit = on``, a few milliseconds): batches that arrive meanwhile share the
next one instead of each paying its own. When a group fails for a reason other than the
connection (a CHECK constraint, say), its batches are written again one transaction each, so
only the bad batch fails; when the connection failed, every batch of the group fails (the
server may or may not have committed: the receipts tell on a re-send).

Round trips per transaction (each one costs a wake-up of the server process, and far more
than its network time on a busy machine): BEGIN together with one statement claiming every
receipt key; one COPY each (two round trips) for track points, statics (when there are any)
and vessel states (into the temporary table ``vessels_in``); then the vessel upsert, counters,
rejects, events, detections and COMMIT as one pipeline (psycopg's pipeline mode: sent
together, one synchronisation). Six to eight in all, where one statement at a time took nine
to fourteen. A batch whose every receipt key the table already holds (another process node
committed the same raw batch) contributes nothing; a transaction left with nothing to write
is rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from lookout.pipeline.ports import StoreBatch
from lookout.storage import postgis_sql as sql
from lookout.storage.sqlite import batch_entry
from lookout.storage.sqlite_sql import Rows, event_writes

__all__ = ["Waiting", "Written", "claim", "gather", "write_rows"]

Connection = psycopg.Connection[Any]


@dataclass(slots=True)
class Waiting:
    """A batch queued for a commit; ``done`` once its group committed or failed."""

    batch: StoreBatch
    done: bool = False
    error: BaseException | None = None


@dataclass(slots=True)
class Written:
    """The rows of one or more batches, in batch order, ready for one transaction."""

    receipts: list[list[tuple[str, str]]] = field(default_factory=list)
    track: list[Rows] = field(default_factory=list)
    statics: list[Rows] = field(default_factory=list)
    vessels: list[Rows] = field(default_factory=list)
    steps: list[list[tuple[str, Rows]]] = field(default_factory=list)

    def newest_ts(self) -> float | None:
        """The newest observation time among the track points (for retention)."""
        return max((row[2] for rows in self.track for row in rows), default=None)


def gather(batches: Sequence[StoreBatch]) -> Written:
    """Each batch's rows, kept apart per batch (a batch may be left out by its receipts)."""
    out = Written()
    for batch in batches:
        entry, receipts = batch_entry(batch)
        track, vessels, statics, counts, rejects, _, events, detections = entry
        out.receipts.append(list(receipts))
        out.track.append(sql.track_rows(track, batch.received_ts) if track else [])
        out.statics.append(list(statics))
        out.vessels.append(list(vessels))
        out.steps.append(
            [
                (sql.ADD_COUNTS, counts),
                (sql.ADD_REJECTS, rejects),
                *zip(
                    (sql.INSERT_EVENT_VERSION, sql.UPSERT_EVENT, sql.ADD_EVENT_VESSEL),
                    event_writes(events),
                    strict=True,
                ),
                (sql.INSERT_DETECTION, detections),
            ]
        )
    return out


def claim(
    cur: psycopg.Cursor[Any], receipts: list[list[tuple[str, str]]], now: float
) -> list[bool]:
    """Insert every batch's receipts in one statement; per batch, whether it is to be written:
    it has no receipt, or at least one of its keys was new (the first batch naming a key
    claims it). A second writer of the same key waits here for the first one's commit."""
    keys = [key for batch in receipts for key, _ in batch]
    if not keys:
        return [True] * len(receipts)
    texts = [text for batch in receipts for _, text in batch]
    new = {row[0] for row in cur.execute(sql.CLAIM_RECEIPTS, (now, keys, texts)).fetchall()}
    keep: list[bool] = []
    for batch in receipts:
        if not batch:
            keep.append(True)
            continue
        mine = {key for key, _ in batch} & new
        new -= mine
        keep.append(bool(mine))
    return keep


def write_rows(conn: Connection, rows: Written, now: float) -> bool:
    """Write ``rows`` in one transaction; False (rolled back, nothing written) when every
    batch has receipts and each was committed before. The transaction is spelled out (BEGIN
    goes with the claim, COMMIT with the last statements: two round trips fewer than
    psycopg's ``transaction()``) and rolled back on any failure."""
    with conn.cursor() as cur:
        try:
            return _transaction(conn, cur, rows, now)
        except BaseException:
            _roll_back(conn)
            raise


def _transaction(conn: Connection, cur: psycopg.Cursor[Any], rows: Written, now: float) -> bool:
    with conn.pipeline():
        cur.execute("BEGIN")
        keep = claim(cur, rows.receipts, now)
    if not any(keep):
        cur.execute("ROLLBACK")
        return False
    track, statics = _kept(rows.track, keep), _kept(rows.statics, keep)
    vessels = _kept(rows.vessels, keep)
    if track:
        _copy(cur, sql.COPY_TRACK, sql.TRACK_TYPES, track)
    if statics:
        _copy(cur, sql.COPY_STATICS, sql.STATIC_TYPES, statics)
    if vessels:
        _copy(cur, sql.COPY_VESSELS, sql.VESSEL_TYPES, sql.vessel_rows(vessels))
    with conn.pipeline():
        if vessels:
            cur.execute(sql.UPSERT_VESSELS)
        for statement, params in _kept(rows.steps, keep):
            if params:
                cur.executemany(statement, params)
        cur.execute("COMMIT")
    return True


def _roll_back(conn: Connection) -> None:
    """End a failed transaction if the connection still stands (a broken one is reopened
    before its next use)."""
    if conn.closed or conn.broken:
        return
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        with contextlib.suppress(psycopg.Error):
            conn.execute("ROLLBACK")


def _kept(parts: Sequence[Sequence[Any]], keep: Sequence[bool]) -> list[Any]:
    """The items of the parts to keep, in order."""
    return [item for part, k in zip(parts, keep, strict=True) if k for item in part]


def _copy(cur: psycopg.Cursor[Any], statement: str, types: Sequence[str], rows: Rows) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
