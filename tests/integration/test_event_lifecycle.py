"""An event's whole life through the pipeline into the store: an AIS gap goes provisional,
then confirmed when the vessel reappears, then retracted when another member's receiver
turns out to have heard the vessel in the middle of it. Every version is kept and alerted
under one id; nothing is deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lookout.detectors.gap import AisGapDetector
from lookout.model import ReportRecord
from lookout.pipeline.engine import Pipeline
from lookout.pipeline.ports import EventQuery, Store
from lookout.storage.memory import MemoryStore
from lookout.storage.sqlite import SqliteStore

T0 = 1_750_000_000.0
HOUR = 3600.0
DARK, OTHER = 636_000_001, 636_000_002


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "l.db")
    yield opened
    opened.close()


def report(mmsi: int, ts: float, member: str = "PHL-PCG", lon: float = 116.0) -> ReportRecord:
    return ReportRecord(
        mmsi, ts, 12.0, lon, member, f"{member}-ais", speed_kn=8.0, course_deg=90.0, msg_type=1
    )


def test_a_gap_is_provisional_then_confirmed_then_retracted_and_every_version_is_kept(
    store: Store,
) -> None:
    pipeline = Pipeline(detectors=[AisGapDetector()])
    alerts: list[dict] = []

    def run(*items: ReportRecord) -> None:
        result = pipeline.process(list(items), now_ts=T0)
        store.write(result.store)
        alerts.extend(p for s, p in result.messages if s.startswith("lookout.alert."))

    run(report(DARK, T0), report(OTHER, T0))
    for hour in range(1, 8):  # the network keeps hearing another vessel nearby; DARK is silent
        run(report(OTHER, T0 + hour * HOUR, lon=116.05))
    (listed,) = store.events(EventQuery(kind="ais_gap"))
    assert (listed["status"], listed["version"], listed["end_ts"]) == ("provisional", 1, None)
    assert listed["details"]["receiving_near_start"] is True  # not a coverage hole

    run(report(DARK, T0 + 8 * HOUR))  # back: the gap has both ends
    (listed,) = store.events(EventQuery(kind="ais_gap"))
    assert (listed["status"], listed["version"], listed["end_ts"]) == (
        "confirmed",
        2,
        T0 + 8 * HOUR,
    )

    # late data: Viet Nam's receiver heard DARK at 4 h, in the middle of the "gap"
    run(report(DARK, T0 + 4 * HOUR, member="VNM-VCG"))
    (listed,) = store.events(EventQuery(kind="ais_gap"))
    assert (listed["status"], listed["version"]) == ("retracted", 3)
    history = store.event_history(listed["id"])
    assert [v["status"] for v in history] == ["provisional", "confirmed", "retracted"]
    assert [v["version"] for v in history] == [1, 2, 3]
    retraction = history[-1]
    assert "VNM-VCG" in retraction["members"]  # the data that undid it is named
    filled = retraction["details"]["filled_by"]
    assert (filled["member"], filled["ts"]) == ("VNM-VCG", T0 + 4 * HOUR)
    assert retraction["details"]["filled_by_other_member"] is True
    assert store.events(EventQuery(kind="ais_gap", status="provisional")) == []
    # one alert id, re-alerted at each version, the retraction withdrawing it
    assert {a["id"] for a in alerts} == {f"{listed['id']}@network"}
    assert [a["status"] for a in alerts] == ["provisional", "confirmed", "retracted"]
