"""``shadowing``: vessel B keeps within 2 km of vessel A, both under way on nearly the same
course, for an hour or more."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pairwise_scenarios import (
    HOUR,
    T0,
    documented_defaults,
    final,
    legs,
    moving,
    run,
    run_with_restart,
)

from lookout.detectors.base import create_detector
from lookout.detectors.shadowing import ShadowingConfig, ShadowingDetector, course_difference_deg
from lookout.model import Observation

LEADER, FOLLOWER = 563_000_009, 412_000_001  # the follower has the smaller MMSI


def following(
    astern_m: float = 1000.0,
    minutes: float = 90.0,
    speed_kn: float = 12.0,
    *,
    origin: tuple[float, float] = (9.93, 114.66),
    mmsis: tuple[int, int] = (LEADER, FOLLOWER),
) -> list[Observation]:
    """The follower ``astern_m`` behind the leader, both heading east at ``speed_kn``."""
    common = {"start_s": 0.0, "end_s": minutes * 60, "every_s": 10.0, "course_deg": 90.0}
    lead = moving(mmsis[0], speed_kn=speed_kn, origin=origin, **common)
    follow = moving(mmsis[1], east_m=-astern_m, speed_kn=speed_kn, origin=origin, **common)
    return lead + follow


def test_a_vessel_following_another_for_90_minutes_is_shadowing_it() -> None:
    events = run(ShadowingDetector(), following())
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    event = events[-1]
    assert event["kind"] == "shadowing" and event["mmsi"] is None
    assert event["mmsis"] == [FOLLOWER, LEADER]
    assert event["id"] == events[0]["id"]
    assert T0 <= event["start_ts"] <= T0 + 60 and event["end_ts"] >= T0 + 90 * 60 - 60
    details = event["details"]
    assert details["ahead_mmsi"] == LEADER and details["shadower_mmsi"] == FOLLOWER
    assert details["ahead_fraction"] == 1.0
    assert details["median_distance_m"] == pytest.approx(1000.0, abs=5.0)
    assert details["median_course_difference_deg"] == 0.0
    assert details["mean_speeds_kn"] == [12.0, 12.0]
    assert details["thresholds"]["max_course_difference_deg"] == 30.0


def zigzag(leg_course_offset_deg: float) -> list[Observation]:
    """The follower 500 m astern weaves across the leader's track in 2-minute legs on
    courses 90 +/- the offset, fast enough to keep up (12 kn / cos(offset))."""
    speed = 12.0 / math.cos(math.radians(leg_course_offset_deg))
    plan = [
        (120.0, speed, 90.0 + (leg_course_offset_deg if k % 2 else -leg_course_offset_deg))
        for k in range(45)
    ]
    lead = moving(LEADER, start_s=0.0, end_s=90 * 60, every_s=10.0, speed_kn=12.0, course_deg=90.0)
    weave = legs(FOLLOWER, start_s=0.0, every_s=10.0, east_m=-500.0, north_m=0.0, plan=plan)
    return lead + weave


@pytest.mark.parametrize(
    ("scenario", "fires"),
    [
        (zigzag(25.0), True),
        (zigzag(35.0), False),
        (following(astern_m=1900.0), True),
        (following(astern_m=2100.0), False),
        (following(speed_kn=4.5), True),
        (following(speed_kn=3.5), False),
        (following(minutes=65.0), True),
        (following(minutes=55.0), False),
    ],
    ids=["25 deg", "35 deg", "1.9 km", "2.1 km", "4.5 kn", "3.5 kn", "65 min", "55 min"],
)
def test_each_threshold_decides(scenario: list[Observation], fires: bool) -> None:
    assert bool(final(run(ShadowingDetector(), scenario))) == fires


def test_the_follower_is_named_whichever_mmsi_is_smaller() -> None:
    swapped = following(mmsis=(FOLLOWER, LEADER))  # now FOLLOWER's number leads
    details = final(run(ShadowingDetector(), swapped))[0]["details"]
    assert (details["ahead_mmsi"], details["shadower_mmsi"]) == (FOLLOWER, LEADER)


def test_shadowing_across_the_antimeridian() -> None:
    events = final(run(ShadowingDetector(), following(origin=(12.0, 179.95))))
    assert len(events) == 1
    assert events[0]["details"]["median_distance_m"] == pytest.approx(1000.0, abs=5.0)
    assert events[0]["details"]["shadower_mmsi"] == FOLLOWER


def test_course_difference_is_the_smaller_angle() -> None:
    import numpy as np

    got = course_difference_deg(np.array([350.0, 10.0, 90.0]), np.array([10.0, 350.0, 270.0]))
    assert got.tolist() == [20.0, 20.0, 180.0]


def test_registered_by_kind_with_its_published_thresholds() -> None:
    detector = create_detector("shadowing")
    assert isinstance(detector, ShadowingDetector)
    assert detector.thresholds() == ShadowingConfig().values()


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_snapshot_and_restore_give_the_same_events(data: st.DataObject) -> None:
    scenario = following(minutes=75.0)
    split = data.draw(st.integers(0, len(scenario)))
    expected = run(ShadowingDetector(), scenario)
    assert run_with_restart(ShadowingDetector, scenario, split) == expected
    assert len(expected) == 2


def test_a_silent_follower_does_not_end_the_shadowing_at_once() -> None:
    """Ten minutes without the follower's reports (no evidence) do not split the episode."""
    scenario = [
        o
        for o in following(minutes=90.0)
        if not (o.mmsi == FOLLOWER and 30 * 60 < o.observed_ts - T0 < 40 * 60)
    ]
    events = final(run(ShadowingDetector(), scenario))
    assert len(events) == 1
    assert events[0]["end_ts"] - events[0]["start_ts"] >= HOUR + 25 * 60


def test_every_threshold_is_documented_with_its_default() -> None:
    assert documented_defaults("shadowing") == ShadowingConfig().values()
