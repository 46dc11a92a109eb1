"""A :class:`~lookout.geo.shore.Shore` from the global 1 km land mask of ``global-land-mask``.

The package (MIT, PyPI ``global-land-mask``) ships the GLOBE land/sea grid at 30 arc-seconds
(about 1 km) and loads it from a file when first imported, so this adapter lives with the
sources. It answers land or sea per grid cell; the distance to the coast is found by looking
around the point on rings of :data:`BEARINGS` directions at growing radii for the first sample
on the other side, then halving the interval between the last radius that found none and the
first that did.

Accuracy: a grid cell is about 1 km, and cells that touch the coast read as land, so a point
within about 1 km of the coast may read as on land; compare with a tolerance of at least
that (``position_on_land`` fires beyond 2 km). Distances beyond ``max_distance_m`` are
reported as ``max_distance_m`` (at sea) or ``-max_distance_m`` (inland): "at least that far".
Most lakes read as land.

Speed: the mask is indexed directly (the package's own lookup converts and checks its
arguments on every call), and distances are remembered per cell of :data:`CACHE_CELL_DEG`
(about 550 m, well inside the mask's own 1 km accuracy), so a vessel sailing along a coast
costs a ring search once per cell it enters, not once per report.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.geo.distance import EARTH_RADIUS_M

__all__ = ["BEARINGS", "CACHE_CELL_DEG", "CACHE_SIZE", "LandMaskShore"]

BEARINGS = 24
"""Directions sampled on each ring (15 degrees apart)."""

CACHE_CELL_DEG = 0.005
"""Distances are remembered per cell of this many degrees of latitude and longitude."""
CACHE_SIZE = 500_000
"""Cells remembered; when full, the memory starts again."""

_ANGLES = np.radians(np.arange(BEARINGS) * (360.0 / BEARINGS))


class LandMaskShore:
    """Signed distance to the coast from the 1 km global land mask (see the module docstring)."""

    def __init__(self, *, max_distance_m: float = 200_000.0, resolution_m: float = 250.0) -> None:
        from global_land_mask import globe  # loads the mask file (a few MB) once

        self._globe: Any = globe
        ocean = globe._mask  # True = ocean; rows from 90 N southwards, columns from 180 W
        self._ocean: NDArray[np.bool_] = ocean
        self._ocean_rows: list[Any] = list(ocean)  # row views: one index step in Python
        self._lat0 = float(globe._lat[0])
        self._dlat = float(globe._lat[1] - globe._lat[0])
        self._lon0 = float(globe._lon[0])
        self._dlon = float(globe._lon[1] - globe._lon[0])
        self._rows, self._cols = ocean.shape
        self._cache: dict[tuple[int, int], float] = {}
        self.max_distance_m = float(max_distance_m)
        self.resolution_m = float(resolution_m)
        radii = [resolution_m]
        while radii[-1] < max_distance_m:
            radii.append(min(radii[-1] * 1.5, max_distance_m))
        self._radii = np.array(radii)

    def is_land(self, lat: float, lon: float) -> bool:
        """Whether the grid cell of (lat, lon) is land."""
        row = min(max(int((lat - self._lat0) / self._dlat), 0), self._rows - 1)
        lon = (lon + 180.0) % 360.0 - 180.0
        col = min(max(int((lon - self._lon0) / self._dlon), 0), self._cols - 1)
        return not self._ocean_rows[row][col]

    def land_flags(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.bool_]:
        """:meth:`is_land` for arrays of positions at once."""
        return self._land(lat, lon)

    def distance_to_shore_m(self, lat: float, lon: float) -> float:
        cell = (math.floor(lat / CACHE_CELL_DEG), math.floor(lon / CACHE_CELL_DEG))
        known = self._cache.get(cell)
        if known is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            known = self._cache[cell] = self._distance(lat, lon)
        return known

    def _distance(self, lat: float, lon: float) -> float:
        here = self.is_land(lat, lon)
        lats, lons = _rings(lat, lon, self._radii)
        other = (self._land(lats.ravel(), lons.ravel()) != here).reshape(lats.shape)
        hits = np.flatnonzero(other.any(axis=1))
        if hits.size == 0:
            found = self.max_distance_m
        else:
            first = int(hits[0])
            inner = 0.0 if first == 0 else float(self._radii[first - 1])
            found = self._refine(lat, lon, here, inner, float(self._radii[first]))
        return -found if here else found

    def _refine(self, lat: float, lon: float, here: bool, inner: float, outer: float) -> float:
        """Halve [inner, outer] (no other side within inner, some at outer) to the resolution."""
        while outer - inner > self.resolution_m:
            mid = (inner + outer) * 0.5
            lats, lons = _rings(lat, lon, np.array([mid]))
            if bool((self._land(lats.ravel(), lons.ravel()) != here).any()):
                outer = mid
            else:
                inner = mid
        return outer

    def _land(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.bool_]:
        rows = np.clip(((lat - self._lat0) / self._dlat).astype(np.int64), 0, self._rows - 1)
        lon = (lon + 180.0) % 360.0 - 180.0
        cols = np.clip(((lon - self._lon0) / self._dlon).astype(np.int64), 0, self._cols - 1)
        land: NDArray[np.bool_] = ~self._ocean[rows, cols]
        return land


def _rings(
    lat: float, lon: float, radii: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points at each radius (rows) and bearing (columns) around (lat, lon), great circles."""
    delta = radii[:, None] / EARTH_RADIUS_M
    phi1 = math.radians(lat)
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(_ANGLES)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam = np.arctan2(
        np.sin(_ANGLES) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2
    )
    return np.degrees(phi2), lon + np.degrees(lam)
