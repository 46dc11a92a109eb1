"""Great-circle distance, bearing and implied speed on a spherical Earth.

Haversine on a sphere of the IUGG mean radius differs from the WGS84 ellipsoid by at most
about 0.5 %: ample for telling physically possible tracks from impossible ones, and fast enough
for the per-message hot path. Use ``pyproj.Geod`` where survey-grade distances matter.

Every function is antimeridian-safe: longitudes are compared modulo 360, so (0, 179.9) and
(0, -179.9) are 22 km apart, not 40,000 km.
"""

from __future__ import annotations

from math import asin, atan2, cos, degrees, isfinite, pi, radians, sin, sqrt

__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_DEGREE",
    "METRES_PER_NM",
    "MPS_PER_KN",
    "destination",
    "distance_m",
    "implied_speed_kn",
    "initial_bearing_deg",
    "lon_delta_deg",
]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""
METRES_PER_NM = 1852.0
"""One international nautical mile, metres."""
MPS_PER_KN = METRES_PER_NM / 3600.0
"""One knot in metres per second."""
METRES_PER_DEGREE = EARTH_RADIUS_M * pi / 180.0
"""Arc length of one degree of a great circle, metres (about 111.2 km)."""


def lon_delta_deg(lon1: float, lon2: float) -> float:
    """``lon2 - lon1`` wrapped into [-180, 180): the short way round."""
    return (lon2 - lon1 + 180.0) % 360.0 - 180.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres between two WGS84 positions in degrees."""
    phi1 = radians(lat1)
    phi2 = radians(lat2)
    h = sin((phi2 - phi1) * 0.5) ** 2 + cos(phi1) * cos(phi2) * sin(radians(lon2 - lon1) * 0.5) ** 2
    if h >= 1.0:
        h = 1.0
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(h))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from the first position to the second, degrees true [0, 360).

    Coincident positions give 0.
    """
    phi1 = radians(lat1)
    phi2 = radians(lat2)
    dlon = radians(lon2 - lon1)
    y = sin(dlon) * cos(phi2)
    x = cos(phi1) * sin(phi2) - sin(phi1) * cos(phi2) * cos(dlon)
    bearing = degrees(atan2(y, x)) % 360.0
    return 0.0 if bearing >= 360.0 else bearing


def implied_speed_kn(distance_m: float, duration_s: float) -> float:
    """The speed in knots needed to cover ``distance_m`` metres in ``duration_s`` seconds.

    The sign of the duration is ignored (out-of-order points). No distance in no time is 0 kn;
    some distance in no time is infinite.
    """
    duration = abs(duration_s)
    if duration == 0.0:
        return 0.0 if distance_m == 0.0 else float("inf")
    return distance_m / duration / MPS_PER_KN


def destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The position reached from (lat, lon) after ``distance_m`` metres on ``bearing_deg``.

    Follows the great circle; the longitude is wrapped into [-180, 180).
    """
    if not all(isfinite(v) for v in (lat, lon, bearing_deg, distance_m)):
        raise ValueError("destination() needs finite arguments")
    delta = distance_m / EARTH_RADIUS_M
    phi1 = radians(lat)
    theta = radians(bearing_deg)
    sin_phi2 = sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta)
    sin_phi2 = max(-1.0, min(1.0, sin_phi2))
    phi2 = asin(sin_phi2)
    lam = atan2(sin(theta) * sin(delta) * cos(phi1), cos(delta) - sin(phi1) * sin_phi2)
    lon2 = (lon + degrees(lam) + 180.0) % 360.0 - 180.0
    return degrees(phi2), lon2
