"""PostGIS group commit: batches written from several threads at once share transactions, and
each is still stored exactly once, or fails alone (docs/storage.md#postgis-store)."""

from __future__ import annotations

import threading
import time
from typing import Any

from test_postgis_specific import dsn  # noqa: F401 - a fixture, used by name

from conftest import import_or_missing
from lookout.model import IngestReceipt, TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch

psycopg = import_or_missing("psycopg", reason="psycopg is not installed")
from lookout.storage.postgis import PostgisStore  # noqa: E402 - needs psycopg

T0 = 1_700_000_000.0


def point(mmsi: int, ts: float, lat: float = 55.5) -> TrackPoint:
    return TrackPoint(mmsi, 0, ts, lat, 11.5, 12.5, 181.0, 180, "dk", "tcp-1", ("rx",))


def batch(mmsi: int, ts: float, key: str, lat: float = 55.5) -> StoreBatch:
    state = VesselState(mmsi, 0, ts, lat, 11.5, 12.5, 181.0, 180, 0, "DK", members=("dk",))
    return StoreBatch(
        track=[point(mmsi, ts, lat)],
        vessels=[state],
        receipts={key: IngestReceipt(lines=1, accepted=1, observations=1)},
    )


def write_all(store: PostgisStore, batches: list[StoreBatch]) -> list[BaseException | None]:
    """Write each batch from a thread of its own, all at once; what each write raised."""
    errors: list[BaseException | None] = [None] * len(batches)

    def run(i: int) -> None:
        try:
            store.write(batches[i])
        except BaseException as exc:
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_writes_from_many_threads_are_each_stored_once(dsn: str) -> None:  # noqa: F811
    store = PostgisStore(dsn)
    try:
        writers, each = 8, 12
        batches = [
            batch(219_000_000 + w, T0 + n, f"w{w}-{n}") for n in range(each) for w in range(writers)
        ]
        assert write_all(store, batches) == [None] * len(batches)
        for w in range(writers):
            track = store.track(219_000_000 + w)
            assert [p.observed_ts - T0 for p in track] == list(range(each))
            assert store.vessel(219_000_000 + w) is not None
        assert all(store.receipt(f"w{w}-{n}") for w in range(writers) for n in range(each))
    finally:
        store.close()


def test_in_a_shared_commit_a_bad_batch_fails_alone_and_a_committed_one_is_skipped(
    dsn: str,  # noqa: F811
) -> None:
    store = PostgisStore(dsn)
    try:
        store.write(batch(219_000_009, T0, "done-before"))
        queued = [
            batch(219_000_001, T0 + 1, "good-1"),
            batch(219_000_002, T0 + 2, "bad", lat=91.0),  # breaks the latitude CHECK
            batch(219_000_009, T0 + 3, "done-before"),  # committed before: nothing again
            batch(219_000_003, T0 + 4, "good-2"),
        ]
        errors: list[Any] = []
        # Hold the writer lock, as a commit in flight does, so that all four queue for the
        # next transaction together.
        with store._lock:
            writing = threading.Thread(target=lambda: errors.extend(write_all(store, queued)))
            writing.start()
            deadline = time.monotonic() + 30
            while len(store._queue) < len(queued):
                assert time.monotonic() < deadline, "the writes did not queue"
                time.sleep(0.01)
        writing.join(60)

        assert [type(e) for e in errors] == [
            type(None), psycopg.errors.CheckViolation, type(None), type(None),
        ]  # fmt: skip
        assert [p.observed_ts for p in store.track(219_000_001)] == [T0 + 1]
        assert [p.observed_ts for p in store.track(219_000_003)] == [T0 + 4]
        assert store.track(219_000_002) == [] and store.receipt("bad") is None
        assert [p.observed_ts for p in store.track(219_000_009)] == [T0]
    finally:
        store.close()
