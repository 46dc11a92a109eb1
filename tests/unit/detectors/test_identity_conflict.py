"""``identity_conflict``: one MMSI alternating between places > 10 km apart, or a changed
identity."""

from __future__ import annotations

from pairwise_scenarios import documented_defaults, final
from vessel_scenarios import observation, run_all, run_with_restart

from lookout.detectors.identity import IdentityConflictConfig, IdentityConflictDetector
from lookout.detectors.speed import SpeedAnomalyDetector
from lookout.geo.distance import destination
from lookout.model import StaticReport

M = 412_000_000
T0 = 1_700_000_000.0
A = (22.0, 119.0)


def alternating(apart_m: float, switches: int, every_s: float = 300.0) -> list:
    """Two stationary transmitters ``apart_m`` apart on one MMSI: each reports twice, then the
    other; ``switches`` changes of place in all."""
    b = destination(*A, 90.0, apart_m)
    obs, ts = [], T0
    for k in range(switches + 1):
        here = A if k % 2 == 0 else b
        for _ in range(2):
            obs.append(observation(M, ts, *here, speed_kn=0.0))
            ts += every_s
    return obs


def test_three_switches_between_places_eleven_km_apart_are_one_conflict() -> None:
    obs = alternating(11_000.0, 3)
    events = run_all(IdentityConflictDetector(), obs)
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    event = events[-1]
    assert event["id"] == events[0]["id"] == f"identity_conflict-{M}-{int(T0 + 300)}"
    assert event["start_ts"] == obs[1].observed_ts and event["end_ts"] == obs[-2].observed_ts
    assert event["details"]["switches"] == 3
    assert round(event["details"]["min_switch_distance_m"]) == 11_000
    # and those hops raise no speed anomaly
    assert run_all(SpeedAnomalyDetector(), obs) == []


def test_near_misses_do_not_fire() -> None:
    assert run_all(IdentityConflictDetector(), alternating(9_900.0, 5)) == []
    assert run_all(IdentityConflictDetector(), alternating(11_000.0, 2)) == []
    # switches 40 minutes apart: three of them span more than 1 h
    assert run_all(IdentityConflictDetector(), alternating(50_000.0, 3, every_s=1200.0)) == []


def test_a_vessel_that_keeps_jumping_to_new_places_is_not_alternating() -> None:
    obs = [observation(M, T0 + 300 * k, *destination(*A, 90.0, 20_000.0 * k)) for k in range(6)]
    assert run_all(IdentityConflictDetector(), obs) == []


EAST_KN = 12.0


def sailing(start_ts: float, end_ts: float, late_s: float = 0.0, every_s: float = 120.0) -> list:
    """A vessel sailing east from A at 12 knots from T0, as reported from ``start_ts`` to
    ``end_ts``: each report stamped ``late_s`` after the vessel was there."""
    obs, ts = [], start_ts
    while ts <= end_ts:
        there = destination(*A, 90.0, (ts - late_s - T0) * EAST_KN * 1852.0 / 3600.0)
        obs.append(observation(M, ts, *there, speed_kn=EAST_KN, key=f"{ts}-{late_s}"))
        ts += every_s
    return obs


def test_the_vessels_own_reports_hours_late_are_an_echo_not_a_conflict() -> None:
    """As in gfw-pyseas (docs/detectors.md): a satellite copy of the track, 2 h late, that
    alternates with the live reports 44 km ahead of it."""
    live = sailing(T0, T0 + 6 * 3600)
    echo = sailing(T0 + 2 * 3600 + 60, T0 + 6 * 3600, late_s=2 * 3600)
    off = IdentityConflictConfig(echo_window_s=0.0)
    assert final(run_all(IdentityConflictDetector(off), live + echo))  # an alternation
    assert run_all(IdentityConflictDetector(), live + echo) == []


def test_two_vessels_on_parallel_courses_are_still_a_conflict() -> None:
    """Same motion, but the second is 12 km to the north of the first, never on its path."""
    first = sailing(T0, T0 + 3 * 3600)
    second = [
        observation(M, o.observed_ts + 60, *destination(o.lat, o.lon, 0.0, 12_000.0), speed_kn=12.0)
        for o in first
    ]
    (event,) = final(run_all(IdentityConflictDetector(), first + second))
    assert event["status"] == "confirmed" and event["details"]["switches"] > 100


def test_a_conflict_found_later_to_be_an_echo_is_retracted() -> None:
    """The live reports start only when the late copy is 2 h behind, so at first nothing
    shows that one retraces the other; once the copy reaches where the live reports began,
    the episode is retracted, with how late the copy was."""
    live = sailing(T0 + 2 * 3600, T0 + 6 * 3600)
    echo = sailing(T0 + 2 * 3600 + 60, T0 + 6 * 3600, late_s=2 * 3600)
    events = run_all(IdentityConflictDetector(), live + echo)
    assert [e["status"] for e in events] == ["provisional", "retracted"]
    retracted = events[-1]
    assert retracted["id"] == events[0]["id"]
    assert abs(retracted["details"]["echo_late_s"] - 2 * 3600) < 300
    # when the copy got to within echo_m (1 km, 2.7 min at 12 kn) of where the live began
    assert T0 + 4 * 3600 - 300 <= retracted["ts"] <= T0 + 4 * 3600
    assert run_with_restart(lambda: IdentityConflictDetector(), live + echo, 300) == events


def test_a_second_vessel_is_still_a_conflict_when_the_first_also_has_a_late_echo() -> None:
    live = sailing(T0, T0 + 6 * 3600)
    echo = sailing(T0 + 2 * 3600 + 40, T0 + 6 * 3600, late_s=2 * 3600)
    north = destination(*destination(*A, 90.0, 3 * 3600 * EAST_KN * 1852.0 / 3600.0), 0.0, 30e3)
    other = [
        observation(M, T0 + 9000 + 20 + 120 * k, *north, speed_kn=0.0, key=f"b{k}")
        for k in range(45)
    ]
    (event,) = final(run_all(IdentityConflictDetector(), live + echo + other))
    # each report of the second vessel is a switch to it and one away from it
    assert event["status"] == "confirmed" and event["details"]["switches"] == 2 * len(other)


def test_a_changed_name_or_call_sign_is_an_identity_change() -> None:
    detector = IdentityConflictDetector()
    reports = [
        StaticReport(M, 5, T0, "PHL", "t", name="HOANG ANH 65", callsign="XVAB"),
        StaticReport(M, 5, T0 + 60, "PHL", "t", name="HOANG ANH 65", callsign="XVAB"),
        StaticReport(M, 5, T0 + 120, "PHL", "t", name="MINH PHAT", callsign="XVAB"),
        StaticReport(M, 5, T0 + 180, "PHL", "t", name="HOANG ANH 65 "),  # back: known
    ]
    events = [e for r in reports for e in detector.on_static(r)]
    assert len(events) == 1
    assert events[0]["details"]["changes"] == {"name": {"from": "HOANG ANH 65", "to": "MINH PHAT"}}
    assert events[0]["id"].endswith("-identity") and events[0]["start_ts"] == T0 + 120


def test_snapshot_and_restore_give_the_same_events() -> None:
    obs = alternating(20_000.0, 6)
    whole = run_all(IdentityConflictDetector(), obs)
    assert (
        run_with_restart(lambda: IdentityConflictDetector(), obs, 5) == whole
        and len(final(whole)) == 1
    )


def test_documented_defaults_match_the_config() -> None:
    assert documented_defaults("identity_conflict") == IdentityConflictConfig().values()
