"""``dark_vessel``: a non-AIS detection that no AIS vessel explains (Skylight's 1,500 m)."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from pairwise_scenarios import documented_defaults
from vessel_scenarios import observation

from lookout.detectors.base import detector_types
from lookout.detectors.dark import DarkVesselConfig, DarkVesselDetector
from lookout.geo.distance import destination
from lookout.model import Detection, Observation, ReportRecord
from lookout.pipeline.engine import Pipeline

T0 = 1_700_000_000.0
M = 563_000_001
LAT, LON = 10.0, 115.0
Item = Observation | Detection


def sail(
    mmsi: int, start_ts: float, lat: float, lon: float, *, every_s: float, count: int, kn: float
) -> list[Observation]:
    """A vessel sailing due east at ``kn`` knots, reporting every ``every_s`` seconds."""
    out = []
    for i in range(count):
        la, lo = destination(lat, lon, 90.0, kn * 1852.0 / 3600.0 * i * every_s)
        out.append(observation(mmsi, start_ts + i * every_s, la, lo))
    return out


def run(detector: DarkVesselDetector, items: Sequence[Item], *, split: int | None = None) -> list:
    """Items in the order given (the watermark following positions), then the end of input.
    With ``split``, the detector is snapshotted through JSON after that many items and a new
    one restored from it does the rest."""
    events: list[dict[str, Any]] = []
    watermark = -math.inf
    for n, item in enumerate(items):
        if n == split:
            fresh = DarkVesselDetector(detector.config)
            fresh.restore(json.loads(json.dumps(detector.snapshot(), allow_nan=False)))
            detector = fresh
        if isinstance(item, Detection):
            events += detector.on_detection(item)
        else:
            events += detector.on_observation(item)
            watermark = max(watermark, item.observed_ts)
        events += detector.advance(watermark)
    return events + detector.advance(math.inf)


def at(bearing_deg: float, metres: float, ts: float = T0, det_id: str = "d1") -> Detection:
    lat, lon = destination(LAT, LON, bearing_deg, metres)
    return Detection(det_id, ts, lat, lon, "sar", "PHL-PCG")


def test_a_detection_on_an_interpolated_track_is_explained() -> None:
    # reports 20 minutes apart; the detection falls between two of them, on the track
    track = sail(M, T0 - 3600, LAT, LON - 0.2, every_s=1200, count=7, kn=12)
    midway = T0 + 600
    la, lo = destination(
        LAT, LON - 0.2, 90.0, 12 * 1852.0 / 3600.0 * (midway - track[0].observed_ts)
    )
    det = Detection("on-track", midway, la, lo, "sar")
    assert run(DarkVesselDetector(), [det, *track]) == []


def test_a_detection_two_km_from_every_track_is_a_dark_vessel() -> None:
    track = sail(M, T0 - 3600, LAT, LON - 0.2, every_s=1200, count=7, kn=12)
    midway = T0 + 600
    la, lo = destination(
        LAT, LON - 0.2, 90.0, 12 * 1852.0 / 3600.0 * (midway - track[0].observed_ts)
    )
    la2, lo2 = destination(la, lo, 0.0, 2000.0)  # 2 km north of the vessel at that moment
    det = Detection("sar-42", midway, la2, lo2, "sar", "PHL-PCG")
    events = run(DarkVesselDetector(), [det, *track])
    assert len(events) == 1
    event = events[0]
    assert event["kind"] == "dark_vessel" and event["status"] == "confirmed"
    assert event["id"] == "dark_vessel-PHL-PCG-sar-42"  # detection ids are unique per member
    assert event["mmsi"] is None and event["mmsis"] == [] and event["observations"] == []
    assert event["start_ts"] == event["end_ts"] == midway
    assert (event["lat"], event["lon"]) == (la2, lo2)
    assert event["members"] == ["PHL-PCG"]
    details = event["details"]
    assert details["detection_id"] == "sar-42" and details["detection_source"] == "sar"
    assert details["nearest_mmsi"] == M
    assert details["nearest_distance_m"] == pytest.approx(2000.0, abs=5.0)
    assert details["vessels_nearby"] == 1
    assert details["thresholds"]["match_radius_m"] == 1500.0
    assert event["ts"] == midway + 3600.0  # decided once every bracketing report could be in


def test_the_match_radius_is_the_line_between_explained_and_dark() -> None:
    still = [observation(M, T0 + k * 600, LAT, LON) for k in range(-6, 7)]
    fired = {
        metres: bool(run(DarkVesselDetector(), [at(45.0, metres), *still]))
        for metres in (1400.0, 1600.0)
    }
    assert fired == {1400.0: False, 1600.0: True}


def test_a_track_gap_over_an_hour_is_not_interpolated() -> None:
    # the vessel passes right over the detection, but reports 40 minutes before and after
    before = observation(M, T0 - 2400, *destination(LAT, LON, 270.0, 8000.0))
    after = observation(M, T0 + 2400, *destination(LAT, LON, 90.0, 8000.0))
    det = at(0.0, 0.0)
    events = run(DarkVesselDetector(), [det, before, after])
    assert [e["details"]["nearest_mmsi"] for e in events] == [None]
    # the same passage reported 25 minutes either side is interpolated
    before = observation(M, T0 - 1500, *destination(LAT, LON, 270.0, 5000.0))
    after = observation(M, T0 + 1500, *destination(LAT, LON, 90.0, 5000.0))
    assert run(DarkVesselDetector(), [det, before, after]) == []


def test_a_single_report_next_to_the_detection_time_counts() -> None:
    lone = observation(M, T0 + 30, LAT, LON)  # no other report for hours
    assert run(DarkVesselDetector(), [at(0.0, 500.0), lone]) == []
    late = observation(M, T0 + 300, LAT, LON)  # five minutes off: unknown at T0
    assert len(run(DarkVesselDetector(), [at(0.0, 500.0), late])) == 1


def test_late_positions_before_the_decision_count() -> None:
    # member A's receiver hears nothing near the detection; member B's report of the vessel
    # there arrives out of order, 50 minutes of data time later, before the decision
    others = [observation(M + 1, T0 + k * 600, 0.0, 0.0) for k in range(-3, 6)]
    late = observation(M, T0 + 10, LAT, LON, member="VNM")
    items: list[Item] = [at(0.0, 300.0), *others[:8], late, *others[8:]]
    assert run(DarkVesselDetector(), items) == []
    # after the decision it is too late: the event stands
    items = [at(0.0, 300.0), *others, observation(M + 1, T0 + 3700, 0.0, 0.0), late]
    assert len(run(DarkVesselDetector(), items)) == 1


def test_a_detection_arriving_after_its_positions_were_dropped_is_counted_not_judged() -> None:
    detector = DarkVesselDetector()
    hours = [observation(M, T0 + k * 900, LAT, LON) for k in range(0, 4 * 12)]  # 12 h
    run(detector, hours)
    events = detector.on_detection(at(90.0, 9000.0, ts=T0 + 3600)) + detector.advance(math.inf)
    assert events == [] and detector.late_detections == 1
    # one that is late but within max_delay_s is still judged
    events = detector.on_detection(at(90.0, 9000.0, ts=T0 + 10 * 3600)) + detector.advance(math.inf)
    assert len(events) == 1 and detector.late_detections == 1


def test_detections_of_one_scene_are_decided_together_each_with_its_own_event() -> None:
    still = [observation(M, T0 + k * 600, LAT, LON) for k in range(-6, 7)]
    scene = [at(b, 5000.0, det_id=f"s{b:.0f}") for b in (0.0, 90.0, 180.0)] + [
        at(0.0, 100.0, det_id="explained")
    ]
    events = run(DarkVesselDetector(), [*scene, *still])
    assert sorted(e["details"]["detection_id"] for e in events) == ["s0", "s180", "s90"]
    assert all(e["details"]["nearest_mmsi"] == M for e in events)


def test_across_the_antimeridian() -> None:
    track = [observation(M, T0 + k * 600, 0.0, 179.999) for k in range(-3, 4)]
    near = Detection("east", T0, 0.0, -179.999, "radar")  # 222 m away across the line
    assert run(DarkVesselDetector(), [near, *track]) == []


def test_snapshot_and_restore_mid_stream_give_the_same_events() -> None:
    vessels = [
        *sail(M, T0 - 3600, LAT, LON - 0.2, every_s=30, count=300, kn=12),
        *sail(M + 1, T0 - 3000, LAT + 0.05, LON - 0.1, every_s=200, count=40, kn=6),
    ]
    vessels.sort(key=lambda o: o.observed_ts)
    dets = [at(b, 4000.0, ts=T0 + 60 * b, det_id=f"d{b:.0f}") for b in (0, 30, 60, 90, 120)]
    items: list[Item] = [*dets[:2], *vessels[:150], *dets[2:], *vessels[150:]]
    whole = run(DarkVesselDetector(), items)
    assert len(whole) >= 2
    for split in (1, 100, 160, 250, len(items) - 1):
        assert run(DarkVesselDetector(), items, split=split) == whole


def test_thinning_keeps_the_answers_of_the_full_track() -> None:
    """A vessel reporting every 10 s, with silences of 59 and 61 minutes: the positions kept
    give every detection the verdict of interpolating between all of them."""
    rng = np.random.default_rng(7)
    obs, ts, lat, lon, course = [], T0 - 7200, LAT, LON, 0.0
    for _ in range(3000):
        ts += float(rng.choice([3540.0, 3660.0])) if rng.random() < 0.01 else 10.0
        course += float(rng.normal(0.0, 3.0))
        lat, lon = destination(lat, lon, course, 60.0)  # about 12 knots, turning slowly
        obs.append(observation(M, ts, lat, lon))
    dets, expected = [], set()
    for n in range(120):
        t = float(rng.uniform(obs[0].observed_ts, obs[-1].observed_ts))
        where = full_track_position(t, obs)
        far = bool(rng.random() < 0.5)
        if where is None:
            where = (obs[0].lat, obs[0].lon)
            expected.add(f"d{n}")
        elif far:
            expected.add(f"d{n}")
        place = destination(*where, float(rng.uniform(0, 360)), 2200.0 if far else 800.0)
        dets.append(Detection(f"d{n}", t, *place, "sar"))
    events = run(DarkVesselDetector(), [*dets, *obs])
    assert {e["details"]["detection_id"] for e in events} == expected
    unknown = sum(full_track_position(d.ts, obs) is None for d in dets)
    assert 0 < unknown < len(dets) // 2


def full_track_position(ts: float, obs: list[Observation]) -> tuple[float, float] | None:
    """Where the vessel was at ``ts`` by the rule, computed the slow way over every position."""
    for a, b in itertools.pairwise(obs):
        if a.observed_ts <= ts <= b.observed_ts and b.observed_ts - a.observed_ts <= 3600:
            f = (ts - a.observed_ts) / (b.observed_ts - a.observed_ts)
            return a.lat + f * (b.lat - a.lat), a.lon + f * (b.lon - a.lon)
    nearest = min(obs, key=lambda o: abs(o.observed_ts - ts))
    if abs(nearest.observed_ts - ts) <= 60:
        return nearest.lat, nearest.lon
    return None


def test_sar_aircraft_explain_nothing() -> None:
    plane = [observation(111_563_001, T0 + k * 60, LAT, LON, msg_type=9) for k in range(-5, 6)]
    assert len(run(DarkVesselDetector(), [at(0.0, 0.0), *plane])) == 1


def test_fifty_thousand_vessels_do_not_blow_up() -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    lats = rng.uniform(5.0, 20.0, n)
    lons = rng.uniform(108.0, 121.0, n)
    detector = DarkVesselDetector()
    dets = [
        Detection(f"d{k}", T0 + 600, float(lats[k]) + 0.05, float(lons[k]), "sar")
        for k in range(200)
    ]
    for det in dets:
        detector.on_detection(det)
    obs = [
        observation(100_000_000 + i, T0 + step * 600 + (i % 600), float(lats[i]), float(lons[i]))
        for step in range(8)
        for i in range(n)
    ]
    started = time.perf_counter()
    for o in obs:
        detector.on_observation(o)
    per_position_s = (time.perf_counter() - started) / len(obs)
    started = time.perf_counter()
    events = detector.advance(obs[-1].observed_ts)
    decide_s = time.perf_counter() - started
    assert per_position_s < 20e-6, per_position_s  # measured about 1.5 µs
    assert decide_s < 5.0, decide_s  # 200 detections of one scene, measured about 0.4 s
    # 5.5 km north of a vessel: dark, unless another vessel happens to be near
    assert 150 < len(events) <= 200
    assert len(detector.history) <= 8 * n


def test_registered_and_documented() -> None:
    assert detector_types()["dark_vessel"] is DarkVesselDetector
    assert documented_defaults("dark_vessel") == DarkVesselConfig().values()


def test_the_pipeline_hands_detections_to_the_detector_and_nothing_else() -> None:
    records = [ReportRecord(M, T0 + k * 300, LAT, LON, "PHL-PCG", "ais") for k in range(-12, 16)]
    dark = at(0.0, 5000.0, det_id="radar-7")
    explained = at(0.0, 200.0, det_id="radar-8")
    pipeline = Pipeline(detectors=[DarkVesselDetector()])
    first = pipeline.process([dark, explained, *records[:10]], now_ts=T0)
    assert first.events == [] and pipeline.tracker.watermark_ts == records[9].observed_ts
    assert sum(c.lines for c in first.store.counts) == 10  # detections are not input lines
    second = pipeline.process(records[10:], now_ts=T0)
    assert [e["id"] for e in second.events] == ["dark_vessel-PHL-PCG-radar-7"]
    assert any(subject == "lookout.event.dark_vessel" for subject, _ in second.messages)


def test_the_detector_suite_builds_it_from_a_config_file() -> None:
    from lookout.service.detection import DetectionSetup, build_detectors, parse_detector_config

    kinds, configs = parse_detector_config(
        {"detectors": {"enabled": ["dark_vessel"]}, "dark_vessel": {"match_radius_m": 1000}}
    )
    (detector,) = build_detectors(DetectionSetup(kinds=kinds, configs=configs))
    assert isinstance(detector, DarkVesselDetector)
    still = [observation(M, T0 + k * 600, LAT, LON) for k in range(-6, 7)]
    assert len(run(detector, [at(0.0, 1200.0), *still])) == 1  # explained at 1,500 m


def test_a_batch_keeps_the_positions_one_observation_at_a_time_keeps() -> None:
    """The batch path (the history's commonest case inlined) against the scalar one: in
    order, out of order, thinned, before and after silences, older than the horizon, and a
    SAR aircraft."""
    rng = np.random.default_rng(11)
    obs, ts = [], T0
    for k in range(2000):
        ts += float(rng.choice([5.0, 60.0, 130.0, 4000.0], p=[0.4, 0.3, 0.28, 0.02]))
        late = float(rng.choice([0.0, 300.0, 30_000.0], p=[0.95, 0.04, 0.01]))
        mmsi = 563_000_000 + int(rng.integers(6))
        kind = 9 if k % 97 == 0 else 1
        obs.append(observation(mmsi, ts - late, LAT, LON + k * 1e-4, msg_type=kind))
    one, many = DarkVesselDetector(), DarkVesselDetector()
    for start in range(0, len(obs), 250):
        part = obs[start : start + 250]
        for o in part:
            one.on_observation(o)
        many.on_observations(part)
        watermark = max(o.observed_ts for o in part)
        assert many.advance(watermark) == one.advance(watermark)
    assert many.snapshot() == one.snapshot()
    assert many.history.late_positions == one.history.late_positions > 0
