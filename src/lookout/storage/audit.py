"""The audit log: an append-only, hash-chained record of who did what to what.

Each record is ``(seq, ts, actor, action, resource, detail)`` with ``prev_hash`` (the hash of
the record before it; 64 zeros for the first) and ``hash`` = SHA-256 of ``prev_hash`` and the
record's fields (canonical JSON). Changing any field of a record breaks its hash; deleting or
reordering records breaks the chain (a record's ``prev_hash`` no longer names the record before
it, or ``seq`` skips). Deleting records at the end leaves a shorter chain that is intact in
itself, so each append also writes the head (last ``seq`` and ``hash``) to a file beside the
database (``audit.head``, written to a temporary file, synced and renamed): a log shorter than
its head has lost records. Someone who can rewrite both files and recompute every hash can
forge a log; anchoring the head elsewhere (a partner, a notary) is what stops that.

The log lives in its own SQLite file (``<data_dir>/audit.db``, ``synchronous = FULL``), not
in the picture's store, so a record is written from whichever thread sees the act (an API
request being refused, a setting applied) without going through the ingest path.
:func:`verify` reads both files (read-only) and names every problem it finds.

With the PostGIS store the log is the ``audit`` table of its database, shared by every node,
and the head is the one row of ``audit_head``, updated in each append's transaction. Appends
from all nodes take one advisory lock (:mod:`lookout.storage.pg_small`), so the chain stays a
single line; a trigger refuses ``UPDATE``, ``DELETE`` and ``TRUNCATE`` of records.
:func:`verify_database` checks it as :func:`verify` checks the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from lookout.storage.small_db import SmallDb
from lookout.storage.sqlite_file import SqliteFile

__all__ = [
    "AUDIT_FILE",
    "GENESIS",
    "AuditLog",
    "AuditRecord",
    "Verification",
    "record_hash",
    "verify",
    "verify_database",
]

AUDIT_FILE = "audit.db"
"""The log's file in the data dir (embedded)."""

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    ts        REAL NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    resource  TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT
"""
_COLUMNS = "seq, ts, actor, action, resource, detail, prev_hash, hash"
_SET_HEAD = """
INSERT INTO audit_head (one, seq, hash) VALUES (true, ?, ?)
ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
"""


class AuditRecord(NamedTuple):
    """One record of the log (``detail`` as stored: canonical JSON text)."""

    seq: int
    ts: float
    actor: str
    action: str
    resource: str
    detail: str
    prev_hash: str
    hash: str


def _canonical(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), default=str)


def record_hash(
    prev_hash: str, seq: int, ts: float, actor: str, action: str, resource: str, detail: str
) -> str:
    """The hash of one record: SHA-256 of the previous hash and the fields, as JSON."""
    body = json.dumps([prev_hash, seq, repr(ts), actor, action, resource, detail])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def head_path(path: Path) -> Path:
    """The head file of the log at ``path``."""
    return path.with_suffix(".head")


class AuditLog:
    """Appends records to the log in ``db`` (a path: the SQLite file, created); safe from any
    thread, beside other processes and, in PostgreSQL, beside other nodes."""

    def __init__(self, db: Path | str | SmallDb, *, clock: Callable[[], float] = time.time) -> None:
        if isinstance(db, Path | str):
            file = SqliteFile(db)
            file.script(_SCHEMA)
            db = file
        self.db: SmallDb = db
        self.path = db.path if isinstance(db, SqliteFile) else None
        """The SQLite file (its head file beside it); ``None`` in PostgreSQL."""
        self._clock = clock

    @classmethod
    def open(cls, data_dir: Path, database_url: str | None = None, **kwargs: Any) -> AuditLog:
        """``<data_dir>/audit.db``, or the tables at ``database_url`` when given."""
        if database_url is None:
            return cls(data_dir / AUDIT_FILE, **kwargs)
        from lookout.storage.pg_small import PostgresDb

        return cls(PostgresDb(database_url, store="audit"), **kwargs)

    def append(
        self, actor: str, action: str, resource: str, detail: Mapping[str, Any] | None = None
    ) -> AuditRecord:
        """Add one record, committed (and the head written) before returning."""
        text = _canonical(detail)
        # other processes and nodes append too: read the last record and add the next one in
        # one write transaction (the store's write lock), the head written before commit
        with self.db.write() as tx:
            last = tx.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
            ts = float(self._clock())
            digest = record_hash(prev, seq, ts, actor, action, resource, text)
            record = AuditRecord(seq, ts, actor, action, resource, text, prev, digest)
            tx.execute(f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", record)
            if self.path is not None:
                _write_head(head_path(self.path), seq, digest)
            else:
                tx.execute(_SET_HEAD, (seq, digest))
        return record

    def records(self, limit: int | None = None) -> list[AuditRecord]:
        """The records, oldest first (the newest ``limit`` if given)."""
        if limit is None:
            rows = self.db.read(f"SELECT {_COLUMNS} FROM audit ORDER BY seq")
        else:
            rows = self.db.read(
                f"SELECT {_COLUMNS} FROM audit ORDER BY seq DESC LIMIT ?", (limit,)
            )[::-1]
        return [AuditRecord(*row) for row in rows]

    def close(self) -> None:
        self.db.close()


def _write_head(path: Path, seq: int, digest: str) -> None:
    temp = path.with_suffix(".head-tmp")
    with open(temp, "w", encoding="ascii") as out:
        out.write(f"{seq} {digest}\n")
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)


@dataclass(slots=True)
class Verification:
    """What :func:`verify` found: records read, the last one, and every problem."""

    records: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(path: Path | str) -> Verification:
    """Check the chain of the log at ``path`` and its head file; every problem named."""
    path = Path(path)
    if not path.is_file():
        return Verification(problems=[f"{path}: no audit log"])
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [AuditRecord(*r) for r in conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq")]
    except sqlite3.Error as exc:
        return Verification(problems=[f"{path}: cannot be read: {exc}"])
    finally:
        conn.close()
    head = head_path(path)
    if not head.is_file():
        missing = f"{head}: missing (the end of the log cannot be checked)"
        return _check(rows, None, missing)
    seq_text, _, digest = head.read_text(encoding="ascii").strip().partition(" ")
    return _check(rows, (int(seq_text) if seq_text.isdigit() else -1, digest), "")


def verify_database(database_url: str) -> Verification:
    """Check the chain of the log in the PostgreSQL database at ``database_url`` and its head
    row (read only); every problem named."""
    import psycopg

    try:
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            conn.read_only = True  # one snapshot: records and head as of one moment
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            rows = [
                AuditRecord(*r)
                for r in conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq").fetchall()
            ]
            found = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    except psycopg.Error as exc:
        return Verification(problems=[f"the audit log cannot be read: {exc}"])
    head = None if found is None else (int(found[0]), str(found[1]))
    return _check(rows, head, "the head row is missing (the end of the log cannot be checked)")


def _check(rows: list[AuditRecord], head: tuple[int, str] | None, no_head: str) -> Verification:
    """The chain of ``rows`` against itself and ``head`` (``no_head``: the problem when the
    head is missing though records exist)."""
    result = Verification()
    expected_seq, prev = 1, GENESIS
    for row in rows:
        if row.seq != expected_seq:
            result.problems.append(
                f"record {row.seq}: records {expected_seq}..{row.seq - 1} are missing (deleted)"
            )
        elif row.prev_hash != prev:
            result.problems.append(
                f"record {row.seq}: does not follow record {row.seq - 1} "
                "(a record before it was changed, removed or moved)"
            )
        digest = record_hash(
            row.prev_hash, row.seq, row.ts, row.actor, row.action, row.resource, row.detail
        )
        if digest != row.hash:
            result.problems.append(f"record {row.seq}: altered (its hash does not match)")
        expected_seq, prev = row.seq + 1, row.hash
    result.records = len(rows)
    if rows:
        result.last_seq, result.last_hash = rows[-1].seq, rows[-1].hash
    if head is not None:
        head_seq, digest = head
        if head_seq > result.last_seq:
            result.problems.append(
                f"records {result.last_seq + 1}..{head_seq} are missing at the end "
                f"(the head says {head_seq})"
            )
        elif (head_seq, digest) != (result.last_seq, result.last_hash):
            result.problems.append(f"the head ({head_seq}) does not match the last record")
    elif rows:
        result.problems.append(no_head)
    return result
