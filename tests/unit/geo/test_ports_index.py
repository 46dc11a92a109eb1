"""PortIndex: the near_port predicate of the detectors, checked against brute force."""

from __future__ import annotations

import random

import numpy as np
import pytest

from lookout.geo.distance import destination, distance_m
from lookout.geo.ports import PortIndex


def _brute_near(points: list[tuple[float, float]], lat: float, lon: float, d: float) -> bool:
    return any(distance_m(lat, lon, plat, plon) <= d for plat, plon in points)


def test_a_port_is_near_inside_the_distance_and_not_beyond_it() -> None:
    index = PortIndex([(10.0, 150.0)])
    inside = destination(10.0, 150.0, 37.0, 9_900.0)
    outside = destination(10.0, 150.0, 37.0, 10_100.0)
    assert index.near(*inside, 10_000.0)
    assert not index.near(*outside, 10_000.0)
    assert index.nearest_m(*inside, 10_000.0) == pytest.approx(9_900.0, abs=1.0)
    assert index.nearest_m(*outside, 10_000.0) is None


def test_across_the_antimeridian_and_near_the_poles() -> None:
    index = PortIndex([(0.0, 179.95), (89.9, 10.0)])
    assert index.near(0.0, -179.95, 12_000.0)  # 11 km across the date line
    assert not index.near(0.0, -179.8, 12_000.0)
    assert index.near(89.95, -170.0, 17_000.0)  # over the pole: 16.7 km
    assert not index.near(89.95, -170.0, 16_000.0)


def test_an_empty_index_is_never_near() -> None:
    assert not PortIndex().near(0.0, 0.0, 1e7)
    assert len(PortIndex()) == 0


def test_bad_points_are_refused_and_duplicates_kept_once() -> None:
    with pytest.raises(ValueError, match="not a position"):
        PortIndex([(91.0, 0.0)])
    with pytest.raises(ValueError, match="not a position"):
        PortIndex([(0.0, float("nan"))])
    assert len(PortIndex([(1.0, 2.0), (1.0, 2.0), (1.0, 2.5)])) == 2


def _around(rng: random.Random, within_m: float) -> tuple[float, float]:
    return destination(5.0, 120.0, rng.uniform(0, 360), rng.uniform(0, within_m))


@pytest.mark.parametrize("distance", [500.0, 10_000.0, 60_000.0, 400_000.0, 3_000_000.0])
def test_agrees_with_brute_force(distance: float) -> None:
    rng = random.Random(7)
    points = [(rng.uniform(-85, 85), rng.uniform(-180, 180)) for _ in range(300)]
    # clusters, so that many queries have a port nearby
    points += [
        destination(5.0, 120.0, rng.uniform(0, 360), rng.uniform(0, 80_000)) for _ in range(200)
    ]
    index = PortIndex(points)
    queries = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(300)]
    queries += [
        destination(5.0, 120.0, rng.uniform(0, 360), rng.uniform(0, 120_000)) for _ in range(300)
    ]
    answers = [index.near(lat, lon, distance) for lat, lon in queries]
    assert answers == [_brute_near(points, lat, lon, distance) for lat, lon in queries]
    assert any(answers)


@pytest.mark.parametrize("distance", [500.0, 10_000.0, 60_000.0])
def test_many_points_at_once_get_the_answers_of_one_at_a_time(distance: float) -> None:
    rng = random.Random(11)
    points = [_around(rng, 80_000.0) for _ in range(200)]
    # a fresh index for each way of asking, so neither answers from the other's memory
    one_by_one, all_at_once = PortIndex(points), PortIndex(points)
    queries = [_around(rng, 120_000.0) for _ in range(2_000)]
    queries += [(-89.99, 0.0), (0.0, -180.0), (0.0, 180.0)]
    lat, lon = np.array([q[0] for q in queries]), np.array([q[1] for q in queries])
    answers = all_at_once.near_many(lat, lon, distance).tolist()
    assert answers == [one_by_one.near(a, b, distance) for a, b in queries]
    assert answers == [_brute_near(points, a, b, distance) for a, b in queries]
    assert 0 < sum(answers) < len(answers)
    assert not PortIndex().near_many(lat, lon, distance).any()
