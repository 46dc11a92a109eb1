"""Where and when the network was receiving AIS: the evidence that tells a vessel going dark
from a hole in coverage.

:class:`Coverage` records, for every cell of a grid of about 50 km and every hour of event
time, whether positions of one vessel or of several distinct vessels were received there.
:meth:`Coverage.receiving_near` then answers ``ais_gap``'s question: around ``(lat, lon)`` at
``ts``, was the network receiving *other* vessels? It looks at the cell of the point and its
eight neighbours (so at least ``cell_deg`` of latitude, about 50 km, in every direction, at
most about 150 km on a diagonal) over the hour of ``ts`` and the hours before and after (so
at least +-1 h, at most +-2 h).

Memory is bounded by event time: hours older than ``retention_s`` behind the newest position
recorded are dropped, and per cell and hour only one MMSI (or "several") is kept. The answer
is ``None`` (unknown) when those hours were already dropped, or when no vessel other than the
excluded one was received *anywhere* in them: an input of one vessel's track says nothing
about coverage.

Cells are rows of ``cell_deg`` of latitude, each cut into as many columns as make them about
as wide as tall at the row's latitude, so cells keep their size towards the poles; columns
wrap around the antimeridian. Nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_CELL_DEG", "DEFAULT_RETENTION_S", "HOUR_S", "Coverage"]

DEFAULT_CELL_DEG = 0.45
"""Cell height in degrees of latitude (about 50 km)."""
DEFAULT_RETENTION_S = 172_800.0
"""Event time kept behind the newest position recorded, seconds (2 days)."""
HOUR_S = 3600.0
"""Length of one time bucket, seconds."""
_MANY = 0
"""Marks a cell-hour where several distinct vessels were received (MMSIs are >= 1)."""
_SHIFT = 16


class Coverage:
    """Distinct vessels received per (cell of about 50 km, hour); see the module docstring."""

    def __init__(
        self, *, cell_deg: float = DEFAULT_CELL_DEG, retention_s: float = DEFAULT_RETENTION_S
    ) -> None:
        if not (0.0 < cell_deg <= 30.0):
            raise ValueError(f"cell_deg must be in (0, 30], got {cell_deg!r}")
        if not (math.isfinite(retention_s) and retention_s >= 3 * HOUR_S):
            raise ValueError(f"retention_s must be at least 3 hours, got {retention_s!r}")
        self.cell_deg = cell_deg
        self._per_deg = 1.0 / cell_deg
        self.retention_s = retention_s
        rows = math.ceil(180.0 / cell_deg)
        self._columns = [
            max(1, math.floor(360.0 * math.cos(math.radians(_row_middle(r, cell_deg))) / cell_deg))
            for r in range(rows)
        ]
        self._column_counts = np.array(self._columns, dtype=np.int64)
        self._cells: dict[int, dict[int, int]] = {}
        """hour -> cell key -> the one MMSI received there, or ``_MANY``."""
        self._anywhere: dict[int, int | None] = {}
        """hour -> the one MMSI received anywhere, or ``_MANY`` (None: nobody yet)."""
        self._newest_hour: int | None = None
        self._oldest_hour: int | None = None
        """The oldest hour kept: anything earlier is dropped (None before any record)."""
        self._hour: int | None = None
        self._current: dict[int, int] = {}
        """The cells of hour ``_hour``, the one last recorded into."""

    # -- recording ---------------------------------------------------------------------------

    def record(self, mmsi: int, lat: float, lon: float, ts: float) -> None:
        """One position of ``mmsi`` received at ``(lat, lon)``, event time ``ts``."""
        hour = int(ts // HOUR_S)
        # the cells of the current hour are at hand; another hour is looked up (or dropped)
        if hour != self._hour and not self._enter(hour):
            return  # older than what is kept
        cells = self._current
        # the key of the cell, as _key() computes it (inlined: this runs for every position)
        columns = self._columns
        row = int((lat + 90.0) * self._per_deg)
        if row >= len(columns):
            row = len(columns) - 1
        count = columns[row]
        key = (row << _SHIFT) | (int((lon + 180.0) % 360.0 / 360.0 * count) % count)
        known = cells.get(key)
        if known is None:
            cells[key] = mmsi
        elif known != mmsi and known != _MANY:
            cells[key] = _MANY
        anywhere = self._anywhere[hour]
        if anywhere != mmsi and anywhere != _MANY:
            self._anywhere[hour] = mmsi if anywhere is None else _MANY

    def record_many(
        self,
        mmsi: NDArray[np.int64],
        lat: NDArray[np.float64],
        lon: NDArray[np.float64],
        ts: NDArray[np.float64],
    ) -> None:
        """:meth:`record` for every row of the arrays, with the same result.

        Recording is order-free: a cell-hour ends up holding its one MMSI or ``_MANY``
        whatever the order, and an hour dropped by the newest of the rows would have been
        dropped (or pruned) in any order. So the rows are grouped per cell-hour with numpy
        and each cell-hour is merged once, in the order of its first row (the dicts keep the
        order :meth:`record` would give them). Rows with a position or time out of range go
        to :meth:`record` as they are."""
        if not len(ts):
            return
        if not (lat.min() >= -90.0 and lat.max() <= 90.0 and math.isfinite(lon.sum() + ts.sum())):
            odd = ~((lat >= -90.0) & (lat <= 90.0) & np.isfinite(lon) & np.isfinite(ts))
            for i in np.flatnonzero(odd).tolist():
                self.record(int(mmsi[i]), float(lat[i]), float(lon[i]), float(ts[i]))
            ok = ~odd
            mmsi, lat, lon, ts = mmsi[ok], lat[ok], lon[ok], ts[ok]
            if not len(ts):
                return
        hours = np.floor_divide(ts, HOUR_S).astype(np.int64)
        newest = int(hours.max())
        if self._newest_hour is None or newest > self._newest_hour:
            self._newest_hour = newest
            self._prune(newest)
        oldest = self._oldest_hour
        assert oldest is not None  # set by the first _prune
        if hours.min() < oldest:
            kept = hours >= oldest
            mmsi, lat, lon, hours = mmsi[kept], lat[kept], lon[kept], hours[kept]
            if not len(hours):
                return
        rows = np.minimum(((lat + 90.0) * self._per_deg).astype(np.int64), len(self._columns) - 1)
        counts = self._column_counts[rows]
        columns = ((lon + 180.0) % 360.0 / 360.0 * counts).astype(np.int64) % counts
        self._merge(hours, (rows << _SHIFT) | columns, mmsi)

    def _merge(
        self, hours: NDArray[np.int64], keys: NDArray[np.int64], mmsi: NDArray[np.int64]
    ) -> None:
        """Merge rows (hour, cell key, MMSI) into the cells and the per-hour summaries."""
        order = np.lexsort((mmsi, keys, hours))
        h, k, m = hours[order], keys[order], mmsi[order]
        starts = np.flatnonzero(_first(h) | _first(k))
        firsts = np.minimum.reduceat(order, starts)
        single = m[starts] == np.maximum.reduceat(m, starts)
        found = np.where(single, m[starts], _MANY)
        by_first = np.argsort(firsts)
        all_cells, anywhere, hour, cells = self._cells, self._anywhere, None, {}
        for hour_i, key, value in zip(
            h[starts][by_first].tolist(),
            k[starts][by_first].tolist(),
            found[by_first].tolist(),
            strict=True,
        ):
            if hour_i != hour:
                hour, known_cells = hour_i, all_cells.get(hour_i)
                if known_cells is None:
                    known_cells = all_cells[hour_i] = {}
                    anywhere.setdefault(hour_i, None)
                cells = known_cells
            known = cells.get(key)
            if known is None:
                cells[key] = value
            elif known != value and known != _MANY:
                cells[key] = _MANY
        if h[0] == h[-1]:  # one hour: the commonest batch
            hour_values = [(int(h[0]), int(m[0]) if m.min() == m.max() else _MANY)]
        else:
            hour_starts = np.flatnonzero(_first(h))
            hour_single = np.minimum.reduceat(m, hour_starts) == np.maximum.reduceat(m, hour_starts)
            hour_found = np.where(hour_single, m[hour_starts], _MANY)
            hour_values = list(zip(h[hour_starts].tolist(), hour_found.tolist(), strict=True))
        for hour_i, value in hour_values:
            before = anywhere[hour_i]
            if before != value and before != _MANY:
                anywhere[hour_i] = value if before is None else _MANY

    def _enter(self, hour: int) -> bool:
        """Make ``hour`` the current one (pruning when it is the newest); False if dropped."""
        newest = self._newest_hour
        if newest is None or hour > newest:
            self._newest_hour = hour
            self._prune(hour)
        oldest = self._oldest_hour
        if oldest is not None and hour < oldest:
            return False
        cells = self._cells.get(hour)
        if cells is None:
            cells = self._cells[hour] = {}
            self._anywhere.setdefault(hour, None)
        self._hour, self._current = hour, cells
        return True

    def _prune(self, newest_hour: int) -> None:
        first_kept = newest_hour - math.ceil(self.retention_s / HOUR_S)
        if self._oldest_hour is not None and self._oldest_hour >= first_kept:
            return
        for hour in [h for h in self._cells if h < first_kept]:
            del self._cells[hour]
        if self._hour is not None and self._hour < first_kept:
            self._hour, self._current = None, {}
        for hour in [h for h in self._anywhere if h < first_kept]:
            del self._anywhere[hour]
        self._oldest_hour = first_kept

    # -- questions -----------------------------------------------------------------------------

    def receiving_near(
        self, lat: float, lon: float, ts: float, exclude_mmsi: int | None = None
    ) -> bool | None:
        """Was a vessel other than ``exclude_mmsi`` received near ``(lat, lon)`` around
        ``ts``? ``None`` when unknown (see the module docstring)."""
        hour = int(ts // HOUR_S)
        hours = (hour - 1, hour, hour + 1)
        oldest = self._oldest_hour
        if oldest is None or hour - 1 < oldest:
            return None
        if not any(_other(self._anywhere.get(h), exclude_mmsi) for h in hours):
            return None
        keys = self._neighbours(lat, lon)
        for h in hours:
            cells = self._cells.get(h)
            if cells and any(_other(cells.get(k), exclude_mmsi) for k in keys):
                return True
        return False

    def cells(self) -> int:
        """Cell-hours held (for tests and inspection)."""
        return sum(len(c) for c in self._cells.values())

    # -- the grid ------------------------------------------------------------------------------

    def _row(self, lat: float) -> int:
        return min(max(int((lat + 90.0) * self._per_deg), 0), len(self._columns) - 1)

    def _column(self, row: int, lon: float) -> int:
        columns = self._columns[row]
        return int((lon + 180.0) % 360.0 / 360.0 * columns) % columns

    def _key(self, lat: float, lon: float) -> int:
        row = self._row(lat)
        return (row << _SHIFT) | self._column(row, lon)

    def _neighbours(self, lat: float, lon: float) -> set[int]:
        """The keys of the cell of ``(lat, lon)`` and of the cells around it."""
        row = self._row(lat)
        keys = set()
        for r in range(max(row - 1, 0), min(row + 2, len(self._columns))):
            columns = self._columns[r]
            c = self._column(r, lon)
            for dc in (-1, 0, 1):
                keys.add((r << _SHIFT) | ((c + dc) % columns))
        return keys

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "cells": [[h, [[k, v] for k, v in c.items()]] for h, c in self._cells.items()],
            "anywhere": [[h, v] for h, v in self._anywhere.items()],
            "newest_hour": self._newest_hour,
            "oldest_hour": self._oldest_hour,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace all state with a :meth:`snapshot`."""
        self._cells = {int(h): {int(k): int(v) for k, v in c} for h, c in data.get("cells", ())}
        self._anywhere = {
            int(h): None if v is None else int(v) for h, v in data.get("anywhere", ())
        }
        newest, oldest = data.get("newest_hour"), data.get("oldest_hour")
        self._newest_hour = None if newest is None else int(newest)
        self._oldest_hour = None if oldest is None else int(oldest)
        self._hour, self._current = None, {}


def _first(sorted_values: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which entries of a sorted array differ from the one before (the first does)."""
    first = np.empty(len(sorted_values), dtype=bool)
    first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


def _row_middle(row: int, cell_deg: float) -> float:
    return min(-90.0 + (row + 0.5) * cell_deg, 89.999)


def _other(found: int | None, exclude: int | None) -> bool:
    """Whether a cell-hour's record shows a vessel other than ``exclude``."""
    return found is not None and (found == _MANY or found != exclude)
