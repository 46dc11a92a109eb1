"""Builders for the per-vessel detector tests: real track files read into observations, and
a detector run over them in time order (the end of the input closing what is open)."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from lookout.detectors.base import Detector
from lookout.model import Observation, ReportRecord
from lookout.sources.files import iter_file_items

Event = dict[str, Any]


def observation(mmsi: int, ts: float, lat: float, lon: float, **kw: Any) -> Observation:
    """One position report; ``kw`` sets speed_kn, msg_type, key, member."""
    return Observation(
        mmsi,
        kw.get("msg_type", 1),
        ts,
        lat,
        lon,
        kw.get("speed_kn"),
        None,
        None,
        None,
        kw.get("member", "PHL"),
        "test",
        ("rx",),
        ts,
        kw.get("key", f"{mmsi}-{ts}"),
    )


def run_all(detector: Detector[Any], observations: Iterable[Observation]) -> list[Event]:
    """Observations in time order, the watermark following each, then the end of input."""
    events: list[Event] = []
    for obs in sorted(observations, key=lambda o: (o.observed_ts, o.mmsi)):
        events += detector.on_observation(obs)
        events += detector.advance(obs.observed_ts)
    return events + detector.advance(math.inf)


def segmenter_observations(path: Path) -> list[Observation]:
    """A gfw-segmenter JSON-lines file (NaN for missing values, lat 91 / lon 181 "not
    available") as observations; positions only."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            row = json.loads(line)
            lat, lon = row["lat"], row["lon"]
            if not (abs(lat) <= 90 and abs(lon) <= 180):  # NaN compares False
                continue
            ts = datetime.fromisoformat(row["timestamp"]).timestamp()
            speed = row["speed"] if row["speed"] == row["speed"] else None
            out.append(
                observation(int(row["ssvid"]), ts, lat, lon, speed_kn=speed, key=row["msgid"])
            )
    return out


def file_observations(path: Path) -> Iterator[Observation]:
    """Position reports of a CSV track file read by Lookout's own reader."""
    for item in iter_file_items(path, member="test", source=path.name):
        if isinstance(item, ReportRecord) and item.lat is not None and item.lon is not None:
            yield observation(
                item.mmsi, item.observed_ts, item.lat, item.lon, speed_kn=item.speed_kn
            )


def run_with_restart(
    make: Callable[[], Detector[Any]], observations: Sequence[Observation], split: int
) -> list[Event]:
    """Like :func:`run_all`, but the detector is snapshotted (through JSON) after ``split``
    observations and a new one restored from it does the rest."""
    obs = sorted(observations, key=lambda o: (o.observed_ts, o.mmsi))
    first = make()
    events: list[Event] = []
    for o in obs[:split]:
        events += first.on_observation(o) + first.advance(o.observed_ts)
    second = make()
    second.restore(json.loads(json.dumps(first.snapshot(), allow_nan=False)))
    for o in obs[split:]:
        events += second.on_observation(o) + second.advance(o.observed_ts)
    return events + second.advance(math.inf)


def batch_and_singles(
    make: Callable[[], Detector[Any]], known: Sequence[Observation], batch: Sequence[Observation]
) -> tuple[Detector[Any], list[dict[str, Any]], Detector[Any], list[dict[str, Any]]]:
    """Two detectors that saw ``known``; one is then handed ``batch`` one observation at a
    time, the other in one call: (one, its events, many, its events), for a batch screen to
    be checked against the scalar path."""
    one, many = make(), make()
    for detector in (one, many):
        detector.on_observations(known)
    by_one = [event for obs in batch for event in one.on_observation(obs)]
    return one, by_one, many, many.on_observations(batch)
