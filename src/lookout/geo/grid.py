"""Neighbour search over many positions at once: a spatial hash on the unit sphere.

Positions become unit vectors (x, y, z) and fall into cubic cells whose edge is the chord of
the search radius. Two positions within the radius are then at most one cell apart on each
axis, so a pair search only compares points of the same and the 26 neighbouring cells (13 of
them, each unordered pair of cells once). On the sphere there is no seam: the antimeridian
and the poles need no special case, and the distance is exact (the chord converts to the
great-circle distance of :func:`lookout.geo.distance.distance_m`, up to float rounding).

Everything is vectorised with numpy: a sweep over 50,000 positions costs milliseconds
(``bench/bench_sweep.py``). H3 was measured and rejected: indexing 50,000 points one call
each already takes about 45 ms in Python, and a ring query per point six times that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lookout.geo.distance import EARTH_RADIUS_M

__all__ = [
    "MIN_CELL",
    "SMALL_SET",
    "Pairs",
    "SpatialGrid",
    "cell_keys",
    "cell_offset",
    "centroid",
    "chord_of",
    "distance_of_chord",
    "pairs_within",
    "unit_vectors",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_BITS = 21
_OFFSET = 1 << (_BITS - 1)
MIN_CELL = 4.0 / (1 << _BITS)
"""Smallest cell edge (unit sphere, about 12 m): keeps each cell index within 21 bits."""
_COLUMN = 1 << _BITS
_LAYER = 1 << (2 * _BITS)
_FORWARD_COLUMNS = (_COLUMN, _LAYER - _COLUMN, _LAYER, _LAYER + _COLUMN)
"""Key offsets of the neighbouring columns (same z) after a cell's own: (0,+1), (+1,-1),
(+1,0), (+1,+1) in (x, y). In a column the cells z-1, z, z+1 have consecutive keys, so the
points of three neighbouring cells are one contiguous run of the sorted points."""
_ALL_COLUMNS = (0, *_FORWARD_COLUMNS, *(-c for c in _FORWARD_COLUMNS))
_FIRST_STEPS = np.array([column - 1 for column in _FORWARD_COLUMNS], dtype=np.int64)
"""Key offsets of the first cell of each forward column's run (its own run starts at the
point after it)."""
_SEARCH_POINTS = 4096
"""Up to this many points the runs are found by searching the points directly (fewer steps);
beyond, by searching the occupied cells (fewer searches when cells hold many points)."""
_LAST_STEPS = np.array([1, *(column + 1 for column in _FORWARD_COLUMNS)], dtype=np.int64)
"""Key offsets of the last cell of each run: the own column's, then the forward columns'."""


def unit_vectors(lat_deg: ArrayLike, lon_deg: ArrayLike) -> FloatArray:
    """WGS84 degrees to unit vectors on the sphere, shape (n, 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)), axis=-1)


def cell_keys(xyz: FloatArray, cell: float) -> IntArray:
    """One int64 per unit vector naming its cubic cell of edge ``cell`` (at least
    :data:`MIN_CELL`); neighbouring cells differ by :func:`cell_offset` of their step."""
    q = np.floor(xyz / max(cell, MIN_CELL)).astype(np.int64) + _OFFSET
    keys: IntArray = (q[:, 0] << (2 * _BITS)) | (q[:, 1] << _BITS) | q[:, 2]
    return keys


def cell_offset(dx: int, dy: int, dz: int) -> int:
    """The key difference between a cell and the one ``(dx, dy, dz)`` cells away."""
    return dx * _LAYER + dy * _COLUMN + dz


def centroid(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[float, float]:
    """The mean position of points on the sphere (antimeridian-safe), WGS84 degrees."""
    x, y, z = unit_vectors(lat_deg, lon_deg).reshape(-1, 3).mean(axis=0)
    if x == 0.0 and y == 0.0 and z == 0.0:
        raise ValueError("the points have no mean position (empty or antipodal)")
    lat = float(np.degrees(np.arctan2(z, np.hypot(x, y))))
    lon = float(np.degrees(np.arctan2(y, x)))
    return lat, (lon + 180.0) % 360.0 - 180.0


def chord_of(distance_m: float) -> float:
    """The chord (unit sphere) of a great-circle distance in metres."""
    angle = min(max(distance_m, 0.0) / EARTH_RADIUS_M, np.pi)
    return float(2.0 * np.sin(angle * 0.5))


def distance_of_chord(chord: FloatArray) -> FloatArray:
    """Great-circle distances in metres of chords on the unit sphere."""
    half = np.minimum(chord * 0.5, 1.0)
    result: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(half)
    return result


@dataclass(frozen=True, slots=True)
class Pairs:
    """Index pairs ``i < j`` of positions within a radius, with their distances in metres.

    In no particular order (the same input always gives the same order): sorting would cost
    more than finding them.
    """

    i: IntArray
    j: IntArray
    distance_m: FloatArray

    def __len__(self) -> int:
        return int(self.i.shape[0])


class SpatialGrid:
    """A spatial hash of ``n`` positions for searches within ``radius_m`` metres.

    Build it once per sweep, then ask for every close pair (:meth:`pairs`) or for the
    positions near a point (:meth:`near`). Radii up to ``radius_m`` are answered exactly.
    """

    def __init__(self, lat_deg: ArrayLike, lon_deg: ArrayLike, radius_m: float) -> None:
        self._index(unit_vectors(lat_deg, lon_deg).reshape(-1, 3), radius_m)

    @classmethod
    def of_unit_vectors(cls, xyz: FloatArray, radius_m: float) -> SpatialGrid:
        """The grid of positions already converted by :func:`unit_vectors` (shape (n, 3)):
        a caller that has them saves converting them again."""
        grid = cls.__new__(cls)
        grid._index(np.asarray(xyz, dtype=np.float64).reshape(-1, 3), radius_m)
        return grid

    def _index(self, xyz: FloatArray, radius_m: float) -> None:
        if not radius_m > 0.0:
            raise ValueError(f"radius_m must be positive, got {radius_m}")
        self.radius_m = float(radius_m)
        self.xyz = xyz
        self._cell = max(chord_of(self.radius_m), MIN_CELL)
        keys = self._keys(self.xyz)
        self._order: IntArray = np.argsort(keys, kind="stable").astype(np.int64)
        self._keys_sorted: IntArray = keys[self._order]
        ordered = self.xyz[self._order]
        self._axes = tuple(np.ascontiguousarray(ordered[:, k]) for k in range(3))

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    def _keys(self, xyz: FloatArray) -> IntArray:
        return cell_keys(xyz, self._cell)

    def _limit(self, radius_m: float | None) -> float:
        if radius_m is None:
            return chord_of(self.radius_m)
        if radius_m > self.radius_m:
            raise ValueError(f"radius {radius_m} m exceeds the grid's {self.radius_m} m")
        return chord_of(radius_m)

    def pairs(self, radius_m: float | None = None) -> Pairs:
        """Every pair of positions at most ``radius_m`` (default: the grid's radius) apart."""
        i, j, d2 = self._close(radius_m)
        return Pairs(i, j, distance_of_chord(np.sqrt(d2)))

    def index_pairs(self, radius_m: float | None = None) -> tuple[IntArray, IntArray]:
        """:meth:`pairs` without the distances (``i`` and ``j``, in the same order), for a
        caller that only needs to know who is close to whom."""
        i, j, _ = self._close(radius_m)
        return i, j

    def _close(self, radius_m: float | None) -> tuple[IntArray, IntArray, FloatArray]:
        """The pairs within ``radius_m`` and their squared chords."""
        limit = self._limit(radius_m)
        a, b = self._candidates()
        d2 = self._squared_chords(a, b)
        keep = d2 <= limit * limit
        i = self._order[a[keep]]
        j = self._order[b[keep]]
        return np.minimum(i, j), np.maximum(i, j), d2[keep]

    def _squared_chords(self, a: IntArray, b: IntArray) -> FloatArray:
        """Squared chords between sorted points ``a`` and ``b`` (one axis at a time: row
        gathers of an (n, 3) array cost four times as much)."""
        total = np.zeros(len(a))
        for axis in self._axes:
            diff = axis.take(a)
            diff -= axis.take(b)
            diff *= diff
            total += diff
        return total

    def _candidates(self) -> tuple[IntArray, IntArray]:
        """Sorted-point index pairs (a, b) of the same or neighbouring cells, each pair once:
        per point, the run of the rest of its own cell and the cell above it, then the runs
        of the four forward columns (each at most three cells, consecutive keys)."""
        keys = self._keys_sorted
        n = len(keys)
        if n <= _SEARCH_POINTS:  # one binary search per run end over the points
            firsts = (keys[None, :] + _FIRST_STEPS[:, None]).ravel()
            lasts = (keys[None, :] + _LAST_STEPS[:, None]).ravel()
            starts = np.concatenate((np.arange(1, n + 1), keys.searchsorted(firsts, "left")))
            return _expand(n, starts, keys.searchsorted(lasts, "right"))
        # many points: search over the occupied cells, then spread the runs to their points
        firsts_at = np.flatnonzero(np.diff(keys, prepend=keys[:1] - 1)).astype(np.int64)
        cells = keys[firsts_at]
        bounds = np.append(firsts_at, n)  # cell k holds the points bounds[k] .. bounds[k + 1]
        of_point = np.repeat(np.arange(len(cells), dtype=np.int64), np.diff(bounds))
        above = np.append(cells[1:] == cells[:-1] + 1, False)
        own_end = bounds[np.arange(len(cells)) + 1 + above]
        starts_list, ends_list = [np.arange(1, n + 1)], [own_end[of_point]]
        padded = np.append(cells, np.full(3, np.iinfo(np.int64).max))
        for column in _FORWARD_COLUMNS:
            lo = np.searchsorted(cells, cells + (column - 1), side="left")
            last = cells + (column + 1)  # the run ends after at most three cells
            hi = lo + (padded[lo] <= last) + (padded[lo + 1] <= last) + (padded[lo + 2] <= last)
            starts_list.append(bounds[lo][of_point])
            ends_list.append(bounds[hi][of_point])
        return _expand(n, np.concatenate(starts_list), np.concatenate(ends_list))

    def near(self, lat_deg: float, lon_deg: float, radius_m: float | None = None) -> IntArray:
        """Indices (ascending) of the positions at most ``radius_m`` from one point."""
        limit = self._limit(radius_m)
        centre = unit_vectors(np.array([lat_deg]), np.array([lon_deg]))
        key = int(self._keys(centre)[0])
        wanted = np.array([key + column for column in _ALL_COLUMNS], dtype=np.int64)
        starts = np.searchsorted(self._keys_sorted, wanted - 1, side="left")
        ends = np.searchsorted(self._keys_sorted, wanted + 1, side="right")
        _, idx = _expand(1, starts, ends)
        d2 = sum((axis.take(idx) - c) ** 2 for axis, c in zip(self._axes, centre[0], strict=True))
        keep = d2 <= limit * limit
        result: IntArray = np.sort(self._order[idx[keep]])
        return result


def _expand(n: int, starts: IntArray, ends: IntArray) -> tuple[IntArray, IntArray]:
    """For runs ``[starts[k], ends[k])`` of sorted points owned by point ``k % n``: the
    (owner, point) index pairs of every point of every run, run by run."""
    lengths = ends - starts
    runs = np.flatnonzero(lengths > 0)
    lengths = lengths[runs]
    total = int(lengths.sum())
    shift = starts[runs] - (np.cumsum(lengths) - lengths)
    owner = np.repeat(runs % n, lengths)
    return owner, np.arange(total, dtype=np.int64) + np.repeat(shift, lengths)


SMALL_SET = 48
"""Up to this many positions, :func:`pairs_within` compares every pair directly: cheaper than
building a grid (a sparse recording compares two or three vessels at every tick)."""


def pairs_within(lat_deg: ArrayLike, lon_deg: ArrayLike, radius_m: float) -> Pairs:
    """Every pair of the positions at most ``radius_m`` metres apart (see :class:`SpatialGrid`)."""
    lat = np.asarray(lat_deg, dtype=np.float64).ravel()
    if len(lat) > SMALL_SET:
        return SpatialGrid(lat, lon_deg, radius_m).pairs()
    if not radius_m > 0.0:
        raise ValueError(f"radius_m must be positive, got {radius_m}")
    i, j = np.triu_indices(len(lat), k=1)
    xyz = unit_vectors(lat, lon_deg).reshape(-1, 3)
    chord = np.sqrt(((xyz[i] - xyz[j]) ** 2).sum(axis=1))
    limit = chord_of(float(radius_m))
    keep = chord <= limit
    return Pairs(i[keep].astype(np.int64), j[keep].astype(np.int64), distance_of_chord(chord[keep]))
