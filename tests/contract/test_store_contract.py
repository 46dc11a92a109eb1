"""The Store contract: every backend in ``backends.STORE_BACKENDS`` answers the same way.

The store keeps what the pipeline sends: it upserts the vessel state it is given (the
pipeline decides which state is the latest) and never merges or reorders observations.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from backends import STORE_BACKENDS, StoreBackend, backend_teardown  # noqa: F401 (autouse)

from lookout.model import BBox, IngestReceipt, StaticReport, TrackPoint, VesselState
from lookout.pipeline.ports import IngestCounts, Store, StoreBatch

T0 = 1_700_000_000.0
MMSI = 219_000_001


@pytest.fixture(params=STORE_BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> StoreBackend:
    chosen: StoreBackend = request.param
    return chosen


@pytest.fixture
def store(backend: StoreBackend, tmp_path: Path) -> Iterator[Store]:
    opened = backend.open(tmp_path)
    yield opened
    opened.close()


def point(ts: float, mmsi: int = MMSI, lat: float = 55.5, lon: float = 11.5) -> TrackPoint:
    return TrackPoint(mmsi, 0, ts, lat, lon, 12.5, 181.0, 180, "dk", "tcp-1", ("rx-a",))


def vessel(mmsi: int = MMSI, lat: float = 55.5, lon: float = 11.5, ts: float = T0) -> VesselState:
    return VesselState(mmsi, 0, ts, lat, lon, 10.0, 90.0, 91, 0, "DK", members=("dk",))


def static(ts: float, name: str, mmsi: int = MMSI) -> StaticReport:
    return StaticReport(mmsi, 5, ts, "dk", "tcp-1", name=name)


# -- track -------------------------------------------------------------------------------


def test_track_points_come_back_with_every_field(store: Store) -> None:
    full = TrackPoint(
        MMSI, 3, T0 + 0.25, -33.123456789, 151.987654321, 0.1, 359.9, 359,
        "no", "kystverket", ("rx-1", "rx-ø", "r,x\"2"),
    )  # fmt: skip
    bare = TrackPoint(MMSI, 0, T0 + 1, 0.0, -0.0, None, None, None, "dk", "csv", ())
    store.write(StoreBatch(track=[full, bare]))
    assert store.track(MMSI) == [full, bare]


def test_track_points_keep_when_lookout_received_them(store: Store) -> None:
    """A batch's receive time lands on each of its points; a point's own time wins."""
    own = replace(point(T0 + 1), received_ts=T0 + 50.0)
    store.write(StoreBatch(track=[point(T0)], received_ts=T0 + 60.5))
    store.write(StoreBatch(track=[own], received_ts=T0 + 70.0))
    store.write(StoreBatch(track=[point(T0 + 2)]))
    assert [p.received_ts for p in store.track(MMSI)] == [T0 + 60.5, T0 + 50.0, None]


def test_track_is_in_time_order_whatever_the_write_order(store: Store) -> None:
    times = [T0 + s for s in range(30)]
    shuffled = times[:]
    random.Random(7).shuffle(shuffled)
    for chunk in (shuffled[:10], shuffled[10:20], shuffled[20:]):
        store.write(StoreBatch(track=[point(t) for t in chunk]))
    assert [p.observed_ts for p in store.track(MMSI)] == times


def test_track_points_at_the_same_time_keep_their_write_order(store: Store) -> None:
    first = replace(point(T0), source="first")
    second = replace(point(T0), source="second")
    store.write(StoreBatch(track=[first]))
    store.write(StoreBatch(track=[second]))
    assert [p.source for p in store.track(MMSI)] == ["first", "second"]


def test_track_time_range_includes_both_ends(store: Store) -> None:
    store.write(StoreBatch(track=[point(T0 + s) for s in (10, 20, 30, 40)]))
    assert [p.observed_ts - T0 for p in store.track(MMSI, T0 + 20, T0 + 30)] == [20, 30]
    assert [p.observed_ts - T0 for p in store.track(MMSI, start_ts=T0 + 30)] == [30, 40]
    assert [p.observed_ts - T0 for p in store.track(MMSI, end_ts=T0 + 10)] == [10]
    assert store.track(MMSI, T0 + 21, T0 + 29) == []


def test_track_limit_keeps_the_earliest_points(store: Store) -> None:
    store.write(StoreBatch(track=[point(T0 + s) for s in range(10)]))
    assert [p.observed_ts - T0 for p in store.track(MMSI, limit=3)] == [0, 1, 2]
    assert store.track(MMSI, limit=0) == []


def test_track_holds_only_the_asked_vessel(store: Store) -> None:
    store.write(StoreBatch(track=[point(T0, mmsi=1), point(T0, mmsi=2), point(T0 + 1, mmsi=1)]))
    assert [p.mmsi for p in store.track(1)] == [1, 1]
    assert store.track(3) == []


# -- vessels -----------------------------------------------------------------------------


def test_the_picture_at_a_time_is_each_sources_latest_point_before_it(store: Store) -> None:
    """``vessels_at``: per vessel and source, the latest point within the lookback, none
    after ``at``; a vessel silent for longer than the lookback is not in the picture."""
    other = replace(point(T0 + 50, lat=56.0), member="se", source="radar")
    store.write(StoreBatch(track=[point(T0 + s) for s in (0, 30, 60, 90)] + [other]))
    store.write(StoreBatch(track=[point(T0 - 4000, mmsi=MMSI + 1), point(T0 + 70, mmsi=1)]))
    picture = store.vessels_at(T0 + 65, lookback_s=3600)
    assert [(p.mmsi, p.member, p.observed_ts) for p in picture] == [
        (MMSI, "dk", T0 + 60),
        (MMSI, "se", T0 + 50),
    ]
    assert picture[0] == point(T0 + 60)
    assert [p.observed_ts for p in store.vessels_at(T0 + 90, lookback_s=20)] == [T0 + 70, T0 + 90]
    assert store.vessels_at(T0 - 10, lookback_s=60) == []
    assert len(store.vessels_at(T0 + 100, limit=2)) == 2


def test_vessel_state_comes_back_with_every_field(store: Store) -> None:
    full = VesselState(
        MMSI, 2, T0, 10.5, -20.25, 0.0, 0.0, 0, 7, "DK", name="ØRESUND", callsign="OXYZ2",
        imo=9_074_729, ship_type=70, destination="DKAAR", length_m=120,
        members=("dk", "no"), sources=("tcp-1", "sat"), positions=42, simulated=True,
    )  # fmt: skip
    bare = VesselState(MMSI + 1, 0, T0, 0.0, 0.0, None, None, None, None, None)
    store.write(StoreBatch(vessels=[full, bare]))
    assert store.vessel(MMSI) == full
    assert store.vessel(MMSI + 1) == bare
    assert store.vessel(MMSI + 2) is None


def test_vessel_upsert_keeps_what_it_is_given_even_if_older(store: Store) -> None:
    newer = vessel(lat=56.0, ts=T0 + 100)
    older = vessel(lat=55.0, ts=T0)
    store.write(StoreBatch(vessels=[newer]))
    store.write(StoreBatch(vessels=[older]))
    assert store.vessel(MMSI) == older
    assert store.vessels() == [older]


def test_vessels_are_sorted_by_mmsi_and_limited(store: Store) -> None:
    mmsis = [5, 3, 9, 1, 7]
    store.write(StoreBatch(vessels=[vessel(m) for m in mmsis]))
    assert [v.mmsi for v in store.vessels()] == [1, 3, 5, 7, 9]
    assert [v.mmsi for v in store.vessels(limit=2)] == [1, 3]
    assert store.vessels(limit=0) == []
    box = BBox(10.0, 55.0, 12.0, 56.0)
    assert [v.mmsi for v in store.vessels(box, limit=4)] == [1, 3, 5, 7]


def test_vessels_in_a_box_include_its_edges(store: Store) -> None:
    inside = {1: (55.0, 10.0), 2: (56.0, 12.0), 3: (55.5, 11.0), 4: (55.0, 12.0)}
    outside = {5: (54.9, 11.0), 6: (56.1, 11.0), 7: (55.5, 9.9), 8: (55.5, 12.1)}
    everything = inside | outside
    store.write(StoreBatch(vessels=[vessel(m, lat, lon) for m, (lat, lon) in everything.items()]))
    assert [v.mmsi for v in store.vessels(BBox(10.0, 55.0, 12.0, 56.0))] == sorted(inside)


def test_vessels_in_a_box_are_exact_not_rounded(store: Store) -> None:
    # A spatial index may round coordinates (SQLite's R*Tree keeps 32-bit floats): 1e-9
    # degrees outside the box is outside.
    store.write(StoreBatch(vessels=[vessel(1, 55.5, 12.000000001), vessel(2, 55.5, 12.0)]))
    assert [v.mmsi for v in store.vessels(BBox(11.0, 55.0, 12.0, 56.0))] == [2]


def test_vessels_in_a_box_across_the_antimeridian(store: Store) -> None:
    places = {
        1: (0.0, 179.5), 2: (0.0, -179.5), 3: (0.0, 180.0), 4: (0.0, -180.0),
        5: (0.0, 170.0), 6: (0.0, -170.0), 7: (0.0, 0.0), 8: (10.0, 179.5),
    }  # fmt: skip
    store.write(StoreBatch(vessels=[vessel(m, lat, lon) for m, (lat, lon) in places.items()]))
    found = [v.mmsi for v in store.vessels(BBox(175.0, -5.0, -175.0, 5.0))]
    assert found == [1, 2, 3, 4]


def test_vessels_in_random_boxes_are_those_the_box_contains(store: Store) -> None:
    rng = random.Random(20)
    states = [vessel(100 + i, rng.uniform(-85, 85), rng.uniform(-180, 180)) for i in range(400)]
    store.write(StoreBatch(vessels=states))
    for _ in range(60):
        south = rng.uniform(-85, 80)
        box = BBox(rng.uniform(-180, 180), south, rng.uniform(-180, 180), south + 40)
        expected = [v.mmsi for v in states if box.contains(v.lat, v.lon)]
        assert [v.mmsi for v in store.vessels(box)] == expected, box


def test_a_vessel_that_moved_is_found_only_where_it_is_now(store: Store) -> None:
    store.write(StoreBatch(vessels=[vessel(1, 55.5, 11.5)]))
    store.write(StoreBatch(vessels=[vessel(1, -33.9, 151.2)]))
    assert store.vessels(BBox(11.0, 55.0, 12.0, 56.0)) == []
    assert [v.lat for v in store.vessels(BBox(150.0, -35.0, 152.0, -33.0))] == [-33.9]


# -- statics, counters, receipts -----------------------------------------------------------


def test_statics_history_is_oldest_first(store: Store) -> None:
    store.write(StoreBatch(statics=[static(T0 + 60, "B"), static(T0 + 120, "C")]))
    store.write(StoreBatch(statics=[static(T0, "A"), static(T0 + 60, "B2")]))
    store.write(StoreBatch(statics=[static(T0, "other", mmsi=MMSI + 1)]))
    assert [s.name for s in store.statics(MMSI)] == ["A", "B", "B2", "C"]
    full = StaticReport(
        MMSI + 2, 24, T0, "no", "sat", name="NAME", callsign="CALL", imo=1234567,
        ship_type=30, to_bow_m=10, to_stern_m=20, to_port_m=3, to_starboard_m=4,
        destination="ANYWHERE", draught_m=5.5,
    )  # fmt: skip
    store.write(StoreBatch(statics=[full]))
    assert store.statics(MMSI + 2) == [full]
    assert store.statics(MMSI + 3) == []


def test_ingest_stats_add_up_across_batches(store: Store) -> None:
    batches = [
        [
            IngestCounts("dk", "tcp-1", 100, 90, {"bad_checksum": 6, "empty": 4}, 80, 5, T0),
            IngestCounts("no", "feed", 10, 10, {}, 10, 0, None),
        ],
        [IngestCounts("dk", "tcp-1", 50, 47, {"bad_checksum": 1, "bad_mmsi": 2}, 40, 1, T0 - 9)],
        [IngestCounts("dk", "tcp-1", 5, 5, {}, 5, 0, T0 + 30)],
    ]
    for counts in batches:
        store.write(StoreBatch(counts=counts))
    stats = store.ingest_stats()
    assert [(s.member, s.source) for s in stats] == [("dk", "tcp-1"), ("no", "feed")]
    dk, no = stats
    assert (dk.lines, dk.accepted, dk.observations, dk.duplicates) == (155, 142, 125, 6)
    assert dk.rejected == {"bad_checksum": 7, "empty": 4, "bad_mmsi": 2}
    assert dk.last_received_ts == T0 + 30
    assert (no.lines, no.rejected, no.last_received_ts) == (10, {}, None)


def test_receipt_is_there_once_its_batch_is_written(store: Store) -> None:
    receipt = IngestReceipt(lines=10, accepted=7, rejected={"bad_checksum": 3}, observations=6)
    assert store.receipt("sender-1:batch-1") is None
    store.write(StoreBatch(receipts={"sender-1:batch-1": receipt}))
    assert store.receipt("sender-1:batch-1") == receipt
    assert store.receipt("sender-1:batch-2") is None


def test_a_receipt_key_keeps_its_first_receipt(store: Store) -> None:
    first = IngestReceipt(lines=10, accepted=10)
    store.write(StoreBatch(receipts={"k": first}))
    store.write(StoreBatch(receipts={"k": IngestReceipt(lines=99, accepted=0)}))
    assert store.receipt("k") == first


# -- retention, lifecycle ---------------------------------------------------------------


def test_prune_deletes_only_what_was_observed_before(store: Store) -> None:
    store.write(
        StoreBatch(
            track=[point(T0 + s, mmsi=m) for s in (10, 20, 30) for m in (1, 2)],
            statics=[static(T0 + 10, "old"), static(T0 + 20, "kept")],
            vessels=[vessel(1, ts=T0 + 10)],
        )
    )
    assert store.prune(T0 + 20) == 2
    assert [p.observed_ts - T0 for p in store.track(1)] == [20, 30]
    assert [p.observed_ts - T0 for p in store.track(2)] == [20, 30]
    assert [s.name for s in store.statics(MMSI)] == ["kept"]
    assert store.vessel(1) is not None
    assert store.prune(T0 + 20) == 0


def test_an_empty_batch_changes_nothing(store: Store) -> None:
    store.write(StoreBatch())
    assert (store.vessels(), store.track(MMSI), store.ingest_stats()) == ([], [], [])


def test_reads_from_another_thread_see_committed_writes(store: Store) -> None:
    store.write(StoreBatch(track=[point(T0)], vessels=[vessel()]))
    seen: list[object] = []

    def read() -> None:
        seen.extend([len(store.track(MMSI)), store.vessel(MMSI) is not None])

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert seen == [1, True]


def test_a_closed_store_refuses_to_work(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.write(StoreBatch())
    with pytest.raises(RuntimeError, match="closed"):
        store.vessels()


@pytest.mark.parametrize("backend", [b for b in STORE_BACKENDS if b.durable], ids=lambda b: b.name)
def test_reopened_store_has_everything(backend: StoreBackend, tmp_path: Path) -> None:
    batch = StoreBatch(
        track=[point(T0), point(T0 + 1)],
        vessels=[vessel()],
        statics=[static(T0, "A")],
        counts=[IngestCounts("dk", "tcp-1", 3, 2, {"empty": 1}, 2, 0, T0)],
        receipts={"k": IngestReceipt(lines=3, accepted=2, rejected={"empty": 1})},
    )
    first = backend.open(tmp_path)
    first.write(batch)
    first.close()
    again = backend.open(tmp_path)
    try:
        assert again.track(MMSI) == list(batch.track)
        assert again.vessels() == list(batch.vessels)
        assert again.statics(MMSI) == list(batch.statics)
        assert again.receipt("k") == batch.receipts["k"]
        assert [(s.lines, s.rejected) for s in again.ingest_stats()] == [(3, {"empty": 1})]
    finally:
        again.close()
