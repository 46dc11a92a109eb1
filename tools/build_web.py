"""Build the web app's offline assets from the npm packages pinned in package-lock.json.

Copies MapLibre GL JS (``maplibre-gl``: the ES module, its worker, its CSS and licence) into
``src/lookout/web/static/vendor/`` and writes Natural Earth land (npm ``world-atlas``,
``land-50m.json`` TopoJSON) as GeoJSON to ``src/lookout/web/static/data/land.geojson``, with
coordinates rounded to 3 decimals (about 100 m, finer than the 1:50m source). Run by
``make web``; the outputs are gitignored.

    python tools/build_web.py [--modules node_modules] [--out src/lookout/web/static]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from shapely.geometry import mapping
from topojson import object_polygons

ROOT = Path(__file__).resolve().parents[1]
VENDOR_FILES = {
    "maplibre-gl/dist/maplibre-gl.mjs": "maplibre-gl.mjs",
    "maplibre-gl/dist/maplibre-gl-worker.mjs": "maplibre-gl-worker.mjs",
    "maplibre-gl/dist/maplibre-gl.css": "maplibre-gl.css",
    "maplibre-gl/LICENSE.txt": "LICENSE-maplibre-gl.txt",
    "world-atlas/LICENSE": "LICENSE-world-atlas.txt",
}
LAND_TOPOLOGY = "world-atlas/land-50m.json"
DECIMALS = 3


def _rounded(coords: Any) -> Any:
    if coords and isinstance(coords[0], float | int):
        return [round(float(c), DECIMALS) for c in coords]
    return [_rounded(c) for c in coords]


def land_geojson(topology: dict[str, Any]) -> dict[str, Any]:
    """The ``land`` object of a world-atlas topology as one GeoJSON FeatureCollection."""
    polygons, _ = object_polygons(topology, "land")
    features = []
    for polygon in polygons:
        geometry = mapping(polygon)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": _rounded(geometry["coordinates"])},
                "properties": {},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def version_of(modules: Path, package: str) -> str:
    manifest = json.loads((modules / package / "package.json").read_text(encoding="utf-8"))
    return str(manifest["version"])


def build(modules: Path, out: Path) -> dict[str, Any]:
    """Copy the vendor files and write the land layer; what was built (for the log)."""
    vendor, data = out / "vendor", out / "data"
    vendor.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    for source, name in VENDOR_FILES.items():
        path = modules / source
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: run npm ci first")
        shutil.copyfile(path, vendor / name)
    topology = json.loads((modules / LAND_TOPOLOGY).read_text(encoding="utf-8"))
    land = land_geojson(topology)
    text = json.dumps(land, separators=(",", ":"))
    (data / "land.geojson").write_text(text, encoding="utf-8")
    versions = {p: version_of(modules, p) for p in ("maplibre-gl", "world-atlas")}
    (vendor / "VERSIONS.json").write_text(json.dumps(versions, indent=2), encoding="utf-8")
    return {"versions": versions, "land_polygons": len(land["features"]), "land_bytes": len(text)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "lookout" / "web" / "static")
    args = parser.parse_args(argv)
    try:
        report = build(args.modules, args.out)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"build_web: {exc}", file=sys.stderr)
        return 1
    print(f"build_web: wrote {args.out}: {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
