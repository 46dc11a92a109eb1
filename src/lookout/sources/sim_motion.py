"""How simulated vessels move: paths walked by distance, lanes, loiter legs, patrol loops.

Pure: positions are a function of the simulated time handed in; randomness comes from the
vessel's own seeded ``random.Random``, consumed in time order, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from lookout.geo.distance import (
    METRES_PER_NM,
    MPS_PER_KN,
    destination,
    distance_m,
    initial_bearing_deg,
)
from lookout.sources.sim_world import AREAS, PORTS, WAYPOINT_LANES, VesselSpec

__all__ = ["Mover", "Polyline", "VesselState", "lane_route", "patrol_loop", "random_point"]


class Polyline:
    """A path of (lat, lon) points, walked by distance; segments densified to ``step_m``."""

    __slots__ = ("bearings", "cum_m", "lats", "lons", "total_m")

    def __init__(self, points: Sequence[tuple[float, float]], step_m: float = 10_000.0):
        lats, lons = [points[0][0]], [points[0][1]]
        for (lat1, lon1), (lat2, lon2) in pairwise(points):
            n = max(1, math.ceil(distance_m(lat1, lon1, lat2, lon2) / step_m))
            for k in range(1, n + 1):
                lats.append(lat1 + (lat2 - lat1) * k / n)
                lons.append(lon1 + (lon2 - lon1) * k / n)
        self.lats, self.lons = lats, lons
        self.cum_m = [0.0]
        self.bearings = []
        for i in range(len(lats) - 1):
            self.cum_m.append(
                self.cum_m[-1] + distance_m(lats[i], lons[i], lats[i + 1], lons[i + 1])
            )
            self.bearings.append(initial_bearing_deg(lats[i], lons[i], lats[i + 1], lons[i + 1]))
        self.bearings.append(self.bearings[-1] if self.bearings else 0.0)
        self.total_m = self.cum_m[-1]

    def at(self, dist_m: float) -> tuple[float, float, float]:
        """(lat, lon, bearing) at ``dist_m`` along the path (clamped to its ends)."""
        i = min(max(bisect_right(self.cum_m, dist_m) - 1, 0), len(self.lats) - 1)
        if i == len(self.lats) - 1:
            return self.lats[i], self.lons[i], self.bearings[i]
        seg = self.cum_m[i + 1] - self.cum_m[i]
        f = 0.0 if seg <= 0 else min(1.0, max(0.0, (dist_m - self.cum_m[i]) / seg))
        lat = self.lats[i] + (self.lats[i + 1] - self.lats[i]) * f
        lon = self.lons[i] + (self.lons[i + 1] - self.lons[i]) * f
        return lat, lon, self.bearings[i]

    def reversed(self) -> Polyline:
        return Polyline(list(zip(self.lats[::-1], self.lons[::-1], strict=True)), math.inf)


def lane_route(origin: str, dest: str) -> list[tuple[float, float]]:
    """The sea lane between two ports of ``PORTS``, as (lat, lon) points: ``searoute``'s, or
    the points of ``WAYPOINT_LANES``.

    The lane starts and ends at our anchorage points, except where joining them to the
    network would make the ship double back (a turn sharper than ``HAIRPIN_DEG``): there it
    starts at the network's port node.
    """
    a, b = PORTS[origin], PORTS[dest]
    via = WAYPOINT_LANES.get((origin, dest))
    if via is not None:
        return [(a.lat, a.lon), *via, (b.lat, b.lon)]
    import searoute

    feature = searoute.searoute([a.lon, a.lat], [b.lon, b.lat], append_orig_dest=True)
    points = [(lat, lon) for lon, lat in feature["geometry"]["coordinates"]]
    points = _drop_hairpins(points)
    return _drop_hairpins(points[::-1])[::-1]


HAIRPIN_DEG = 100.0
"""Near a port, a turn sharper than this is a detour to a network node: cut it."""


def _turn_deg(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    turn = initial_bearing_deg(*b, *c) - initial_bearing_deg(*a, *b)
    return abs((turn + 180.0) % 360.0 - 180.0)


def _drop_hairpins(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Start at the network's own port node when joining our anchorage to it doubles back."""
    points = list(points)
    for _ in range(2):
        if len(points) > 2 and _turn_deg(points[0], points[1], points[2]) > HAIRPIN_DEG:
            del points[0]
    return points


@dataclass(frozen=True, slots=True)
class VesselState:
    """Where a vessel is at one instant: position, speed over ground, course, nav status."""

    lat: float
    lon: float
    speed_kn: float
    course_deg: float
    status: int


class Mover:
    """Where one vessel is: a path walked from ``leg_start_ts`` at ``speed``, then the next.

    ``transit`` sails its lane, moors at the end for ``moored_s`` (a random span), sails back;
    ``loiter`` walks random legs inside its area at varying slow speeds; ``patrol`` circles its
    loop for ever; ``anchored`` stays put, swinging. ``offset`` (0..1 of the path, or ``None``
    for random) places the vessel along its first path at ``start_ts``.
    """

    def __init__(
        self,
        spec: VesselSpec,
        rng: random.Random,
        path: Polyline,
        start_ts: float,
        *,
        moored_s: tuple[float, float] = (3600.0, 14_400.0),
        offset: float | None = None,
    ) -> None:
        self.spec, self.rng, self.path, self.moored_s = spec, rng, path, moored_s
        self.speed_mps = max(spec.speed_kn, 0.1) * MPS_PER_KN
        self.dwell_until = -math.inf
        self.destination = ""
        self.heading_bias = rng.uniform(-3.0, 3.0)
        share = rng.random() if offset is None else offset
        self.leg_start_ts = start_ts - share * path.total_m / self.speed_mps
        if spec.behaviour == "transit" and spec.lane is not None:
            self.destination = spec.lane[1]
            if rng.random() < 0.5:
                self.path = path.reversed()
                self.destination = spec.lane[0]
            if rng.random() < 0.1:  # starts moored at its departure port
                self.dwell_until = start_ts + rng.uniform(*moored_s) / 2
                self.leg_start_ts = self.dwell_until

    def arrival_ts(self) -> float:
        return self.leg_start_ts + self.path.total_m / self.speed_mps

    def state(self, ts: float) -> VesselState:
        """The vessel at ``ts``; calls must come in non-decreasing ``ts`` (legs advance)."""
        behaviour = self.spec.behaviour
        if behaviour == "anchored":
            swing = 40.0 * math.sin(ts / 1500.0 + self.heading_bias)
            course = (self.heading_bias * 60.0 + swing) % 360.0
            return VesselState(self.path.lats[0], self.path.lons[0], 0.0, course, 1)
        if behaviour == "patrol":
            dist = ((ts - self.leg_start_ts) * self.speed_mps) % self.path.total_m
        else:
            while ts >= self.arrival_ts() and ts >= self.dwell_until:
                self._next_leg()
            if ts < self.dwell_until:
                lat, lon, bearing = self.path.at(0.0)
                return VesselState(lat, lon, 0.0, bearing, 5)
            dist = (ts - self.leg_start_ts) * self.speed_mps
        lat, lon, bearing = self.path.at(dist)
        status = 7 if behaviour == "loiter" and self.spec.ship_type == 30 else 0
        return VesselState(lat, lon, self.speed_mps / MPS_PER_KN, bearing, status)

    def _next_leg(self) -> None:
        arrived = self.arrival_ts()
        spec = self.spec
        if spec.behaviour == "transit" and spec.lane is not None:
            self.path = self.path.reversed()
            self.dwell_until = arrived + self.rng.uniform(*self.moored_s)
            self.leg_start_ts = self.dwell_until
            self.destination = spec.lane[0] if self.destination == spec.lane[1] else spec.lane[1]
            self.speed_mps = spec.speed_kn * MPS_PER_KN * self.rng.uniform(0.95, 1.05)
            return
        end = (self.path.lats[-1], self.path.lons[-1])
        self.path = Polyline([end, random_point(self.rng, spec.area or "")])
        self.leg_start_ts = arrived
        low = max(0.3, spec.speed_kn * 0.3)
        self.speed_mps = self.rng.uniform(low, max(low, spec.speed_kn)) * MPS_PER_KN


def random_point(rng: random.Random, area_name: str) -> tuple[float, float]:
    """A uniformly random point of an area's disc (or annulus)."""
    area = AREAS[area_name]
    inner, outer = area.inner_nm * METRES_PER_NM, area.radius_nm * METRES_PER_NM
    radius = math.sqrt(rng.uniform(inner * inner, outer * outer))
    return destination(area.lat, area.lon, rng.uniform(0.0, 360.0), radius)


def patrol_loop(
    center: tuple[float, float], radius_m: float, rng: random.Random
) -> list[tuple[float, float]]:
    """A closed loop of eight jittered points around ``center``."""
    start = rng.uniform(0.0, 360.0)
    points = [
        destination(center[0], center[1], start + k * 45.0, radius_m * rng.uniform(0.85, 1.0))
        for k in range(8)
    ]
    return [*points, points[0]]
