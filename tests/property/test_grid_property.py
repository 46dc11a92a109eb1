"""The spatial grid's pair search returns exactly the brute-force answer (Hypothesis)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lookout.geo.distance import distance_m
from lookout.geo.grid import SpatialGrid, pairs_within, unit_vectors

CLUSTER = st.tuples(
    st.floats(-89.0, 89.0), st.floats(-180.0, 180.0), st.floats(0.001, 0.5)
)  # centre and spread in degrees: points near each other, so that pairs exist


@st.composite
def positions(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    centres = draw(st.lists(CLUSTER, min_size=1, max_size=3))
    lat, lon = [], []
    for clat, clon, spread in centres:
        offsets = draw(
            st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=25)
        )
        for dlat, dlon in offsets:
            lat.append(max(-90.0, min(90.0, clat + dlat * spread)))
            lon.append((clon + dlon * spread + 180.0) % 360.0 - 180.0)
    return np.array(lat), np.array(lon)


def chord_brute_force(lat: np.ndarray, lon: np.ndarray, radius_m: float) -> set[tuple[int, int]]:
    """Every pair, with the grid's own metric (the chord of the radius on the unit sphere)."""
    xyz = unit_vectors(lat, lon)
    limit = 2.0 * np.sin(radius_m / 6_371_008.8 / 2.0)
    return {
        (i, j)
        for i, j in itertools.combinations(range(len(lat)), 2)
        if float(np.sum((xyz[i] - xyz[j]) ** 2)) <= limit * limit
    }


@settings(max_examples=150, deadline=None)
@given(positions(), st.floats(1.0, 60_000.0))
def test_pairs_within_is_the_brute_force_answer(points, radius_m: float) -> None:
    lat, lon = points
    found = pairs_within(lat, lon, radius_m)
    got = list(zip(found.i.tolist(), found.j.tolist(), strict=True))
    assert len(got) == len(set(got))
    assert set(got) == chord_brute_force(lat, lon, radius_m)
    # small sets are compared directly (SMALL_SET); the grid must agree on them too
    grid = SpatialGrid(lat, lon, radius_m).pairs()
    assert set(zip(grid.i.tolist(), grid.j.tolist(), strict=True)) == set(got)
    for (i, j), d in zip(got, found.distance_m.tolist(), strict=True):
        assert abs(d - distance_m(lat[i], lon[i], lat[j], lon[j])) <= 1e-6 * max(1.0, d)
    # against haversine away from the edge: nothing within the radius is missed
    for i, j in itertools.combinations(range(len(lat)), 2):
        if distance_m(lat[i], lon[i], lat[j], lon[j]) <= radius_m * (1 - 1e-9) - 1e-6:
            assert (i, j) in set(got)
