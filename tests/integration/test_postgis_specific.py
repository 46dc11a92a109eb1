"""What the PostGIS store does beyond the Store contract (tests/contract runs that on it too):
migrations applied once, a database of a newer Lookout refused, a failed batch leaving no
trace, a dropped connection recovered, bounding boxes answered from the GiST index, and a
server configured with ``store = postgis`` committing real AIS there.

Each test gets its own database (``lookout_pgtest_<random>``), dropped when it ends.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import IN_CI

try:
    import psycopg
except ImportError:  # without the postgres extra: skipped on a laptop, a failure in CI
    if IN_CI:
        raise
    pytest.skip(
        "psycopg is not installed: pip install 'lookout[postgres]'", allow_module_level=True
    )

from lookout.cli.doctor import Check, run_checks
from lookout.model import BBox, IngestReceipt, Lines, TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings
from lookout.storage import postgis_sql
from lookout.storage.migrations import SchemaVersionError
from lookout.storage.postgis import PostgisStore

ADMIN_URL = os.environ.get(
    "LOOKOUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
T0 = 1_700_000_000.0


@pytest.fixture
def dsn(pg_database_url: str) -> str:
    """A new, empty database with PostGIS (conftest; dropped when the test ends)."""
    return pg_database_url


def _rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def point(ts: float, lat: float = 55.5) -> TrackPoint:
    return TrackPoint(219_000_001, 0, ts, lat, 11.5, 12.5, 181.0, 180, "dk", "tcp-1", ("rx",))


def vessel(mmsi: int, lat: float, lon: float) -> VesselState:
    return VesselState(mmsi, 0, T0, lat, lon, 10.0, 90.0, 91, 0, "DK", members=("dk",))


def test_processes_opening_a_new_database_at_once_apply_each_migration_once(dsn: str) -> None:
    migrations = postgis_sql.pg_migrations()
    applied: list[list[int]] = []
    start = threading.Barrier(3)

    def open_it() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            start.wait()
            applied.append(postgis_sql.migrate(conn, migrations, now_ts=T0))

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(applied) == [[], [], [m.version for m in migrations]]
    recorded = _rows(dsn, "SELECT version FROM schema_version ORDER BY version")
    assert recorded == [(m.version,) for m in migrations]
    PostgisStore(dsn).close()  # and a later open finds nothing to do
    assert _rows(dsn, "SELECT count(*) FROM schema_version") == [(len(migrations),)]


def test_a_database_of_a_newer_lookout_is_refused(dsn: str) -> None:
    PostgisStore(dsn).close()
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO schema_version VALUES (9999, 'future', 0)")
    with pytest.raises(SchemaVersionError, match="newer Lookout"):
        PostgisStore(dsn)


def test_a_batch_with_a_bad_position_stores_nothing_and_the_store_goes_on(dsn: str) -> None:
    store = PostgisStore(dsn)
    try:
        bad = StoreBatch(track=[point(T0)], vessels=[vessel(1, 91.0, 0.0)])
        with pytest.raises(psycopg.errors.CheckViolation):
            store.write(bad)
        assert store.track(219_000_001) == [] and store.vessels() == []
        store.write(StoreBatch(track=[point(T0 + 1)]))
        assert [p.observed_ts for p in store.track(219_000_001)] == [T0 + 1]
    finally:
        store.close()


def test_receipts_of_names_the_keys_already_committed_in_one_query(dsn: str) -> None:
    store = PostgisStore(dsn)
    try:
        receipt = IngestReceipt(lines=1, accepted=1, observations=1, duplicates=0)
        store.write(StoreBatch(receipts={"k1": receipt, "k3": receipt}))
        assert store.receipts_of(["k1", "k2", "k3", "k4"]) == {"k1", "k3"}
        assert store.receipts_of([]) == set()
    finally:
        store.close()


def test_the_store_reconnects_after_the_server_dropped_its_connection(dsn: str) -> None:
    store = PostgisStore(dsn)
    try:
        store.write(StoreBatch(track=[point(T0)]))
        assert len(store.track(219_000_001)) == 1  # a reader connection waits in the pool
        name = dsn.rsplit("dbname=", 1)[-1].split()[0]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            others = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            admin.execute(f"SELECT pg_terminate_backend(pid) {others}", (name,))
            deadline = time.monotonic() + 10
            while admin.execute(f"SELECT count(*) {others}", (name,)).fetchone() != (0,):
                assert time.monotonic() < deadline, "the backends did not end"
                time.sleep(0.05)
        # both dropped connections are noticed before use and opened again: nothing fails
        store.write(StoreBatch(track=[point(T0 + 1)]))
        assert [p.observed_ts - T0 for p in store.track(219_000_001)] == [0, 1]
    finally:
        store.close()


def test_positions_are_geography_and_boxes_come_from_the_gist_index(dsn: str) -> None:
    store = PostgisStore(dsn)
    try:
        rng = random.Random(3)
        states = [vessel(i, rng.uniform(-80, 80), rng.uniform(-180, 180)) for i in range(20_000)]
        store.write(StoreBatch(vessels=states))
        box = BBox(11.0, 55.0, 12.0, 56.0)
        query, params = postgis_sql.vessels_query(box, 100)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ANALYZE vessels")
            plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {query}", params).fetchall())
            kind = conn.execute(
                "SELECT type FROM geography_columns WHERE f_table_name = 'vessels'"
            ).fetchone()
        assert "vessels_box" in plan, plan
        assert kind == ("Point",)
        expected = sorted(s.mmsi for s in states if box.contains(s.lat, s.lon))
        assert [v.mmsi for v in store.vessels(box)] == expected
    finally:
        store.close()


def test_a_server_with_store_postgis_commits_every_acknowledged_block_there(
    dsn: str, nmea_dir: Path, tmp_path: Path
) -> None:
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    settings = Settings(
        data_dir=tmp_path / "data", store="postgis", database_url=dsn, batch_max_lines=500
    )
    with Runtime(settings) as runtime:
        assert isinstance(runtime.store, PostgisStore)
        futures = [
            runtime.submit([Lines(lines[i : i + 300], "dk", "dma")], key=f"k{i}")
            for i in range(0, len(lines), 300)
        ]
        receipts = [f.result(timeout=60) for f in futures]
    observations = sum(r.observations for r in receipts)
    reopened = PostgisStore(dsn)
    try:
        stored = sum(len(reopened.track(v.mmsi)) for v in reopened.vessels())
        assert stored == observations > 2800
        assert reopened.receipt("k0") == receipts[0]
    finally:
        reopened.close()


def test_doctor_reports_the_postgis_store_and_never_its_password(dsn: str, tmp_path: Path) -> None:
    def postgis_check(url: str) -> Check:
        settings = Settings(
            data_dir=tmp_path, store="postgis", database_url=url, shore="none", detectors="none"
        )
        checks = run_checks(tmp_path, settings.db_path, "127.0.0.1", 0, settings)
        return next(c for c in checks if c.name == "postgis store")

    PostgisStore(dsn).close()
    newest = len(postgis_sql.pg_migrations())
    found = postgis_check(dsn)
    assert found.status == "ok", found
    assert "PostGIS 3" in found.detail and f"schema {newest} of {newest}" in found.detail
    unreachable = postgis_check("postgresql://lookout:pa55-w0rd@127.0.0.1:1/lookout")
    assert unreachable.status == "fail"
    assert "127.0.0.1:1" in unreachable.detail and "pa55-w0rd" not in unreachable.detail
