"""Detectors run elsewhere: a pipeline with a DeferredSuite plus a DetectorSuite running its
batches' work give the events the same detectors give inside the pipeline."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyais

from lookout.model import Detection, Lines
from lookout.pipeline import subjects
from lookout.pipeline.engine import BatchResult, Pipeline
from lookout.pipeline.suite import DeferredSuite, DetectorSuite
from lookout.service.detect_setup import setup_from_settings
from lookout.service.detection import build_detectors
from lookout.service.settings import Settings
from lookout.sources.sim_nmea import tag_block

T0 = 1_750_000_000
ZONE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": "ts", "regime": "territorial_sea", "owners": "PHL-PCG"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[119, 15], [120, 15], [120, 16], [119, 16], [119, 15]]],
            },
        }
    ],
}


def position(ts: int, mmsi: int, lat: float, lon: float, speed: float = 10.0) -> str:
    msg = {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": speed, "course": 90.0}
    (sentence,) = pyais.encode_dict(msg, talker_id="AI", radio_channel="A")
    return tag_block(ts, "rx") + sentence


def static(ts: int, mmsi: int, name: str) -> list[str]:
    msg = {"type": 5, "mmsi": mmsi, "shipname": name, "callsign": "DV" + name[:3]}
    return [tag_block(ts, "rx") + s for s in pyais.encode_dict(msg, talker_id="AI")]


def batches() -> list[list[Any]]:
    """Six batches: a vessel entering the zone (zone_entry, on the ingest side), one going
    silent for 7 h (ais_gap), one jumping 200 km in a minute (speed_anomaly), one renaming
    itself (identity_conflict, from static reports), a satellite detection nobody explains
    (dark_vessel), and a rename and a detection in the same batch as positions."""
    out: list[list[Any]] = []
    for k in range(6):
        t = T0 + k * 5400  # 90 minutes apart: the watermark moves, timers fire
        lines = [
            position(t, 412_000_001, 15.5, 118.9 + 0.04 * k),  # crosses 119 E at k = 3
            position(t + 10, 412_000_003, 10.0 + (2.0 if k == 2 else 0.0), 112.0),
        ]
        if k in (0, 5):
            lines.append(position(t + 20, 412_000_002, 12.0, 113.0, speed=0.0))
        if k in (1, 4):
            lines += static(t + 30, 412_000_004, f"NAME{k}")
        items: list[Any] = [Lines(lines, "PHL-PCG", "rx")]
        if k in (2, 4):
            items.append(Detection(f"sar-{k}", t + 40.0, 5.0, 105.0, "sar", "PHL-PCG", "x"))
        out.append(items)
    return out


def suite(tmp_path: Path) -> list[Any]:
    zones = tmp_path / "zones.geojson"
    if not zones.exists():
        zones.write_text(json.dumps(ZONE))
    settings = Settings(data_dir=tmp_path, zones=(zones,), shore="none")
    return build_detectors(setup_from_settings(settings))


def events_of(results: list[BatchResult]) -> list[dict[str, Any]]:
    return [e for r in results for e in r.events]


def test_the_deferred_detectors_give_the_events_of_the_pipeline(tmp_path: Path) -> None:
    inline = Pipeline(detectors=suite(tmp_path))
    expected = [inline.process(items, now_ts=T0) for items in batches()]
    expected.append(inline.flush(now_ts=T0))

    detectors = suite(tmp_path)
    local = [d for d in detectors if d.kind in ("zone_entry", "zone_exit")]
    remote = DetectorSuite([d for d in detectors if d not in local])
    deferred = Pipeline(detectors=DeferredSuite(local))
    got = []
    for result in [
        *(deferred.process(items, now_ts=T0) for items in batches()),
        deferred.flush(now_ts=T0),
    ]:
        assert len(result.detection) == 1  # one batch's work
        got.append(result.with_events([e for w in result.detection for e in remote.run(w)]))

    want = events_of(expected)
    kinds = {e["kind"] for e in want}
    assert {"zone_entry", "ais_gap", "speed_anomaly", "identity_conflict", "dark_vessel"} <= kinds
    assert len(events_of(got)) == len(want)
    for kind in kinds:  # each detector's events in its order; only the kinds interleave anew
        assert [e for e in events_of(got) if e["kind"] == kind] == [
            e for e in want if e["kind"] == kind
        ]
    for result, before in zip(got, expected, strict=True):
        assert Counter(e["id"] for e in result.store.events) == Counter(
            e["id"] for e in before.store.events
        )
        assert result.detection == []
        subjects_in_order = [s for s, _ in result.messages]
        assert sorted(subjects_in_order) == sorted(s for s, _ in before.messages)
        if subjects.INGEST_STATS in subjects_in_order:  # the counters stay last
            assert subjects_in_order[-1] == subjects.INGEST_STATS


def test_merged_results_keep_the_events_and_detections_of_both() -> None:
    """``BatchResult.merged`` (the runtime merges its last batch with the flush): events and
    non-AIS detections of either part are stored with the merged batch."""
    pipeline = Pipeline(
        detectors=build_detectors(
            setup_from_settings(Settings(shore="none", detectors="dark_vessel"))
        )
    )
    first = pipeline.process(
        [
            Lines([position(T0, 412_000_009, 10.0, 112.0)], "PHL-PCG", "rx"),
            Detection("sar-1", T0 + 5.0, 5.0, 105.0, "sar", "PHL-PCG", "x"),
        ],
        now_ts=T0,
    )
    later = pipeline.process(
        [Lines([position(T0 + 7200, 412_000_009, 10.0, 112.1)], "PHL-PCG", "rx")], now_ts=T0
    )
    assert first.events == [] and [e["kind"] for e in later.events] == ["dark_vessel"]
    merged = first.merged(later)
    assert [e["id"] for e in merged.store.events] == [e["id"] for e in later.events]
    assert [d.id for d in merged.store.detections] == ["sar-1"]
