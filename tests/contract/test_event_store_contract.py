"""The event half of the Store contract: every version kept, the latest answered, filters.

Detectors publish an event again under the same ``id`` when it changes (provisional ->
confirmed -> retracted); a store must keep every version (nothing is deleted silently) and
list each event once, as its latest version.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import STORE_BACKENDS, StoreBackend, backend_teardown  # noqa: F401 (autouse)

from lookout.model import BBox
from lookout.pipeline.ports import EventQuery, Store, StoreBatch

T0 = 1_700_000_000.0


@pytest.fixture(params=STORE_BACKENDS, ids=lambda b: b.name)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend: StoreBackend = request.param
    opened = backend.open(tmp_path)
    yield opened
    opened.close()


def event(
    kind: str = "ais_gap",
    mmsi: int | None = 1,
    status: str = "provisional",
    ts: float = T0,
    **extra: Any,
) -> dict[str, Any]:
    mmsis = extra.pop("mmsis", [] if mmsi is None else [mmsi])
    values = {
        "kind": kind,
        "ts": ts,
        "status": status,
        "id": extra.pop("id", f"{kind}-{'-'.join(map(str, mmsis))}-{int(T0)}"),
        "mmsi": mmsi,
        "mmsis": mmsis,
        "start_ts": T0,
        "end_ts": None,
        "lat": 10.0,
        "lon": 115.0,
        "zone": None,
        "observations": ["1-a"],
        "members": ["PHL-PCG"],
        "details": {"gap_s": 21_600.0, "thresholds": {"min_gap_s": 21_600.0}},
    }
    values.update(extra)
    return values


def test_an_event_comes_back_with_every_field_and_its_version(store: Store) -> None:
    written = event()
    store.write(StoreBatch(events=[written]))
    assert store.events() == [{**written, "version": 1}]


def test_a_later_version_replaces_the_earlier_and_both_are_kept(store: Store) -> None:
    first = event(status="provisional", ts=T0 + 21_600)
    second = event(status="confirmed", ts=T0 + 30_000, end_ts=T0 + 30_000)
    store.write(StoreBatch(events=[first]))
    store.write(StoreBatch(events=[second]))
    third = event(status="retracted", ts=T0 + 31_000, end_ts=T0 + 30_000)
    store.write(StoreBatch(events=[third]))
    assert store.events() == [{**third, "version": 3}]
    history = store.event_history(first["id"])
    assert [(v["status"], v["version"]) for v in history] == [
        ("provisional", 1),
        ("confirmed", 2),
        ("retracted", 3),
    ]
    assert store.event_history("no-such-event") == []


def test_versions_within_one_batch_keep_their_order(store: Store) -> None:
    first, second = event(status="provisional"), event(status="confirmed", ts=T0 + 5)
    store.write(StoreBatch(events=[first, second]))
    assert [e["status"] for e in store.events()] == ["confirmed"]
    assert [v["status"] for v in store.event_history(first["id"])] == ["provisional", "confirmed"]


def test_events_are_newest_first_and_limited(store: Store) -> None:
    store.write(StoreBatch(events=[event(mmsi=m, ts=T0 + m) for m in range(1, 6)]))
    assert [e["mmsi"] for e in store.events()] == [5, 4, 3, 2, 1]
    assert [e["mmsi"] for e in store.events(EventQuery(limit=2))] == [5, 4]
    assert store.events(EventQuery(limit=0)) == []


def test_filters_select_by_kind_status_vessel_zone_time_and_box(store: Store) -> None:
    pair = event("encounter", mmsi=None, mmsis=[7, 8], ts=T0 + 100)
    entry = event("zone_entry", mmsi=9, status="confirmed", ts=T0 + 200, zone="ts-phl")
    far = event("loitering", mmsi=10, ts=T0 + 300, lat=-30.0, lon=-170.0)
    store.write(StoreBatch(events=[pair, entry, far]))

    def ids(**query: Any) -> list[str]:
        return [e["id"] for e in store.events(EventQuery(**query))]

    assert ids(kind="encounter") == [pair["id"]]
    assert ids(status="confirmed") == [entry["id"]]
    assert ids(mmsi=8) == [pair["id"]]  # one of the vessels of a multi-vessel event
    assert ids(mmsi=9) == [entry["id"]]
    assert ids(zone="ts-phl") == [entry["id"]]
    assert ids(since_ts=T0 + 200) == [far["id"], entry["id"]]
    assert ids(until_ts=T0 + 200) == [entry["id"], pair["id"]]
    assert ids(bbox=BBox(110.0, 5.0, 120.0, 15.0)) == [entry["id"], pair["id"]]
    assert ids(bbox=BBox(170.0, -40.0, -160.0, -20.0)) == [far["id"]]  # across 180
    assert ids(kind="encounter", status="confirmed") == []


def test_events_survive_reopening_a_durable_store(tmp_path: Path) -> None:
    for backend in STORE_BACKENDS:
        if not backend.durable:
            continue
        folder = tmp_path / backend.name
        folder.mkdir()
        store = backend.open(folder)
        store.write(StoreBatch(events=[event(), event(status="confirmed", ts=T0 + 9)]))
        store.close()
        again = backend.open(folder)
        try:
            assert [e["status"] for e in again.events()] == ["confirmed"]
            assert len(again.event_history(event()["id"])) == 2
        finally:
            again.close()


def test_detections_are_kept_once_per_member_and_id_newest_first(store: Store) -> None:
    from lookout.model import Detection

    sar = Detection("S1", T0 + 60, 10.0, 115.0, "sar", "PHL-PCG")
    again = Detection("S1", T0 + 99, 11.0, 116.0, "sar", "PHL-PCG")  # a re-sent id: ignored
    radar = Detection("S1", T0 + 30, 9.0, 114.0, "radar", "VNM-VCG")  # same id, other member
    store.write(StoreBatch(detections=[sar, radar]))
    store.write(StoreBatch(detections=[again]))
    assert store.detections() == [sar, radar]
    assert store.detections(since_ts=T0 + 40) == [sar]
    assert store.detections(until_ts=T0 + 40) == [radar]
    assert store.detections(limit=1) == [sar]
