"""``dark_vessel``: a vessel seen by a satellite, a radar or a patrol where no AIS vessel was.

A :class:`~lookout.model.Detection` (SAR or optical satellite detection, radar contact,
patrol sighting) is *explained* by AIS when some vessel's position at the detection's time
is within ``match_radius_m`` of it (Skylight's correlation radius, 1,500 m). A vessel's
position at time T is interpolated linearly between its positions just before and just after
T when those are at most ``max_interpolation_gap_s`` apart; across a longer silence the
vessel is unknown at T, unless one of its positions is within ``max_fix_offset_s`` of T
(then that position counts as it is). A detection that no vessel explains is a dark vessel.

Every AIS position is recorded (thinned, see :mod:`lookout.detectors.history`: cost per
position is a dictionary look-up and now and then four array appends); detections are rare
and wait. A detection at T is decided once the event-time watermark passes
T + ``max_interpolation_gap_s`` (every position that can bracket T has arrived by then), or
at the end of the input (``advance(math.inf)``). Positions arriving late but before that
count. Vessels are looked for within ``search_radius_m`` of the detection, among the
positions of the window, vectorised with numpy; detections of the same time (one satellite
scene) are decided together.

Positions are kept for 2 x ``max_interpolation_gap_s`` + ``sample_s`` + ``max_delay_s``
behind the watermark: a detection may arrive up to ``max_delay_s`` after its decision time
(satellite detections come hours late) and still be judged. One arriving later cannot be
judged (its positions are gone) and is counted in ``late_detections``; one with an invalid
time or position in ``invalid_detections``.

The event is instantaneous and published ``confirmed`` once, at event time
T + ``max_interpolation_gap_s``: ``id`` ``dark_vessel-<member>-<detection id>`` (without a
member: ``dark_vessel-<detection id>``; detection ids are unique per member), ``mmsi`` null,
``mmsis`` [], ``start_ts`` = ``end_ts`` = T, ``lat``/``lon`` of the detection,
``observations`` [], ``members`` the detection's member, ``details`` with ``detection_id``,
``detection_source``, ``nearest_mmsi`` / ``nearest_distance_m`` (the nearest vessel known at
T within ``search_radius_m``, else null), ``vessels_nearby`` (vessels known at T within
``search_radius_m``) and ``thresholds``. SAR aircraft (message type 9) are not vessels and
explain nothing. Nothing here reads a clock; ``snapshot()`` / ``restore()`` keep everything.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.detectors.base import Detector, Event, register_detector
from lookout.detectors.history import PositionHistory, Positions
from lookout.detectors.pairwise import setting
from lookout.detectors.vessel import VesselConfig
from lookout.geo.distance import EARTH_RADIUS_M, METRES_PER_DEGREE
from lookout.model import Detection, Observation

__all__ = ["DarkVesselConfig", "DarkVesselDetector", "dark_event"]

_SAR_AIRCRAFT_TYPE = 9


@dataclass(frozen=True, slots=True, kw_only=True)
class DarkVesselConfig(VesselConfig):
    """Thresholds of ``dark_vessel``; the radius is Skylight's."""

    match_radius_m: float = setting(
        1_500.0, "An AIS vessel this close to the detection at its time explains it, metres."
    )
    max_interpolation_gap_s: float = setting(
        3_600.0, "Longest gap between two positions of a vessel interpolated across, seconds."
    )
    max_fix_offset_s: float = setting(
        60.0,
        "A vessel that cannot be interpolated counts at a position this close in time to the "
        "detection, seconds.",
    )
    search_radius_m: float = setting(
        50_000.0, "Vessels are looked for this far from the detection (nearest_mmsi), metres."
    )
    sample_s: float = setting(
        120.0, "Positions of a vessel closer in time than this to the last kept are not kept."
    )
    max_delay_s: float = setting(
        3_600.0, "A detection may arrive this long after its decision time and be judged, s."
    )


@register_detector
class DarkVesselDetector(Detector[list[Detection]]):
    """A non-AIS detection that no AIS vessel explains; see the module docstring.

    State: per detection time, the detections waiting for their decision.
    """

    min_report_interval_s = 30.0  # the history keeps one position per vessel per sample_s

    kind = "dark_vessel"

    def __init__(self, config: DarkVesselConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DarkVesselConfig()
        if cfg.search_radius_m < cfg.match_radius_m:
            raise ValueError("DarkVesselConfig.search_radius_m must be >= match_radius_m")
        if cfg.sample_s > cfg.max_interpolation_gap_s:
            raise ValueError("DarkVesselConfig.sample_s must be <= max_interpolation_gap_s")
        self.history = PositionHistory(sample_s=cfg.sample_s, max_gap_s=cfg.max_interpolation_gap_s)
        self.late_detections = 0
        """Detections that arrived after their positions were dropped (not judged)."""
        self.invalid_detections = 0
        """Detections with a time or position that is not a number in range (not judged)."""
        self._seen_ts = -math.inf
        self._retention_s = 2 * cfg.max_interpolation_gap_s + cfg.sample_s + cfg.max_delay_s

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    # -- input -----------------------------------------------------------------------------------

    def on_observation(self, obs: Observation) -> list[Event]:
        """Record one AIS position (nothing is decided here)."""
        if obs.msg_type != _SAR_AIRCRAFT_TYPE:
            ts = obs.observed_ts
            if ts > self._seen_ts:
                self._seen_ts = ts
            self.history.add(obs.mmsi, ts, obs.lat, obs.lon)
        return []

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """:meth:`on_observation` for each of ``observations``, the history fed in one call."""
        if _SAR_AIRCRAFT_TYPE in map(attrgetter("msg_type"), observations):
            observations = [o for o in observations if o.msg_type != _SAR_AIRCRAFT_TYPE]
        if observations:
            times = [o.observed_ts for o in observations]
            seen = self._seen_ts
            for ts in times:  # not max(): a NaN must be skipped, as on_observation does
                if ts > seen:
                    seen = ts
            self._seen_ts = seen
            self.history.add_many(
                [o.mmsi for o in observations],
                times,
                [o.lat for o in observations],
                [o.lon for o in observations],
            )
        return self._drain()

    def on_detection(self, det: Detection) -> list[Event]:
        """A non-AIS detection: it waits until the watermark passes its decision time."""
        if not (math.isfinite(det.ts) and -90.0 <= det.lat <= 90.0 and -180.0 <= det.lon <= 180.0):
            self.invalid_detections += 1
            return []
        cfg = self.config
        if det.ts - cfg.max_interpolation_gap_s - cfg.sample_s < self.history.horizon_ts:
            self.late_detections += 1
            return []
        key = float(det.ts)
        waiting = self._states.get(key)
        if waiting is None:
            self._states[key] = [det]
            self.notify_at(key, key + cfg.max_interpolation_gap_s)
        elif all((d.member, d.id) != (det.member, det.id) for d in waiting):
            waiting.append(det)
        return []

    def update(
        self, key: Hashable, state: list[Detection] | None, obs: Observation
    ) -> list[Detection] | None:
        raise NotImplementedError("positions go through on_observation")  # pragma: no cover

    def advance(self, watermark_ts: float) -> list[Event]:
        """Decide the detections due by ``watermark_ts``, then forget old positions."""
        events = super().advance(watermark_ts)
        newest = min(watermark_ts, self._seen_ts)
        if math.isfinite(newest):
            self.history.prune(newest - self._retention_s)
        return events

    def on_notify(
        self, key: Hashable, state: list[Detection] | None, ts: float
    ) -> list[Detection] | None:
        if state:
            assert isinstance(key, float)
            radius = self.config.match_radius_m
            for det, found in zip(state, self._judge(key, state), strict=True):
                if found.distance_m is None or found.distance_m > radius:
                    values = dark_event(det, found.details(), self.thresholds())
                    self.emit(ts, values, status="confirmed")
        return None

    # -- deciding --------------------------------------------------------------------------------

    def _judge(self, ts: float, detections: Sequence[Detection]) -> list[_Nearest]:
        """The vessels near each detection (all of time ``ts``) at that time."""
        cfg = self.config
        start = ts - cfg.max_interpolation_gap_s - cfg.sample_s
        end = ts + cfg.max_interpolation_gap_s
        rows = self.history.window(start, end)
        rows = rows.take(np.lexsort((rows.ts, rows.mmsi)))  # by vessel, then time
        by_lat = np.argsort(rows.lat, kind="stable")
        lats = rows.lat[by_lat]
        dlat = cfg.search_radius_m / METRES_PER_DEGREE
        results = []
        for det in detections:
            low, high = np.searchsorted(lats, (det.lat - dlat, det.lat + dlat + 1e-9))
            band = by_lat[low:high]
            band = band[_within_lon(rows.lon[band], det.lat, det.lon, dlat)]
            vessels = np.unique(rows.mmsi[band])
            firsts = np.searchsorted(rows.mmsi, vessels, side="left")
            lasts = np.searchsorted(rows.mmsi, vessels, side="right")
            mine = rows.take(_ranges(firsts, lasts))
            tails = self.history.tails(vessels.tolist(), start, end)
            mine = Positions(*(np.concatenate(pair) for pair in zip(mine, tails, strict=True)))
            at = positions_at(mine, ts, cfg.max_interpolation_gap_s, cfg.max_fix_offset_s)
            results.append(_nearest(at, det, cfg.search_radius_m))
        return results

    # -- snapshots -------------------------------------------------------------------------------

    def dump_state(self, state: list[Detection]) -> Any:
        return [[d.id, d.ts, d.lat, d.lon, d.source, d.member] for d in state]

    def load_state(self, data: Any) -> list[Detection]:
        return [
            Detection(str(i), float(t), float(la), float(lo), str(s), str(m))
            for i, t, la, lo, s, m in data
        ]

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        data["history"] = self.history.snapshot()
        data["seen_ts"] = None if self._seen_ts == -math.inf else self._seen_ts
        data["late_detections"] = self.late_detections
        data["invalid_detections"] = self.invalid_detections
        return data

    def restore(self, data: Mapping[str, Any]) -> None:
        super().restore(data)
        self.history.restore(data.get("history", {}))
        seen = data.get("seen_ts")
        self._seen_ts = -math.inf if seen is None else float(seen)
        self.late_detections = int(data.get("late_detections", 0))
        self.invalid_detections = int(data.get("invalid_detections", 0))


@dataclass(frozen=True, slots=True)
class _Nearest:
    """What was found around one detection."""

    mmsi: int | None
    distance_m: float | None
    vessels_nearby: int

    def details(self) -> dict[str, Any]:
        return {
            "nearest_mmsi": self.mmsi,
            "nearest_distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "vessels_nearby": self.vessels_nearby,
        }


def _within_lon(
    lons: NDArray[np.float64], lat: float, lon: float, dlat: float
) -> NDArray[np.bool_]:
    """Which longitudes are within a box that holds a circle of ``dlat`` degrees of arc
    around (lat, lon)."""
    cos_lat = math.cos(math.radians(min(abs(lat) + dlat, 90.0)))
    dlon = 180.0 if cos_lat < 1e-6 else min(dlat / cos_lat, 180.0)
    mask: NDArray[np.bool_] = np.abs((lons - lon + 180.0) % 360.0 - 180.0) <= dlon
    return mask


def _ranges(firsts: NDArray[np.int64], lasts: NDArray[np.int64]) -> NDArray[np.int64]:
    """The indices ``firsts[k] <= i < lasts[k]`` of every k, in order."""
    lengths = lasts - firsts
    if not len(lengths):
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(firsts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    out: NDArray[np.int64] = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
    return out


def positions_at(
    rows: Positions, ts: float, max_gap_s: float, max_fix_offset_s: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Where each vessel of ``rows`` was at ``ts``: (mmsi, lat, lon), one row per vessel known
    then, ascending by MMSI. Interpolated between consecutive positions at most ``max_gap_s``
    apart around ``ts``; else the position nearest in time if within ``max_fix_offset_s``."""
    order = np.lexsort((rows.ts, rows.mmsi))
    r = rows.take(order)
    same = r.mmsi[:-1] == r.mmsi[1:]
    t0, t1 = r.ts[:-1], r.ts[1:]
    pair = same & (t0 <= ts) & (t1 >= ts) & (t1 - t0 <= max_gap_s)
    i = np.flatnonzero(pair)
    span = t1[i] - t0[i]
    f = np.divide(ts - t0[i], span, out=np.zeros_like(span), where=span > 0)
    lat = r.lat[i] + f * (r.lat[i + 1] - r.lat[i])
    dlon = (r.lon[i + 1] - r.lon[i] + 180.0) % 360.0 - 180.0
    lon = (r.lon[i] + f * dlon + 180.0) % 360.0 - 180.0
    mmsi = r.mmsi[i]
    # vessels without a bracketing pair: the position nearest in time, if close enough
    offset = np.abs(r.ts - ts)
    close = (offset <= max_fix_offset_s) & ~np.isin(r.mmsi, mmsi)
    if close.any():
        c = np.flatnonzero(close)
        c = c[np.lexsort((offset[c], r.mmsi[c]))]
        first = np.concatenate(([True], r.mmsi[c][1:] != r.mmsi[c][:-1]))
        c = c[first]
        mmsi = np.concatenate((mmsi, r.mmsi[c]))
        lat = np.concatenate((lat, r.lat[c]))
        lon = np.concatenate((lon, r.lon[c]))
    # one row per vessel (a position exactly at ts ends one pair and starts the next)
    order = np.argsort(mmsi, kind="stable")
    mmsi, lat, lon = mmsi[order], lat[order], lon[order]
    first = np.concatenate(([True], mmsi[1:] != mmsi[:-1])) if len(mmsi) else np.empty(0, bool)
    return mmsi[first], lat[first], lon[first]


def _nearest(
    at: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]],
    det: Detection,
    search_radius_m: float,
) -> _Nearest:
    mmsi, lat, lon = at
    if not len(mmsi):
        return _Nearest(None, None, 0)
    distances = _haversine_m(det.lat, det.lon, lat, lon)
    inside = distances <= search_radius_m
    if not inside.any():
        return _Nearest(None, None, 0)
    best = int(np.argmin(np.where(inside, distances, np.inf)))
    return _Nearest(int(mmsi[best]), float(distances[best]), int(inside.sum()))


def _haversine_m(
    lat: float, lon: float, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> NDArray[np.float64]:
    phi1, phi2 = math.radians(lat), np.radians(lats)
    dphi = phi2 - phi1
    dlam = np.radians(lons - lon)
    h = np.sin(dphi * 0.5) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlam * 0.5) ** 2
    out: NDArray[np.float64] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return out


def dark_event(det: Detection, found: dict[str, Any], thresholds: dict[str, float]) -> Event:
    """The fields of a ``dark_vessel`` event for ``det`` (see the module docstring)."""
    details = {"detection_id": det.id, "detection_source": det.source, **found}
    details["thresholds"] = thresholds
    return {
        "id": f"dark_vessel-{det.member}-{det.id}" if det.member else f"dark_vessel-{det.id}",
        "mmsi": None,
        "mmsis": [],
        "start_ts": det.ts,
        "end_ts": det.ts,
        "lat": det.lat,
        "lon": det.lon,
        "observations": [],
        "members": [det.member] if det.member else [],
        "sources": [det.feed or f"{det.member}/{det.source}"] if det.member else [],
        "details": details,
    }
