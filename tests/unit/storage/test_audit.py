"""The audit log: appended records verify; a modified, deleted, reordered or cut record is
caught and named (issue 4: ``lookout audit verify``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from lookout.storage.audit import GENESIS, AuditLog, verify


@pytest.fixture
def log_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit.db"
    ticks = iter(range(1_750_000_000, 1_750_000_100))
    log = AuditLog(path, clock=lambda: float(next(ticks)))
    for n in range(1, 6):
        log.append(f"actor-{n}", "denied", f"/api/v1/vessels/{n}", {"status": 403, "n": n})
    log.close()
    yield path


def tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()


def test_an_untouched_log_verifies_and_chains_from_genesis(log_path: Path) -> None:
    result = verify(log_path)
    assert result.intact and result.records == 5 and result.last_seq == 5
    records = AuditLog(log_path).records()
    assert records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]


def test_a_modified_record_is_caught(log_path: Path) -> None:
    tamper(log_path, "UPDATE audit SET actor = 'someone-else' WHERE seq = 3")
    assert verify(log_path).problems == ["record 3: altered (its hash does not match)"]


def test_a_deleted_record_is_caught(log_path: Path) -> None:
    tamper(log_path, "DELETE FROM audit WHERE seq = 2")
    problems = verify(log_path).problems
    assert problems == ["record 3: records 2..2 are missing (deleted)"]


def test_reordered_records_are_caught(log_path: Path) -> None:
    # swap the contents of records 2 and 4, keeping their places
    tamper(
        log_path,
        "UPDATE audit SET seq = -2 WHERE seq = 2",
        "UPDATE audit SET seq = 2 WHERE seq = 4",
        "UPDATE audit SET seq = 4 WHERE seq = -2",
    )
    problems = verify(log_path).problems
    assert problems and all("record" in p for p in problems)
    assert any(p.startswith("record 2:") for p in problems)


def test_records_cut_from_the_end_are_caught_by_the_head(log_path: Path) -> None:
    tamper(log_path, "DELETE FROM audit WHERE seq >= 4")
    assert verify(log_path).problems == ["records 4..5 are missing at the end (the head says 5)"]


def test_appending_after_reopening_continues_the_chain(log_path: Path) -> None:
    log = AuditLog(log_path)
    record = log.append("runtime", "configuration", "settings", {"detectors": "all"})
    log.close()
    assert record.seq == 6
    assert verify(log_path).intact
