"""A vessel track as GeoJSON (RFC 7946): one Feature per track segment.

A segment with two or more points is a LineString, split into a MultiLineString where it crosses
the antimeridian (RFC 7946 section 3.1.9); a segment of a single point is a Point. Each feature
carries its point times in ``properties.times`` (ISO 8601 UTC, one per coordinate).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from lookout.model import TrackPoint

__all__ = [
    "GeometryError",
    "count_vertices",
    "iso_utc",
    "split_antimeridian",
    "track_feature_collection",
]

Coord = list[float]


def iso_utc(ts: float) -> str:
    """``2010-06-11T11:46:11.390000Z``: ISO 8601 UTC, as the JSON responses write times."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def _crossing_lat(a: Coord, b: Coord) -> float:
    """Latitude where the short way from ``a`` to ``b`` meets lon +-180 (linear in lon)."""
    lon_a = a[0]
    lon_b = b[0] + 360.0 if b[0] < a[0] else b[0] - 360.0
    edge = 180.0 if lon_b > lon_a else -180.0
    frac = (edge - lon_a) / (lon_b - lon_a)
    return a[1] + frac * (b[1] - a[1])


def split_antimeridian(coords: Sequence[Coord]) -> list[list[Coord]]:
    """Split a lon/lat line into parts wherever consecutive points jump more than 180 deg."""
    parts: list[list[Coord]] = []
    current: list[Coord] = []
    for point in coords:
        if current and abs(point[0] - current[-1][0]) > 180.0:
            prev = current[-1]
            lat = _crossing_lat(prev, point)
            edge = 180.0 if prev[0] > 0 else -180.0
            current.append([edge, lat])
            parts.append(current)
            current = [[-edge, lat]]
        current.append(point)
    if current:
        parts.append(current)
    return parts


def _geometry(coords: list[Coord]) -> dict[str, Any]:
    if len(coords) == 1:
        return {"type": "Point", "coordinates": coords[0]}
    parts = split_antimeridian(coords)
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def track_feature_collection(mmsi: int, points: Sequence[TrackPoint]) -> dict[str, Any]:
    """The track of ``mmsi`` (points in time order) as a GeoJSON FeatureCollection."""
    features = []
    ordered = sorted(points, key=lambda p: (p.segment, p.observed_ts))
    for segment, group in groupby(ordered, key=lambda p: p.segment):
        seg = list(group)
        coords = [[p.lon, p.lat] for p in seg]
        features.append(
            {
                "type": "Feature",
                "geometry": _geometry(coords),
                "properties": {
                    "mmsi": mmsi,
                    "segment": segment,
                    "points": len(seg),
                    "start_at": iso_utc(seg[0].observed_ts),
                    "end_at": iso_utc(seg[-1].observed_ts),
                    "times": [iso_utc(p.observed_ts) for p in seg],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# -- geometry in requests --------------------------------------------------------------------

_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
          "MultiPolygon": 3}  # fmt: skip
"""How many levels of arrays wrap the positions of each GeoJSON geometry type (RFC 7946 3.1)."""


class GeometryError(ValueError):
    """A request's GeoJSON geometry is malformed or has too many vertices."""


def count_vertices(geometry: object, max_vertices: int) -> int:
    """The positions in a GeoJSON geometry (a GeometryCollection counts all its members),
    checked as they are counted: :class:`GeometryError` for a malformed geometry or once the
    count passes ``max_vertices`` (``Settings.max_geometry_vertices``), so a route that takes
    geometry refuses a huge one before building anything from it."""
    if not isinstance(geometry, dict):
        raise GeometryError("a geometry is a JSON object with 'type'")
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list):
            raise GeometryError("a GeometryCollection needs a 'geometries' list")
        total = 0
        for member in members:
            total += count_vertices(member, max_vertices - total)
        return total
    if kind not in _DEPTH:
        raise GeometryError(f"unknown geometry type {kind!r}")
    level: list[object] = [geometry.get("coordinates")]
    for _ in range(_DEPTH[kind]):
        if not all(isinstance(item, list) for item in level):
            raise GeometryError(f"{kind}: coordinates nested too shallow")
        level = [inner for item in level for inner in item]  # type: ignore[attr-defined]
        if len(level) > max_vertices:
            break
    if len(level) > max_vertices:
        raise GeometryError(f"{kind}: more than {max_vertices} vertices")
    if not all(_is_position(p) for p in level):
        raise GeometryError(f"{kind}: a position is [lon, lat] in degrees")
    return len(level)


def _is_position(value: object) -> bool:
    if not isinstance(value, list) or len(value) not in (2, 3):
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return False
    lon, lat = float(value[0]), float(value[1])
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
