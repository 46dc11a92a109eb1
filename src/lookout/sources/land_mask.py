"""A :class:`~lookout.geo.shore.Shore` from the global 1 km land mask of ``global-land-mask``.

The package (MIT, PyPI ``global-land-mask``) ships the GLOBE land/sea grid at 30 arc-seconds
(about 1 km) and loads it from a file when first imported, so this adapter lives with the
sources. It answers land or sea per grid cell; the distance to the coast is the distance to
the nearest cell of the other kind, found in square windows of the mask around the point
that grow until one holds such a cell (every cell is looked at, so a one-cell islet far out
at sea is found: sampling directions on rings would pass between them).

Accuracy: a grid cell is about 1 km, and cells that touch the coast read as land, so a point
within about 1 km of the coast may read as on land; compare with a tolerance of at least
that (``position_on_land`` fires beyond 2 km). Distances beyond ``max_distance_m`` are
reported as ``max_distance_m`` (at sea) or ``-max_distance_m`` (inland): "at least that far".
Most lakes read as land.

Start-up: the package decompresses its 0.9 GB grid on import, several seconds, in every
process that loads it (each server's detection process, each restart of one). So the first
load also writes the grid uncompressed to ``land-mask-<version>.npy`` in the cache directory
(:func:`cache_dir`: ``LOOKOUT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lookout``, else
``~/.cache/lookout``), and later loads map that file read-only: no decompression, and one
copy in memory (the page cache) shared by every process that maps it. A directory that
cannot be written only costs the time: the package's own load is used.

Speed: the mask is indexed directly (the package's own lookup converts and checks its
arguments on every call), and distances are remembered per cell of :data:`CACHE_CELL_DEG`
(about 550 m, well inside the mask's own 1 km accuracy), so a vessel sailing along a coast
costs a window search once per cell it enters, not once per report.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.geo.distance import EARTH_RADIUS_M, METRES_PER_DEGREE

__all__ = ["CACHE_CELL_DEG", "CACHE_SIZE", "FIRST_WINDOW_M", "LandMaskShore", "cache_dir"]

log = logging.getLogger(__name__)

FIRST_WINDOW_M = 3_000.0
"""Half-width of the first window of the mask searched around a point, metres."""

CACHE_CELL_DEG = 0.005
"""Distances are remembered per cell of this many degrees of latitude and longitude."""
CACHE_SIZE = 500_000
"""Cells remembered; when full, the memory starts again."""


class LandMaskShore:
    """Signed distance to the coast from the 1 km global land mask (see the module docstring)."""

    def __init__(self, *, max_distance_m: float = 200_000.0) -> None:
        ocean, grid = _load_mask()  # True = ocean; rows from 90 N southwards, from 180 W
        self._ocean: NDArray[np.bool_] = ocean
        self._ocean_rows: list[Any] = list(ocean)  # row views: one index step in Python
        self._lat0, self._dlat, self._lon0, self._dlon = grid
        self._rows, self._cols = ocean.shape
        self._cache: dict[tuple[int, int], float] = {}
        self.max_distance_m = float(max_distance_m)

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
        """Signed distance to the nearest cell of the other kind (sea for a point on land),
        found in square windows of the mask around the point, three times wider each time
        until one holds such a cell within its half-width: every cell outside a window is
        farther than that, so the nearest found is the nearest there is (a one-cell islet
        too). Measured to the cell's centre, less half a cell."""
        here = self.is_land(lat, lon)
        row0 = min(max(int((lat - self._lat0) / self._dlat), 0), self._rows - 1)
        col0 = min(max(int(((lon + 180.0) % 360.0 - 180.0 - self._lon0) / self._dlon), 0),
                   self._cols - 1)  # fmt: skip
        cell_m = abs(self._dlat) * METRES_PER_DEGREE
        shrink = max(math.cos(math.radians(lat)), 0.01)
        radius = FIRST_WINDOW_M
        while True:
            dr = math.ceil(radius / cell_m) + 1
            dc = min(math.ceil(radius / (cell_m * shrink)) + 1, self._cols // 2)
            rows = np.arange(max(row0 - dr, 0), min(row0 + dr + 1, self._rows))
            cols = np.arange(col0 - dc, col0 + dc + 1) % self._cols
            window = self._ocean[rows[0] : rows[-1] + 1][:, cols]
            rr, cc = np.nonzero(window if here else ~window)
            if rr.size:
                lats = self._lat0 + (rows[rr] + 0.5) * self._dlat
                lons = self._lon0 + (cols[cc] + 0.5) * self._dlon
                nearest = float(_haversine(lat, lon, lats, lons).min())
                if nearest <= radius or radius >= self.max_distance_m:
                    found = min(max(nearest - 0.5 * cell_m, 0.0), self.max_distance_m)
                    return -found if here else found
            if radius >= self.max_distance_m:
                return -self.max_distance_m if here else self.max_distance_m
            radius = min(radius * 3.0, self.max_distance_m)

    def _land(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.bool_]:
        rows = np.clip(((lat - self._lat0) / self._dlat).astype(np.int64), 0, self._rows - 1)
        lon = (lon + 180.0) % 360.0 - 180.0
        cols = np.clip(((lon - self._lon0) / self._dlon).astype(np.int64), 0, self._cols - 1)
        land: NDArray[np.bool_] = ~self._ocean[rows, cols]
        return land


def _haversine(
    lat: float, lon: float, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Great-circle distances, metres, from one point to many."""
    phi1, phi2 = math.radians(lat), np.radians(lats)
    h = (
        np.sin((phi2 - phi1) * 0.5) ** 2
        + math.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lons - lon) * 0.5) ** 2
    )
    result: NDArray[np.float64] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return result


def cache_dir() -> Path:
    """Where Lookout keeps files it can build again (the uncompressed land mask)."""
    given = os.environ.get("LOOKOUT_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "lookout"


def _load_mask() -> tuple[NDArray[np.bool_], tuple[float, float, float, float]]:
    """The ocean grid and its (lat0, dlat, lon0, dlon): mapped from the cache when it is
    there, else from the package (and then written to the cache for the next process)."""
    version = metadata.version("global-land-mask")
    mask_file = cache_dir() / f"land-mask-{version}.npy"
    grid_file = mask_file.with_suffix(".json")
    try:
        lat0, dlat, lon0, dlon = (float(v) for v in json.loads(grid_file.read_text()))
        # a plain array over the mapping: a memmap's own indexing costs a Python call
        ocean: NDArray[np.bool_] = np.load(mask_file, mmap_mode="r").view(np.ndarray)
        if ocean.dtype == np.bool_ and ocean.ndim == 2:
            return ocean, (lat0, dlat, lon0, dlon)
    except (OSError, ValueError, TypeError):
        pass  # not built yet (or damaged): built again below
    from global_land_mask import globe  # decompresses the grid: seconds

    ocean = globe._mask
    lat, lon = globe._lat, globe._lon
    built = (float(lat[0]), float(lat[1] - lat[0]), float(lon[0]), float(lon[1] - lon[0]))
    try:
        _write_atomically(grid_file, lambda f: f.write(json.dumps(built).encode()))
        _write_atomically(mask_file, lambda f: np.save(f, ocean))
    except OSError as exc:
        log.warning("the land mask is not cached (%s): each process decompresses it", exc)
    return ocean, built


def _write_atomically(path: Path, write: Any) -> None:
    """Write through a temporary file in the same directory, then rename: a process that
    reads meanwhile sees the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
