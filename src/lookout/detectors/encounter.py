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

__all__ = ["ENCOUNTER_PROFILES", "EncounterConfig", "EncounterDetector"]


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

    def qualify(self, frame: TickFrame) -> dict[tuple[int, int], list[float]]:
        cfg = self.config
        slow = frame.select(frame.speed_kn < cfg.max_speed_kn)
        pairs = pairs_within(slow.lat, slow.lon, cfg.max_distance_m)
        i, j, distance = pairs.i, pairs.j, pairs.distance_m
        mid_lat, mid_lon = midpoints(slow.lat[i], slow.lon[i], slow.lat[j], slow.lon[j])
        if self.near_port is not never_near_port:
            away = ~near_port_mask(self.near_port, mid_lat, mid_lon, cfg.port_distance_m)
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
