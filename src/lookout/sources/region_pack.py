"""Bundled region packs: zones and land built by ``make regions`` (``tools/build_region_pack.py``).

A pack is a folder ``lookout/data/regions/<name>/`` holding one GeoJSON FeatureCollection per
layer (``land``, ``territorial_sea``, ``disputed``, ``watch_area``, ``eez``), ``PACK.json``
(inputs with their versions, licences, attributions, citations) and ``README.md``. Zone layers
are read with :func:`~lookout.sources.zone_files.read_zones`, so they are validated exactly as
a user's zone file is. The pack is generated at build time and not kept in git: when it is
missing, :class:`RegionPackError` says to run ``make regions``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from shapely.geometry import Polygon, shape

from lookout.geo.shore import PolygonShore
from lookout.geo.zones import Regime, Zone
from lookout.sources.zone_files import ZoneFileError, read_zones

__all__ = [
    "ZONE_LAYERS",
    "RegionPack",
    "RegionPackError",
    "load_region_pack",
    "region_pack_path",
    "region_shore",
]

ZONE_LAYERS = ("territorial_sea", "disputed", "watch_area", "eez")
"""The zone layers of a pack, in the order their zones are loaded."""

_DATA = Path(__file__).resolve().parents[1] / "data" / "regions"


class RegionPackError(ValueError):
    """A region pack that is missing, unknown or unreadable; the message says what to do."""


@dataclass(frozen=True, slots=True)
class RegionPack:
    """A loaded region pack: its zones, its land polygons and the attribution to show."""

    name: str
    zones: list[Zone]
    land: list[Polygon]
    attribution: str
    meta: dict[str, Any] = field(repr=False)

    def layer(self, regime: Regime | str) -> list[Zone]:
        """The zones of one regime, in pack order."""
        return [z for z in self.zones if z.regime == Regime(regime)]


def region_pack_path(name: str = "scs") -> Path:
    """The folder of the pack ``name`` (it may not exist: see :func:`load_region_pack`)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise RegionPackError(f"bad region pack name {name!r}")
    return _DATA / name


def available_packs() -> list[str]:
    """Names of the packs that are built."""
    if not _DATA.is_dir():
        return []
    return sorted(p.name for p in _DATA.iterdir() if (p / "PACK.json").is_file())


def load_region_pack(name: str = "scs", layers: list[str] | None = None) -> RegionPack:
    """Read the pack ``name``: zones of ``layers`` (default: every zone layer) and its land."""
    folder = region_pack_path(name)
    meta_path = folder / "PACK.json"
    if not meta_path.is_file():
        raise RegionPackError(
            f"region pack {name!r} is not built ({meta_path} is missing): run `make regions`"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    wanted = list(ZONE_LAYERS) if layers is None else list(layers)
    unknown = [layer for layer in wanted if layer not in ZONE_LAYERS]
    if unknown:
        known = ", ".join(ZONE_LAYERS)
        raise RegionPackError(f"unknown layer(s) {', '.join(unknown)} (layers: {known})")
    zones: list[Zone] = []
    try:
        for layer in wanted:
            zones.extend(read_zones(folder / f"{layer}.geojson"))
    except ZoneFileError as exc:
        raise RegionPackError(
            f"region pack {name!r} is damaged: {exc}; run `make regions`"
        ) from exc
    return RegionPack(name, zones, _land(folder / "land.geojson"), meta["attribution"], meta)


def _land(path: Path) -> list[Polygon]:
    if not path.is_file():
        raise RegionPackError(f"{path} is missing: run `make regions`")
    collection = json.loads(path.read_text(encoding="utf-8"))
    polygons: list[Polygon] = []
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        polygons.extend(getattr(geometry, "geoms", [geometry]))
    return polygons


@lru_cache(maxsize=4)
def region_shore(name: str = "scs") -> PolygonShore:
    """Signed distance to the pack's coastline (Natural Earth 1:10m land), for positions in
    or near its region; far outside it the nearest land of the pack may not be the nearest."""
    return PolygonShore(load_region_pack(name, layers=[]).land)
