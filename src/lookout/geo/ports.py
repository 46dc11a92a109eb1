"""Ports and anchorages as points, and the question the detectors ask of them: is one near?

:class:`PortIndex` holds thousands of points (ports, anchorages) and answers
:meth:`PortIndex.near` ``(lat, lon, distance_m) -> bool`` millions of times: it is the
``near_port`` predicate of ``encounter``, ``close_approach``, ``swarm`` and ``loitering``
(:data:`lookout.detectors.pairwise.NearPort`).

The points are bucketed in a grid of ``cell_deg`` x ``cell_deg`` cells (latitude, longitude).
A query looks only at the cells that the box around its circle touches: ``distance_m`` in
latitude degrees, widened in longitude by 1 / cos(latitude) at the box's edge nearest a pole,
wrapping across the antimeridian; a box that reaches a pole takes every longitude. Candidates
are then measured on the sphere (haversine, :func:`lookout.geo.distance.distance_m`) and the
first one within ``distance_m`` answers. A query far from every port (the usual case at sea)
costs a few dictionary look-ups. A query so wide that it would visit more cells than there are
points measures every point instead.

Answers are remembered per cell of :data:`MEMO_CELL_DEG` and distance: a cell whose centre is
nearer to a port than ``distance_m`` minus the cell's half-diagonal is near everywhere, one
farther than ``distance_m`` plus it is near nowhere; only queries in the cells between are
measured. The answers stay exact, and the moored vessels of a harbour, asked about at every
comparison, cost one look-up each.

Pure: no I/O; the data sets are read by :mod:`lookout.sources.ports`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from lookout.geo.distance import METRES_PER_DEGREE, distance_m

__all__ = ["DEFAULT_CELL_DEG", "MEMO_CELL_DEG", "MEMO_SIZE", "PortIndex"]

DEFAULT_CELL_DEG = 0.25
"""Grid cell size, degrees (about 28 km of latitude): a 10 km query visits 2 x 2 cells or 3 x 3."""


MEMO_CELL_DEG = 0.01
"""Cells whose near / not-near answer is remembered, degrees (about 1.1 km of latitude)."""
MEMO_SIZE = 200_000
"""Answers remembered; when full, the memory starts again."""
_MEMO_SLACK_M = 0.5 * math.sqrt(2.0) * MEMO_CELL_DEG * METRES_PER_DEGREE + 1.0
"""Farthest a point of a memo cell is from the cell's centre (a degree of longitude is at
most a degree of latitude long), metres, rounded up."""
_MIXED = 2  # a memo cell with near and far parts: measure each query


class PortIndex:
    """Points (WGS84 degrees) with a fast "is any within ``distance_m``?" (module docstring).

    ``points`` are ``(lat, lon)`` pairs; a point out of range or not finite raises
    ``ValueError``. Duplicates are kept once.
    """

    __slots__ = ("_cell_deg", "_cells", "_cols", "_memo", "_points")

    def __init__(
        self, points: Iterable[tuple[float, float]] = (), *, cell_deg: float = DEFAULT_CELL_DEG
    ) -> None:
        if not (math.isfinite(cell_deg) and 0.0 < cell_deg <= 90.0):
            raise ValueError(f"cell_deg must be in (0, 90], got {cell_deg!r}")
        self._cell_deg = cell_deg
        self._cols = max(1, math.ceil(360.0 / cell_deg))
        cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
        unique: dict[tuple[float, float], None] = {}
        for lat, lon in points:
            point = _checked(lat, lon)
            if point in unique:
                continue
            unique[point] = None
            cells.setdefault(self._cell(*point), []).append(point)
        self._points: tuple[tuple[float, float], ...] = tuple(unique)
        self._cells: dict[tuple[int, int], tuple[tuple[float, float], ...]] = {
            key: tuple(found) for key, found in cells.items()
        }
        self._memo: dict[tuple[int, int, float], int] = {}

    def __len__(self) -> int:
        """Distinct points held."""
        return len(self._points)

    def __repr__(self) -> str:
        return f"PortIndex({len(self._points)} points, cell_deg={self._cell_deg})"

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        """Every distinct point, ``(lat, lon)``, in the order first given."""
        return self._points

    def near(self, lat: float, lon: float, distance_m: float) -> bool:
        """Whether a point lies within ``distance_m`` metres (great circle) of ``lat``/``lon``."""
        if not self._points or not distance_m >= 0.0:
            return False
        key = (math.floor(lat / MEMO_CELL_DEG), math.floor(lon / MEMO_CELL_DEG), distance_m)
        verdict = self._memo.get(key)
        if verdict is None:
            verdict = self._judge_cell(key)
        if verdict != _MIXED:
            return verdict == 1
        return self._search(lat, lon, distance_m, first=True) <= distance_m

    def near_many(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], distance_m: float
    ) -> NDArray[np.bool_]:
        """:meth:`near` of many points at once (the same answers): each memo cell among
        them is looked up once, and only the points of mixed cells are measured."""
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        out = np.zeros(lat.shape, dtype=bool)
        if not self._points or not distance_m >= 0.0 or lat.size == 0:
            return out
        rows = np.floor(lat / MEMO_CELL_DEG).astype(np.int64)
        cols = np.floor(lon / MEMO_CELL_DEG).astype(np.int64)
        # one int64 per memo cell (|row| <= 9,000, |col| <= 18,000 on the globe)
        _, first, which = np.unique((rows << 20) + cols, return_index=True, return_inverse=True)
        verdicts = np.empty(len(first), dtype=np.int64)
        memo = self._memo
        cells = zip(rows[first].tolist(), cols[first].tolist(), strict=True)
        for k, (row, col) in enumerate(cells):
            key = (row, col, distance_m)
            verdict = memo.get(key)
            verdicts[k] = self._judge_cell(key) if verdict is None else verdict
        per_point = verdicts[which.ravel()]
        out[per_point == 1] = True
        for i in np.flatnonzero(per_point == _MIXED).tolist():
            out[i] = self._search(float(lat[i]), float(lon[i]), distance_m, first=True) <= (
                distance_m
            )
        return out

    def _judge_cell(self, key: tuple[int, int, float]) -> int:
        """1: every point of the memo cell is near, 0: none is, ``_MIXED``: some are."""
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        row, col, distance = key
        lat = min(90.0, (row + 0.5) * MEMO_CELL_DEG)
        lon = ((col + 0.5) * MEMO_CELL_DEG + 180.0) % 360.0 - 180.0
        nearest = self._search(lat, lon, distance + _MEMO_SLACK_M, first=False)
        if nearest <= distance - _MEMO_SLACK_M:
            verdict = 1
        elif nearest > distance + _MEMO_SLACK_M:
            verdict = 0
        else:
            verdict = _MIXED
        self._memo[key] = verdict
        return verdict

    def nearest_m(self, lat: float, lon: float, within_m: float) -> float | None:
        """Distance to the nearest point if one is within ``within_m`` metres, else ``None``."""
        if not self._points or not within_m >= 0.0:
            return None
        best = self._search(lat, lon, within_m, first=False)
        return best if best <= within_m else None

    # -- the grid ---------------------------------------------------------------------------

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        row = math.floor((lat + 90.0) / self._cell_deg)
        col = math.floor((lon + 180.0) / self._cell_deg) % self._cols
        return row, col

    def _search(self, lat: float, lon: float, radius_m: float, *, first: bool) -> float:
        """Smallest distance found within ``radius_m`` (the first one if ``first``), else inf."""
        best = math.inf
        for lat2, lon2 in self._candidates(lat, lon, radius_m):
            d = distance_m(lat, lon, lat2, lon2)
            if d <= radius_m and d < best:
                best = d
                if first:
                    break
        return best

    def _candidates(self, lat: float, lon: float, radius_m: float) -> Sequence[tuple[float, float]]:
        dlat = radius_m / METRES_PER_DEGREE
        south, north = lat - dlat, lat + dlat
        size = self._cell_deg
        rows = range(math.floor((max(south, -90.0) + 90.0) / size),
                     math.floor((min(north, 90.0) + 90.0) / size) + 1)  # fmt: skip
        edge = max(abs(south), abs(north))
        if edge >= 90.0:
            cols: Sequence[int] = range(self._cols)
        else:
            dlon = dlat / math.cos(math.radians(edge))
            if 2.0 * dlon >= 360.0 - size:
                cols = range(self._cols)
            else:
                first = math.floor((lon - dlon + 180.0) / size)
                last = math.floor((lon + dlon + 180.0) / size)
                cols = [c % self._cols for c in range(first, last + 1)]
        if len(rows) * len(cols) > len(self._points):
            return self._points
        found: list[tuple[float, float]] = []
        get = self._cells.get
        for row in rows:
            for col in cols:
                cell = get((row, col))
                if cell is not None:
                    found.extend(cell)
        return found


def _checked(lat: float, lon: float) -> tuple[float, float]:
    lat, lon = float(lat), float(lon)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a position: lat={lat!r}, lon={lon!r}")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"not a position: lat={lat!r}, lon={lon!r}")
    return lat, lon
