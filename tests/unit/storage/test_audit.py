"""The audit log: appended records verify; a modified, deleted, reordered or cut record is
caught and named (issue 4: ``lookout audit verify``). Each test runs on both backends: the
SQLite file of a data dir (head in a file) and the tables of a PostgreSQL database (head in a
row, records guarded by a trigger)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lookout.storage.audit import (
    GENESIS,
    AuditLog,
    Verification,
    verify,
    verify_database,
)


@dataclass(frozen=True)
class Log:
    """A log with five records, and what a test does to it."""

    open: Callable[..., AuditLog]
    verify: Callable[[], Verification]
    tamper: Callable[..., None]


def _tamper_sqlite(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()


def _tamper_postgres(url: str, *statements: str) -> None:
    """As a superuser who switches the append-only trigger off for the session."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(params=["sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Log:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_database_url")
        found = Log(
            lambda **kw: AuditLog.open(tmp_path, url, **kw),
            lambda: verify_database(url),
            lambda *s: _tamper_postgres(url, *s),
        )
    else:
        path = tmp_path / "audit.db"
        found = Log(
            lambda **kw: AuditLog.open(tmp_path, **kw),
            lambda: verify(path),
            lambda *s: _tamper_sqlite(path, *s),
        )
    ticks = iter(range(1_750_000_000, 1_750_000_100))
    writer = found.open(clock=lambda: float(next(ticks)))
    for n in range(1, 6):
        writer.append(f"actor-{n}", "denied", f"/api/v1/vessels/{n}", {"status": 403, "n": n})
    writer.close()
    return found


def test_an_untouched_log_verifies_and_chains_from_genesis(log: Log) -> None:
    result = log.verify()
    assert result.intact and result.records == 5 and result.last_seq == 5
    reader = log.open()
    records = reader.records()
    reader.close()
    assert records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]


def test_a_modified_record_is_caught(log: Log) -> None:
    log.tamper("UPDATE audit SET actor = 'someone-else' WHERE seq = 3")
    assert log.verify().problems == ["record 3: altered (its hash does not match)"]


def test_a_deleted_record_is_caught(log: Log) -> None:
    log.tamper("DELETE FROM audit WHERE seq = 2")
    problems = log.verify().problems
    assert problems == ["record 3: records 2..2 are missing (deleted)"]


def test_reordered_records_are_caught(log: Log) -> None:
    # swap the contents of records 2 and 4, keeping their places
    log.tamper(
        "UPDATE audit SET seq = -2 WHERE seq = 2",
        "UPDATE audit SET seq = 2 WHERE seq = 4",
        "UPDATE audit SET seq = 4 WHERE seq = -2",
    )
    problems = log.verify().problems
    assert problems and all("record" in p for p in problems)
    assert any(p.startswith("record 2:") for p in problems)


def test_records_cut_from_the_end_are_caught_by_the_head(log: Log) -> None:
    log.tamper("DELETE FROM audit WHERE seq >= 4")
    assert log.verify().problems == ["records 4..5 are missing at the end (the head says 5)"]


def test_appending_after_reopening_continues_the_chain(log: Log) -> None:
    writer = log.open()
    record = writer.append("runtime", "configuration", "settings", {"detectors": "all"})
    writer.close()
    assert record.seq == 6
    assert log.verify().intact


def test_postgres_refuses_changing_or_deleting_records(
    pg_database_url: str, tmp_path: Path
) -> None:
    import psycopg

    writer = AuditLog.open(tmp_path, pg_database_url)
    writer.append("cli:alice", "configuration", "member:PHL-PCG", {"added": "PCG"})
    writer.close()
    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        for statement in (
            "UPDATE audit SET actor = 'mallory'",
            "DELETE FROM audit",
            "TRUNCATE audit",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
    assert verify_database(pg_database_url).intact
