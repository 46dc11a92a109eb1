"""Scenario builders for the pairwise detector tests: tracks written as data, in metres east
and north of a reference point, turned into observations."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from lookout.detectors.pairwise import PairwiseDetector
from lookout.geo.distance import MPS_PER_KN, destination
from lookout.model import Observation

WHITSUN_REEF = (9.93, 114.66)
T0 = 1_700_000_400.0  # a multiple of every tick length used (30, 60, 600 s)
HOUR = 3600.0

Event = dict[str, Any]


def at(east_m: float, north_m: float, origin: tuple[float, float] = WHITSUN_REEF):
    """(lat, lon) of a point ``east_m`` / ``north_m`` metres from ``origin``."""
    distance = math.hypot(east_m, north_m)
    if distance == 0.0:
        return origin
    return destination(*origin, math.degrees(math.atan2(east_m, north_m)) % 360.0, distance)


def report(
    mmsi: int,
    t_s: float,
    east_m: float,
    north_m: float,
    speed_kn: float | None = None,
    course_deg: float | None = None,
    origin: tuple[float, float] = WHITSUN_REEF,
) -> Observation:
    """One position report ``t_s`` seconds after :data:`T0`."""
    lat, lon = at(east_m, north_m, origin)
    ts = T0 + t_s
    return Observation(
        mmsi,
        1,
        ts,
        lat,
        lon,
        speed_kn,
        course_deg,
        None,
        0,
        "PHL",
        "test",
        ("rx",),
        ts,
        f"{mmsi}@{ts:.0f}",
    )


def make_track(
    mmsi: int,
    points: Iterable[tuple[float, float, float, float | None, float | None]],
    origin: tuple[float, float] = WHITSUN_REEF,
) -> list[Observation]:
    """Reports from rows ``(t_s, east_m, north_m, speed_kn, course_deg)``."""
    return [report(mmsi, t, e, n, s, c, origin) for t, e, n, s, c in points]


def moving(
    mmsi: int,
    *,
    start_s: float,
    end_s: float,
    every_s: float,
    east_m: float = 0.0,
    north_m: float = 0.0,
    speed_kn: float,
    course_deg: float,
    sog: bool = True,
    origin: tuple[float, float] = WHITSUN_REEF,
) -> list[Observation]:
    """A vessel in a straight line from (east_m, north_m) at ``start_s``, reporting every
    ``every_s`` up to ``end_s`` inclusive; ``sog=False`` leaves SOG and COG out."""
    v = speed_kn * MPS_PER_KN
    ve, vn = v * math.sin(math.radians(course_deg)), v * math.cos(math.radians(course_deg))
    rows = []
    t = start_s
    while t <= end_s + 1e-9:
        dt = t - start_s
        speed, course = (speed_kn, course_deg) if sog else (None, None)
        rows.append((t, east_m + ve * dt, north_m + vn * dt, speed, course))
        t += every_s
    return make_track(mmsi, rows, origin)


def legs(
    mmsi: int,
    *,
    start_s: float,
    every_s: float,
    east_m: float,
    north_m: float,
    plan: Sequence[tuple[float, float, float]],
    origin: tuple[float, float] = WHITSUN_REEF,
) -> list[Observation]:
    """A vessel sailing legs ``(duration_s, speed_kn, course_deg)`` one after another."""
    rows = []
    t, e, n = start_s, east_m, north_m
    for duration, speed, course in plan:
        v = speed * MPS_PER_KN
        ve, vn = v * math.sin(math.radians(course)), v * math.cos(math.radians(course))
        for k in range(round(duration / every_s)):
            rows.append(
                (t + k * every_s, e + ve * k * every_s, n + vn * k * every_s, speed, course)
            )
        t, e, n = t + duration, e + ve * duration, n + vn * duration
    return make_track(mmsi, rows, origin)


def ordered(observations: Iterable[Observation]) -> list[Observation]:
    return sorted(observations, key=lambda o: (o.observed_ts, o.mmsi))


def feed(detector: PairwiseDetector, observations: Iterable[Observation]) -> list[Event]:
    """Observations in time order, the watermark advancing after each (as the pipeline does
    after each batch)."""
    events: list[Event] = []
    for obs in observations:
        events += detector.on_observation(obs)
        events += detector.advance(obs.observed_ts)
    return events


def run(detector: PairwiseDetector, observations: Iterable[Observation]) -> list[Event]:
    """Every event of the whole input, the end of the input closing what is open."""
    events = feed(detector, ordered(observations))
    return events + detector.advance(math.inf)


def run_with_restart(
    make: Callable[[], PairwiseDetector], observations: Sequence[Observation], split: int
) -> list[Event]:
    """Like :func:`run`, but the detector is snapshotted (through JSON) after ``split``
    observations and a new one restored from it does the rest."""
    obs = ordered(observations)
    first = make()
    events = feed(first, obs[:split])
    text = json.dumps(first.snapshot(), allow_nan=False)
    second = make()
    second.restore(json.loads(text))
    return events + feed(second, obs[split:]) + second.advance(math.inf)


def final(events: Sequence[Event]) -> list[Event]:
    """The last version of each event, by id, in order of first appearance."""
    latest: dict[str, Event] = {}
    for event in events:
        latest[event["id"]] = event
    return list(latest.values())


DOC = Path(__file__).resolve().parents[3] / "docs" / "detectors.md"


def documented_defaults(kind: str) -> dict[str, float]:
    """Setting -> default of the table in the ``kind`` section of docs/detectors.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## `{kind}`\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            found[cells[0].strip("`")] = float(cells[1].replace(",", ""))
    return found
