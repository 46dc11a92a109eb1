"""Great-circle distance, bearing and implied speed, checked against pyproj's WGS84 geodesic
(an independent implementation; the sphere differs from the ellipsoid by at most ~0.5 %)."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from lookout.geo.distance import (
    EARTH_RADIUS_M,
    METRES_PER_DEGREE,
    METRES_PER_NM,
    destination,
    distance_m,
    implied_speed_kn,
    initial_bearing_deg,
    lon_delta_deg,
)

WGS84 = Geod(ellps="WGS84")

PAIRS = [
    ((55.6761, 12.5683), (59.9139, 10.7522)),  # Copenhagen - Oslo
    ((15.1500, 117.7667), (9.7167, 115.5333)),  # Scarborough Shoal - Second Thomas Shoal
    ((-33.8688, 151.2093), (-36.8485, 174.7633)),  # Sydney - Auckland
    ((51.5, -0.12), (40.71, -74.0)),  # London - New York
    ((60.0, 179.5), (60.5, -179.5)),  # across the antimeridian
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_distance_agrees_with_the_wgs84_geodesic_within_half_a_percent(a, b):
    _, _, geodesic_m = WGS84.inv(a[1], a[0], b[1], b[0])
    assert distance_m(a[0], a[1], b[0], b[1]) == pytest.approx(geodesic_m, rel=0.006)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_bearing_agrees_with_the_wgs84_geodesic_within_half_a_degree(a, b):
    azimuth, _, _ = WGS84.inv(a[1], a[0], b[1], b[0])
    bearing = initial_bearing_deg(a[0], a[1], b[0], b[1])
    assert abs((bearing - azimuth + 180.0) % 360.0 - 180.0) < 0.5


def test_one_minute_of_latitude_is_about_one_nautical_mile():
    assert distance_m(0.0, 0.0, 1 / 60, 0.0) == pytest.approx(METRES_PER_NM, rel=0.001)
    assert pytest.approx(math.pi * EARTH_RADIUS_M / 180.0) == METRES_PER_DEGREE


def test_antimeridian_neighbours_are_close_not_a_world_apart():
    assert distance_m(0.0, 179.9, 0.0, -179.9) == pytest.approx(0.2 * METRES_PER_DEGREE)
    assert initial_bearing_deg(0.0, 179.9, 0.0, -179.9) == pytest.approx(90.0)
    assert initial_bearing_deg(0.0, -179.9, 0.0, 179.9) == pytest.approx(270.0)
    assert lon_delta_deg(179.9, -179.9) == pytest.approx(0.2)
    assert lon_delta_deg(-179.9, 179.9) == pytest.approx(-0.2)


def test_cardinal_bearings():
    assert initial_bearing_deg(10.0, 20.0, 11.0, 20.0) == pytest.approx(0.0)
    assert initial_bearing_deg(0.0, 20.0, 0.0, 21.0) == pytest.approx(90.0)
    assert initial_bearing_deg(10.0, 20.0, 9.0, 20.0) == pytest.approx(180.0)
    assert initial_bearing_deg(0.0, 20.0, 0.0, 19.0) == pytest.approx(270.0)
    assert initial_bearing_deg(10.0, 20.0, 10.0, 20.0) == 0.0


def test_antipodes_are_half_the_circumference_apart():
    assert distance_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert distance_m(90.0, 0.0, -90.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_implied_speed_in_knots():
    assert implied_speed_kn(METRES_PER_NM, 3600.0) == pytest.approx(1.0)
    assert implied_speed_kn(10 * METRES_PER_NM, -1800.0) == pytest.approx(20.0)
    assert implied_speed_kn(0.0, 0.0) == 0.0
    assert implied_speed_kn(5.0, 0.0) == math.inf


@pytest.mark.parametrize("bearing", [0.0, 45.0, 135.0, 270.0])
def test_destination_goes_where_the_geodesic_says(bearing):
    lat, lon = destination(60.0, 179.0, bearing, 150_000.0)
    expected_lon, expected_lat, _ = WGS84.fwd(179.0, 60.0, bearing, 150_000.0)
    assert distance_m(lat, lon, expected_lat, expected_lon) < 0.006 * 150_000.0
    assert -180.0 <= lon < 180.0


def test_destination_refuses_non_finite_input():
    with pytest.raises(ValueError):
        destination(math.nan, 0.0, 0.0, 1.0)
