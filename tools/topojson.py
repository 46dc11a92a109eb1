"""A small TopoJSON decoder: quantized, delta-encoded arcs into shapely polygons.

TopoJSON (github.com/topojson/topojson-specification) stores each shared boundary once, as an
*arc*; a ring lists the indexes of its arcs, ``~i`` (that is ``-i - 1``) meaning arc ``i``
walked backwards. In a quantized topology (one with a ``transform``) every arc's first
position is an integer pair and each later one the integer difference from the one before;
``x = sum(dx) * scale_x + translate_x`` (and the same for y). Consecutive arcs of a ring share
their end points, so the first position of every arc after the first is dropped.

Only what a land or country layer needs is decoded: Polygon, MultiPolygon and
GeometryCollection (other geometry types are skipped). Quantization can collapse a tiny islet
to fewer than four positions; such a polygon has no area and is dropped (and counted).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from shapely.geometry import Polygon

__all__ = ["TopoJsonError", "decode_arcs", "object_polygons"]


class TopoJsonError(ValueError):
    """A topology that cannot be decoded (the message says what is wrong)."""


def decode_arcs(topology: Mapping[str, Any]) -> list[np.ndarray]:
    """Every arc of ``topology`` as an (n, 2) array of lon/lat degrees."""
    transform = topology.get("transform")
    arcs: list[np.ndarray] = []
    for n, arc in enumerate(topology.get("arcs", [])):
        points = np.asarray(arc, dtype=np.float64)
        if points.ndim != 2 or points.shape[0] < 1 or points.shape[1] < 2:
            raise TopoJsonError(f"arc {n} is not a list of positions")
        points = points[:, :2]
        if transform is not None:
            scale = np.asarray(transform["scale"], dtype=np.float64)
            translate = np.asarray(transform["translate"], dtype=np.float64)
            points = np.cumsum(points, axis=0) * scale + translate
        arcs.append(points)
    return arcs


def _ring(indexes: Sequence[int], arcs: Sequence[np.ndarray]) -> np.ndarray:
    pieces: list[np.ndarray] = []
    for k, index in enumerate(indexes):
        if not -len(arcs) <= index < len(arcs):
            raise TopoJsonError(f"arc index {index} out of range ({len(arcs)} arcs)")
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        pieces.append(arc if k == 0 else arc[1:])
    return np.concatenate(pieces) if pieces else np.empty((0, 2))


def _polygon(rings: Sequence[Sequence[int]], arcs: Sequence[np.ndarray]) -> Polygon | None:
    """The polygon, or ``None`` when its outer ring collapsed (fewer than 4 positions)."""
    coords = [_ring(r, arcs) for r in rings]
    if not coords or len(coords[0]) < 4:
        return None
    return Polygon(coords[0], [c for c in coords[1:] if len(c) >= 4])


def _geometries(
    geometry: Mapping[str, Any], arcs: Sequence[np.ndarray]
) -> Iterator[Polygon | None]:
    kind = geometry.get("type")
    if kind == "Polygon":
        yield _polygon(geometry["arcs"], arcs)
    elif kind == "MultiPolygon":
        for rings in geometry["arcs"]:
            yield _polygon(rings, arcs)
    elif kind == "GeometryCollection":
        for member in geometry.get("geometries", []):
            yield from _geometries(member, arcs)


def object_polygons(topology: Mapping[str, Any], name: str) -> tuple[list[Polygon], int]:
    """The polygons of the topology's object ``name`` (e.g. ``"land"``), in file order, and
    the number of collapsed polygons dropped."""
    if topology.get("type") != "Topology":
        raise TopoJsonError(f"not a TopoJSON Topology (type {topology.get('type')!r})")
    objects = topology.get("objects", {})
    if name not in objects:
        raise TopoJsonError(f"no object {name!r} (objects: {', '.join(sorted(objects))})")
    found = list(_geometries(objects[name], decode_arcs(topology)))
    polygons = [p for p in found if p is not None]
    return polygons, len(found) - len(polygons)
