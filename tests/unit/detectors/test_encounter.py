"""``encounter``: two slow vessels side by side for hours, Global Fishing Watch's definition."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pairwise_scenarios import (
    HOUR,
    T0,
    at,
    documented_defaults,
    final,
    moving,
    report,
    run,
    run_with_restart,
)

from lookout.detectors.base import create_detector
from lookout.detectors.encounter import (
    ENCOUNTER_PROFILES,
    EncounterConfig,
    EncounterDetector,
    PortVerdicts,
)
from lookout.geo.distance import distance_m
from lookout.model import Observation

A, B = 563_000_001, 412_000_002  # B has the smaller MMSI: events list it first


def side_by_side(
    apart_m: float = 300.0,
    hours: float = 3.0,
    speed_a: float = 0.5,
    speed_b: float = 0.5,
    *,
    sog: bool = True,
    origin: tuple[float, float] = (9.93, 114.66),
    start_s: float = 0.0,
) -> list[Observation]:
    """Two vessels ``apart_m`` apart, drifting north together, reporting every 3 minutes."""
    drift = (speed_a + speed_b) / 2
    common = {"start_s": start_s, "every_s": 180.0, "course_deg": 0.0, "sog": sog}
    end = start_s + hours * HOUR
    a = moving(A, end_s=end, speed_kn=drift, origin=origin, **common)
    b = moving(B, end_s=end, east_m=apart_m, speed_kn=drift, origin=origin, **common)
    if sog:  # the reported SOG is what the threshold reads
        a = [replace(o, speed_kn=speed_a) for o in a]
        b = [replace(o, speed_kn=speed_b) for o in b]
    return a + b


def test_two_slow_vessels_side_by_side_for_three_hours_make_one_encounter() -> None:
    events = run(EncounterDetector(), side_by_side())
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    provisional, confirmed = events
    assert provisional["id"] == confirmed["id"] == f"encounter-{B}-{A}-{int(confirmed['start_ts'])}"
    assert confirmed["kind"] == "encounter" and confirmed["mmsi"] is None
    assert confirmed["mmsis"] == [B, A]
    # ticks every 10 minutes: start and end within one tick of the true 3 h
    assert T0 <= confirmed["start_ts"] <= T0 + 600
    assert T0 + 3 * HOUR - 600 <= confirmed["end_ts"] <= T0 + 3 * HOUR
    assert provisional["end_ts"] is None
    assert provisional["ts"] >= provisional["start_ts"] + 2 * HOUR
    details = confirmed["details"]
    assert details["median_distance_m"] == pytest.approx(300.0, abs=2.0)
    assert details["mean_speeds_kn"] == pytest.approx([0.5, 0.5])
    assert details["duration_s"] == confirmed["end_ts"] - confirmed["start_ts"]
    assert details["thresholds"]["max_distance_m"] == 500.0
    assert details["thresholds"]["min_duration_s"] == 7200.0
    assert distance_m(confirmed["lat"], confirmed["lon"], *at(150.0, 1.5 * 0.5 * 1852)) < 100
    # what it rests on: each vessel's latest report, and whose data that is
    assert sorted(o.split("@")[0] for o in confirmed["observations"]) == sorted([str(A), str(B)])
    assert confirmed["members"] == ["PHL"]


@pytest.mark.parametrize(
    ("scenario", "fires"),
    [
        (side_by_side(apart_m=490.0), True),
        (side_by_side(apart_m=510.0), False),
        (side_by_side(hours=2.2), True),
        (side_by_side(hours=1 + 59 / 60), False),
        (side_by_side(speed_a=1.0, speed_b=1.9), True),
        (side_by_side(speed_a=1.0, speed_b=2.1), False),
    ],
    ids=["490 m", "510 m", "2 h 12 min", "1 h 59 min", "1.9 kn", "2.1 kn"],
)
def test_each_threshold_decides(scenario: list[Observation], fires: bool) -> None:
    events = run(EncounterDetector(), scenario)
    assert bool(final(events)) == fires


def test_without_sog_the_speed_is_derived_from_the_track() -> None:
    drifting = run(EncounterDetector(), side_by_side(speed_a=0.8, speed_b=0.8, sog=False))
    steaming = run(EncounterDetector(), side_by_side(speed_a=3.0, speed_b=3.0, sog=False))
    assert [e["status"] for e in final(drifting)] == ["confirmed"]
    assert final(drifting)[0]["details"]["mean_speeds_kn"] == pytest.approx([0.8, 0.8], rel=0.02)
    assert steaming == []


def test_no_encounter_near_a_port_or_anchorage() -> None:
    asked: list[float] = []
    port = at(0.0, 4000.0)

    def near_port(lat: float, lon: float, within_m: float) -> bool:
        asked.append(within_m)
        return distance_m(lat, lon, *port) <= within_m

    assert run(EncounterDetector(near_port=near_port), side_by_side()) == []
    assert set(asked) == {10_000.0}
    far_port = at(0.0, 20_000.0)
    far = EncounterDetector(near_port=lambda la, lo, d: distance_m(la, lo, *far_port) <= d)
    assert len(final(run(far, side_by_side()))) == 1


def test_an_encounter_across_the_antimeridian() -> None:
    events = final(run(EncounterDetector(), side_by_side(origin=(-16.0, 179.9985))))
    assert len(events) == 1
    assert events[0]["details"]["median_distance_m"] == pytest.approx(300.0, abs=2.0)
    assert abs(events[0]["lon"]) > 179.99


def test_the_skylight_profile_is_shorter_and_tighter() -> None:
    skylight = ENCOUNTER_PROFILES["skylight"]
    assert (skylight.max_distance_m, skylight.min_duration_s) == (250.0, 1800.0)
    short = side_by_side(apart_m=240.0, hours=40 / 60)
    assert len(final(run(EncounterDetector(skylight), short))) == 1
    assert run(EncounterDetector(ENCOUNTER_PROFILES["gfw"]), short) == []
    assert run(EncounterDetector(skylight), side_by_side(apart_m=260.0, hours=40 / 60)) == []


def test_silence_does_not_end_an_encounter_but_a_separation_does() -> None:
    together = side_by_side(hours=1.5) + side_by_side(hours=1.5, start_s=4.5 * HOUR)
    events = final(run(EncounterDetector(), together))  # both silent for 3 h in between
    assert len(events) == 1
    assert events[0]["end_ts"] - events[0]["start_ts"] >= 5.5 * HOUR
    apart = side_by_side(apart_m=2000.0, hours=3.0, start_s=1.5 * HOUR)
    separated = side_by_side(hours=1.5) + side_by_side(hours=1.5, start_s=4.5 * HOUR)
    separated += [o for o in apart if 1.5 * HOUR < o.observed_ts - T0 < 4.5 * HOUR]
    assert run(EncounterDetector(), separated) == []


def test_an_encounter_still_open_waits_for_its_end_before_it_is_confirmed() -> None:
    """Tick T is compared once the data reach T + 70 min (GFW's interpolation gap)."""
    detector = EncounterDetector()
    events = []
    for obs in sorted(side_by_side(hours=3.5), key=lambda o: o.observed_ts):
        events += detector.on_observation(obs)
        events += detector.advance(obs.observed_ts)
    assert [e["status"] for e in events] == ["provisional"]
    assert len(detector.open_episodes()) == 1
    assert [e["status"] for e in detector.advance(math.inf)] == ["confirmed"]


def test_reports_too_late_to_be_compared_are_counted() -> None:
    detector = EncounterDetector()
    for obs in sorted(side_by_side(hours=3.5), key=lambda o: o.observed_ts):
        detector.on_observation(obs)
        detector.advance(obs.observed_ts)
    assert detector.late_positions == 0
    detector.on_observation(report(A, 1 * HOUR, 0.0, 0.0, 0.5, 0.0))  # older than A's latest
    detector.on_observation(report(300_000_003, 600.0, 0.0, 0.0, 0.5, 0.0))  # tick swept
    detector.on_observation(report(300_000_003, 3.5 * HOUR, 0.0, 0.0, 0.5, 0.0))
    assert detector.late_positions == 2


def test_registered_by_kind_with_its_published_thresholds() -> None:
    detector = create_detector("encounter")
    assert isinstance(detector, EncounterDetector)
    assert detector.thresholds() == EncounterConfig().values()
    with pytest.raises(ValueError, match="max_distance_m"):
        EncounterConfig(max_distance_m=-1.0)


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_snapshot_and_restore_give_the_same_events(data: st.DataObject) -> None:
    scenario = side_by_side(hours=3.0) + moving(
        300_000_003, start_s=0, end_s=3 * HOUR, every_s=300, speed_kn=1.0, course_deg=45.0
    )
    split = data.draw(st.integers(0, len(scenario)))
    expected = run(EncounterDetector(), scenario)
    assert run_with_restart(EncounterDetector, scenario, split) == expected
    assert expected  # the scenario does fire


def gfw_pair(shared_data) -> tuple[list[Observation], dict[str, object]]:
    folder = shared_data / "tracks" / "gfw-encounter-pair-2015"
    observations = []
    with (folder / "positions.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            ts = datetime.fromisoformat(row["timestamp_utc"].replace("Z", "+00:00")).timestamp()
            lat, lon = float(row["lat"]), float(row["lon"])
            fields = (None, None, None, None, "GFW", "csv", ("csv",), ts, "")
            observations.append(Observation(int(row["mmsi"]), 1, ts, lat, lon, *fields))
    expected = json.loads((folder / "expected_encounters.json").read_text())["encounters"][0]
    return observations, expected


def test_the_real_gfw_encounter_pair_matches_their_result(shared_data) -> None:
    """GFW's encounters pipeline finds 07:40-20:10 UTC on 2015-03-19 for this pair (no SOG in
    the data: the speeds are derived); we must match each end within 10 minutes."""
    observations, expected = gfw_pair(shared_data)
    events = run(EncounterDetector(), observations)
    confirmed = [e for e in events if e["status"] == "confirmed"]
    assert len(confirmed) == 1
    event = confirmed[0]
    assert event["mmsis"] == sorted([int(expected["vessel_1"]), int(expected["vessel_2"])])
    start = datetime.fromisoformat(str(expected["start"]).replace("Z", "+00:00")).timestamp()
    end = datetime.fromisoformat(str(expected["end"]).replace("Z", "+00:00")).timestamp()
    assert abs(event["start_ts"] - start) <= 600
    assert abs(event["end_ts"] - end) <= 600
    gfw_median_m = float(expected["median_distance_km"]) * 1000
    assert event["details"]["median_distance_m"] == pytest.approx(gfw_median_m, abs=5.0)
    assert distance_m(event["lat"], event["lon"], expected["mean_lat"], expected["mean_lon"]) < 100


def test_every_threshold_is_documented_with_its_default() -> None:
    assert documented_defaults("encounter") == EncounterConfig().values()


def test_port_verdicts_remembered_from_the_last_tick_are_the_predicates_answers() -> None:
    asked: list[tuple[float, float]] = []
    port = (0.0, 0.04)

    def near_port(lat: float, lon: float, within_m: float) -> bool:
        asked.append((lat, lon))
        return distance_m(lat, lon, *port) <= within_m

    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-0.1, 0.1, 300), rng.uniform(-0.1, 0.1, 300)
    verdicts = PortVerdicts()
    first = verdicts.near(near_port, lat, lon, 10_000.0)
    assert len(asked) == 300 and 0 < first.sum() < 300
    # the next tick: the same points shuffled, three of them moved, two new ones
    order = rng.permutation(300)
    lat2, lon2 = np.append(lat[order], [0.05, -0.05]), np.append(lon[order], [0.05, 0.0])
    lat2[:3] += 0.02
    asked.clear()
    again = verdicts.near(near_port, lat2, lon2, 10_000.0)
    assert again.tolist() == [near_port(a, b, 10_000.0) for a, b in zip(lat2, lon2, strict=True)]
    assert len(asked) == 5 + len(lat2)  # only the moved and new points were asked, then ours
    # another distance or predicate: asked afresh
    asked.clear()
    verdicts.near(near_port, lat2, lon2, 20_000.0)
    assert len(asked) == len(lat2)
