"""PendingRows: the tick rows of the pairwise detectors, interpolated from buffered segments
exactly as the scalar rule of lookout.detectors.pairwise (the same float operations)."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from lookout.detectors.resample import FEW_SEGMENTS, PendingRows

TICK_S = 60.0


def _segment(rng: random.Random, mmsi: int) -> tuple[float, ...]:
    """Two reports of one vessel, 1 to 10 ticks apart, across the antimeridian sometimes."""
    t0 = 1_700_000_000.0 + rng.uniform(0, 600)
    t1 = t0 + rng.uniform(61.0, 600.0)
    lat0, lon0 = rng.uniform(-60, 60), rng.choice([rng.uniform(-180, 180), 179.999])
    lat1, lon1 = lat0 + rng.uniform(-0.05, 0.05), lon0 + rng.uniform(-0.05, 0.05)
    lon1 = (lon1 + 180.0) % 360.0 - 180.0
    speed0, course0 = rng.choice([math.nan, rng.uniform(0, 20)]), rng.uniform(0, 360)
    speed1, course1 = rng.uniform(0, 20), rng.choice([math.nan, rng.uniform(0, 360)])
    first, last = int(t0 // TICK_S) + 1, int(t1 // TICK_S)
    dlon = (lon1 - lon0 + 180.0) % 360.0 - 180.0
    # fmt: off
    return (mmsi, first, last, t0, lat0, lon0, speed0, course0, t1 - t0, lat1 - lat0, dlon,
            speed1, course1)
    # fmt: on


def _scalar_rows(seg: tuple[float, ...]) -> dict[int, list[float]]:
    """The rule of the module docstring, one tick at a time (plain Python floats)."""
    mmsi, first, last, t0, lat0, lon0, s0, c0, span, dlat, dlon, s1, c1 = seg
    rows = {}
    for k in range(int(first), int(last) + 1):
        f = (k * TICK_S - t0) / span
        lon = (lon0 + f * dlon + 180.0) % 360.0 - 180.0
        speed, course = (s0, c0) if f < 0.5 else (s1, c1)
        rows[k] = [mmsi, lat0 + f * dlat, lon, speed, course]
    return rows


def _as_dict(taken: list[tuple[int, np.ndarray]]) -> dict[tuple[int, int], list[float]]:
    return {(k, int(row[0])): row.tolist() for k, rows in taken for row in rows}


def _same(a: list[float], b: list[float]) -> bool:
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("vessels", [3, FEW_SEGMENTS + 1, 400])
def test_segment_rows_are_the_scalar_rows_to_the_last_bit(vessels: int) -> None:
    rng = random.Random(vessels)
    pending = PendingRows(TICK_S)
    expected: dict[tuple[int, int], list[float]] = {}
    for mmsi in range(1, vessels + 1):
        seg = _segment(rng, mmsi)
        pending.bucket(int(seg[1])).extend(seg)
        expected.update({(k, mmsi): row for k, row in _scalar_rows(seg).items()})
    pending.add_row(28_333_340, 999, 1.5, 2.5, math.nan, 90.0)  # a report exactly on a tick
    expected[(28_333_340, 999)] = [999, 1.5, 2.5, math.nan, 90.0]
    last = sorted(k for k, _ in expected)[len(expected) // 2]
    early = pending.take_through(last)
    assert [k for k, _ in early] == sorted({k for k, _ in expected if k <= last})
    later = pending.take_through(pending.last_tick(0))
    got = _as_dict(early) | _as_dict(later)
    assert got.keys() == expected.keys()
    assert all(_same(got[key], expected[key]) for key in expected)
    assert pending.take_through(10**12) == []


def test_a_dump_through_json_resumes_with_the_same_rows() -> None:
    rng = random.Random(5)
    pending, twin = PendingRows(TICK_S), PendingRows(TICK_S)
    for mmsi in range(1, 50):
        seg = _segment(rng, mmsi)
        pending.bucket(int(seg[1])).extend(seg)
        twin.bucket(int(seg[1])).extend(seg)
    last = pending.last_tick(0)
    first = min(pending.segments)
    pending.take_through(first + 2)
    twin.take_through(first + 2)
    restored = PendingRows(TICK_S)
    restored.load(json.loads(json.dumps(pending.dump())))
    assert restored.last_tick(0) == last
    want, got = _as_dict(twin.take_through(last)), _as_dict(restored.take_through(last))
    assert want.keys() == got.keys() and all(_same(got[k], want[k]) for k in want)
