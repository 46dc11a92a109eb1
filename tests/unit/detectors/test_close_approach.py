"""``close_approach``: two vessels passing within 200 m at a relative speed above 5 kn."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pairwise_scenarios import T0, at, documented_defaults, final, moving, run, run_with_restart

from lookout.detectors.base import create_detector
from lookout.detectors.close_approach import CloseApproachConfig, CloseApproachDetector
from lookout.geo.distance import MPS_PER_KN, distance_m
from lookout.model import Observation

A, B = 412_000_001, 563_000_002
KN10 = 10 * MPS_PER_KN


def crossing(
    cpa_m: float, *, speed_kn: float = 10.0, origin: tuple[float, float] = (9.93, 114.66)
) -> list[Observation]:
    """A heads east from 3 km west of the origin, B north from 3 km south of it, offset east
    so that the closest point of approach is ``cpa_m``. Relative position at time t:
    (3000 + d - v t, -3000 + v t), closest when v t = 3000 + d / 2, at distance d / sqrt(2)."""
    d = cpa_m * math.sqrt(2)
    common = {"start_s": 0.0, "end_s": 900.0, "every_s": 10.0, "speed_kn": speed_kn}
    a = moving(A, east_m=-3000.0, course_deg=90.0, origin=origin, **common)
    b = moving(B, east_m=d, north_m=-3000.0, course_deg=0.0, origin=origin, **common)
    return a + b


def cpa_time(cpa_m: float, speed_kn: float = 10.0) -> float:
    return T0 + (3000 + cpa_m * math.sqrt(2) / 2) / (speed_kn * MPS_PER_KN)


def test_a_crossing_within_200_m_is_one_instantaneous_event_at_the_closest_point() -> None:
    events = run(CloseApproachDetector(), crossing(100.0))
    assert len(events) == 1
    event = events[0]
    assert event["kind"] == "close_approach" and event["status"] == "confirmed"
    assert event["mmsis"] == [A, B] and event["mmsi"] is None
    assert event["start_ts"] == event["end_ts"] == event["ts"]
    assert event["start_ts"] == pytest.approx(cpa_time(100.0), abs=2.0)
    details = event["details"]
    assert details["cpa_m"] == pytest.approx(100.0, abs=3.0)
    assert details["relative_speed_kn"] == pytest.approx(10 * math.sqrt(2), abs=0.1)
    assert details["speeds_kn"] == [10.0, 10.0]
    assert details["courses_deg"] == [90.0, 0.0]
    assert details["thresholds"]["max_cpa_m"] == 200.0
    d = 100 * math.sqrt(2)  # then A is at (d / 2, 0) and B at (d, d / 2): halfway between
    assert distance_m(event["lat"], event["lon"], *at(3 * d / 4, d / 4)) < 5
    assert event["id"] == f"close_approach-{A}-{B}-{math.floor(event['start_ts'])}"


@pytest.mark.parametrize(("cpa_m", "fires"), [(190.0, True), (210.0, False)])
def test_the_distance_threshold(cpa_m: float, fires: bool) -> None:
    assert bool(run(CloseApproachDetector(), crossing(cpa_m))) == fires


def overtaking(speed_a: float, speed_b: float, a: int = A, b: int = B) -> list[Observation]:
    """B overtakes A on a parallel course 100 m to port, starting 1 km astern."""
    common = {"start_s": 0.0, "end_s": 3600.0, "every_s": 10.0, "course_deg": 90.0}
    first = moving(a, speed_kn=speed_a, **common)
    second = moving(b, east_m=-1000.0, north_m=100.0, speed_kn=speed_b, **common)
    return first + second


def test_the_relative_speed_threshold_and_one_event_per_passage() -> None:
    """At 6 kn relative, the pair is within 200 m for about a minute, over several ticks:
    one event; at 4 kn, none."""
    fast = run(CloseApproachDetector(), overtaking(10.0, 16.0))
    assert len(fast) == 1
    assert fast[0]["details"]["cpa_m"] == pytest.approx(100.0, abs=3.0)
    assert fast[0]["details"]["relative_speed_kn"] == pytest.approx(6.0, abs=0.05)
    assert fast[0]["start_ts"] == pytest.approx(T0 + 1000 / (6 * MPS_PER_KN), abs=2.0)
    assert run(CloseApproachDetector(), overtaking(10.0, 14.0)) == []


def test_a_fast_head_on_pass_between_two_ticks_is_caught() -> None:
    """25 kn each way: the 200 m circle is crossed in 10 s, a third of a tick."""
    common = {"start_s": 0.0, "end_s": 600.0, "every_s": 5.0, "speed_kn": 25.0}
    a = moving(A, east_m=-4000.0, course_deg=90.0, **common)
    b = moving(B, east_m=4000.0, north_m=50.0, course_deg=270.0, **common)
    events = run(CloseApproachDetector(), a + b)
    assert len(events) == 1
    assert events[0]["details"]["cpa_m"] == pytest.approx(50.0, abs=3.0)
    assert events[0]["start_ts"] == pytest.approx(T0 + 4000 / (25 * MPS_PER_KN), abs=1.0)
    assert events[0]["details"]["relative_speed_kn"] == pytest.approx(50.0, abs=0.1)


def test_no_event_near_a_port() -> None:
    port = at(0.0, 0.0)
    in_port = CloseApproachDetector(near_port=lambda la, lo, d: distance_m(la, lo, *port) <= d)
    assert run(in_port, crossing(100.0)) == []


def test_a_pass_across_the_antimeridian() -> None:
    events = run(CloseApproachDetector(), crossing(100.0, origin=(0.0, 179.9999)))
    assert len(events) == 1
    assert events[0]["details"]["cpa_m"] == pytest.approx(100.0, abs=3.0)
    assert abs(events[0]["lon"]) > 179.99


def test_registered_by_kind_with_its_published_thresholds() -> None:
    detector = create_detector("close_approach")
    assert isinstance(detector, CloseApproachDetector)
    assert detector.thresholds() == CloseApproachConfig().values()


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_snapshot_and_restore_give_the_same_events(data: st.DataObject) -> None:
    scenario = crossing(100.0) + overtaking(10.0, 16.0, 300_000_003, 300_000_004)
    split = data.draw(st.integers(0, len(scenario)))
    expected = run(CloseApproachDetector(), scenario)
    assert run_with_restart(CloseApproachDetector, scenario, split) == expected
    assert len(final(expected)) == 2


def test_every_threshold_is_documented_with_its_default() -> None:
    assert documented_defaults("close_approach") == CloseApproachConfig().values()
