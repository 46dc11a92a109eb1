"""``swarm``: at least 10 slow vessels within 5 nm of one centre for 6 hours (Whitsun Reef)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pairwise_scenarios import (
    HOUR,
    T0,
    WHITSUN_REEF,
    at,
    documented_defaults,
    final,
    legs,
    moving,
    run,
    run_with_restart,
)

from lookout.detectors.base import create_detector
from lookout.detectors.pairwise import TickFrame
from lookout.detectors.swarm import DiscMemo, SwarmConfig, SwarmDetector, _near_test, find_swarms
from lookout.geo.cover import densest_disc
from lookout.geo.distance import METRES_PER_NM, distance_m
from lookout.geo.grid import SpatialGrid
from lookout.model import Observation

FLEET = [412_400_000 + k for k in range(30)]


def moored(
    count: int,
    hours: float = 7.0,
    *,
    start_s: float = 0.0,
    origin: tuple[float, float] = WHITSUN_REEF,
    mmsis: list[int] = FLEET,
    spread_m: float = 3 * METRES_PER_NM,
) -> list[Observation]:
    """``count`` vessels on a ring of radius ``spread_m`` around ``origin``, drifting at
    0.3 kn, reporting every 3 minutes (class A at anchor)."""
    out = []
    for k, mmsi in enumerate(mmsis[:count]):
        angle = 2 * math.pi * k / count
        out += moving(
            mmsi,
            start_s=start_s + 7 * k,  # reports not simultaneous
            end_s=start_s + hours * HOUR,
            every_s=180.0,
            east_m=spread_m * math.sin(angle),
            north_m=spread_m * math.cos(angle),
            speed_kn=0.3,
            course_deg=45.0,
            origin=origin,
        )
    return out


def test_twelve_vessels_moored_at_a_reef_for_seven_hours_are_a_swarm() -> None:
    events = run(SwarmDetector(), moored(12))
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    event = events[-1]
    assert event["id"] == events[0]["id"]
    assert event["kind"] == "swarm" and event["mmsi"] is None
    assert event["mmsis"] == FLEET[:12]
    assert T0 <= event["start_ts"] <= T0 + 600
    assert event["end_ts"] >= T0 + 7 * HOUR - 600 - 100
    assert events[0]["end_ts"] is None and events[0]["ts"] >= events[0]["start_ts"] + 6 * HOUR
    # the drift moves the centre about 1 nm north-east over 7 hours
    assert distance_m(event["lat"], event["lon"], *WHITSUN_REEF) < 2000
    details = event["details"]
    assert details["vessels"] == details["peak_vessels"] == 12
    assert details["mean_vessels"] == 12
    assert details["thresholds"]["min_vessels"] == 10


def moving_in_circles(mmsi: int, speed_kn: float, hours: float = 7.0) -> list[Observation]:
    """A vessel circling 1 nm from the reef at ``speed_kn`` (36 legs of 10 degrees a turn)."""
    circumference = 2 * math.pi * METRES_PER_NM
    leg_s = circumference / 36 / (speed_kn * 1852 / 3600)
    laps = math.ceil(hours * HOUR / (leg_s * 36))
    plan = [(leg_s, speed_kn, (90.0 + 10 * k) % 360) for k in range(36)] * laps
    return legs(mmsi, start_s=0.0, every_s=60.0, east_m=0.0, north_m=METRES_PER_NM, plan=plan)


@pytest.mark.parametrize(
    ("scenario", "fires"),
    [
        (moored(10), True),
        (moored(9), False),
        (moored(10, hours=6.5), True),
        (moored(10, hours=5.5), False),
        (moored(8, spread_m=4.5 * METRES_PER_NM) + moored(2, mmsis=FLEET[20:]), True),
        (moored(8) + [o for m in FLEET[20:22] for o in moving_in_circles(m, 2.5)], True),
        (moored(8) + [o for m in FLEET[20:22] for o in moving_in_circles(m, 3.5)], False),
    ],
    ids=["10", "9", "6.5 h", "5.5 h", "4.5 nm", "2.5 kn", "3.5 kn"],
)
def test_each_threshold_decides(scenario: list[Observation], fires: bool) -> None:
    assert bool(final(run(SwarmDetector(), scenario))) == fires


def test_every_vessel_that_was_a_member_is_listed() -> None:
    """Ten vessels all along, two more for an hour in the middle."""
    visitors = moored(2, hours=1.0, start_s=3 * HOUR, mmsis=FLEET[20:], spread_m=1000.0)
    event = final(run(SwarmDetector(), moored(10) + visitors))[0]
    assert event["mmsis"] == FLEET[:10] + FLEET[20:22]
    assert event["details"]["peak_vessels"] == 12
    assert 10 < event["details"]["mean_vessels"] < 11


def test_two_swarms_far_apart_are_two_events() -> None:
    north = moored(10, origin=(10.4, 114.66), mmsis=FLEET[10:])
    events = final(run(SwarmDetector(), moored(10) + north))
    assert len(events) == 2 and len({e["id"] for e in events}) == 2
    assert sorted(len(e["mmsis"]) for e in events) == [10, 10]


def test_no_swarm_centred_in_a_harbour() -> None:
    harbour = SwarmDetector(near_port=lambda la, lo, d: distance_m(la, lo, *WHITSUN_REEF) <= d)
    assert run(harbour, moored(12)) == []


def test_a_swarm_across_the_antimeridian() -> None:
    events = final(run(SwarmDetector(), moored(12, origin=(10.0, 179.99))))
    assert len(events) == 1 and len(events[0]["mmsis"]) == 12
    assert abs(events[0]["lon"]) > 179.9


def test_the_swarm_ends_when_the_vessels_scatter() -> None:
    gathered = moored(10, hours=7.0)
    scattered = [
        o
        for k, m in enumerate(FLEET[:10])
        for o in moving(
            m,
            start_s=7 * HOUR + 180,
            end_s=12 * HOUR,
            every_s=180.0,
            east_m=30_000.0 * math.sin(k),
            north_m=30_000.0 * math.cos(k),
            speed_kn=0.3,
            course_deg=45.0,
        )
    ]
    events = run(SwarmDetector(), gathered + scattered)
    confirmed = [e for e in events if e["status"] == "confirmed"]
    assert len(confirmed) == 1
    assert confirmed[0]["end_ts"] <= T0 + 7 * HOUR + 600


def test_registered_by_kind_with_its_published_thresholds() -> None:
    detector = create_detector("swarm")
    assert isinstance(detector, SwarmDetector)
    assert detector.thresholds() == SwarmConfig().values()
    assert SwarmConfig().radius_m == 5 * 1852.0


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_snapshot_and_restore_give_the_same_events(data: st.DataObject) -> None:
    scenario = moored(11, hours=6.5)
    split = data.draw(st.integers(0, len(scenario)))
    expected = run(SwarmDetector(), scenario)
    assert run_with_restart(SwarmDetector, scenario, split) == expected
    assert len(expected) == 2


def test_every_threshold_is_documented_with_its_default() -> None:
    assert documented_defaults("swarm") == SwarmConfig().values()


def tick_rows(shift_m: float) -> list[tuple[float, ...]]:
    """Two rings of 12 slow vessels 3 nm round (no vessel sees ten others: found by their
    densest disc), one tight crowd of 15 (found around its cores) and a passer-by; the second
    ring's first vessel ``shift_m`` metres east of its place."""
    rows: list[tuple[float, ...]] = []
    for ring, origin in enumerate([(10.0, 114.0), (10.5, 114.0)]):
        for k in range(12):
            angle = 2 * math.pi * k / 12
            east = 3 * METRES_PER_NM * math.sin(angle) + (shift_m if ring and not k else 0.0)
            lat, lon = at(east, 3 * METRES_PER_NM * math.cos(angle), origin)
            rows.append((FLEET[0] + 100 * ring + k, lat, lon, 0.5, 0.0))
    for k in range(15):
        lat, lon = at(200.0 * k, 0.0, (11.0, 114.0))
        rows.append((FLEET[0] + 300 + k, lat, lon, 0.2, 0.0))
    return [*rows, (FLEET[0] + 400, 10.0, 114.05, 12.0, 90.0)]


def test_discs_kept_from_the_last_tick_change_no_swarm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo answers for crowds that have not moved and solves again for one that has."""
    import lookout.detectors.swarm as swarm

    solved = []

    def counted(*args: Any) -> Any:
        solved.append(args)
        return densest_disc(*args)

    monkeypatch.setattr(swarm, "densest_disc", counted)
    memo = DiscMemo()
    cfg = SwarmConfig()
    for tick, shift_m in enumerate([0.0, 0.0, 400.0, 400.0, 0.0]):
        frame = TickFrame.from_rows(T0 + 600 * tick, tick_rows(shift_m))
        kept = find_swarms(frame, cfg.radius_m, 10, cfg.max_speed_kn, memo)
        fresh = find_swarms(frame, cfg.radius_m, 10, cfg.max_speed_kn)
        assert [(la, lo, m.tolist()) for la, lo, m in kept.swarms] == [
            (la, lo, m.tolist()) for la, lo, m in fresh.swarms
        ]
        assert kept.free.tolist() == fresh.free.tolist()
        assert len(kept.swarms) == 3
    # fresh scans solve both rings every tick; the memo once each, again when one moved
    assert len(solved) == 5 * 2 + (2 + 1 + 1)


def test_the_near_test_finds_what_the_grid_finds() -> None:
    rng = np.random.default_rng(3)
    lat, lon = 10.0 + rng.normal(0, 0.1, 400), 114.0 + rng.normal(0, 0.1, 400)
    grid = SpatialGrid(lat, lon, SwarmConfig().radius_m)
    within = _near_test(grid)
    for qlat, qlon in zip(lat[:50], lon[:50] + 0.03, strict=True):
        assert within(qlat, qlon).tolist() == grid.near(qlat, qlon).tolist()
