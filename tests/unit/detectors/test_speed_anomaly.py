"""``speed_anomaly``: a single jump faster than 50 knots that does not come back."""

from __future__ import annotations

import pytest
from pairwise_scenarios import documented_defaults
from vessel_scenarios import observation, run_all, run_with_restart

from lookout.detectors.speed import SpeedAnomalyConfig, SpeedAnomalyDetector
from lookout.geo.distance import METRES_PER_NM, destination
from lookout.model import StaticReport

M = 525_000_003
T0 = 1_700_000_000.0
START = (9.0, 115.0)


def track(jump_kn: float, *, mmsi: int = M, msg_type: int = 1) -> list:
    """Reports every 60 s heading north at 10 kn; at 10 min one 5-minute leg at ``jump_kn``,
    then 10 kn again from where that leg ended."""
    obs, (lat, lon), ts = [], START, T0
    for i in range(40):
        speed = jump_kn if i == 10 else 10.0
        step = 300.0 if i == 10 else 60.0
        ts += step
        lat, lon = destination(lat, lon, 0.0, speed * METRES_PER_NM * step / 3600.0)
        obs.append(observation(mmsi, ts, lat, lon, speed_kn=10.0, msg_type=msg_type))
    return obs


def test_a_jump_at_sixty_knots_is_one_anomaly_an_hour_later() -> None:
    obs = track(60.0)
    events = run_all(SpeedAnomalyDetector(), obs)
    assert len(events) == 1
    event = events[0]
    jump = obs[10]
    assert event["status"] == "confirmed"
    assert event["start_ts"] == event["end_ts"] == jump.observed_ts
    assert (event["lat"], event["lon"]) == (jump.lat, jump.lon)
    assert event["ts"] == obs[9].observed_ts + 3600.0  # held for the window
    assert event["details"]["implied_speed_kn"] == pytest.approx(60.0, rel=1e-3)
    assert event["details"]["reported_speed_kn"] == 10.0
    assert event["observations"] == [obs[9].key, jump.key]
    assert event["id"] == f"speed_anomaly-{M}-{int(jump.observed_ts)}"


def test_forty_nine_knots_is_no_anomaly() -> None:
    assert run_all(SpeedAnomalyDetector(), track(49.0)) == []


def test_high_speed_craft_and_sar_aircraft_are_exempt() -> None:
    detector = SpeedAnomalyDetector()
    detector.on_static(StaticReport(M, 5, T0, "PHL", "test", ship_type=40))
    assert run_all(detector, track(60.0)) == []
    assert run_all(SpeedAnomalyDetector(), track(60.0, msg_type=9)) == []
    assert run_all(SpeedAnomalyDetector(), track(60.0, mmsi=111_548_100)) == []


def test_the_limit_is_configurable_per_ship_type() -> None:
    config = SpeedAnomalyConfig(ship_type_limits_kn=((70, 30.0),))
    detector = SpeedAnomalyDetector(config)
    detector.on_static(StaticReport(M, 5, T0, "PHL", "test", ship_type=70))
    assert len(run_all(detector, track(40.0))) == 1


def test_a_single_bad_position_that_the_track_comes_back_from_is_no_anomaly() -> None:
    obs = track(10.0)
    bad = obs[20]
    far = destination(bad.lat, bad.lon, 90.0, 30_000.0)
    obs[20] = observation(M, bad.observed_ts, *far, speed_kn=10.0)
    assert run_all(SpeedAnomalyDetector(), obs) == []


def test_snapshot_and_restore_give_the_same_events() -> None:
    obs = track(80.0)
    whole = run_all(SpeedAnomalyDetector(), obs)
    assert run_with_restart(lambda: SpeedAnomalyDetector(), obs, 12) == whole and len(whole) == 1


def test_documented_defaults_match_the_config() -> None:
    assert documented_defaults("speed_anomaly") == SpeedAnomalyConfig().values()
