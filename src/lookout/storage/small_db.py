"""The seam of the small stores (identity, audit log, incidents, alert states): one interface,
two backends.

A store speaks to a :class:`SmallDb`: ``write()`` is one write transaction (one writer at a
time per store, across processes and machines), ``read()`` one query. SQL is written once,
with ``?`` placeholders and syntax both SQLite and PostgreSQL accept (``ON CONFLICT``, no
``INSERT OR ...``); the store branches on ``dialect`` only where the backends truly differ
(where the schema comes from, where attachment bytes and the audit head are kept).

- :class:`~lookout.storage.sqlite_file.SqliteFile`: a file in the data dir (embedded).
- :class:`~lookout.storage.pg_small.PostgresDb`: tables in the PostGIS store's database, so
  several API nodes share members, users, revocations, incidents and acknowledgements.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

__all__ = ["Cursor", "Dialect", "SmallDb", "Tx"]

Dialect = Literal["sqlite", "postgres"]


class Cursor(Protocol):
    """What a statement returns (sqlite3 and psycopg cursors both fit)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(Protocol):
    """A write transaction: statements with ``?`` placeholders."""

    def execute(self, sql: str, args: Sequence[Any] = (), /) -> Cursor: ...


class SmallDb(Protocol):
    """A small store's database; see the module docstring."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def integrity_errors(self) -> tuple[type[Exception], ...]:
        """What a broken constraint (a duplicate key, an unknown member) raises."""
        ...

    def write(self) -> AbstractContextManager[Tx]:
        """One write transaction, committed when the block ends, rolled back if it raises."""
        ...

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...
