"""Pairwise detectors at scale: one sweep over 50,000 active vessels, and the cost per report.

Synthetic traffic (seeded, no files): ``--vessels`` vessels in the South China Sea box
(0-23 N, 105-121 E): 40 % in 30 clusters (ports, anchorages, fishing grounds; 5-30 km
spread), 200 moored at Whitsun Reef, the rest spread over the box; 35 % slow (0-2 kn:
moored, drifting, fishing), the others under way at 6-20 kn on straight courses. Each vessel
reports once in every tick interval, at a random moment, with SOG and COG.

Measured, per detector (defaults, no port data set):

- ``sweep``: one :meth:`advance` that sweeps one tick with every vessel known at it
  (building the frame from the buffered rows, the grid, the rule and the episodes); the
  median over ``--ticks`` consecutive ticks, after the first (when every episode is new);
- ``per report``: :meth:`on_observation` over all reports fed, in microseconds; every report
  here crosses a tick and buffers one interpolated row (the dearer path);
- ``per report, 10 s``: the same for ``--vessels`` / 10 vessels reporting every 10 s
  (most reports cross no tick: the common path of terrestrial AIS).

Target (issue 3): an encounter or swarm sweep over 50,000 vessels <= 50 ms on two cores.
Run: ``python bench/bench_sweep.py [--vessels 50000] [--ticks 5]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from lookout.detectors.close_approach import CloseApproachDetector
from lookout.detectors.encounter import EncounterDetector
from lookout.detectors.shadowing import ShadowingDetector
from lookout.detectors.swarm import SwarmDetector
from lookout.geo.distance import METRES_PER_DEGREE, MPS_PER_KN
from lookout.model import Observation

DETECTORS: dict[str, Callable[[], Any]] = {  # pairwise detectors, default configs
    "encounter": EncounterDetector,
    "swarm": SwarmDetector,
    "shadowing": ShadowingDetector,
    "close_approach": CloseApproachDetector,
}
START_TS = 1_700_000_400.0  # a multiple of every tick


class Fleet:
    """Positions, speeds and courses of the synthetic vessels; straight-line motion."""

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        centres = np.column_stack((rng.uniform(1, 22, 30), rng.uniform(106, 120, 30)))
        clustered, reef = int(n * 0.4), min(200, n // 10)
        spread = n - clustered - reef
        which = rng.integers(0, 30, clustered)
        sigma = rng.uniform(0.05, 0.3, 30)[which]
        self.lat = np.concatenate(
            (
                centres[which, 0] + rng.normal(0, 1, clustered) * sigma,
                rng.uniform(0, 23, spread),
                9.93 + rng.normal(0, 0.02, reef),
            )
        )
        self.lon = np.concatenate(
            (
                centres[which, 1] + rng.normal(0, 1, clustered) * sigma,
                rng.uniform(105, 121, spread),
                114.66 + rng.normal(0, 0.02, reef),
            )
        )
        slow = rng.random(n) < 0.35
        slow[clustered + spread :] = True
        self.speed = np.where(slow, rng.uniform(0, 2, n), rng.uniform(6, 20, n))
        self.course = rng.uniform(0, 360, n)
        self.mmsi = (200_000_000 + np.arange(n)).tolist()
        self.rng = rng

    def reports(self, t0: float, t1: float) -> list[Observation]:
        """One report per vessel at a random moment in [t0, t1), in time order."""
        ts = t0 + self.rng.random(len(self.mmsi)) * (t1 - t0)
        dt = ts - START_TS
        step = self.speed * MPS_PER_KN * dt / METRES_PER_DEGREE
        course = np.radians(self.course)
        lat = self.lat + step * np.cos(course)
        lon = self.lon + step * np.sin(course) / np.cos(np.radians(self.lat))
        rows = zip(self.mmsi, ts.tolist(), lat.tolist(), lon.tolist(), strict=True)
        speed, cog = self.speed.tolist(), self.course.tolist()
        out = [
            Observation(m, 1, t, la, lo, speed[k], cog[k], None, 0, "m", "s", ("s",), t, "")
            for k, (m, t, la, lo) in enumerate(rows)
        ]
        out.sort(key=lambda o: o.observed_ts)
        return out


def run_sweeps(name: str, fleet: Fleet, ticks: int) -> tuple[list[float], float]:
    """Sweep times (s) of ``ticks`` + 1 consecutive ticks, and the cost per report (s)."""
    detector = DETECTORS[name]()
    tick = detector.config.tick_s
    lag = int(np.ceil(detector.config.max_gap_s / tick))
    sweeps, fed, feeding = [], 0, 0.0
    for k in range(1, ticks + lag + 2):
        batch = fleet.reports(START_TS + (k - 1) * tick, START_TS + k * tick)
        begin = time.perf_counter()
        for obs in batch:
            detector.on_observation(obs)
        feeding += time.perf_counter() - begin
        fed += len(batch)
        gc.collect()
        begin = time.perf_counter()
        detector.advance(START_TS + k * tick)
        if k > lag:
            sweeps.append(time.perf_counter() - begin)
    return sweeps, feeding / fed


def per_report_common(name: str, vessels: int, seed: int) -> float:
    """Seconds per report with every vessel reporting every 10 s for 10 minutes."""
    fleet = Fleet(max(vessels, 10), seed)
    detector = DETECTORS[name]()
    reports = [
        o for k in range(60) for o in fleet.reports(START_TS + 10 * k, START_TS + 10 * k + 10)
    ]
    begin = time.perf_counter()
    for obs in reports:
        detector.on_observation(obs)
    return (time.perf_counter() - begin) / len(reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vessels", type=int, default=50_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=sorted(DETECTORS), action="append")
    args = parser.parse_args()
    fleet = Fleet(args.vessels, args.seed)
    print(f"{args.vessels:,} active vessels, {args.ticks} ticks after the first")
    print(f"{'detector':<16}{'sweep ms':>10}{'first':>8}{'max':>8}{'us/report':>11}{'10 s':>8}")
    for name in args.only or list(DETECTORS):
        sweeps, per_report = run_sweeps(name, fleet, args.ticks)
        common = per_report_common(name, args.vessels // 10, args.seed)
        steady = sweeps[1:]
        print(
            f"{name:<16}{statistics.median(steady) * 1e3:>10.1f}{sweeps[0] * 1e3:>8.1f}"
            f"{max(steady) * 1e3:>8.1f}{per_report * 1e6:>11.2f}{common * 1e6:>8.2f}"
        )


if __name__ == "__main__":
    main()
