"""The layers of a region pack, computed with shapely and pyproj from the npm packages' data.

Every function takes and returns WGS84 lon/lat geometries. Build-time only: the installed
package reads the result (``lookout.sources.region_pack``) and never runs this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import region_sources as rs
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
MIN_PART_KM2 = 1.0
"""Territorial-sea parts smaller than this are slivers between the two data sets' coastlines."""


def aeqd(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Forward (lon/lat -> metres) and inverse transformers of an azimuthal equidistant
    projection centred on (lon, lat): distances from the centre are exact."""
    crs = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return fwd, inv


def project(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def polygonal(geometry: BaseGeometry) -> MultiPolygon:
    """The polygons of ``geometry`` (lines and points left by an overlay dropped)."""
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon) and not p.is_empty]
    nested: list[Polygon] = []
    for part in parts:
        nested.extend(p for p in shapely.get_parts(part) if isinstance(p, Polygon))
    return MultiPolygon(nested)


def tidy(geometry: BaseGeometry, grid_deg: float = 1e-5) -> MultiPolygon:
    """Snapped to a 1e-5 degree grid (about 1 m; keeps files small) and kept valid."""
    snapped = shapely.set_precision(geometry, grid_deg)
    if not snapped.is_valid:
        snapped = shapely.make_valid(snapped)
    return polygonal(snapped)


# -- land ------------------------------------------------------------------------------------


def land_in(polygons: Iterable[Polygon], box: BaseGeometry) -> BaseGeometry:
    """Natural Earth land within ``box``, as one geometry.

    Quantization in the TopoJSON can leave a ring touching itself; land is not a boundary
    anybody drew, so such a polygon is repaired (``make_valid``) rather than refused.
    """
    parts = [shapely.make_valid(p) if not p.is_valid else p for p in polygons if p.intersects(box)]
    return polygonal(shapely.union_all(parts).intersection(box))


# -- territorial seas ------------------------------------------------------------------------


def maritime_polygons(collection: Mapping[str, Any], box: BaseGeometry) -> dict[str, BaseGeometry]:
    """ISO code -> the state's OpenStreetMap polygon (land and territorial sea) within ``box``.

    A few MultiPolygons in the package have a part nested inside another ("Nested shells"):
    their union is the same area, drawn validly, so it is taken (no vertex moves).
    """
    found: dict[str, BaseGeometry] = {}
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        if not geometry.intersects(box):
            continue
        if not geometry.is_valid:
            geometry = shapely.union_all(list(shapely.get_parts(geometry)))
        found[str(feature["properties"]["A3"])] = geometry.intersection(box)
    return found


def territorial_sea(maritime: BaseGeometry, land: BaseGeometry, lat: float) -> MultiPolygon:
    """A state's polygon minus land, without slivers under :data:`MIN_PART_KM2`."""
    sea = polygonal(maritime.difference(land))
    km2_per_deg2 = (111.32**2) * np.cos(np.radians(lat))
    return MultiPolygon([p for p in sea.geoms if p.area * km2_per_deg2 >= MIN_PART_KM2])


# -- coasts per state ------------------------------------------------------------------------


def land_owners(
    land: BaseGeometry, maritime: Mapping[str, BaseGeometry]
) -> list[tuple[Polygon, str | None]]:
    """Each land polygon with the state whose EEZ its coast generates, or ``None``.

    The state is the one whose OpenStreetMap polygon holds most of it (Hong Kong and Macao
    count for China). Land no state's polygon touches (most Spratly features) and land two
    states' polygons each hold over half of (Kinmen) generates no EEZ.
    """
    codes = list(maritime)
    tree = shapely.STRtree([maritime[c] for c in codes])
    result: list[tuple[Polygon, str | None]] = []
    for part in polygonal(land).geoms:
        shares: dict[str, float] = {}
        for i in tree.query(part, predicate="intersects").tolist():
            state = rs.EEZ_STATE.get(codes[i], codes[i])
            share = maritime[codes[i]].intersection(part).area / max(part.area, 1e-15)
            shares[state] = shares.get(state, 0.0) + share
        majority = [s for s, v in shares.items() if v > 0.5]
        if len(majority) == 1:
            owner: str | None = majority[0]
        elif not majority and shares:
            owner = max(shares, key=lambda s: shares[s])
        else:
            owner = None
        result.append((part, owner))
    return result


# -- circles and disputed areas ----------------------------------------------------------------


def geodesic_circle(lat: float, lon: float, radius_m: float, points: int = 128) -> Polygon:
    """A circle on the WGS84 ellipsoid: ``points`` vertices at ``radius_m`` from the centre."""
    azimuths = np.linspace(0.0, 360.0, points, endpoint=False)
    lons, lats, _ = GEOD.fwd(
        np.full(points, lon), np.full(points, lat), azimuths, np.full(points, radius_m)
    )
    return Polygon(list(zip(lons[::-1], lats[::-1], strict=True)))


def disputed_outline(area: rs.DisputedArea, land: BaseGeometry, buffer_m: float) -> BaseGeometry:
    """The convex hull of the area's features (and of the land in its box), grown by
    ``buffer_m`` in a local equidistant projection."""
    points: list[BaseGeometry] = [shapely.Point(f.lon, f.lat) for f in area.features]
    if area.land_box is not None:
        points.append(land.intersection(shapely.box(*area.land_box)))
    hull = shapely.union_all(points).convex_hull
    centre = hull.centroid
    fwd, inv = aeqd(centre.x, centre.y)
    grown = project(hull, fwd).buffer(buffer_m, quad_segs=32)
    return project(shapely.segmentize(grown, 5_000.0), inv)


def zone_feature(
    zone_id: str,
    name: str,
    regime: str,
    owners: Sequence[str],
    iso: Sequence[str],
    geometry: BaseGeometry,
    *,
    approximate: bool,
    source: str,
) -> dict[str, Any]:
    """A GeoJSON Feature with the properties ``read_zones`` maps to a zone."""
    return {
        "type": "Feature",
        "id": zone_id,
        "properties": {
            "id": zone_id,
            "name": name,
            "regime": regime,
            "owners": list(owners),
            "iso_a3": list(iso),
            "approximate": approximate,
            "source": source,
        },
        "geometry": shapely.geometry.mapping(geometry),
    }
