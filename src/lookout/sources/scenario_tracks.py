"""Building blocks of exercises: timed routes, vessels reporting along them, labels, zones.

Pure: a :class:`Route` is a list of timed vertices walked in straight lines, so where a vessel
is, how fast and which way it goes are functions of the time handed in. An
:class:`ExerciseVessel` says when its transponder reports (intervals, silences, a second
transmitter on the same MMSI, wild positions, a change of name). A :class:`Label` is one event
the exercise expects (``expect="fire"``) or a near miss that must not fire
(``expect="silent"``). Nothing here reads a clock or writes a file.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lookout.geo.distance import MPS_PER_KN, destination, distance_m, initial_bearing_deg
from lookout.sources.sim_world import VesselSpec

__all__ = [
    "CircleZone",
    "Detection",
    "ExerciseVessel",
    "Label",
    "Part",
    "Report",
    "Route",
    "iso",
]

ANCHORED = 1
UNDER_WAY = 0


def iso(ts: float) -> str:
    """``ts`` (Unix seconds) as ISO 8601 UTC with a ``Z``."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Report:
    """Where a transmitter says it is at ``ts``: position, SOG (kn), COG (deg), nav status."""

    ts: int
    lat: float
    lon: float
    speed_kn: float
    course_deg: float
    status: int

    @property
    def lat_lon(self) -> tuple[float, float]:
        return self.lat, self.lon


class Route:
    """A vessel's path: timed vertices joined by straight legs (a jump is two vertices with
    the same time). Built by chaining :meth:`sail`, :meth:`to`, :meth:`hold`, :meth:`loop`."""

    __slots__ = ("_courses", "_status", "lats", "lons", "times")

    def __init__(self, ts: float, lat: float, lon: float) -> None:
        self.times, self.lats, self.lons = [float(ts)], [lat], [lon]
        self._status: list[int] = []
        self._courses: list[float] = []

    @property
    def start_ts(self) -> float:
        return self.times[0]

    @property
    def end_ts(self) -> float:
        return self.times[-1]

    @property
    def here(self) -> tuple[float, float]:
        return self.lats[-1], self.lons[-1]

    def _add(self, ts: float, lat: float, lon: float, status: int, course: float) -> Route:
        self.times.append(ts)
        self.lats.append(lat)
        self.lons.append(lon)
        self._status.append(status)
        self._courses.append(course % 360.0)
        return self

    def _course(self) -> float:
        return self._courses[-1] if self._courses else 0.0

    def sail(self, bearing_deg: float, speed_kn: float, duration_s: float) -> Route:
        lat, lon = destination(*self.here, bearing_deg, speed_kn * MPS_PER_KN * duration_s)
        return self._add(self.end_ts + duration_s, lat, lon, UNDER_WAY, bearing_deg)

    def sail_until(self, bearing_deg: float, speed_kn: float, until_ts: float) -> Route:
        return self.sail(bearing_deg, speed_kn, max(0.0, until_ts - self.end_ts))

    def to(self, lat: float, lon: float, speed_kn: float) -> Route:
        dist = distance_m(*self.here, lat, lon)
        course = initial_bearing_deg(*self.here, lat, lon)
        return self._add(self.end_ts + dist / (speed_kn * MPS_PER_KN), lat, lon, UNDER_WAY, course)

    def hold(self, duration_s: float, status: int = ANCHORED) -> Route:
        """Stay put (speed 0) for ``duration_s``."""
        return self._add(self.end_ts + duration_s, *self.here, status, self._course())

    def hold_until(self, until_ts: float, status: int = ANCHORED) -> Route:
        return self.hold(max(0.0, until_ts - self.end_ts), status)

    def jump(self, lat: float, lon: float) -> Route:
        """Be somewhere else at once (a teleport): the next report is at the new place."""
        return self._add(self.end_ts, lat, lon, UNDER_WAY, self._course())

    def loop(
        self, lat: float, lon: float, radius_m: float, speed_kn: float, until_ts: float
    ) -> Route:
        """Sail an octagon around (lat, lon) until ``until_ts``, starting at its nearest
        vertex: a vessel keeping busy near a place without stopping."""
        start = initial_bearing_deg(lat, lon, *self.here) if self.here != (lat, lon) else 0.0
        k = 0
        self.to(*destination(lat, lon, start, radius_m), speed_kn)
        while self.end_ts < until_ts:
            k += 1
            target = destination(lat, lon, start + 45.0 * k, radius_m)
            leg_s = distance_m(*self.here, *target) / (speed_kn * MPS_PER_KN)
            if self.end_ts + leg_s > until_ts:
                bearing = initial_bearing_deg(*self.here, *target)
                return self.sail(bearing, speed_kn, until_ts - self.end_ts)
            self.to(*target, speed_kn)
        return self

    def state(self, ts: float) -> Report:
        """Where the route is at ``ts`` (clamped to its ends)."""
        i = bisect_right(self.times, ts) - 1
        if i < 0:
            return Report(int(ts), self.lats[0], self.lons[0], 0.0, self._course0(), ANCHORED)
        if i >= len(self.times) - 1:
            return Report(int(ts), self.lats[-1], self.lons[-1], 0.0, self._course(), ANCHORED)
        t0, t1 = self.times[i], self.times[i + 1]
        f = (ts - t0) / (t1 - t0)
        lat = self.lats[i] + (self.lats[i + 1] - self.lats[i]) * f
        lon = self.lons[i] + (self.lons[i + 1] - self.lons[i]) * f
        dist = distance_m(self.lats[i], self.lons[i], self.lats[i + 1], self.lons[i + 1])
        speed = dist / (t1 - t0) / MPS_PER_KN
        status = self._status[i] if speed < 0.05 else UNDER_WAY
        return Report(int(ts), lat, lon, speed, self._courses[i], status)

    def _course0(self) -> float:
        return self._courses[0] if self._courses else 0.0

    def time_at_distance(
        self, lat: float, lon: float, within_m: float, step_s: float = 10.0
    ) -> float:
        """First time the route comes within ``within_m`` of (lat, lon) (``inf``: never)."""
        ts = self.start_ts
        while ts <= self.end_ts:
            st = self.state(ts)
            if distance_m(st.lat, st.lon, lat, lon) <= within_m:
                return ts
            ts += step_s
        return math.inf


@dataclass(slots=True, kw_only=True)
class ExerciseVessel:
    """One vessel of an exercise: who it says it is, its route, and when it reports.

    Position reports come every ``interval_s`` under way and every ``anchored_interval_s``
    below 0.5 knots, from the route's start to the exercise end, except inside ``silences``
    (``[from, to)`` pairs: the transponder is off). ``clone`` is a second transmitter using
    the same MMSI (its route and ``[from, to)``), reporting halfway between the first one's
    reports. ``wild`` are (ts, lat, lon): the first report from ``ts`` on says (lat, lon) instead.
    ``renamed`` is (ts, new identity): static reports say it from ``ts`` on. ``group`` names
    the episode it belongs to: vessels of different groups must keep clear of each other.
    """

    spec: VesselSpec
    route: Route
    group: str
    interval_s: int = 60
    anchored_interval_s: int = 180
    static_interval_s: int = 1800
    silences: list[tuple[float, float]] = field(default_factory=list)
    clone: tuple[Route, float, float] | None = None
    wild: list[tuple[int, float, float]] = field(default_factory=list)
    renamed: tuple[float, VesselSpec] | None = None
    background: bool = False

    @property
    def mmsi(self) -> int:
        return self.spec.mmsi

    def silent_at(self, ts: float) -> bool:
        return any(a <= ts < b for a, b in self.silences)

    def reports(self, end_ts: float, phase_s: int = 0) -> list[Report]:
        """Every position report up to ``end_ts``, in time order."""
        out: list[Report] = []
        ts = int(self.route.start_ts) + phase_s
        while ts <= end_ts:
            st = self.route.state(ts)
            step = self.anchored_interval_s if st.speed_kn < 0.5 else self.interval_s
            if not self.silent_at(ts):
                out.append(self._wild(st, step))
                if self.clone is not None:
                    out.extend(self._clone_report(ts + step // 2))
            ts += step
        return out

    def _wild(self, st: Report, step: int) -> Report:
        """The report, or the wild position replacing it (the first report from its time)."""
        for t, lat, lon in self.wild:
            if t <= st.ts < t + step:
                return Report(st.ts, lat, lon, st.speed_kn, st.course_deg, st.status)
        return st

    def _clone_report(self, ts: int) -> list[Report]:
        assert self.clone is not None
        route, a, b = self.clone
        return [route.state(ts)] if a <= ts < b else []

    def identity_at(self, ts: float) -> VesselSpec:
        if self.renamed is not None and ts >= self.renamed[0]:
            return self.renamed[1]
        return self.spec


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """One expected event (``expect="fire"``) or near miss (``expect="silent"``)."""

    kind: str
    expect: str
    mmsis: tuple[int, ...]
    start_ts: float
    end_ts: float
    lat: float
    lon: float
    scenario: str
    note: str
    zone: str | None = None
    detection_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "expect": self.expect,
            "mmsi": self.mmsis[0] if len(self.mmsis) == 1 else None,
            "mmsis": sorted(self.mmsis),
            "start": iso(self.start_ts),
            "end": iso(self.end_ts),
            "lat": round(self.lat, 5),
            "lon": round(self.lon, 5),
            "zone": self.zone,
            "detection_id": self.detection_id,
            "scenario": self.scenario,
            "note": self.note,
            "exercise": True,
        }


@dataclass(frozen=True, slots=True)
class Detection:
    """A non-AIS detection (satellite SAR, radar, patrol sighting) for ``detections.csv``."""

    id: str
    ts: int
    lat: float
    lon: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleZone:
    """An exercise zone: a circle of ``radius_m`` around (lat, lon), written as a polygon."""

    id: str
    name: str
    regime: str
    owners: tuple[str, ...]
    lat: float
    lon: float
    radius_m: float

    def ring(self, vertices: int = 72) -> list[tuple[float, float]]:
        """The boundary as (lon, lat) pairs, closed, counter-clockwise (RFC 7946)."""
        points = [
            destination(self.lat, self.lon, 360.0 - k * 360.0 / vertices, self.radius_m)
            for k in range(vertices)
        ]
        ring = [(round(lon, 6), round(lat, 6)) for lat, lon in points]
        return [*ring, ring[0]]


@dataclass(slots=True)
class Part:
    """What one scenario adds to an exercise."""

    vessels: list[ExerciseVessel] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    zones: list[CircleZone] = field(default_factory=list)
