"""Approximate EEZs: sea within 200 nm of a state's coast and nearer to it than to any other
state's coast (median lines), computed from coastlines, not from legal baselines.

Method: the coastline (Natural Earth land's boundary) is sampled every :data:`SPACING_M` in an
azimuthal equidistant projection centred on the region; each sample takes the state whose
OpenStreetMap polygon holds it (samples held by none, by two, or inside a disputed area count
for nobody). The Voronoi cells of the samples, merged per state, are the sea nearer to that
state's coast than to any other's; each is cut to the 200 nm buffer of the state's land in
the same projection, minus land, back to lon/lat and clipped to the region. The projection
keeps distances from its centre exact and stretches others by up to about 2% at the corners
of the region; the build reports the largest error it measures (geodesic distance from the
200 nm limit to the nearest coast) in PACK.json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import region_layers as rl
import region_sources as rs
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPoint, MultiPolygon
from shapely.geometry.base import BaseGeometry

SPACING_M = 2_000.0
"""Coast samples this far apart (metres along the simplified coastline)."""
SIMPLIFY_M = 100.0
"""Coastline simplification before sampling (metres)."""


def coast_samples(
    land: BaseGeometry,
    maritime: Mapping[str, BaseGeometry],
    excluded: BaseGeometry,
    outer: BaseGeometry,
    fwd: Transformer,
    inv: Transformer,
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str | None]]:
    """Projected coast samples, the same in lon/lat, and each one's state (or ``None``)."""
    coast = land.boundary.difference(outer.exterior.buffer(1e-6))
    lines = rl.project(coast, fwd).simplify(SIMPLIFY_M)
    xy = shapely.get_coordinates(shapely.segmentize(lines, SPACING_M))
    xy = np.unique(np.round(xy, 1), axis=0)
    lon, lat = inv.transform(xy[:, 0], xy[:, 1])
    lonlat = np.column_stack([lon, lat])
    held = np.zeros((len(xy), len(maritime)), dtype=bool)
    codes = list(maritime)
    for j, code in enumerate(codes):
        held[:, j] = shapely.contains_xy(maritime[code], lon, lat)
    out = shapely.contains_xy(excluded, lon, lat) if not excluded.is_empty else False
    states: list[str | None] = []
    for row, skip in zip(held, np.broadcast_to(out, len(xy)), strict=True):
        owners = {rs.EEZ_STATE.get(codes[j], codes[j]) for j in np.flatnonzero(row)}
        states.append(owners.pop() if len(owners) == 1 and not skip else None)
    return xy, lonlat, states


def within_limit(
    xy: NDArray[np.float64], states: Sequence[str | None], domain: BaseGeometry, limit_m: float
) -> dict[str, BaseGeometry]:
    """State -> the projected sea nearer to its coast than to any other state's, and within
    ``limit_m`` of it.

    Each sample's Voronoi cell (the points nearer to it than to any other sample) is cut to
    the disk of ``limit_m`` around the sample; a state's area is the union of its cut cells.
    Where two samples' cells meet, both disks cross the shared edge at the same points (the
    edge is equidistant from both), so the union leaves no gaps.
    """
    keep = np.array([s is not None for s in states])
    points = xy[keep]
    labels = np.array([s for s in states if s is not None])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(points), extend_to=domain, ordered=True)
    )
    disks = shapely.buffer(shapely.points(points), limit_m, quad_segs=16)
    cut = shapely.intersection(cells, disks)
    return {str(s): shapely.union_all(cut[labels == s]) for s in np.unique(labels)}


def eez_polygons(
    land: BaseGeometry,
    maritime: Mapping[str, BaseGeometry],
    excluded: BaseGeometry,
    outer: BaseGeometry,
    region: BaseGeometry,
) -> tuple[dict[str, MultiPolygon], dict[str, list[tuple[float, float]]]]:
    """State -> its approximate EEZ in lon/lat within ``region``; and state -> its coast
    samples (lon, lat), for the error check."""
    centre = region.centroid
    fwd, inv = rl.aeqd(round(centre.x, 3), round(centre.y, 3))
    xy, lonlat, states = coast_samples(land, maritime, excluded, outer, fwd, inv)
    domain = rl.project(shapely.segmentize(outer, 0.25), fwd)
    areas = within_limit(xy, states, domain, rs.EEZ_NM * rs.NM_M)
    result: dict[str, MultiPolygon] = {}
    samples: dict[str, list[tuple[float, float]]] = {}
    for state, area in sorted(areas.items()):
        mine = np.array([s == state for s in states])
        back = rl.project(shapely.segmentize(area, 5_000.0), inv)
        eez = rl.tidy(back.intersection(region).difference(land))
        if not eez.is_empty:
            result[state] = eez
            samples[state] = [(float(a), float(b)) for a, b in lonlat[mine]]
    return result, samples


def limit_error_nm(
    eez: MultiPolygon, coast: Sequence[tuple[float, float]], others: BaseGeometry, n: int = 200
) -> float:
    """Largest |geodesic distance to the nearest coast sample - 200 nm| over ``n`` points of
    the EEZ's outer limit (parts of its boundary more than 5 nm from the region's edge, from
    land and from every other state's EEZ, i.e. where the 200 nm limit is the boundary)."""
    boundary = eez.boundary
    spots = shapely.line_interpolate_point(boundary, np.linspace(0.0, boundary.length, 20 * n))
    shapely.prepare(others)
    spots = spots[~shapely.dwithin(others, spots, 5 * rs.NM_M / 111_320.0)]
    if len(spots) == 0:
        return 0.0
    pts = shapely.get_coordinates(spots[:: max(1, len(spots) // n)])
    coast_arr = np.asarray(coast)
    worst = 0.0
    for lon, lat in pts:
        near = coast_arr[np.argsort(np.hypot(coast_arr[:, 0] - lon, coast_arr[:, 1] - lat))[:50]]
        _, _, d = rl.GEOD.inv(
            np.full(len(near), lon), np.full(len(near), lat), near[:, 0], near[:, 1]
        )
        worst = max(worst, abs(float(np.min(d)) / rs.NM_M - rs.EEZ_NM))
    return worst
