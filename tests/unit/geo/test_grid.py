"""The spatial grid: every pair within a radius, found as a brute-force search would."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lookout.geo.cover import clique_core, crowded, densest_disc
from lookout.geo.distance import destination, distance_m
from lookout.geo.grid import SpatialGrid, centroid, pairs_within, unit_vectors


def brute_force(lat: np.ndarray, lon: np.ndarray, radius_m: float) -> set[tuple[int, int]]:
    return {
        (i, j)
        for i, j in itertools.combinations(range(len(lat)), 2)
        if distance_m(lat[i], lon[i], lat[j], lon[j]) <= radius_m
    }


def scatter(seed: int, n: int, lat: tuple[float, float], lon: tuple[float, float]):
    rng = np.random.default_rng(seed)
    lats = rng.uniform(*lat, n)
    lons = (rng.uniform(*lon, n) + 180.0) % 360.0 - 180.0
    return lats, lons


@pytest.mark.parametrize(
    ("where", "radius_m"),
    [
        (((9.0, 11.0), (114.0, 116.0)), 9260.0),  # the Spratlys, a swarm radius
        (((-1.0, 1.0), (179.0, 181.0)), 5000.0),  # across the antimeridian
        (((88.5, 90.0), (-180.0, 180.0)), 5000.0),  # around the North Pole
        (((10.0, 10.02), (100.0, 100.02)), 30.0),  # a tiny radius, smaller than the cells
    ],
    ids=["spratlys", "antimeridian", "pole", "tiny"],
)
def test_pairs_are_exactly_the_brute_force_answer(where, radius_m: float) -> None:
    lat, lon = scatter(1, 700, *where)
    found = pairs_within(lat, lon, radius_m)
    got = list(zip(found.i.tolist(), found.j.tolist(), strict=True))
    assert len(got) == len(set(got))  # each pair once
    assert set(got) == brute_force(lat, lon, radius_m)
    assert len(got) > 20  # the case is not empty
    expected = [distance_m(lat[i], lon[i], lat[j], lon[j]) for i, j in got]
    assert found.distance_m.tolist() == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_near_finds_the_points_around_one_position() -> None:
    lat, lon = scatter(2, 2000, (-1.0, 1.0), (179.0, 181.0))
    grid = SpatialGrid(lat, lon, 20_000.0)
    for qlat, qlon, r in [(0.0, 180.0, 20_000.0), (0.5, -179.9, 7_000.0)]:
        want = [k for k in range(len(lat)) if distance_m(qlat, qlon, lat[k], lon[k]) <= r]
        assert grid.near(qlat, qlon, r).tolist() == want
        assert want


def test_radius_limits() -> None:
    grid = SpatialGrid([0.0, 0.0], [0.0, 0.001], 500.0)
    assert len(grid.pairs(100.0)) == 0 and len(grid.pairs()) == 1
    with pytest.raises(ValueError, match="exceeds"):
        grid.pairs(600.0)
    with pytest.raises(ValueError, match="positive"):
        SpatialGrid([0.0], [0.0], 0.0)
    empty = SpatialGrid([], [], 500.0)
    assert len(empty) == 0 and len(empty.pairs()) == 0 and len(empty.near(0.0, 0.0)) == 0


def test_centroid_is_antimeridian_safe() -> None:
    lat, lon = centroid([0.0, 0.0], [179.9, -179.9])
    assert lat == pytest.approx(0.0, abs=1e-9) and abs(lon) == pytest.approx(180.0)
    assert unit_vectors([90.0], [0.0])[0] == pytest.approx([0.0, 0.0, 1.0])


def ring(count: int, radius_m: float, centre=(9.93, 114.66)):
    points = [destination(*centre, 360.0 * k / count, radius_m) for k in range(count)]
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


def test_the_densest_disc_covers_a_ring_no_member_of_which_sees_all_others() -> None:
    """Ten points on a 4.5 km ring: each sees only its near neighbours within 5 km, but a
    5 km disc on the centre covers all ten."""
    lat, lon = ring(10, 4500.0)
    grid = SpatialGrid(lat, lon, 5000.0)
    assert max(len(grid.near(a, o)) for a, o in zip(lat, lon, strict=True)) < 10
    centre, covered = densest_disc(unit_vectors(lat, lon), 5000.0)
    assert covered.tolist() == list(range(10))
    clat = math.degrees(math.asin(centre[2]))
    clon = math.degrees(math.atan2(centre[1], centre[0]))
    assert max(distance_m(clat, clon, a, o) for a, o in zip(lat, lon, strict=True)) <= 5000.001


def test_no_disc_covers_a_ring_wider_than_the_radius() -> None:
    lat, lon = ring(10, 5100.0)
    _, covered = densest_disc(unit_vectors(lat, lon), 5000.0)
    assert len(covered) < 10
    # opposite points are 10.2 km apart: no ten of them are pairwise within 10 km
    assert len(clique_core(unit_vectors(lat, lon), 5000.0, 10)) == 0
    assert len(clique_core(unit_vectors(*ring(10, 4500.0)), 5000.0, 10)) == 10


def test_crowded_keeps_the_crowd_and_drops_the_lonely() -> None:
    crowd_lat, crowd_lon = ring(12, 3000.0)
    lonely_lat, lonely_lon = scatter(3, 50, (0.0, 5.0), (100.0, 105.0))
    lat = np.concatenate((crowd_lat, lonely_lat))
    lon = np.concatenate((crowd_lon, lonely_lon))
    mask = crowded(unit_vectors(lat, lon), 5000.0, 10)
    assert mask[:12].all() and not mask[12:].any()


def test_a_grid_of_unit_vectors_and_its_index_pairs_match_the_plain_grid() -> None:
    lat, lon = scatter(3, 900, (9.0, 11.0), (114.0, 116.0))
    plain = SpatialGrid(lat, lon, 9260.0)
    given = SpatialGrid.of_unit_vectors(unit_vectors(lat, lon), 9260.0)
    pairs = plain.pairs()
    i, j = given.index_pairs()
    assert len(pairs) > 100
    assert i.tolist() == pairs.i.tolist() and j.tolist() == pairs.j.tolist()  # same order
    near = plain.pairs(4000.0)
    i, j = given.index_pairs(4000.0)
    assert i.tolist() == near.i.tolist() and j.tolist() == near.j.tolist()
    assert given.pairs().distance_m.tolist() == pairs.distance_m.tolist()
