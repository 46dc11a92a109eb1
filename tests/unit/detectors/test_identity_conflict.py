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
