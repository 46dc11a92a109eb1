"""Recent positions of every vessel, compact and bounded by event time, for questions asked
after the fact ("who was where at time T?", ``dark_vessel``).

:class:`PositionHistory` keeps positions in buckets of ``BUCKET_S`` seconds of event time
(by the position's own time, so late positions land where they belong), as flat arrays (20
bytes a position: MMSI as int32, time as float64, lat/lon as float32, about 1 m). A vessel
that reports every few seconds is *thinned*: a position closer than ``sample_s`` to the last
one kept is not kept, except that the last position before a silence longer than
``max_gap_s`` always is. So two consecutive kept positions of a vessel are either at most
``max_gap_s`` apart, or the two ends of a real silence longer than that: interpolating
between kept positions treats gaps exactly as interpolating between all of them would. The
newest position of each vessel is remembered even when it is not kept (its *tail*).

Positions older than the horizon (``prune``) are dropped; one arriving later is counted in
``late_positions``. Out-of-order positions inside the horizon are kept as they come. Per
position the cost is a dictionary look-up and, when kept, four array appends.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["BUCKET_S", "PositionHistory", "Positions"]

BUCKET_S = 600.0
"""Event time per bucket, seconds."""


class Positions(NamedTuple):
    """Parallel arrays of positions (float64 coordinates)."""

    mmsi: NDArray[np.int64]
    ts: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]

    @property
    def size(self) -> int:
        """Number of positions."""
        return int(self.mmsi.shape[0])

    def take(self, index: Any) -> Positions:
        """The rows selected by ``index`` (a mask or indices)."""
        return Positions(self.mmsi[index], self.ts[index], self.lat[index], self.lon[index])


class _Bucket:
    __slots__ = ("lat", "lon", "mmsi", "ts")

    def __init__(self) -> None:
        self.mmsi = array("i")
        self.ts = array("d")
        self.lat = array("f")
        self.lon = array("f")

    def add(self, mmsi: int, ts: float, lat: float, lon: float) -> None:
        self.mmsi.append(mmsi)
        self.ts.append(ts)
        self.lat.append(lat)
        self.lon.append(lon)


class PositionHistory:
    """Thinned recent positions of every vessel; see the module docstring."""

    def __init__(self, *, sample_s: float, max_gap_s: float) -> None:
        if not 0.0 <= sample_s <= max_gap_s:
            raise ValueError(f"need 0 <= sample_s <= max_gap_s, got {sample_s}, {max_gap_s}")
        self.sample_s = sample_s
        self.max_gap_s = max_gap_s
        self.late_positions = 0
        """Positions older than the horizon when they arrived (not kept)."""
        self.horizon_ts = -math.inf
        """Positions before this are dropped."""
        self._buckets: dict[int, _Bucket] = {}
        self._tails: dict[int, list[Any]] = {}
        """mmsi -> [last kept ts, tail ts, tail lat, tail lon, tail kept]."""

    def __len__(self) -> int:
        """Positions kept."""
        return sum(len(b.ts) for b in self._buckets.values())

    def vessels(self) -> int:
        """Vessels with a remembered newest position."""
        return len(self._tails)

    # -- adding ----------------------------------------------------------------------------------

    def add(self, mmsi: int, ts: float, lat: float, lon: float) -> None:
        """One position of ``mmsi`` (any order)."""
        if ts < self.horizon_ts:
            self.late_positions += 1
            return
        tail = self._tails.get(mmsi)
        if tail is None:
            self._tails[mmsi] = [ts, ts, lat, lon, True]
            self._keep(mmsi, ts, lat, lon)
            return
        if ts < tail[1]:  # out of order: kept as it is, the tail stays
            self._keep(mmsi, ts, lat, lon)
            return
        kept_ts = tail[0]
        if ts - kept_ts > self.max_gap_s and not tail[4]:
            self._keep(mmsi, tail[1], tail[2], tail[3])  # the last position before a silence
            kept_ts = tail[1]
        keep = ts - kept_ts >= self.sample_s or ts - kept_ts > self.max_gap_s
        if keep:
            self._keep(mmsi, ts, lat, lon)
            tail[0] = ts
        tail[1], tail[2], tail[3], tail[4] = ts, lat, lon, keep

    def add_many(
        self, mmsis: Sequence[int], times: Sequence[float], lats: Sequence[float],
        lons: Sequence[float],
    ) -> None:  # fmt: skip
        """:meth:`add` for each position, in order, with the same result. Inlined for the
        commonest case: the vessel's newest position, at least ``sample_s`` after its last
        kept one, which was its tail (so it is kept and becomes the tail)."""
        tails, buckets, horizon, sample = self._tails, self._buckets, self.horizon_ts, self.sample_s
        key, bucket = None, _Bucket()
        add_mmsi, add_ts, add_lat, add_lon = _appends(bucket)
        for mmsi, ts, lat, lon in zip(mmsis, times, lats, lons, strict=True):
            tail = tails.get(mmsi)
            if (
                tail is None
                or not tail[4]
                or not ts >= horizon
                or not ts >= tail[1]
                or not ts - tail[0] >= sample
            ):
                self.add(mmsi, ts, lat, lon)
                continue
            if ts // BUCKET_S != key:  # _keep, inlined
                key = ts // BUCKET_S
                found = buckets.get(int(key))
                bucket = buckets[int(key)] = _Bucket() if found is None else found
                add_mmsi, add_ts, add_lat, add_lon = _appends(bucket)
            add_mmsi(mmsi)
            add_ts(ts)
            add_lat(lat)
            add_lon(lon)
            tail[0], tail[1], tail[2], tail[3] = ts, ts, lat, lon

    def _keep(self, mmsi: int, ts: float, lat: float, lon: float) -> None:
        key = int(ts // BUCKET_S)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
        bucket.add(mmsi, ts, lat, lon)

    # -- reading ---------------------------------------------------------------------------------

    def window(self, start_ts: float, end_ts: float) -> Positions:
        """Every kept position with ``start_ts <= ts <= end_ts`` (tails not included)."""
        parts = [
            self._buckets[k]
            for k in range(int(start_ts // BUCKET_S), int(end_ts // BUCKET_S) + 1)
            if k in self._buckets and len(self._buckets[k].ts)
        ]
        if not parts:
            return _empty()
        rows = Positions(
            np.concatenate([np.frombuffer(b.mmsi, dtype=np.int32) for b in parts]).astype(np.int64),
            np.concatenate([np.frombuffer(b.ts, dtype=np.float64) for b in parts]),
            np.concatenate([np.frombuffer(b.lat, dtype=np.float32) for b in parts]).astype(
                np.float64
            ),
            np.concatenate([np.frombuffer(b.lon, dtype=np.float32) for b in parts]).astype(
                np.float64
            ),
        )
        return rows.take((rows.ts >= start_ts) & (rows.ts <= end_ts))

    def tails(self, mmsis: Iterable[int], start_ts: float, end_ts: float) -> Positions:
        """The newest positions of ``mmsis`` that were not kept, within the window."""
        found = []
        for mmsi in mmsis:
            tail = self._tails.get(mmsi)
            if tail is not None and not tail[4] and start_ts <= tail[1] <= end_ts:
                found.append((mmsi, tail[1], tail[2], tail[3]))
        if not found:
            return _empty()
        m, t, la, lo = zip(*found, strict=True)
        return Positions(
            np.array(m, dtype=np.int64),
            np.array(t, dtype=np.float64),
            np.array(la, dtype=np.float64),
            np.array(lo, dtype=np.float64),
        )

    # -- forgetting ------------------------------------------------------------------------------

    def prune(self, horizon_ts: float) -> None:
        """Drop the positions (and the vessels whose newest position is) before
        ``horizon_ts``; never moves the horizon back."""
        if horizon_ts <= self.horizon_ts:
            return
        self.horizon_ts = horizon_ts
        first = int(horizon_ts // BUCKET_S)
        old = [k for k in self._buckets if k < first]
        if not old:
            return
        for k in old:
            del self._buckets[k]
        gone = [m for m, tail in self._tails.items() if tail[1] < horizon_ts]
        for m in gone:
            del self._tails[m]

    # -- snapshots -------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "buckets": [
                [k, b.mmsi.tolist(), b.ts.tolist(), b.lat.tolist(), b.lon.tolist()]
                for k, b in self._buckets.items()
            ],
            "tails": [[m, *tail] for m, tail in self._tails.items()],
            "horizon_ts": None if self.horizon_ts == -math.inf else self.horizon_ts,
            "late_positions": self.late_positions,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace all state with a :meth:`snapshot`."""
        self._buckets = {}
        for key, mmsi, ts, lat, lon in data.get("buckets", ()):
            bucket = self._buckets[int(key)] = _Bucket()
            bucket.mmsi.extend(int(v) for v in mmsi)
            bucket.ts.extend(float(v) for v in ts)
            bucket.lat.extend(float(v) for v in lat)
            bucket.lon.extend(float(v) for v in lon)
        self._tails = {
            int(m): [float(k), float(t), float(la), float(lo), bool(kept)]
            for m, k, t, la, lo, kept in data.get("tails", ())
        }
        horizon = data.get("horizon_ts")
        self.horizon_ts = -math.inf if horizon is None else float(horizon)
        self.late_positions = int(data.get("late_positions", 0))


def _appends(bucket: _Bucket) -> tuple[Callable[[Any], None], ...]:
    """The ``append`` methods of the columns of ``bucket``."""
    return bucket.mmsi.append, bucket.ts.append, bucket.lat.append, bucket.lon.append


def _empty() -> Positions:
    return Positions(
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.float64),
        np.empty(0, dtype=np.float64),
        np.empty(0, dtype=np.float64),
    )
