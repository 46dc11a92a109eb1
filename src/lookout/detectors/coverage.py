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


def _row_middle(row: int, cell_deg: float) -> float:
    return min(-90.0 + (row + 0.5) * cell_deg, 89.999)


def _other(found: int | None, exclude: int | None) -> bool:
    """Whether a cell-hour's record shows a vessel other than ``exclude``."""
    return found is not None and (found == _MANY or found != exclude)
