"""A small SQLite file of the data dir (identity, incidents, alert states, audit log), shared
safely: the SQLite backend of :class:`~lookout.storage.small_db.SmallDb`.

A server and the CLI may open the same file at once: WAL, ``synchronous=FULL``, foreign keys
on, and every change in a ``BEGIN IMMEDIATE`` transaction (one writer at a time across
processes, others wait up to ``timeout_s``). Within a process one connection serves every
thread behind a lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lookout.storage.small_db import Dialect

__all__ = ["SqliteFile"]


class SqliteFile:
    """One connection to ``path``; ``private`` files are created readable by the owner only."""

    def __init__(self, path: Path | str, *, private: bool = False, timeout_s: float = 10.0):
        self.path = Path(path)
        self._lock = threading.Lock()
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if private and not memory and not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._conn = sqlite3.connect(
            ":memory:" if memory else self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=timeout_s,
        )
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    @property
    def integrity_errors(self) -> tuple[type[Exception], ...]:
        return (sqlite3.IntegrityError,)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back when the block raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, args).fetchall())

    def script(self, schema: str) -> None:
        """Run ``schema`` (``CREATE ... IF NOT EXISTS``: safe beside another process)."""
        with self._lock:
            self._conn.executescript(schema)

    def migrate(self, migrations: Sequence[str]) -> None:
        """Apply the migrations not yet applied (counted in ``PRAGMA user_version``); two
        processes opening a new file at once migrate it once (the write lock)."""
        with self.write() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for n in range(version, len(migrations)):
                for statement in migrations[n].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {n + 1}")
