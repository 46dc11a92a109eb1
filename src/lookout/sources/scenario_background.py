"""Background traffic for exercises, and the check that keeps episodes apart.

Background ships come from the simulator's fleet generator (:func:`make_fleet`: its merchant
group, with names, flags, ship types and speeds), sailing straight across the open basin of the
South China Sea for the whole exercise. A ship that would come within ``CLEARANCE_M`` of any
other vessel, within 5 km of a satellite detection, near an exercise zone or over an islet of
the 1 km land mask is left out, so
the background raises no event of its own: whatever fires, a label explains.

:func:`contacts` is the same check between the exercise's own episodes (tests assert it finds
nothing: vessels of different episodes never meet by accident).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from lookout.geo.distance import MPS_PER_KN, destination
from lookout.sources.scenario_tracks import CircleZone, Detection, ExerciseVessel, Route
from lookout.sources.sim_world import make_fleet

__all__ = ["CLEARANCE_M", "background_traffic", "contacts", "positions"]

CLEARANCE_M = 3000.0
"""Closest two vessels of different episodes may come, metres (shadowing needs 2 km)."""
STEP_S = 120.0
"""Sampling step of the check; at 40 kn closing speed a ship moves 2.5 km in it."""
BASIN = (7.5, 19.0, 111.8, 116.8)
"""(south, north, west, east) of the open-sea box the background sails in: clear of
Palawan, Luzon, Borneo, Hainan and Vietnam."""
_KM_PER_DEG = 111.195


def positions(
    vessels: Sequence[ExerciseVessel], start_ts: float, end_ts: float
) -> NDArray[np.float64]:
    """Positions (vessel, sample, lat/lon) every ``STEP_S``; NaN before a vessel appears."""
    times = np.arange(start_ts, end_ts + 1.0, STEP_S)
    out = np.full((len(vessels), len(times), 2), np.nan)
    for i, vessel in enumerate(vessels):
        out[i] = _track(vessel.route, times)
    return out


def _track(route: Route, times: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full((len(times), 2), np.nan)
    for k, ts in enumerate(times):
        if ts >= route.start_ts:
            st = route.state(float(ts))
            out[k] = st.lat, st.lon
    return out


def _near(
    track: NDArray[np.float64], others: NDArray[np.float64], within_m: float
) -> NDArray[np.bool_]:
    """For each other vessel: does it come within ``within_m`` of ``track`` at some sample?"""
    if others.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    dlat = (others[:, :, 0] - track[None, :, 0]) * _KM_PER_DEG
    coslat = np.cos(np.radians(track[None, :, 0]))
    dlon = ((others[:, :, 1] - track[None, :, 1] + 180.0) % 360.0 - 180.0) * _KM_PER_DEG * coslat
    dist = np.sqrt(dlat * dlat + dlon * dlon) * 1000.0
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nanmin(np.where(np.isnan(dist), np.inf, dist), axis=1) < within_m)


def contacts(
    vessels: Sequence[ExerciseVessel], start_ts: float, end_ts: float
) -> list[tuple[int, int]]:
    """Pairs of MMSIs of different episodes that come within ``CLEARANCE_M`` of each other."""
    pos = positions(vessels, start_ts, end_ts)
    found = []
    for i, vessel in enumerate(vessels):
        near = _near(pos[i], pos[i + 1 :], CLEARANCE_M)
        for j in np.flatnonzero(near):
            other = vessels[i + 1 + int(j)]
            if other.group != vessel.group:
                found.append((vessel.mmsi, other.mmsi))
    return found


def background_traffic(
    rng: random.Random,
    count: int,
    start_ts: float,
    end_ts: float,
    *,
    keep_clear: Sequence[ExerciseVessel],
    detections: Sequence[Detection] = (),
    zones: Sequence[CircleZone] = (),
    taken: set[int],
) -> list[ExerciseVessel]:
    """Up to ``count`` merchant ships that meet nobody (see the module docstring)."""
    times = np.arange(start_ts, end_ts + 1.0, STEP_S)
    kept = positions(keep_clear, start_ts, end_ts)
    chosen: list[ExerciseVessel] = []
    fleet = [
        s for s in make_fleet(count * 15, rng) if s.group == "merchant" and s.mmsi not in taken
    ]
    for spec in fleet:
        if len(chosen) >= count:
            break
        route = _straight_route(rng, spec.speed_kn, start_ts, end_ts)
        if route is None:
            continue
        track = _track(route, times)
        if _near(track, kept, CLEARANCE_M).any() or _blocked(track, times, detections, zones):
            continue
        taken.add(spec.mmsi)
        chosen.append(ExerciseVessel(spec=spec, route=route, group="background", background=True))
        kept = np.concatenate([kept, track[None]], axis=0)
    return chosen


def _straight_route(
    rng: random.Random, speed_kn: float, start_ts: float, end_ts: float
) -> Route | None:
    south, north, west, east = BASIN
    bearing = rng.choice((20.0, 200.0, 160.0, 340.0)) + rng.uniform(-10.0, 10.0)
    lat, lon = rng.uniform(south, north), rng.uniform(west, east)
    run_m = speed_kn * MPS_PER_KN * (end_ts - start_ts)
    end_lat, end_lon = destination(lat, lon, bearing, run_m)
    if not (south <= end_lat <= north and west <= end_lon <= east):
        return None
    return Route(start_ts, lat, lon).sail(bearing, speed_kn, end_ts - start_ts)


def _blocked(
    track: NDArray[np.float64],
    times: NDArray[np.float64],
    detections: Sequence[Detection],
    zones: Sequence[CircleZone],
) -> bool:
    from global_land_mask import globe  # the mask of LandMaskShore: reefs and islets too

    if np.asarray(globe.is_land(track[:, 0], track[:, 1])).any():
        return True
    for det in detections:
        k = int(np.argmin(np.abs(times - det.ts)))
        if _km(track[k, 0], track[k, 1], det.lat, det.lon) < 5.0:
            return True
    for zone in zones:
        limit = zone.radius_m / 1000.0 + 5.0
        if any(_km(lat, lon, zone.lat, zone.lon) < limit for lat, lon in track[::5]):
            return True
    return False


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat = (lat2 - lat1) * _KM_PER_DEG
    dlon = (lon2 - lon1) * _KM_PER_DEG * math.cos(math.radians(lat1))
    return math.hypot(dlat, dlon)
