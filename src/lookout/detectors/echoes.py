"""Echoes: a second stream of positions on one MMSI that only retraces the first, hours late.

Satellite AIS can deliver a vessel's reports twice, once with time stamps hours late (the
``gfw-pyseas`` tracks show 1.5 to 7 hours, docs/detectors.md). The late copy alternates with
the live reports just as a second transmitter on the MMSI would, but every place it is at is
a place the live reports passed some hours before. :class:`Strands` tells the two apart.

It splits one MMSI's positions into *strands*: each position joins the strand whose last
position it is nearest to among those it is plausible from (reachable at ``max_speed_kn``,
or within ``min_jump_m``); if none, it starts a new strand (at most :data:`MAX_STRANDS`, the
one silent longest goes). Every strand keeps its *trail*, the path it took over the last
``window_s``: its positions thinned to vertices (a position joins the trail when it is at
least :data:`STEP_M` from the last vertex; one that lies within :data:`STRAIGHT_M` of the
straight line from the vertex before replaces the last vertex instead, so a straight run is
two vertices), at most :data:`MAX_VERTICES`. Between two vertices at most
:data:`MAX_SEGMENT_S` apart the path is taken to be straight; across a longer silence only
the vertices count (the path is not known).

:meth:`Strands.echo` asks, for the strand the last position joined, whether it and another
strand are *twins*, one vessel reported twice: a strand that is under way (its last report
says at least :data:`UNDER_WAY_KN`; without a speed, its trail grew within
:data:`MAX_SEGMENT_S`) has its last position within a tolerance of a segment of the other's
trail, a path the other took earlier. Only paths count, not places: a vessel at anchor
where another passed, or two vessels using one berth, are not twins. Twins are remembered
as long as both strands are, so the late copy waiting at a berth the live vessel has since
left stays an echo. A trail is a flat ``array('d')`` of ``ts, lat, lon`` triples.
Distances use a flat projection around the position asked about, which differs from the
great circle by far less than the tolerances used at the few kilometres that matter.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from math import cos, inf, nan, radians, sqrt
from typing import Any

from lookout.detectors.vessel import Fix
from lookout.geo.distance import METRES_PER_DEGREE, distance_m, implied_speed_kn, lon_delta_deg

__all__ = [
    "MAX_SEGMENT_S",
    "MAX_STRANDS",
    "MAX_VERTICES",
    "STEP_M",
    "STRAIGHT_M",
    "UNDER_WAY_KN",
    "Strands",
    "extend_trail",
    "trail_mark",
]

MAX_STRANDS = 3
"""Strands remembered per MMSI."""
STEP_M = 500.0
"""A position is added to a trail when at least this far from its last vertex, metres."""
STRAIGHT_M = 100.0
"""A vertex this near the straight line past it is dropped, metres."""
MAX_SEGMENT_S = 1_800.0
"""Vertices at most this far apart in time are joined by a straight segment, seconds."""
MAX_VERTICES = 128
"""Vertices kept per trail (the oldest go first)."""
UNDER_WAY_KN = 1.0
"""A strand whose last position reported at least this speed over ground is moving, knots."""

_DEG_PER_M_SURELY = 1.0 / (METRES_PER_DEGREE * 1.4143)
_STEP_DEG = STEP_M * _DEG_PER_M_SURELY


@dataclass(slots=True)
class Strands:
    """The strands of one MMSI: their last positions, trails and twins (module docstring)."""

    heads: list[Fix] = field(default_factory=list)
    trails: list[array[float]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    twins: list[list[float]] = field(default_factory=list)
    """Per strand ``[id of its twin, seconds late]``; ``[-1, 0]`` while none is known."""
    speeds: list[float] = field(default_factory=list)
    """Per strand the speed over ground its last position reported, knots (-1: none)."""
    next_id: int = 0
    last: int = -1
    """Index of the strand the last position joined (-1: none yet)."""
    previous: int = -1
    """Id of the strand the position before it joined (-1: none)."""

    def add(
        self,
        fix: Fix,
        sog_kn: float | None,
        max_speed_kn: float,
        min_jump_m: float,
        window_s: float,
    ) -> int:
        """Fold in the next position (``sog_kn``: its reported speed); the id of the strand
        it joined (-1: too old)."""
        heads = self.heads
        self.previous = self.ids[self.last] if self.last >= 0 else -1
        if len(heads) == 1 and _surely_within(heads[0], fix, min_jump_m) and fix.ts >= heads[0].ts:
            best = 0  # the common case: one strand, a report a few hundred metres on
        else:
            self._forget(fix.ts - window_s)
            best = self._nearest_head(fix, max_speed_kn, min_jump_m)
        if best < 0 and any(fix.ts < head.ts for head in self.heads):
            return -1
        if best < 0:
            if len(self.heads) >= MAX_STRANDS:
                self._drop(min(range(len(self.heads)), key=lambda i: self.heads[i].ts))
            self.heads.append(fix)
            self.trails.append(array("d"))
            self.ids.append(self.next_id)
            self.twins.append([-1.0, 0.0])
            self.speeds.append(-1.0)
            self.next_id += 1
            best = len(self.heads) - 1
        else:
            _extend(self.trails[best], self.heads[best], fix.ts - window_s)
            self.heads[best] = fix
        self.last = best
        self.speeds[best] = -1.0 if sog_kn is None else sog_kn
        return self.ids[best]

    def fold(self, fix: Fix, sog_kn: float | None, count: int) -> None:
        """As :meth:`add` for ``count`` positions (the last ``fix``, with ``sog_kn``) each
        surely within ``min_jump_m`` of the one before and no older, the first of the only
        strand's head, whose trail :func:`extend_trail` already took them into."""
        self.previous = self.ids[0] if count > 1 or self.last == 0 else -1
        self.heads[0] = fix
        self.last = 0
        self.speeds[0] = -1.0 if sog_kn is None else sog_kn

    def _nearest_head(self, fix: Fix, max_speed_kn: float, min_jump_m: float) -> int:
        """Index of the nearest strand ``fix`` is plausible from (-1: none)."""
        best, best_m = -1, inf
        for i, head in enumerate(self.heads):
            if fix.ts < head.ts:
                continue
            d = distance_m(head.lat, head.lon, fix.lat, fix.lon)
            if d < best_m and (
                d <= min_jump_m or implied_speed_kn(d, fix.ts - head.ts) <= max_speed_kn
            ):
                best, best_m = i, d
        return best

    def echo(self, since_ts: float, within_m: float) -> tuple[int, float] | None:
        """Whether the strand of the last position and another one are one vessel reported
        twice, one copy late: twins known before, or found now (the path of one passes
        within ``within_m`` of the other's position, from ``since_ts`` on; then remembered;
        the strand of the position before is tried first). ``(id of the other, seconds
        late)``, or ``None``."""
        if self.last < 0:
            return None
        me = self.last
        twin, late = self.twins[me]
        if twin >= 0 and int(twin) in self.ids:
            return int(twin), late
        fix, mine = self.heads[me], self.trails[me]
        order = sorted(range(len(self.heads)), key=lambda i: self.ids[i] != self.previous)
        for i in order:
            head = self.heads[i]
            if i == me:
                continue
            d = behind = inf
            if self._under_way(me):
                d, ts = _nearest(self.trails[i], fix.lat, fix.lon, since_ts, tail=head)
                late = fix.ts - ts
            if self._under_way(i):
                behind, behind_ts = _nearest(mine, head.lat, head.lon, since_ts)
            if behind < d:
                d, late = behind, head.ts - behind_ts
            if d <= within_m:
                self.twins[me] = [float(self.ids[i]), late]
                self.twins[i] = [float(self.ids[me]), late]
                return self.ids[i], late
        return None

    def _under_way(self, i: int) -> bool:
        """Whether strand ``i`` is moving: its last position reported at least
        :data:`UNDER_WAY_KN`; without a reported speed, it added a vertex (at least
        :data:`STEP_M` from the one before) within :data:`MAX_SEGMENT_S`, or is that far
        from its last one, reached within that time."""
        if self.speeds[i] >= 0:
            return self.speeds[i] >= UNDER_WAY_KN
        trail, head = self.trails[i], self.heads[i]
        if not trail or head.ts - trail[-3] > MAX_SEGMENT_S:
            return False
        return len(trail) >= 6 or distance_m(trail[-2], trail[-1], head.lat, head.lon) >= STEP_M

    def _forget(self, oldest_ts: float) -> None:
        """Drop the strands silent since before ``oldest_ts``."""
        for i in reversed(range(len(self.heads))):
            if self.heads[i].ts < oldest_ts:
                self._drop(i)

    def _drop(self, i: int) -> None:
        if i == self.last:
            self.last = -1
        elif i < self.last:
            self.last -= 1
        del self.heads[i], self.trails[i], self.ids[i], self.twins[i], self.speeds[i]

    def dump(self) -> list[Any]:
        heads = [h.dump() for h in self.heads]
        trails = [t.tolist() for t in self.trails]
        numbers = [self.next_id, self.last, self.previous]
        return [heads, trails, self.ids, self.twins, self.speeds, *numbers]

    @classmethod
    def load(cls, data: Sequence[Any]) -> Strands:
        heads, trails, ids, twins, speeds, next_id, last, previous = data
        return cls(
            [Fix.load(h) for h in heads],
            [array("d", map(float, t)) for t in trails],
            [int(i) for i in ids],
            [[float(a), float(b)] for a, b in twins],
            [float(v) for v in speeds],
            int(next_id),
            int(last),
            int(previous),
        )


def _surely_within(a: Fix, b: Fix, distance_m: float) -> bool:
    """Whether ``b`` is within ``distance_m`` of ``a`` for certain: both coordinate steps
    under its 1/sqrt(2) (a longitude step is shorter by cos(latitude) <= 1), no trigonometry."""
    near = distance_m * _DEG_PER_M_SURELY
    return abs(a.lat - b.lat) < near and abs(a.lon - b.lon) < near


def extend_trail(trail: array[float], ts: float, lat: float, lon: float, oldest_ts: float) -> None:
    """Add a strand's position before its newest (at ``ts``, ``lat``, ``lon``) to its trail
    as :meth:`Strands.add` does; for a position outside :func:`trail_mark` (inside, it adds
    nothing)."""
    _extend(trail, Fix(ts, lat, lon, "", ""), oldest_ts)


def trail_mark(trail: array[float]) -> tuple[float, float, float]:
    """The box a strand's position before its newest must leave to change ``trail``: its
    last vertex (``nan``: none, every position does) and the half-size in degrees."""
    if not trail:
        return nan, nan, _STEP_DEG
    return trail[-2], trail[-1], _STEP_DEG


def _extend(trail: array[float], fix: Fix, oldest_ts: float) -> None:
    """Add ``fix`` (the strand's position before its newest) to the end of ``trail`` as the
    module docstring says; forget the vertices no longer needed to cover ``oldest_ts`` on."""
    n = len(trail)
    if n and abs(fix.lat - trail[n - 2]) < _STEP_DEG and abs(fix.lon - trail[n - 1]) < _STEP_DEG:
        return
    if n:
        kx = METRES_PER_DEGREE * cos(radians(fix.lat))
        dx = lon_delta_deg(fix.lon, trail[n - 1]) * kx
        dy = (trail[n - 2] - fix.lat) * METRES_PER_DEGREE
        if dx * dx + dy * dy < STEP_M * STEP_M:
            return
        if n >= 6 and fix.ts - trail[n - 6] <= MAX_SEGMENT_S:
            vx = lon_delta_deg(fix.lon, trail[n - 4]) * kx
            vy = (trail[n - 5] - fix.lat) * METRES_PER_DEGREE
            # the last vertex (dx, dy) against the line from the one before (vx, vy) to fix
            if _to_segment(vx - dx, vy - dy, 0.0, -dx, -dy, 0.0)[0] <= STRAIGHT_M:
                trail[n - 3 : n] = array("d", (fix.ts, fix.lat, fix.lon))
                return
    trail.extend((fix.ts, fix.lat, fix.lon))
    while len(trail) > 3 and (trail[3] < oldest_ts or len(trail) > 3 * MAX_VERTICES):
        del trail[:3]


def _nearest(
    trail: array[float], lat: float, lon: float, since_ts: float, tail: Fix | None = None
) -> tuple[float, float]:
    """The point of ``trail`` (followed by ``tail``) nearest to ``lat``/``lon`` among its
    parts from ``since_ts`` on: ``(distance_m, ts)``, the time interpolated along a segment;
    ``(inf, nan)`` if there is none."""
    points = list(trail)
    if tail is not None:
        points += (tail.ts, tail.lat, tail.lon)
    kx = METRES_PER_DEGREE * cos(radians(lat))
    xy = [
        (lon_delta_deg(lon, x) * kx, (y - lat) * METRES_PER_DEGREE, ts)
        for ts, y, x in zip(points[0::3], points[1::3], points[2::3], strict=True)
    ]
    best, best_ts = inf, nan
    for (x, y, ts), (x2, y2, ts2) in pairwise(xy):
        if ts2 < since_ts or ts2 - ts > MAX_SEGMENT_S:
            continue
        if (x2 - x) ** 2 + (y2 - y) ** 2 < STEP_M * STEP_M:
            continue  # not under way: a place, not a path
        d, t = _to_segment(x, y, ts, x2, y2, ts2)
        if d < best:
            best, best_ts = d, t
    return best, best_ts


def _to_segment(
    x1: float, y1: float, t1: float, x2: float, y2: float, t2: float
) -> tuple[float, float]:
    """Distance from the origin to the segment (x1, y1) -> (x2, y2), and the time at its
    nearest point (from ``t1`` to ``t2`` linearly)."""
    dx, dy = x2 - x1, y2 - y1
    length2 = dx * dx + dy * dy
    f = 0.0 if length2 == 0.0 else min(1.0, max(0.0, -(x1 * dx + y1 * dy) / length2))
    px, py = x1 + f * dx, y1 + f * dy
    return sqrt(px * px + py * py), t1 + f * (t2 - t1)
