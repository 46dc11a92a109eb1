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
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["GENESIS", "AuditLog", "AuditRecord", "Verification", "record_hash", "verify"]

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
    """Appends records to the log at ``path`` (created); safe from any thread."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute(_SCHEMA)

    def append(
        self, actor: str, action: str, resource: str, detail: Mapping[str, Any] | None = None
    ) -> AuditRecord:
        """Add one record, committed (and the head file written) before returning."""
        text = _canonical(detail)
        with self._lock:
            # another process (the CLI beside a server) may append too: read the last record
            # and add the next one in one write transaction, the head written before commit
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                last = self._conn.execute(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
                ts = float(self._clock())
                digest = record_hash(prev, seq, ts, actor, action, resource, text)
                record = AuditRecord(seq, ts, actor, action, resource, text, prev, digest)
                self._conn.execute(
                    f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", record
                )
                _write_head(head_path(self.path), seq, digest)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return record

    def records(self, limit: int | None = None) -> list[AuditRecord]:
        """The records, oldest first (the newest ``limit`` if given)."""
        with self._lock:
            if limit is None:
                rows = self._conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq").fetchall()
            else:
                rows = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM audit ORDER BY seq DESC LIMIT ?", (limit,)
                ).fetchall()[::-1]
        return [AuditRecord(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


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
    result = Verification()
    if not path.is_file():
        result.problems.append(f"{path}: no audit log")
        return result
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [AuditRecord(*r) for r in conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq")]
    except sqlite3.Error as exc:
        result.problems.append(f"{path}: cannot be read: {exc}")
        return result
    finally:
        conn.close()
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
    head = head_path(path)
    if head.is_file():
        seq_text, _, digest = head.read_text(encoding="ascii").strip().partition(" ")
        head_seq = int(seq_text) if seq_text.isdigit() else -1
        if head_seq > result.last_seq:
            result.problems.append(
                f"records {result.last_seq + 1}..{head_seq} are missing at the end "
                f"(the head says {head_seq})"
            )
        elif (head_seq, digest) != (result.last_seq, result.last_hash):
            result.problems.append(f"the head ({head_seq}) does not match the last record")
    elif rows:
        result.problems.append(f"{head}: missing (the end of the log cannot be checked)")
    return result
