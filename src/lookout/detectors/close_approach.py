"""``close_approach``: two vessels pass dangerously close at speed (blocking, bow crossings).

The rule (Lookout's, from issue 3): the closest point of approach (CPA) of two vessels is
within ``max_cpa_m`` while their relative speed exceeds ``min_relative_speed_kn``, away from
ports. Between two consecutive ticks each vessel moves in a straight line (its resampled
positions), so the CPA of the interval has a closed form: with relative position ``r0`` at
the first tick and relative velocity ``v``, the closest time is ``-(r0 . v) / |v|^2`` clamped
to the interval. Consecutive intervals within ``max_cpa_m`` form one *passage*; when it ends
the closest moment of the passage is one instantaneous event (``start_ts == end_ts`` = time
of closest approach), published ``confirmed``.

The relative speed uses the reported SOG/COG of both vessels (from the tick nearer the
closest moment); a vessel without them contributes its displacement over the interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.detectors.base import register_detector
from lookout.detectors.pairwise import (
    NearPort,
    PairwiseDetector,
    SweepConfig,
    TickFrame,
    midpoint,
    never_near_port,
    setting,
)
from lookout.geo.distance import METRES_PER_DEGREE, MPS_PER_KN
from lookout.geo.grid import SpatialGrid

__all__ = ["CloseApproachConfig", "CloseApproachDetector"]

Pair = tuple[int, int]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseApproachConfig(SweepConfig):
    """Thresholds of ``close_approach`` (issue 3's defaults)."""

    tick_s: float = setting(30.0, "Seconds between compared positions.")
    max_gap_s: float = setting(
        180.0, "Longest report gap interpolated across, seconds (fast vessels turn)."
    )
    max_cpa_m: float = setting(200.0, "Closest point of approach at most this, metres.")
    min_relative_speed_kn: float = setting(5.0, "Relative speed above this, knots.")
    port_distance_m: float = setting(
        10_000.0, "No event within this distance of a port or anchorage, metres."
    )
    max_speed_kn: float = setting(
        60.0, "Fastest vessel the pair search allows for between two ticks, knots."
    )


def _plane(lat0: FloatArray, lon0: FloatArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """(east, north) metres of (lat, lon) from (lat0, lon0), on the local plane."""
    east = ((lon - lon0 + 180.0) % 360.0 - 180.0) * np.cos(np.radians(lat0)) * METRES_PER_DEGREE
    return np.column_stack((east, (lat - lat0) * METRES_PER_DEGREE))


def _velocities(frame: TickFrame, rows: NDArray[np.int64], moved: FloatArray) -> FloatArray:
    """(east, north) knots from SOG/COG, or from ``moved`` (knots) where they are missing."""
    speed, course = frame.speed_kn[rows], np.radians(frame.course_deg[rows])
    reported = np.column_stack((speed * np.sin(course), speed * np.cos(course)))
    missing = np.isnan(reported).any(axis=1)
    reported[missing] = moved[missing]
    return reported


def _cpa(r0: FloatArray, v: FloatArray, dt: float) -> tuple[FloatArray, FloatArray]:
    """Time in [0, dt] and distance of the closest approach of relative motion r0 + v t."""
    vv = np.einsum("ij,ij->i", v, v)
    moving = vv > 0
    t_star = np.zeros(len(vv))
    t_star[moving] = -np.einsum("ij,ij->i", r0[moving], v[moving]) / vv[moving]
    t_star = np.clip(t_star, 0.0, dt)
    closest = r0 + v * t_star[:, None]
    return t_star, np.hypot(closest[:, 0], closest[:, 1])


def _lerp(
    lat0: FloatArray,
    lon0: FloatArray,
    lat1: FloatArray,
    lon1: FloatArray,
    rows: NDArray[np.int64],
    f: FloatArray,
) -> FloatArray:
    """(lat, lon) rows of vessels ``rows`` a fraction ``f`` of the way between two ticks."""
    dlon = (lon1[rows] - lon0[rows] + 180.0) % 360.0 - 180.0
    lon = (lon0[rows] + f[:, 0] * dlon + 180.0) % 360.0 - 180.0
    return np.column_stack((lat0[rows] + f[:, 0] * (lat1[rows] - lat0[rows]), lon))


@register_detector
class CloseApproachDetector(PairwiseDetector):
    """Two vessels passing within ``max_cpa_m`` at a relative speed above the threshold."""

    kind = "close_approach"
    min_report_interval_s = 10.0  # positions are compared every 30 s

    def __init__(
        self, config: CloseApproachConfig | None = None, *, near_port: NearPort = never_near_port
    ) -> None:
        self.config = config or CloseApproachConfig()
        super().__init__(self.config)
        self.near_port = near_port
        self._prev: TickFrame | None = None
        self._passages: dict[Pair, list[float]] = {}

    def sweep(self, frame: TickFrame) -> None:
        prev, self._prev = self._prev, frame
        closest: dict[Pair, list[float]] = {}
        if prev is not None and frame.ts - prev.ts == self.config.tick_s:
            closest = self._interval(prev, frame)
        for pair, best in closest.items():
            known = self._passages.get(pair)
            if known is None or best[1] < known[1]:
                self._passages[pair] = best
        for pair in [p for p in self._passages if p not in closest]:
            self._finish(pair)

    def expire(self, through_ts: float) -> None:
        if self._prev is not None and through_ts >= self._prev.ts + self.config.tick_s:
            self._prev = None  # the next tick had nobody: every passage is over
            for pair in list(self._passages):
                self._finish(pair)

    def _interval(self, prev: TickFrame, frame: TickFrame) -> dict[Pair, list[float]]:
        """Pairs whose CPA between the two ticks is within ``max_cpa_m``: their closest moment
        ``[ts, cpa_m, relative_speed_kn, lat, lon, speed_a, course_a, speed_b, course_b]``."""
        cfg, dt = self.config, self.config.tick_s
        old = prev.find(frame.mmsi)
        now = np.flatnonzero(old >= 0)
        old = old[now]
        if len(now) < 2:
            return {}
        lat0, lon0, lat1, lon1 = prev.lat[old], prev.lon[old], frame.lat[now], frame.lon[now]
        moved = _plane(lat0, lon0, lat1, lon1)
        reach = min(
            float(np.hypot(moved[:, 0], moved[:, 1]).max()), cfg.max_speed_kn * MPS_PER_KN * dt
        )
        pairs = SpatialGrid(lat1, lon1, cfg.max_cpa_m + 2.0 * reach).pairs()
        i, j = pairs.i, pairs.j
        r0 = _plane(lat0[i], lon0[i], lat0[j], lon0[j])
        t_star, cpa = _cpa(r0, (_plane(lat1[i], lon1[i], lat1[j], lon1[j]) - r0) / dt, dt)
        hit = np.flatnonzero(cpa <= cfg.max_cpa_m)
        i, j, t_star, cpa = i[hit], j[hit], t_star[hit], cpa[hit]
        late = t_star > dt / 2  # speeds and courses from the nearer tick
        knots = moved / (dt * MPS_PER_KN)
        vel_prev, vel_now = _velocities(prev, old, knots), _velocities(frame, now, knots)
        rel = np.where(late[:, None], vel_now[j] - vel_now[i], vel_prev[j] - vel_prev[i])
        f = (t_star / dt)[:, None]
        at = _lerp(lat0, lon0, lat1, lon1, i, f), _lerp(lat0, lon0, lat1, lon1, j, f)
        out: dict[Pair, list[float]] = {}
        for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
            src, ra, rb = (frame, now[a], now[b]) if late[k] else (prev, old[a], old[b])
            mid = midpoint(*at[0][k].tolist(), *at[1][k].tolist())
            pair = (int(frame.mmsi[now[a]]), int(frame.mmsi[now[b]]))
            out[pair] = [
                prev.ts + float(t_star[k]),
                float(cpa[k]),
                float(np.hypot(*rel[k])),
                *mid,
                *(float(v) for v in (src.speed_kn[ra], src.course_deg[ra])),
                *(float(v) for v in (src.speed_kn[rb], src.course_deg[rb])),
            ]
        return out

    def _finish(self, pair: Pair) -> None:
        ts, cpa, rel, lat, lon, speed_a, course_a, speed_b, course_b = self._passages.pop(pair)
        cfg = self.config
        if rel <= cfg.min_relative_speed_kn or self.near_port(lat, lon, cfg.port_distance_m):
            return
        details: dict[str, Any] = {
            "cpa_m": cpa,
            "relative_speed_kn": rel,
            "speeds_kn": [_number(speed_a), _number(speed_b)],
            "courses_deg": [_number(course_a), _number(course_b)],
        }
        span = (ts, ts)
        self.publish(
            ts, "confirmed", key=pair, mmsis=pair, span=span, position=(lat, lon), details=details
        )

    def dump_sweep(self) -> Any:
        prev = None if self._prev is None else [self._prev.ts, self._prev.rows()]
        passages = [[a, b, *(_number(v) for v in best)] for (a, b), best in self._passages.items()]
        return {"prev": prev, "passages": passages}

    def load_sweep(self, data: Any) -> None:
        prev = data["prev"]
        self._prev = None
        if prev is not None:
            rows = [[math.nan if v is None else v for v in row] for row in prev[1]]
            self._prev = TickFrame.from_rows(float(prev[0]), rows)
        self._passages = {
            (int(row[0]), int(row[1])): [math.nan if v is None else float(v) for v in row[2:]]
            for row in data["passages"]
        }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value
