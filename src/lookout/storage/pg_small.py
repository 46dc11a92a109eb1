"""The PostgreSQL backend of :class:`~lookout.storage.small_db.SmallDb`: a small store's
tables in the PostGIS store's database (``database_url``), shared by every node.

Opening applies the pending migrations of ``migrations_pg`` (the same ones the PostGIS store
applies, under the same lock), so ``lookout users add`` works on a database no server has
opened yet. Every write transaction first takes a transaction-level advisory lock of its store
(``pg_advisory_xact_lock(LOCK_CLASS, n)``): one writer at a time per store across all nodes,
as ``BEGIN IMMEDIATE`` gives the SQLite file, so "read the last, add the next" (the audit
chain, an incident's timeline) never races. Reads run in autocommit and see every committed
change at once. A dropped connection is replaced at the next call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "shared state in PostgreSQL needs psycopg: pip install 'lookout[postgres]'"
    ) from exc

from lookout.storage.postgis import alive, connect
from lookout.storage.postgis_sql import migrate, pg_migrations
from lookout.storage.small_db import Dialect

__all__ = ["LOCK_CLASS", "STORE_LOCKS", "PostgresDb"]

LOCK_CLASS = 0x4C4B_0057
"""The first key of the stores' advisory locks (the second is in :data:`STORE_LOCKS`)."""
STORE_LOCKS = {"identity": 1, "audit": 2, "incidents": 3, "alert_states": 4}
"""The second key of each store's write lock."""


class _PgTx:
    """A transaction on ``conn`` taking ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._conn.execute(_pg(sql), args)


def _pg(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (our SQL holds no ``?`` or ``%`` literal)."""
    return sql.replace("?", "%s")


class PostgresDb:
    """The ``store`` (a key of :data:`STORE_LOCKS`) in the database at ``dsn``."""

    def __init__(self, dsn: str, *, store: str, connect_timeout_s: float = 10.0) -> None:
        self._dsn = dsn
        self._timeout_s = connect_timeout_s
        self._lock_key = (LOCK_CLASS, STORE_LOCKS[store])
        self._lock = threading.Lock()
        self._conn = connect(dsn, connect_timeout_s=connect_timeout_s)
        try:
            migrate(self._conn, pg_migrations(), now_ts=time.time())
        except BaseException:
            self._conn.close()
            raise

    @property
    def dialect(self) -> Dialect:
        return "postgres"

    @property
    def integrity_errors(self) -> tuple[type[Exception], ...]:
        return (psycopg.IntegrityError,)

    def _connection(self) -> psycopg.Connection[Any]:
        if not alive(self._conn):  # also one the server closed while idle (a restart)
            self._conn.close()
            self._conn = connect(self._dsn, connect_timeout_s=self._timeout_s)
        return self._conn

    @contextmanager
    def write(self) -> Iterator[_PgTx]:
        """One transaction holding the store's write lock; rolled back when the block raises."""
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", self._lock_key)
                yield _PgTx(conn)

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._connection().execute(_pg(sql), args).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()
