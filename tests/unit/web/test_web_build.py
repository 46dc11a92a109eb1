"""``tools/build_web.py`` (run by ``make web``): MapLibre copied from node_modules and
Natural Earth land written as GeoJSON for the app's offline map."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))

from build_web import VENDOR_FILES, build, land_geojson

# A quantized topology with one "land" polygon: the square 100..102 E, 10..11 N.
LAND = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [100.0, 10.0]},
    "objects": {"land": {"type": "GeometryCollection",
                         "geometries": [{"type": "Polygon", "arcs": [[0]]}]}},
    "arcs": [[[0, 0], [4, 0], [0, 4], [-4, 0], [0, -4]]],
}  # fmt: skip


def _modules(root: Path) -> Path:
    for source in VENDOR_FILES:
        path = root / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {source}\n")
    for package, version in (("maplibre-gl", "6.17.0"), ("world-atlas", "2.0.2")):
        (root / package / "package.json").write_text(json.dumps({"version": version}))
    (root / "world-atlas" / "land-50m.json").write_text(json.dumps(LAND))
    return root


def test_land_becomes_geojson_polygons_where_the_land_is() -> None:
    land = land_geojson(LAND)
    (feature,) = land["features"]
    polygon = shape(feature["geometry"])
    assert polygon.contains(Point(101.0, 10.5))
    assert not polygon.contains(Point(103.0, 10.5))
    assert polygon.bounds == (100.0, 10.0, 102.0, 11.0)


def test_build_copies_maplibre_and_writes_the_land_layer(tmp_path: Path) -> None:
    out = tmp_path / "static"
    report = build(_modules(tmp_path / "node_modules"), out)
    for name in VENDOR_FILES.values():
        assert (out / "vendor" / name).is_file(), name
    assert (out / "vendor" / "maplibre-gl.mjs").read_text().startswith("// maplibre-gl/dist/")
    assert json.loads((out / "vendor" / "VERSIONS.json").read_text())["maplibre-gl"] == "6.17.0"
    land = json.loads((out / "data" / "land.geojson").read_text())
    assert len(land["features"]) == report["land_polygons"] == 1


def test_build_without_npm_packages_says_to_run_npm_ci(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="npm ci"):
        build(tmp_path / "node_modules", tmp_path / "static")
