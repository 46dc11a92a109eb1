"""The rows a pairwise detector has buffered for ticks not swept yet (see
:mod:`lookout.detectors.pairwise`).

A report that crosses ticks buffers one *segment* (its vessel, the ticks it covers and the
two reports at its ends), not one row per tick: the rows are interpolated when their ticks
are swept, for every segment at once (numpy), with the very arithmetic of the scalar rule
(the same float operations in the same order, so the same values to the last bit):

- ``f = (k * tick_s - t0) / span``, ``lat = lat0 + f * dlat``,
  ``lon = (lon0 + f * dlon + 180) % 360 - 180``;
- speed and course of the nearer report (the earlier one when ``f < 0.5``).

A report that falls exactly on a tick buffers that row as it is. Nothing here reads a clock.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FEW_SEGMENTS", "ROW", "SEGMENT", "PendingRows"]

ROW = 5
"""Floats per row: mmsi, lat, lon, speed_kn, course_deg."""
SEGMENT = 13
"""Floats per segment: mmsi, first tick, last tick, t0, lat0, lon0, speed0, course0, span,
dlat, dlon, speed1, course1."""

FEW_SEGMENTS = 64
"""Up to this many segments due, rows are interpolated one by one (numpy costs more)."""

FloatArray = NDArray[np.float64]


class PendingRows:
    """Rows by tick (exact reports, restored snapshots) and segments still covering ticks
    after the last swept one, by the first tick they cover (a sweep reads only those due)."""

    __slots__ = ("rows", "segments", "tick_s")

    def __init__(self, tick_s: float) -> None:
        self.tick_s = tick_s
        self.rows: dict[int, array[float]] = {}
        self.segments: dict[int, array[float]] = {}
        """Flat segments, :data:`SEGMENT` floats each, by first tick; the detector appends
        to them directly (hot path), through :meth:`bucket` when the tick has none yet."""

    def bucket(self, first: int) -> array[float]:
        """The segments whose first tick is ``first`` (created empty if need be)."""
        found = self.segments.get(first)
        if found is None:
            found = self.segments[first] = array("d")
        return found

    def add_row(
        self, k: int, mmsi: int, lat: float, lon: float, speed: float, course: float
    ) -> None:
        """One row at tick ``k`` as it is."""
        rows = self.rows.get(k)
        if rows is None:
            rows = self.rows[k] = array("d")
        rows.extend((mmsi, lat, lon, speed, course))

    def last_tick(self, default: int) -> int:
        """The last tick anything is buffered for (``default`` when nothing is)."""
        last = max(self.rows, default=default)
        table = self._table(self.segments)
        if len(table):
            last = max(last, int(table[:, 2].max()))
        return last

    def take_through(self, last: int) -> list[tuple[int, FloatArray]]:
        """The rows of every tick up to ``last`` (removed from the buffer), by tick."""
        exact = [k for k in self.rows if k <= last] if self.rows else []
        due_keys = [k for k in self.segments if k <= last]
        if not exact and not due_keys:
            return []  # the usual answer between two ticks
        found: dict[int, list[FloatArray]] = {}
        for k in sorted(exact):
            found[k] = [np.frombuffer(self.rows.pop(k)).reshape(-1, ROW)]
        due = {k: self.segments.pop(k) for k in due_keys}
        if sum(len(b) for b in due.values()) <= FEW_SEGMENTS * SEGMENT:
            self._take_few(due.values(), last, found)
        else:
            table = self._table(due)
            ticks, rows = _interpolate(table, last, self.tick_s)
            for k, part in _by_tick(ticks, rows):
                found.setdefault(k, []).append(part)
            rest = table[table[:, 2] > last]
            if len(rest):
                rest[:, 1] = last + 1
                self.bucket(last + 1).frombytes(rest.tobytes())
        return [(k, _joined(found[k])) for k in sorted(found)]

    def _take_few(
        self, buckets: Iterable[array[float]], last: int, found: dict[int, list[FloatArray]]
    ) -> None:
        """:meth:`take_through` of a few segments: the same rule one row at a time (plain
        float arithmetic gives the same values; numpy's fixed cost is not worth it)."""
        tick_s = self.tick_s
        rows: dict[int, array[float]] = {}
        for bucket in buckets:
            for i in range(0, len(bucket), SEGMENT):
                mmsi, first, end, t0, lat0, lon0, s0, c0, span, dlat, dlon, s1, c1 = bucket[
                    i : i + SEGMENT
                ]
                for k in range(int(first), int(min(end, last)) + 1):
                    f = (k * tick_s - t0) / span
                    lon = (lon0 + f * dlon + 180.0) % 360.0 - 180.0
                    near = (s0, c0) if f < 0.5 else (s1, c1)
                    out = rows.get(k)
                    if out is None:
                        out = rows[k] = array("d")
                    out.extend((mmsi, lat0 + f * dlat, lon, *near))
                if end > last:
                    self.bucket(last + 1).extend(
                        (mmsi, last + 1, end, t0, lat0, lon0, s0, c0, span, dlat, dlon, s1, c1)
                    )
        for k, out in rows.items():
            found.setdefault(k, []).append(np.frombuffer(out).reshape(-1, ROW))

    def dump(self) -> list[list[Any]]:
        """Every buffered row by tick, ``[[k, [floats...]], ...]`` (NaN as None)."""
        merged: dict[int, list[float]] = {k: rows.tolist() for k, rows in self.rows.items()}
        table = self._table(self.segments)
        if len(table):
            ticks, rows = _interpolate(table, math.inf, self.tick_s)
            for k, part in _by_tick(ticks, rows):
                merged.setdefault(k, []).extend(part.ravel().tolist())
        return [[k, [None if v != v else v for v in merged[k]]] for k in sorted(merged)]

    def load(self, data: Any) -> None:
        """Inverse of :meth:`dump`."""
        self.rows = {
            int(k): array("d", (math.nan if v is None else v for v in rows)) for k, rows in data
        }
        self.segments = {}

    @staticmethod
    def _table(buckets: dict[int, array[float]]) -> FloatArray:
        """The segments of some buckets as one table, a row each."""
        parts = [np.frombuffer(b) for b in buckets.values() if len(b)]
        if not parts:
            return np.empty((0, SEGMENT))
        return np.concatenate(parts).reshape(-1, SEGMENT)


def _joined(parts: list[FloatArray]) -> FloatArray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _interpolate(table: FloatArray, last: float, tick_s: float) -> tuple[FloatArray, FloatArray]:
    """Tick numbers and rows of every tick up to ``last`` that the segments cover."""
    first = table[:, 1]
    count = (np.minimum(table[:, 2], last) - first + 1.0).clip(0.0).astype(np.int64)
    total = int(count.sum())
    seg = table[np.repeat(np.arange(len(table)), count)]
    k = seg[:, 1] + (np.arange(total) - np.repeat(np.cumsum(count) - count, count))
    f = (k * tick_s - seg[:, 3]) / seg[:, 8]
    lat = seg[:, 4] + f * seg[:, 9]
    lon = (seg[:, 5] + f * seg[:, 10] + 180.0) % 360.0 - 180.0
    early = f < 0.5
    speed = np.where(early, seg[:, 6], seg[:, 11])
    course = np.where(early, seg[:, 7], seg[:, 12])
    return k, np.column_stack((seg[:, 0], lat, lon, speed, course))


def _by_tick(ticks: FloatArray, rows: FloatArray) -> list[tuple[int, FloatArray]]:
    """The rows grouped by tick number."""
    if len(ticks) == 0:
        return []
    order = np.argsort(ticks, kind="stable")
    ticks, rows = ticks[order], rows[order]
    starts = np.flatnonzero(np.diff(ticks, prepend=ticks[0] - 1.0))
    bounds = [*starts.tolist(), len(ticks)]
    return [(int(ticks[a]), rows[a:b]) for a, b in pairwise(bounds)]
