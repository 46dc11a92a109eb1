"""``encounter``: two vessels side by side at sea, both nearly stopped, for hours.

Global Fishing Watch's definition (https://globalfishingwatch.org/faqs/what-is-a-vessel-encounter/
and their technical documentation, "Encounters"): two vessels within 500 m of each other for
at least 2 hours, travelling slower than 2 knots, at least 10 km from a coastal anchorage.
Positions are compared on GFW's resampling grid (10-minute ticks, interpolation across gaps
shorter than 70 minutes, from their encounters pipeline); a tick with either vessel unknown
neither extends nor breaks an encounter (see :mod:`lookout.detectors.episodes`).

Lookout's rule at each tick: distance <= ``max_distance_m``, *both* speeds below
``max_speed_kn`` (reported SOG, derived where missing; GFW filters on the median speed of the
whole encounter instead), the midpoint not within ``port_distance_m`` of a port or anchorage
(``near_port`` predicate; without one, nowhere is near a port).

:data:`ENCOUNTER_PROFILES` holds the ``gfw`` default and Skylight's shorter "standard
rendezvous" (250 m for more than 30 minutes, https://skylight.helpjuice.com/en_US/event-icons).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.detectors.base import register_detector
from lookout.detectors.episodes import EpisodeConfig, PairEpisode, PairEpisodeDetector
from lookout.detectors.pairwise import (
    NearPort,
    TickFrame,
    midpoints,
    near_port_mask,
    never_near_port,
    setting,
)
from lookout.geo.grid import centroid, pairs_within

__all__ = ["ENCOUNTER_PROFILES", "EncounterConfig", "EncounterDetector", "PortVerdicts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EncounterConfig(EpisodeConfig):
    """Thresholds of ``encounter``; defaults are Global Fishing Watch's."""

    tick_s: float = setting(600.0, "Seconds between comparisons (GFW resamples to 10 min).")
    max_gap_s: float = setting(
        4200.0, "Longest report gap interpolated across, seconds (GFW: 70 min)."
    )
    max_distance_m: float = setting(500.0, "Farthest apart the two vessels may be, metres.")
    max_speed_kn: float = setting(2.0, "Both vessels slower than this, knots.")
    min_duration_s: float = setting(7200.0, "Shortest encounter, seconds (GFW: 2 h).")
    port_distance_m: float = setting(
        10_000.0, "No encounter within this distance of a port or anchorage, metres."
    )
    max_silence_s: float = setting(
        43_200.0, "An encounter with no qualifying tick for this long has ended, seconds."
    )


ENCOUNTER_PROFILES: Mapping[str, EncounterConfig] = MappingProxyType(
    {
        "gfw": EncounterConfig(),
        "skylight": EncounterConfig(
            max_distance_m=250.0, min_duration_s=1800.0, tick_s=60.0, max_gap_s=600.0
        ),
    }
)
"""Selectable threshold sets: ``gfw`` (default) and ``skylight`` (250 m, 30 min)."""


class PortVerdicts:
    """The ``near_port`` answers of the last tick's points, by exact position.

    The encounter rule asks about the midpoint of every close pair of slow vessels, a
    thousand a tick in a busy recording, and almost all of them again at the next tick:
    moored vessels keep their positions (in the Danish feed's benchmark replay, 99.8 % of a
    tick's midpoints were the last tick's). A point asked before gets the same answer (a
    port predicate is a pure function of the point and the distance); the others are asked
    through :func:`near_port_mask`.
    """

    def __init__(self) -> None:
        self._asked: tuple[NearPort, float] | None = None
        self._lat = self._lon = np.empty(0, dtype=np.float64)
        self._near = np.empty(0, dtype=bool)
        self._hashes: NDArray[np.uint64] | None = None
        """The points' :func:`_position_hashes`, sorted, once needed; ``_order`` sorts them."""
        self._order = np.empty(0, dtype=np.int64)

    def near(
        self,
        near_port: NearPort,
        lat: NDArray[np.float64],
        lon: NDArray[np.float64],
        distance_m: float,
    ) -> NDArray[np.bool_]:
        """``near_port`` of each point; the points are remembered for the next call."""
        near = np.zeros(len(lat), dtype=bool)
        missed = np.ones(len(lat), dtype=bool)
        if self._asked == (near_port, distance_m):
            missed = self._recall(lat, lon, near)
        if missed.any():
            near[missed] = near_port_mask(near_port, lat[missed], lon[missed], distance_m)
        self._asked = (near_port, distance_m)
        self._lat, self._lon, self._near = lat, lon, near
        self._hashes = None
        return near

    def _recall(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], near: NDArray[np.bool_]
    ) -> NDArray[np.bool_]:
        """Fill in ``near`` for the points asked last time; which points were not. The pairs
        of a tick mostly come in the last tick's order: the points are compared in place
        first, and only the others looked up by position."""
        missed = np.ones(len(lat), dtype=bool)
        if len(lat) == len(self._lat):
            missed = (lat != self._lat) | (lon != self._lon)
            near[~missed] = self._near[~missed]
        rows = np.flatnonzero(missed)
        if len(rows) == 0 or len(self._lat) == 0:
            return missed
        if self._hashes is None:
            self._order = np.argsort(_position_hashes(self._lat, self._lon))
            self._hashes = _position_hashes(self._lat, self._lon)[self._order]
        hashes = _position_hashes(lat[rows], lon[rows])
        at = self._order[np.minimum(self._hashes.searchsorted(hashes), len(self._hashes) - 1)]
        known = (self._lat[at] == lat[rows]) & (self._lon[at] == lon[rows])
        near[rows[known]] = self._near[at[known]]
        missed[rows[known]] = False
        return missed


def _position_hashes(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.uint64]:
    """One number per position, equal for equal positions (collisions are told apart by
    comparing the positions)."""
    lat_bits = np.ascontiguousarray(lat, dtype=np.float64).view(np.uint64)
    lon_bits = np.ascontiguousarray(lon, dtype=np.float64).view(np.uint64)
    hashes: NDArray[np.uint64] = lat_bits * np.uint64(0x9E3779B97F4A7C15) ^ lon_bits
    return hashes


@register_detector
class EncounterDetector(PairEpisodeDetector):
    """Two vessels close together, both slow, for a long time, away from ports."""

    kind = "encounter"
    min_report_interval_s = 60.0  # an encounter lasts hours; ticks are 10 minutes apart

    def __init__(
        self, config: EncounterConfig | None = None, *, near_port: NearPort = never_near_port
    ) -> None:
        self.config = config or EncounterConfig()
        super().__init__(self.config)
        self.near_port = near_port
        self._ports = PortVerdicts()

    def qualify(self, frame: TickFrame) -> dict[tuple[int, int], list[float]]:
        cfg = self.config
        slow = frame.select(frame.speed_kn < cfg.max_speed_kn)
        pairs = pairs_within(slow.lat, slow.lon, cfg.max_distance_m)
        i, j, distance = pairs.i, pairs.j, pairs.distance_m
        mid_lat, mid_lon = midpoints(slow.lat[i], slow.lon[i], slow.lat[j], slow.lon[j])
        if self.near_port is not never_near_port:
            away = ~self._ports.near(self.near_port, mid_lat, mid_lon, cfg.port_distance_m)
            i, j, distance = i[away], j[away], distance[away]
            mid_lat, mid_lon = mid_lat[away], mid_lon[away]
        columns = (mid_lat, mid_lon, distance, slow.speed_kn[i], slow.speed_kn[j])
        table = np.column_stack((np.full(len(i), frame.ts), *columns)).tolist()
        keys = zip(slow.mmsi[i].tolist(), slow.mmsi[j].tolist(), strict=True)
        return dict(zip(keys, table, strict=True))

    def describe(self, episode: PairEpisode) -> tuple[float, float, dict[str, Any]]:
        lat, lon = centroid(episode.column(1), episode.column(2))
        details = {
            "median_distance_m": float(np.median(episode.column(3))),
            "mean_speeds_kn": [float(episode.column(4).mean()), float(episode.column(5).mean())],
        }
        return lat, lon, details
