"""Schema migrations of the SQLite store.

A migration is a file ``NNNN_name.sql`` in this folder; they apply in the order of ``NNNN``.
Each applied migration is recorded in the ``schema_version`` table (version, name,
applied_ts), in the same transaction as its statements (SQLite DDL is transactional), so a
crash never leaves a half-applied migration. ``BEGIN IMMEDIATE`` holds the write lock while
the pending migrations are read and applied, so two processes opening one new file at once
do not both apply them.

Opening a database older than this code applies the missing migrations; opening one whose
newest version is above the newest file here raises :class:`SchemaVersionError`, because
that file was written by a newer Lookout and this one cannot know its schema.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

__all__ = [
    "Migration",
    "MigrationError",
    "SchemaVersionError",
    "current_version",
    "load_migrations",
    "migrate",
]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_ts REAL NOT NULL
)
"""


class MigrationError(RuntimeError):
    """A migration file is malformed or failed to apply."""


class SchemaVersionError(MigrationError):
    """The database was written by a newer Lookout: its schema version is unknown here."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered migration: its version, name (from the file name) and SQL text."""

    version: int
    name: str
    sql: str


def load_migrations(directory: Traversable | Path | None = None) -> list[Migration]:
    """The migrations in ``directory`` (default: this package), sorted by version.

    Files not ending in ``.sql`` are ignored; a ``.sql`` file not named ``NNNN_name.sql`` or
    a version used twice raises :class:`MigrationError`.
    """
    folder = directory if directory is not None else resources.files(__name__)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migration files have version {version}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def current_version(conn: sqlite3.Connection) -> int:
    """The newest migration version recorded in the database (0 for a new database)."""
    conn.execute(_CREATE_VERSION_TABLE)
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(
    conn: sqlite3.Connection, migrations: Sequence[Migration], *, now_ts: float
) -> list[int]:
    """Apply the pending ``migrations`` in one transaction; returns the versions applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises
    :class:`SchemaVersionError` if the database is newer than the newest migration given.
    """
    newest = migrations[-1].version if migrations else 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        if version > newest:
            raise SchemaVersionError(
                f"the database has schema version {version} but this Lookout knows versions "
                f"up to {newest}: it was written by a newer Lookout; upgrade Lookout to open it"
            )
        applied = [m for m in migrations if m.version > version]
        for migration in applied:
            _apply(conn, migration, now_ts)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return [m.version for m in applied]


def _apply(conn: sqlite3.Connection, migration: Migration, now_ts: float) -> None:
    for statement in _statements(migration.sql):
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} failed: {exc}"
            ) from exc
    conn.execute(
        "INSERT INTO schema_version (version, name, applied_ts) VALUES (?, ?, ?)",
        (migration.version, migration.name, now_ts),
    )


def _statements(sql: str) -> Iterator[str]:
    """Split a script into complete statements (trigger bodies stay whole)."""
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip() and any(
        not part.strip().startswith("--") for part in pending.splitlines() if part.strip()
    ):
        raise MigrationError(f"incomplete SQL statement at the end: {pending.strip()[:80]!r}")
