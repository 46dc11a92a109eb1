"""``position_on_land``: a position more than 2 km inland."""

from __future__ import annotations

import numpy as np
import shapely
from pairwise_scenarios import documented_defaults
from vessel_scenarios import batch_and_singles, observation, run_all, run_with_restart

from lookout.detectors.land import PositionOnLandConfig, PositionOnLandDetector
from lookout.geo.distance import destination
from lookout.geo.shore import PolygonShore
from lookout.model import Observation

M = 574_574_574
T0 = 1_700_000_000.0
SHORE = PolygonShore([shapely.box(100.0, 0.0, 105.0, 20.0)])  # land west of 105 E


def at_inland(metres: float, ts: float) -> object:
    lat, lon = destination(10.0, 105.0, 270.0, metres)  # west of the coast: inland
    return observation(M, ts, lat, lon)


def test_the_shore_measures_signed_distances() -> None:
    assert round(SHORE.distance_to_shore_m(*destination(10.0, 105.0, 270.0, 5_000.0))) == -5000
    assert round(SHORE.distance_to_shore_m(*destination(10.0, 105.0, 90.0, 5_000.0))) == 5000


def test_positions_more_than_two_km_inland_are_one_episode() -> None:
    # afloat 5 km off the coast, then a jump inland no vessel can make in a minute
    obs = [at_inland(-5_000.0, T0 - 60), at_inland(2_100.0, T0), at_inland(3_000.0, T0 + 60)]
    obs.append(at_inland(-500.0, T0 + 120))
    events = run_all(PositionOnLandDetector(shore=SHORE), obs)
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    event = events[-1]
    assert event["start_ts"] == T0 and event["end_ts"] == T0 + 60
    assert round(event["details"]["inland_m"]) == 3000 and event["details"]["positions"] == 2
    assert event["id"] == f"position_on_land-{M}-{int(T0)}"


def test_sailing_up_a_waterway_the_coastline_lacks_raises_nothing() -> None:
    # 10 knots from 1 km off the coast to 4 km inland: a channel the land data calls land
    steps = [at_inland(-1_000.0 + 308.0 * i, T0 + 60.0 * i) for i in range(17)]
    assert run_all(PositionOnLandDetector(shore=SHORE), steps) == []


def test_a_vessel_first_heard_inland_is_judged_beyond_the_unverified_depth() -> None:
    near = [at_inland(5_000.0, T0), at_inland(5_000.0, T0 + 600)]  # moored in a "channel"?
    assert run_all(PositionOnLandDetector(shore=SHORE), near) == []
    far = [at_inland(20_000.0, T0), at_inland(20_000.0, T0 + 600)]  # no channel that deep
    events = run_all(PositionOnLandDetector(shore=SHORE), far)
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    # afloat too long ago to vouch for the way in: judged as first heard
    back = [at_inland(-5_000.0, T0 - 7_200), at_inland(5_000.0, T0)]
    assert run_all(PositionOnLandDetector(shore=SHORE), back) == []


def test_one_point_nine_km_inland_is_not_on_land() -> None:
    assert run_all(PositionOnLandDetector(shore=SHORE), [at_inland(1_900.0, T0)]) == []


def test_without_shore_data_nothing_is_on_land() -> None:
    assert run_all(PositionOnLandDetector(), [at_inland(50_000.0, T0)]) == []


def test_snapshot_and_restore_give_the_same_events() -> None:
    obs = [at_inland(d, T0 + 60 * i) for i, d in enumerate((0, 3e3, 4e3, 0, 5e3, 0))]
    whole = run_all(PositionOnLandDetector(shore=SHORE), obs)
    assert (
        run_with_restart(lambda: PositionOnLandDetector(shore=SHORE), obs, 2) == whole
        and len(whole) == 4
    )


def test_documented_defaults_match_the_config() -> None:
    assert documented_defaults("position_on_land") == PositionOnLandConfig().values()


class MaskShore:
    """``SHORE`` with a land mask's batch answers: land cells west of the coast."""

    def distance_to_shore_m(self, lat: float, lon: float) -> float:
        return SHORE.distance_to_shore_m(lat, lon)

    def is_land(self, lat: float, lon: float) -> bool:
        return lon < 105.0

    def land_flags(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return np.asarray(lon < 105.0)


def test_a_batch_gives_what_one_observation_at_a_time_gives() -> None:
    """The batch screen (positions at sea, or on land cells their vessel's last shore check
    already puts at sea, skip update()) against the scalar path, vessels known before."""

    def at(mmsi: int, metres: float, ts: float) -> Observation:
        return observation(mmsi, ts, *destination(10.0, 105.0, 270.0, metres))

    known = [at(M + k, 300.0, T0 - 600) for k in range(3)]  # each gets a shore check
    batch = [
        at(M, 400.0, T0),  # a land cell, but at sea by its shore check: fast
        at(M + 1, -3_000.0, T0),  # at sea: fast
        at(M, 5_000.0, T0 + 60),  # jumps inland: opens an episode
        at(M + 2, 900.0, T0 + 60),  # fast
        at(M, 450.0, T0 + 120),  # back near the coast: ends the episode
        at(M + 1, -2_000.0, T0 - 300),  # late, at sea
        at(M, 300.0, T0 + 180),  # fast again
    ]
    config = PositionOnLandConfig(min_inland_m=2_000.0)
    one, by_one, many, by_batch = batch_and_singles(
        lambda: PositionOnLandDetector(config, shore=MaskShore()), known, batch
    )
    assert [e["status"] for e in by_batch] == ["provisional", "confirmed"]
    assert by_batch == by_one
    assert many.snapshot() == one.snapshot()
