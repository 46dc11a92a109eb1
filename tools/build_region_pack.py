"""Build the bundled South China Sea region pack from the npm packages (``make regions``).

    python tools/build_region_pack.py [--out DIR] [--node-modules DIR]

Reads ``@geo-maps/countries-maritime-10m`` (OpenStreetMap maritime polygons, ODbL) and
``world-atlas`` (Natural Earth land, TopoJSON) from ``node_modules`` (installed by ``npm ci``
from package-lock.json), computes the layers (land, territorial_sea, disputed, watch_area, eez)
and writes one GeoJSON FeatureCollection per layer, PACK.json (inputs, licences,
attributions, citations, figures) and README.md into ``--out`` (default
``src/lookout/data/regions/scs``). Build-time only: the installed package never runs this.
The output depends only on the inputs (no time stamps), so a rebuild writes the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import eez as eez_mod
import region_layers as rl
import region_sources as rs
import shapely
from pyproj import __version__ as pyproj_version
from shapely.geometry import mapping
from topojson import object_polygons

ROOT = Path(__file__).resolve().parents[1]
PACK_NAME = "scs"
PACK_FORMAT = 1
MARITIME_PKG = "@geo-maps/countries-maritime-10m"
ATLAS_PKG = "world-atlas"
LAYERS = ("land", "territorial_sea", "disputed", "watch_area", "eez")


def _members() -> dict[str, str]:
    """ISO code -> demo member code (``PHL`` -> ``PHL-PCG``): owners are members where any."""
    sys.path.insert(0, str(ROOT / "src"))
    from lookout.service.demo_network import DEMO_MEMBERS

    return {m.country: m.id for m in DEMO_MEMBERS}


def _package(node_modules: Path, name: str, lock: dict[str, Any]) -> dict[str, Any]:
    """The installed package's metadata, checked against package-lock.json."""
    meta = json.loads((node_modules / name / "package.json").read_text(encoding="utf-8"))
    locked = lock["packages"].get(f"node_modules/{name}", {})
    if meta["version"] != locked.get("version"):
        sys.exit(
            f"build_region_pack: {name} {meta['version']} installed, package-lock.json pins "
            f"{locked.get('version')}: run `npm ci`"
        )
    return {"name": name, "version": meta["version"], "integrity": locked.get("integrity")}


def _log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr)


def build(out: Path, node_modules: Path) -> dict[str, Any]:
    started = time.perf_counter()
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    inputs = [_package(node_modules, n, lock) for n in (MARITIME_PKG, ATLAS_PKG)]
    members = _members()
    region = shapely.box(*rs.REGION)
    west, south, east, north = rs.REGION
    m = rs.MARGIN_DEG
    outer = shapely.box(west - m, south - m, east + m, north + m)

    topo = json.loads((node_modules / ATLAS_PKG / "land-10m.json").read_text(encoding="utf-8"))
    polygons, collapsed = object_polygons(topo, "land")
    land_outer = rl.land_in(polygons, outer)
    land = rl.tidy(land_outer.intersection(region))
    _log(f"land: {len(land.geoms)} polygons ({collapsed} collapsed by quantization)", started)

    collection = json.loads(
        (node_modules / MARITIME_PKG / "map.geo.json").read_text(encoding="utf-8")
    )
    maritime = rl.maritime_polygons(collection, outer)
    owners = {iso: members.get(iso, iso) for iso in maritime}

    def who(isos: tuple[str, ...]) -> list[str]:
        return [members.get(i, i) for i in isos]

    layers: dict[str, list[dict[str, Any]]] = {name: [] for name in LAYERS}
    layers["land"] = [
        {"type": "Feature", "properties": {"id": f"land-{i}"}, "geometry": mapping(p)}
        for i, p in enumerate(land.geoms)
    ]

    for iso in sorted(maritime):
        if iso in rs.LANDLOCKED:
            continue
        sea = rl.territorial_sea(
            maritime[iso].intersection(region), land_outer, (south + north) / 2
        )
        sea = rl.tidy(sea)
        if sea.is_empty:
            continue
        layers["territorial_sea"].append(
            rl.zone_feature(
                f"scs-ts-{iso}",
                f"{rs.NAMES.get(iso, iso)} territorial sea",
                "territorial_sea",
                [owners[iso]],
                [iso],
                sea,
                approximate=False,
                source=f"OpenStreetMap maritime boundary via npm {MARITIME_PKG} "
                f"{inputs[0]['version']}, minus Natural Earth land; {rs.OSM_ATTRIBUTION}",
            )
        )
    _log(f"territorial_sea: {len(layers['territorial_sea'])} zones", started)

    buffer_m = rs.DISPUTED_BUFFER_NM * rs.NM_M
    disputed_geoms = []
    for area in rs.DISPUTED:
        outline = rl.tidy(rl.disputed_outline(area, land_outer, buffer_m).intersection(region))
        disputed_geoms.append(outline)
        layers["disputed"].append(
            rl.zone_feature(
                area.id,
                area.name,
                "disputed",
                who(area.claimants),
                area.claimants,
                outline,
                approximate=True,
                source=area.source,
            )
        )
    for reef in rs.WATCHED:
        circle = rl.geodesic_circle(reef.lat, reef.lon, rs.WATCH_RADIUS_NM * rs.NM_M)
        slug = reef.name.lower().replace(" ", "-")
        layers["watch_area"].append(
            rl.zone_feature(
                f"scs-watch-{slug}",
                f"{reef.name} ({rs.WATCH_RADIUS_NM:g} nm watch area)",
                "watch_area",
                [],
                [],
                rl.tidy(circle),
                approximate=False,
                source=f"{rs.WATCH_RADIUS_NM:g} nm around {reef.lat:.3f} N, {reef.lon:.3f} E; "
                f"position: {reef.source}",
            )
        )

    excluded = shapely.union_all(disputed_geoms)
    eezs, samples = eez_mod.eez_polygons(land_outer, maritime, excluded, outer, region)
    _log(f"eez: {len(eezs)} states", started)
    errors: dict[str, float] = {}
    for state, geometry in eezs.items():
        others = shapely.union_all(
            [region.exterior, land.boundary, *(g.boundary for s, g in eezs.items() if s != state)]
        )
        errors[state] = round(eez_mod.limit_error_nm(geometry, samples[state], others), 2)
        layers["eez"].append(
            rl.zone_feature(
                f"scs-eez-{state}",
                f"{rs.NAMES.get(state, state)} EEZ ({rs.APPROXIMATE})",
                "eez",
                [members.get(state, state)],
                [state],
                geometry,
                approximate=True,
                source="Lookout: 200 nm from the Natural Earth coastline, median lines between "
                f"states ({rs.APPROXIMATE}); {rs.NATURAL_EARTH_ATTRIBUTION}; coasts assigned "
                f"with OpenStreetMap polygons, {rs.OSM_ATTRIBUTION}",
            )
        )
    _log(f"eez limit error (nm): {errors}", started)

    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, features in layers.items():
        text = json.dumps(
            {"type": "FeatureCollection", "features": features}, separators=(",", ":")
        )
        (out / f"{name}.geojson").write_text(text + "\n", encoding="utf-8")
        counts[name] = len(features)
    meta = pack_meta(inputs, counts, errors, collapsed)
    (out / "PACK.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (out / "README.md").write_text(readme(meta), encoding="utf-8")
    _log(f"wrote {out}: {counts}", started)
    return meta


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in [ROOT / "package-lock.json", *sorted((ROOT / "tools").glob("*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def pack_meta(
    inputs: list[dict[str, Any]], counts: dict[str, int], errors: dict[str, float], collapsed: int
) -> dict[str, Any]:
    maritime, atlas = inputs
    west, south, east, north = rs.REGION
    return {
        "name": PACK_NAME,
        "title": "South China Sea",
        "format": PACK_FORMAT,
        "build": _inputs_digest(),
        "region": {"west": west, "south": south, "east": east, "north": north},
        "layers": {name: {"file": f"{name}.geojson", "features": n} for name, n in counts.items()},
        "inputs": [
            {
                **maritime,
                "package_licence": "MIT",
                "data_licence": "ODbL-1.0",
                "data": "OpenStreetMap maritime boundaries (country land plus territorial sea), "
                "map.geo.json",
                "attribution": rs.OSM_ATTRIBUTION,
                "url": "https://github.com/simonepri/geo-maps",
            },
            {
                **atlas,
                "package_licence": "ISC",
                "data_licence": "public domain (Natural Earth)",
                "data": "Natural Earth 1:10m land (version 4.1.0), land-10m.json, TopoJSON",
                "attribution": rs.NATURAL_EARTH_ATTRIBUTION,
                "url": "https://github.com/topojson/world-atlas",
            },
        ],
        "tools": {"shapely": shapely.__version__, "pyproj": pyproj_version},
        "attribution": f"{rs.OSM_ATTRIBUTION}; {rs.NATURAL_EARTH_ATTRIBUTION}",
        "approximate_label": rs.APPROXIMATE,
        "watch_area_radius_nm": rs.WATCH_RADIUS_NM,
        "disputed_buffer_nm": rs.DISPUTED_BUFFER_NM,
        "eez": {
            "limit_nm": rs.EEZ_NM,
            "method": "coast sampled every 2 km (Natural Earth), assigned to the state whose "
            "OpenStreetMap polygon holds it; Voronoi cells per state (median lines) in an "
            "azimuthal equidistant projection centred on the region, cut at 200 nm; land in a "
            "disputed area, held by no state or by two generates no EEZ",
            "limit_error_nm": errors,
        },
        "land_polygons_collapsed_by_quantization": collapsed,
        "citations": [
            {"feature": f.name, "lat": f.lat, "lon": f.lon, "source": f.source}
            for f in dict.fromkeys((*rs.WATCHED, *(f for a in rs.DISPUTED for f in a.features)))
        ]
        + [{"area": a.id, "claimants": list(a.claimants), "source": a.source} for a in rs.DISPUTED],
    }


def readme(meta: dict[str, Any]) -> str:
    lines = [
        "# South China Sea region pack (generated by `make regions`; do not edit)",
        "",
        f"Region: lon {meta['region']['west']}..{meta['region']['east']} E, "
        f"lat {meta['region']['south']}..{meta['region']['north']} N. Layers: "
        + ", ".join(f"`{k}` ({v['features']})" for k, v in meta["layers"].items())
        + ".",
        "",
        "## Attribution",
        "",
    ]
    for item in meta["inputs"]:
        lines.append(
            f"- {item['attribution']}: {item['data']}, from npm `{item['name']}@{item['version']}`"
            f" (package licence {item['package_licence']}, data licence {item['data_licence']})."
        )
    lines += [
        "",
        f"EEZs and disputed areas are derived by Lookout: {meta['approximate_label']}.",
        "Territorial seas are OpenStreetMap's lines; for archipelagic states (the Philippines, "
        "Indonesia) they also hold the waters inside the archipelagic baselines.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "src/lookout/data/regions" / PACK_NAME)
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    args = parser.parse_args(argv)
    if not (args.node_modules / MARITIME_PKG).is_dir():
        sys.exit(f"build_region_pack: {args.node_modules / MARITIME_PKG} missing: run `npm ci`")
    build(args.out, args.node_modules)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
