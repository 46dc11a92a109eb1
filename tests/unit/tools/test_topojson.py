"""The build tool's TopoJSON decoder (tools/topojson.py): quantized delta-encoded arcs,
reversed arcs, shared end points, collapsed polygons."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))

from topojson import TopoJsonError, object_polygons


def topology(objects: dict[str, object], arcs: list[list[list[int]]]) -> dict[str, object]:
    return {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.25], "translate": [100.0, 10.0]},
        "objects": objects,
        "arcs": arcs,
    }


# two arcs around the square (0,0)-(4,4) in quantized units, written as deltas:
# arc 0: (0,0) (4,0) (4,4); arc 1: (4,4) (0,4) (0,0)
ARCS = [[[0, 0], [4, 0], [0, 4]], [[4, 4], [-4, 0], [0, -4]]]


def test_quantized_arcs_are_summed_and_scaled() -> None:
    polygons, collapsed = object_polygons(
        topology({"land": {"type": "Polygon", "arcs": [[0, 1]]}}, ARCS), "land"
    )
    assert collapsed == 0
    (square,) = polygons
    # 4 units * 0.5 degrees = 2 degrees of longitude; 4 units * 0.25 = 1 degree of latitude
    assert square.bounds == (100.0, 10.0, 102.0, 11.0)
    assert square.area == pytest.approx(2.0)
    assert len(square.exterior.coords) == 5  # shared end points are not repeated


def test_a_negative_index_walks_the_arc_backwards() -> None:
    forward, _ = object_polygons(topology({"a": {"type": "Polygon", "arcs": [[0, 1]]}}, ARCS), "a")
    backward, _ = object_polygons(
        topology({"a": {"type": "Polygon", "arcs": [[~1, ~0]]}}, ARCS), "a"
    )
    assert backward[0].equals(forward[0])
    assert backward[0].exterior.is_ccw != forward[0].exterior.is_ccw


def test_collections_and_collapsed_polygons() -> None:
    objects = {
        "land": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "MultiPolygon", "arcs": [[[0, 1]], [[2]]]},
                {"type": "Point", "coordinates": [1, 1]},
            ],
        }
    }
    polygons, collapsed = object_polygons(topology(objects, [*ARCS, [[9, 9], [1, 0]]]), "land")
    assert len(polygons) == 1 and collapsed == 1


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(TopoJsonError, match="no object 'land'"):
        object_polygons(topology({"countries": {"type": "GeometryCollection"}}, ARCS), "land")
    with pytest.raises(TopoJsonError, match="out of range"):
        object_polygons(topology({"land": {"type": "Polygon", "arcs": [[0, 5]]}}, ARCS), "land")
    with pytest.raises(TopoJsonError, match="not a TopoJSON"):
        object_polygons({"type": "FeatureCollection"}, "land")
