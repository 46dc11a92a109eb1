"""``shadowing``: one vessel keeps station on another under way, for an hour or more.

The rule (Lookout's, from issue 3; there is no published standard for it): at each tick
vessel B within ``max_distance_m`` of vessel A, both faster than ``min_speed_kn`` (reported
SOG, derived where missing), courses (COG, derived where missing) within
``max_course_difference_deg`` of each other, for at least ``min_duration_s``. A tick with
either vessel unknown neither extends nor breaks the episode (see
:mod:`lookout.detectors.episodes`).

Who follows whom: at each tick the pair's separation is projected on their mean course; the
vessel ahead in most ticks is ``ahead_mmsi``, the other, which follows, is ``shadower_mmsi``.
Two ships in the same traffic lane also match this rule; the event says who, how close and
how long, and the analyst judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.detectors.base import register_detector
from lookout.detectors.episodes import EpisodeConfig, PairEpisode, PairEpisodeDetector
from lookout.detectors.pairwise import TickFrame, midpoints, setting
from lookout.geo.distance import METRES_PER_DEGREE
from lookout.geo.grid import centroid, pairs_within

__all__ = ["ShadowingConfig", "ShadowingDetector", "along_track_m", "course_difference_deg"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowingConfig(EpisodeConfig):
    """Thresholds of ``shadowing`` (issue 3's defaults)."""

    max_distance_m: float = setting(2000.0, "Farthest apart the two vessels may be, metres.")
    min_speed_kn: float = setting(4.0, "Both vessels faster than this, knots.")
    max_course_difference_deg: float = setting(
        30.0, "Largest difference between the two courses, degrees."
    )
    min_duration_s: float = setting(3600.0, "Shortest shadowing, seconds.")
    max_silence_s: float = setting(
        900.0, "A shadowing with no qualifying tick for this long has ended, seconds."
    )


def course_difference_deg(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smaller angle between two courses, degrees in [0, 180]."""
    diff: NDArray[np.float64] = np.abs((a - b + 180.0) % 360.0 - 180.0)
    return diff


def along_track_m(
    lat_a: NDArray[np.float64],
    lon_a: NDArray[np.float64],
    lat_b: NDArray[np.float64],
    lon_b: NDArray[np.float64],
    course_deg: NDArray[np.float64],
) -> NDArray[np.float64]:
    """How far B is ahead of A along ``course_deg`` (negative: behind), metres (local plane)."""
    mean_lat = np.radians((lat_a + lat_b) * 0.5)
    east = ((lon_b - lon_a + 180.0) % 360.0 - 180.0) * np.cos(mean_lat) * METRES_PER_DEGREE
    north = (lat_b - lat_a) * METRES_PER_DEGREE
    heading = np.radians(course_deg)
    along: NDArray[np.float64] = east * np.sin(heading) + north * np.cos(heading)
    return along


@register_detector
class ShadowingDetector(PairEpisodeDetector):
    """Two vessels under way close together on nearly the same course, for a long time."""

    kind = "shadowing"
    min_report_interval_s = 30.0  # shadowing lasts an hour or more

    def __init__(self, config: ShadowingConfig | None = None) -> None:
        self.config = config or ShadowingConfig()
        super().__init__(self.config)

    def evidence(self, frame: TickFrame) -> NDArray[np.bool_]:
        known: NDArray[np.bool_] = ~(np.isnan(frame.speed_kn) | np.isnan(frame.course_deg))
        return known

    def qualify(self, frame: TickFrame) -> dict[tuple[int, int], list[float]]:
        cfg = self.config
        moving = frame.select((frame.speed_kn > cfg.min_speed_kn) & ~np.isnan(frame.course_deg))
        pairs = pairs_within(moving.lat, moving.lon, cfg.max_distance_m)
        i, j = pairs.i, pairs.j
        course_i, course_j = moving.course_deg[i], moving.course_deg[j]
        diff = course_difference_deg(course_i, course_j)
        keep = diff <= cfg.max_course_difference_deg
        i, j, diff = i[keep], j[keep], diff[keep]
        half_turn = ((course_i[keep] - course_j[keep] + 180.0) % 360.0 - 180.0) / 2
        mean_course = course_i[keep] - half_turn
        lat, lon = moving.lat, moving.lon
        ahead = along_track_m(lat[i], lon[i], lat[j], lon[j], mean_course)
        mid_lat, mid_lon = midpoints(lat[i], lon[i], lat[j], lon[j])
        table = np.column_stack(
            (
                np.full(len(i), frame.ts),
                mid_lat,
                mid_lon,
                pairs.distance_m[keep],
                diff,
                ahead,
                moving.speed_kn[i],
                moving.speed_kn[j],
            )
        )
        mmsi = moving.mmsi
        keys = zip(mmsi[i].tolist(), mmsi[j].tolist(), strict=True)
        return dict(zip(keys, table.tolist(), strict=True))

    def describe(self, episode: PairEpisode) -> tuple[float, float, dict[str, Any]]:
        lat, lon = centroid(episode.column(1), episode.column(2))
        a, b = episode.mmsis
        b_ahead = float((episode.column(5) > 0).mean())
        leader, shadower = (b, a) if b_ahead > 0.5 else (a, b)
        details = {
            "median_distance_m": float(np.median(episode.column(3))),
            "median_course_difference_deg": float(np.median(episode.column(4))),
            "mean_speeds_kn": [float(episode.column(6).mean()), float(episode.column(7).mean())],
            "ahead_mmsi": leader,
            "shadower_mmsi": shadower,
            "ahead_fraction": max(b_ahead, 1.0 - b_ahead),
        }
        return lat, lon, details
