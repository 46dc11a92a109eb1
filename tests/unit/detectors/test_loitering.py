"""``loitering``: one vessel slower than 2 knots, 20 nm or more from shore, for 4 h."""

from __future__ import annotations

import numpy as np
import shapely
from pairwise_scenarios import documented_defaults, final
from vessel_scenarios import batch_and_singles, observation, run_all, run_with_restart

from lookout.detectors.loitering import LoiteringConfig, LoiteringDetector
from lookout.detectors.vessel import ShoreCheck
from lookout.geo.distance import distance_m
from lookout.geo.shore import PolygonShore

M = 412_000_007
T0 = 1_700_000_000.0
H = 3600.0
SHORE = PolygonShore([shapely.box(100.0, 0.0, 105.0, 20.0)])  # coast along 105 E


def drifting(hours: float, speed_kn: float = 1.0, lon: float = 106.0, every_s: float = 600.0):
    n = int(hours * H / every_s) + 1
    return [
        observation(M, T0 + i * every_s, 10.0, lon + i * 1e-4, speed_kn=speed_kn) for i in range(n)
    ]


def test_four_and_a_half_hours_slow_far_from_shore_is_one_loitering() -> None:
    events = run_all(LoiteringDetector(shore=SHORE), drifting(4.5))
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    event = events[-1]
    assert event["start_ts"] == T0 and event["end_ts"] == T0 + 4.5 * H
    assert event["id"] == f"loitering-{M}-{int(T0)}" == events[0]["id"]
    assert event["details"]["mean_speed_kn"] == 1.0
    assert event["details"]["distance_to_shore_m"] > 37_040
    assert event["details"]["thresholds"]["max_speed_kn"] == 2.0


def test_near_misses_do_not_fire() -> None:
    assert run_all(LoiteringDetector(shore=SHORE), drifting(3.9)) == []
    assert run_all(LoiteringDetector(shore=SHORE), drifting(5, speed_kn=2.0)) == []
    # 106.0 E at 10 N is about 110 km out; 105.3 E about 33 km: less than 20 nm
    assert run_all(LoiteringDetector(shore=SHORE), drifting(5, lon=105.3)) == []
    assert run_all(LoiteringDetector(near_port=lambda lat, lon, d: True), drifting(5)) == []


def test_a_fast_position_splits_the_episode() -> None:
    obs = drifting(5)
    obs[15] = observation(M, obs[15].observed_ts, 10.0, 106.0, speed_kn=9.0)  # at 2.5 h
    assert run_all(LoiteringDetector(shore=SHORE), obs) == []


def test_missing_sog_is_derived_from_the_track() -> None:
    obs = [observation(M, o.observed_ts, o.lat, o.lon) for o in drifting(5)]  # ~0.6 kn
    assert len(final(run_all(LoiteringDetector(shore=SHORE), obs))) == 1


def test_snapshot_and_restore_give_the_same_events() -> None:
    obs = drifting(6)
    whole = run_all(LoiteringDetector(shore=SHORE), obs)
    assert run_with_restart(lambda: LoiteringDetector(shore=SHORE), obs, 20) == whole


def test_documented_defaults_match_the_config() -> None:
    assert documented_defaults("loitering") == LoiteringConfig().values()


def test_a_batch_gives_what_one_observation_at_a_time_gives() -> None:
    """The batch screen (vessels with no open episode, not slow, or slow but nearer the shore
    than their last shore check allows, skip update()) against the scalar path."""
    near, far = 105.05, 106.0  # about 5 km and 110 km off the coast

    def at(mmsi: int, lon: float, ts: float, speed_kn: float | None) -> object:
        return observation(mmsi, ts, 10.0, lon, speed_kn=speed_kn)

    known = [at(M + k, lon, T0 - 600, 1.0) for k, lon in enumerate((near, far, near))]
    batch = [at(M, near + 0.001, T0, 0.5), at(M + 1, far, T0, 1.0), at(M + 2, near, T0, 9.0)]
    batch += [at(M + 1, far, T0 + i * 1_200, 1.0) for i in range(1, 14)]  # loiters
    batch += [
        at(M, near + 0.002, T0 + 600, None),  # derived speed: update()
        at(M + 2, near, T0 - 60, 0.1),  # late
        at(M + 1, far, T0 + 16_000, 8.0),  # ends the loitering
        at(M, near + 0.003, T0 + 17_000, 0.5),
    ]
    config = LoiteringConfig(min_duration_s=4 * H)
    one, by_one, many, by_batch = batch_and_singles(
        lambda: LoiteringDetector(config, shore=SHORE), known, batch
    )
    assert [e["status"] for e in by_batch] == ["provisional", "confirmed"]
    assert by_batch == by_one
    assert many.snapshot() == one.snapshot()
    assert many.state(M) == one.state(M)


def test_the_screens_cheap_bound_never_undercuts_the_distance_moved() -> None:
    rng = np.random.default_rng(5)
    for _ in range(2000):
        lat0, lon0 = float(rng.uniform(-89, 89)), float(rng.uniform(-180, 180))
        step = float(rng.choice([1e-6, 1e-3, 0.1, 5.0]))
        lat = min(max(lat0 + float(rng.normal(0, step)), -90.0), 90.0)
        lon = (lon0 + float(rng.normal(0, step)) + 180.0) % 360.0 - 180.0
        check = ShoreCheck(lat0, lon0, 1_000.0)
        assert check.moved_at_most_m(lat, lon) >= distance_m(lat0, lon0, lat, lon)
