"""SqliteStore beyond the Store contract: WAL, migrations, durability, threads, retention."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import fields
from importlib import resources
from pathlib import Path

import pytest

from lookout.model import IngestReceipt, StaticReport, TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch
from lookout.storage.migrations import (
    MigrationError,
    SchemaVersionError,
    load_migrations,
    migrate,
)
from lookout.storage.sqlite import SqliteStore

T0 = 1_700_000_000.0


def point(ts: float, mmsi: int = 1) -> TrackPoint:
    return TrackPoint(mmsi, 0, ts, 55.0, 11.0, None, None, None, "dk", "tcp-1", ("rx",))


def versions(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()


# -- journal, durability settings -----------------------------------------------------------


def test_the_database_runs_in_wal_mode(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "a.db").close()
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize(("option", "level"), [("FULL", 2), ("normal", 1), ("EXTRA", 3)])
def test_synchronous_is_an_option(tmp_path: Path, option: str, level: int) -> None:
    with SqliteStore(tmp_path / "a.db", synchronous=option) as store:
        assert store._writer.execute("PRAGMA synchronous").fetchone() == (level,)


def test_full_sync_is_the_default(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store:
        assert store._writer.execute("PRAGMA synchronous").fetchone() == (2,)


def test_bad_options_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore(tmp_path / "a.db", synchronous="FULL; DROP TABLE track")
    with pytest.raises(ValueError, match="retention_s"):
        SqliteStore(tmp_path / "a.db", retention_s=0)
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        SqliteStore(tmp_path / "no-such-folder" / "a.db")


# -- schema and migrations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "value_type"),
    [("track", TrackPoint), ("vessels", VesselState), ("statics", StaticReport)],
)
def test_tables_have_a_column_per_field(tmp_path: Path, table: str, value_type: type) -> None:
    SqliteStore(tmp_path / "a.db").close()
    with sqlite3.connect(tmp_path / "a.db") as conn:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    expected = [f.name for f in fields(value_type)]
    assert [c for c in columns if c != "id"] == expected


def test_a_new_database_records_every_migration_once(tmp_path: Path) -> None:
    files = sorted(
        entry.name
        for entry in resources.files("lookout.storage.migrations").iterdir()
        if entry.name.endswith(".sql")
    )
    expected = [(int(name[:4]), name[5:-4]) for name in files]
    assert expected, "no migration files are packaged"
    SqliteStore(tmp_path / "a.db").close()
    assert versions(tmp_path / "a.db") == expected
    SqliteStore(tmp_path / "a.db").close()
    assert versions(tmp_path / "a.db") == expected


def test_an_older_database_gets_the_missing_migrations(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    db = tmp_path / "a.db"
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, load_migrations(folder), now_ts=T0) == [1]
    conn.execute("INSERT INTO a VALUES (7)")
    (folder / "0002_second.sql").write_text(
        "-- add b\nCREATE TABLE b (y TEXT);\nCREATE TRIGGER t AFTER INSERT ON b\n"
        "BEGIN\n  INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);\nEND;\n"
    )
    assert migrate(conn, load_migrations(folder), now_ts=T0) == [2]
    assert migrate(conn, load_migrations(folder), now_ts=T0) == []
    conn.execute("INSERT INTO b VALUES ('z')")
    assert conn.execute("SELECT x FROM a ORDER BY rowid").fetchall() == [(7,), (1,), (2,)]
    conn.close()
    assert versions(db) == [(1, "first"), (2, "second")]


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_good.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    (folder / "0002_bad.sql").write_text("CREATE TABLE b (y TEXT);\nCREATE TABLE a (x);\n")
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    with pytest.raises(MigrationError, match="0002_bad"):
        migrate(conn, load_migrations(folder), now_ts=T0)
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    assert tables == []


def test_misnamed_or_doubled_migration_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "README.txt").write_text("ignored")
    assert [m.version for m in load_migrations(tmp_path)] == [1]
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="version 1"):
        load_migrations(tmp_path)
    (tmp_path / "0001_b.sql").unlink()
    (tmp_path / "2_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"2_c\.sql"):
        load_migrations(tmp_path)


def test_a_database_from_a_newer_lookout_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    SqliteStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (9999, 'future', 0)")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"9999.*newer Lookout"):
        SqliteStore(db)


# -- transactions, threads --------------------------------------------------------------------


def test_a_failing_batch_writes_nothing(tmp_path: Path) -> None:
    bad = VesselState(1, 0, T0, float("nan"), 11.0, None, None, None, None, None)
    with SqliteStore(tmp_path / "a.db") as store:
        with pytest.raises(sqlite3.IntegrityError):
            store.write(StoreBatch(track=[point(T0)], vessels=[bad]))
        assert store.track(1) == []
        store.write(StoreBatch(track=[point(T0)]))
        assert len(store.track(1)) == 1


def test_readers_see_whole_batches_while_a_writer_writes(tmp_path: Path) -> None:
    batches, size = 40, 50
    failures: list[str] = []
    done = threading.Event()
    with SqliteStore(tmp_path / "a.db", synchronous="NORMAL") as store:

        def read() -> None:
            seen = 0
            while not done.is_set():
                count = len(store.track(1))
                if count % size or count < seen:
                    failures.append(f"saw {count} points after {seen}")
                seen = count

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        for b in range(batches):
            store.write(StoreBatch(track=[point(T0 + b * size + i) for i in range(size)]))
        done.set()
        for reader in readers:
            reader.join()
        assert failures == []
        assert len(store.track(1)) == batches * size


def test_reader_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store:
        for _ in range(20):
            reader = threading.Thread(target=store.vessels)
            reader.start()
            reader.join()
        store.vessels()
        assert len(store._readers) <= 2


def test_a_memory_database_is_shared_by_all_threads() -> None:
    with SqliteStore(":memory:") as store:
        writer = threading.Thread(target=store.write, args=(StoreBatch(track=[point(T0)]),))
        writer.start()
        writer.join()
        assert len(store.track(1)) == 1


# -- retention and receipts -------------------------------------------------------------------


def test_retention_prunes_by_data_time_at_most_once_a_minute(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db", retention_s=100) as store:

        def kept() -> list[float]:
            return [p.observed_ts - T0 for p in store.track(1)]

        store.write(StoreBatch(track=[point(T0)]))  # prunes before -100
        store.write(StoreBatch(track=[point(T0 + 101), point(T0 + 20)]))  # before 1
        assert kept() == [20, 101]
        store.write(StoreBatch(track=[point(T0 + 130)]))  # 29 s after the last prune
        assert kept() == [20, 101, 130]
        store.write(StoreBatch(track=[point(T0 + 10)]))  # older data does not move time
        assert kept() == [10, 20, 101, 130]
        store.write(StoreBatch(track=[point(T0 + 162)]))  # 61 s after: before 62
        assert kept() == [101, 130, 162]


def test_receipts_expire_after_their_time_to_live(tmp_path: Path) -> None:
    now = [T0]
    receipt = IngestReceipt(lines=1, accepted=1)
    with SqliteStore(tmp_path / "a.db", receipt_ttl_s=600, clock=lambda: now[0]) as store:
        store.write(StoreBatch(receipts={"old": receipt}))
        now[0] = T0 + 3000
        store.write(StoreBatch(receipts={"new": receipt}))  # within the hour: no expiry yet
        assert store.receipt("old") == receipt
        now[0] = T0 + 3600
        store.write(StoreBatch())
        assert (store.receipt("old"), store.receipt("new")) == (None, receipt)
        assert store.prune_receipts(T0 + 3001) == 1
        assert store.receipt("new") is None


# -- durability -------------------------------------------------------------------------------

WRITER = """
import sys
from lookout.model import IngestReceipt, TrackPoint
from lookout.pipeline.ports import StoreBatch
from lookout.storage.sqlite import SqliteStore

store = SqliteStore(sys.argv[1])
for n in range(1_000_000):
    points = [
        TrackPoint(n, 0, float(i), 1.0, 2.0, None, None, None, "dk", "s", ("r",))
        for i in range(200)
    ]
    receipt = IngestReceipt(lines=200, accepted=200)
    store.write(StoreBatch(track=points, receipts={f"batch-{n}": receipt}))
    print(n, flush=True)
"""


def test_every_batch_reported_committed_survives_a_kill(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    first = [writer.stdout.readline() for _ in range(20)]
    time.sleep(0.2)
    writer.send_signal(signal.SIGKILL)
    rest, errors = writer.communicate(timeout=10)
    assert writer.returncode == -signal.SIGKILL, errors
    lines = "".join(first) + rest
    committed = [int(line) for line in lines.splitlines(keepends=True) if line.endswith("\n")]
    assert committed[:20] == list(range(20)), errors
    with SqliteStore(db) as store:
        for n in committed:
            assert store.receipt(f"batch-{n}") is not None, n
            assert len(store.track(n)) == 200, n
        unreported = len(store.track(committed[-1] + 1))
        assert unreported in (0, 200)  # committed whole or not at all
        assert store._writer.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_retention_works_off_a_backlog_a_chunk_per_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lookout.storage.sqlite._PRUNE_CHUNK", 4)
    with SqliteStore(tmp_path / "a.db", retention_s=100) as store:
        store.write(StoreBatch(track=[point(T0 + s) for s in range(10)]))
        store.write(StoreBatch(track=[point(T0 + 200)]))  # all 10 are now too old
        assert len(store.track(1)) == 11 - 4
        store.write(StoreBatch(track=[point(T0 + 201)]))  # 1 s later, yet the backlog goes on
        assert len(store.track(1)) == 12 - 8
        store.write(StoreBatch(track=[point(T0 + 202)]))
        assert [p.observed_ts - T0 for p in store.track(1)] == [200, 201, 202]
        store.write(StoreBatch(track=[point(T0 + 203), point(T0 + 50)]))  # backlog done
        assert [p.observed_ts - T0 for p in store.track(1)] == [50, 200, 201, 202, 203]


# -- the write journal -------------------------------------------------------------------------

UNCLOSED_WRITER = """
import os, sys
from lookout.model import IngestReceipt, TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch
from lookout.storage.sqlite import SqliteStore

store = SqliteStore(sys.argv[1], materialize_rows=10**9, materialize_interval_s=10**9)
for n in range(5):
    point = TrackPoint(7, 0, 1_700_000_000.0 + n, 55.0, 11.0, None, None, None, "dk", "s", ("rx",))
    state = VesselState(7, 0, point.observed_ts, 55.0, 11.0, None, None, None, None, None)
    store.write(StoreBatch(track=[point], vessels=[state], receipts={f"k{n}": IngestReceipt(1, 1)}))
os._exit(0)  # no close(): the derived tables were never written
"""


def test_batches_left_in_the_journal_by_a_crash_are_replayed_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    subprocess.run([sys.executable, "-c", UNCLOSED_WRITER, str(db)], check=True, timeout=60)
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM track").fetchone() == (0,)
        assert raw.execute("SELECT count(*) FROM journal").fetchone() == (5,)
    with SqliteStore(db) as store:
        assert [p.observed_ts for p in store.track(7)] == [T0 + n for n in range(5)]
        assert store.vessel(7) is not None and store.vessel(7).observed_ts == T0 + 4
        assert store.receipt("k4") == IngestReceipt(1, 1)
    with SqliteStore(db) as store:  # replayed once: opening again adds nothing
        assert len(store.track(7)) == 5
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM journal").fetchone() == (0,)


def test_reads_see_writes_that_are_still_only_in_the_journal(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db", materialize_rows=10**9, materialize_interval_s=1e9) as s:
        s.write(StoreBatch(track=[point(T0), point(T0 + 1)]))
        assert [p.observed_ts for p in s.track(1)] == [T0, T0 + 1]


def test_a_position_that_is_not_wgs84_degrees_is_refused_before_the_journal(
    tmp_path: Path,
) -> None:
    bad = TrackPoint(1, 0, T0, 91.5, 11.0, None, None, None, "dk", "tcp-1", ("rx",))
    with (
        SqliteStore(tmp_path / "a.db") as store,
        pytest.raises(sqlite3.IntegrityError, match="MMSI 1"),
    ):
        store.write(StoreBatch(track=[bad]))
    with sqlite3.connect(tmp_path / "a.db") as raw:
        assert raw.execute("SELECT count(*) FROM journal").fetchone() == (0,)
