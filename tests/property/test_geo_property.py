"""Invariants of the spherical geometry in lookout.geo.distance (Hypothesis)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from lookout.geo.distance import (
    EARTH_RADIUS_M,
    destination,
    distance_m,
    initial_bearing_deg,
    lon_delta_deg,
)

lats = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
lons = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)
points = st.tuples(lats, lons)
HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M


@given(points, points)
def test_distance_is_symmetric_non_negative_and_bounded(a, b):
    d = distance_m(*a, *b)
    assert d == distance_m(*b, *a) or math.isclose(d, distance_m(*b, *a), abs_tol=1e-6)
    assert 0.0 <= d <= HALF_CIRCUMFERENCE_M + 1e-6


@given(points)
def test_a_point_is_at_distance_zero_from_itself(a):
    assert distance_m(*a, *a) == 0.0


@given(points, points, points)
def test_triangle_inequality(a, b, c):
    assert distance_m(*a, *c) <= distance_m(*a, *b) + distance_m(*b, *c) + 1e-3


@given(points, points, st.sampled_from([-360.0, 360.0, 720.0]))
def test_longitude_is_periodic_across_the_antimeridian(a, b, turn):
    shifted = distance_m(a[0], a[1] + turn, b[0], b[1])
    assert math.isclose(shifted, distance_m(*a, *b), rel_tol=1e-9, abs_tol=1e-3)


@given(lats, st.floats(min_value=0.0, max_value=1.0))
def test_antimeridian_neighbours_stay_close(lat, gap_deg):
    west_of_line = 180.0 - gap_deg / 2
    east_of_line = -180.0 + gap_deg / 2
    direct = distance_m(lat, west_of_line, lat, east_of_line)
    assert direct <= gap_deg * EARTH_RADIUS_M * math.pi / 180.0 + 1e-6
    assert abs(lon_delta_deg(west_of_line, east_of_line)) <= gap_deg + 1e-9


@given(
    st.floats(min_value=-80.0, max_value=80.0),
    lons,
    st.floats(min_value=0.0, max_value=359.999),
    st.floats(min_value=1.0, max_value=2_000_000.0),
)
def test_destination_round_trips_distance_and_bearing(lat, lon, bearing, distance):
    lat2, lon2 = destination(lat, lon, bearing, distance)
    assert math.isclose(distance_m(lat, lon, lat2, lon2), distance, rel_tol=1e-6, abs_tol=1e-3)
    back = initial_bearing_deg(lat, lon, lat2, lon2)
    assert abs((back - bearing + 180.0) % 360.0 - 180.0) < 1e-3 or distance < 1e-2
