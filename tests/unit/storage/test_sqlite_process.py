"""SqliteProcessStore beyond the Store contract: its child process, acknowledgements, failures.

The contract suite (``tests/contract``) runs against it as ``sqlite-process``; here: an
acknowledged batch is durable (it survives the child being killed), futures resolve in order,
a refused batch fails alone, the child ends with its parent, and journal entries written by
older versions are still replayed.
"""

from __future__ import annotations

import json
import marshal
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lookout.model import IngestReceipt, TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch
from lookout.storage.sqlite import SqliteStore
from lookout.storage.sqlite_process import SqliteProcessStore

T0 = 1_700_000_000.0


def point(ts: float, mmsi: int = 1, lat: float = 55.0) -> TrackPoint:
    return TrackPoint(mmsi, 0, ts, lat, 11.0, None, None, None, "dk", "tcp-1", ("rx",))


def state(mmsi: int, ts: float) -> VesselState:
    return VesselState(mmsi, 0, ts, 55.0, 11.0, 3.5, None, None, None, "DK", members=("dk",))


def kill_child(store: SqliteProcessStore) -> None:
    os.kill(store._child.pid, signal.SIGKILL)
    store._child.wait(10)


def test_acknowledged_batches_survive_the_writer_being_killed(tmp_path: Path) -> None:
    store = SqliteProcessStore(tmp_path / "a.db", materialize_rows=10**9)
    futures = [
        store.write_async(
            StoreBatch(track=[point(T0 + n)], receipts={f"k{n}": IngestReceipt(1, 1)})
        )
        for n in range(50)
    ]
    done_order: list[int] = []
    for n, future in enumerate(futures):
        future.add_done_callback(lambda _, n=n: done_order.append(n))
    for future in futures:
        future.result(timeout=30)
    assert done_order == list(range(50))
    kill_child(store)  # nothing written out to the tables: all of it is in the journal
    store.close()
    with SqliteStore(tmp_path / "a.db") as reopened:
        assert [p.observed_ts - T0 for p in reopened.track(1)] == list(range(50))
        assert reopened.receipt("k49") == IngestReceipt(1, 1)


def test_a_refused_batch_fails_alone(tmp_path: Path) -> None:
    with SqliteProcessStore(tmp_path / "a.db") as store:
        futures = [
            store.write_async(StoreBatch(track=[point(T0 + n, lat=91.5 if n == 3 else 55.0)]))
            for n in range(8)
        ]
        errors = [f.exception(timeout=30) for f in futures]
        assert [type(e) for e in errors] == [type(None)] * 3 + [sqlite3.IntegrityError] + [
            type(None)
        ] * 4
        assert "MMSI 1" in str(errors[3])
        assert [p.observed_ts - T0 for p in store.track(1)] == [0, 1, 2, 4, 5, 6, 7]


def test_reads_see_committed_states_at_once(tmp_path: Path) -> None:
    with SqliteProcessStore(tmp_path / "a.db", materialize_interval_s=1e9) as store:
        store.write(StoreBatch(vessels=[state(7, T0)]))
        store.write(StoreBatch(vessels=[state(7, T0 + 1), state(8, T0)]))
        assert store.vessel(7) == state(7, T0 + 1)
        assert [v.mmsi for v in store.vessels()] == [7, 8]
        assert store.vessel(7) == state(7, T0 + 1)  # after the flush the reads did
        assert store.vessel(9) is None


def test_a_dead_writer_fails_every_call_and_closes(tmp_path: Path) -> None:
    store = SqliteProcessStore(tmp_path / "a.db")
    store.write(StoreBatch(track=[point(T0)]))
    kill_child(store)
    with pytest.raises(sqlite3.OperationalError, match="ended"):
        store.write(StoreBatch(track=[point(T0 + 1)]))
    with pytest.raises(sqlite3.OperationalError, match="ended"):
        store.flush()
    store.close()
    with SqliteStore(tmp_path / "a.db") as reopened:
        assert len(reopened.track(1)) == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_writer_outlives_a_signal_to_the_process_group(tmp_path: Path, signum: int) -> None:
    """Ctrl+C, `timeout` and `systemctl stop` signal every process of the group: the server
    still drains its last batches into the store before it stops."""
    with SqliteProcessStore(tmp_path / "a.db") as store:
        os.kill(store._child.pid, signum)
        time.sleep(0.2)
        store.write(StoreBatch(track=[point(T0)]))
        assert len(store.track(1)) == 1


PARENT = """
import sys
from lookout.model import TrackPoint
from lookout.pipeline.ports import StoreBatch
from lookout.storage.sqlite_process import SqliteProcessStore

store = SqliteProcessStore(sys.argv[1], materialize_rows=10**9)
print(store._child.pid, flush=True)
for n in range(1_000_000):
    p = TrackPoint(n, 0, 1_700_000_000.0, 1.0, 2.0, None, None, None, "dk", "s", ("r",))
    store.write(StoreBatch(track=[p]))
    print(n, flush=True)
"""


def test_the_writer_ends_with_its_parent_and_keeps_what_it_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    acknowledged = [int(parent.stdout.readline()) for _ in range(30)]
    parent.send_signal(signal.SIGKILL)
    rest, _ = parent.communicate(timeout=10)
    acknowledged += [int(x) for x in rest.splitlines(keepends=True) if x.endswith("\n")]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)
    with SqliteStore(db) as store:
        for n in acknowledged:
            assert len(store.track(n)) == 1, n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended
        return stat.read().split()[2] != "Z"


def test_journal_entries_of_older_versions_are_replayed(tmp_path: Path) -> None:
    """Before the writer process, journal rows held receivers, members and sources as JSON."""
    db = tmp_path / "a.db"
    SqliteStore(db).close()
    old_track = [(1, 0, T0, 55.0, 11.0, None, None, None, "dk", "s", json.dumps(["rx"]))]
    old_vessel = [
        (1, 0, T0, 55.0, 11.0, None, None, None, None, "DK", None, None, None, None, None,
         None, json.dumps(["dk"]), json.dumps(["s"]), 1, False)
    ]  # fmt: skip
    entry = marshal.dumps((old_track, old_vessel, [], [], []), 4)
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO journal (entry) VALUES (?)", (entry,))
    with SqliteProcessStore(db) as store:
        (p,) = store.track(1)
        assert p.receivers == ("rx",)
        vessel = store.vessel(1)
        assert vessel is not None and (vessel.members, vessel.sources) == (("dk",), ("s",))
