"""Zone files: GeoJSON, GeoPackage, Shapefile and KML read into :class:`~lookout.geo.zones.Zone`.

:func:`read_zones` picks the reader from the extension: ``.geojson``/``.json`` (a
FeatureCollection, a Feature or a bare geometry), ``.gpkg`` (read with the stdlib ``sqlite3``),
``.shp`` or a ``.zip`` holding one (read with pyshp), ``.kml`` or ``.kmz`` (stdlib
``xml.etree``). Each feature's properties become the zone's id, name, regime, owners,
``approximate`` flag and source, through :class:`ZoneFields` (configurable property names) or,
for files of the Marine Regions Maritime Boundaries geodatabase (detected by their ``MRGID`` and
``POL_TYPE`` attributes), through the Marine Regions mapping (see docs/zones.md).

Coordinates are WGS84 lon/lat unless the file declares another CRS (GeoJSON ``crs`` member,
GeoPackage ``srs_id``, shapefile ``.prj``), which is reprojected with pyproj. A file that
declares none and whose coordinates are not lon/lat is refused. Polygons crossing the
antimeridian are split at ±180.

Every problem raises :class:`ZoneFileError` naming the file and the feature (its index, counted
from 0 in file order, and its id or name) and saying what is wrong. Nothing is skipped.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from lookout.geo.zones import Regime, Zone, ZoneError, split_antimeridian
from lookout.sources.zone_formats import RawFeature, read_features

__all__ = [
    "MARINE_REGIONS_POL_TYPES",
    "MARINE_REGIONS_SOURCE",
    "ZoneFields",
    "ZoneFileError",
    "ZoneImport",
    "read_zones",
]

log = logging.getLogger(__name__)

MARINE_REGIONS_POL_TYPES: Mapping[str, Regime] = {
    "12nm": Regime.TERRITORIAL_SEA,
    "24nm": Regime.CONTIGUOUS_ZONE,
    "200nm": Regime.EEZ,
    "internal waters": Regime.INTERNAL_WATERS,
    "archipelagic waters": Regime.ARCHIPELAGIC_WATERS,
    "overlapping claim": Regime.DISPUTED,
    "joint regime": Regime.EEZ,
}
"""Marine Regions ``POL_TYPE`` (lower case; a value that starts with a key matches it) ->
regime. A joint regime is an EEZ owned by every partner; an overlapping claim is disputed."""

MARINE_REGIONS_SOURCE = "Flanders Marine Institute, Marine Regions (marineregions.org), CC-BY 4.0"
"""Attribution of zones read with the Marine Regions mapping (unless one is given)."""

_SUFFIXES = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shapefile",
    ".zip": "shapefile",
    ".kml": "kml",
    ".kmz": "kml",
}
_FILE_ERRORS = (OSError, ValueError, KeyError, sqlite3.Error, zipfile.BadZipFile, ParseError)


class ZoneFileError(ValueError):
    """A zone file that cannot be read: the message names the file, the feature and the fault."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneFields:
    """Which feature properties hold each zone attribute (names compared case-insensitively)."""

    id: str = "id"
    """Missing: ``<layer or "feature">-<index>``."""
    name: str = "name"
    """Missing: the id."""
    regime: str = "regime"
    """One of the regimes; case, spaces and hyphens do not matter (``Territorial sea``)."""
    owners: str = "owners"
    """A list, or one string with owners separated by ``,`` or ``;``."""
    approximate: str = "approximate"
    """``true``/``false`` (also ``yes``/``no``, ``1``/``0``)."""
    source: str = "source"


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneImport:
    """How to read a zone file; every field has a default that suits a plain file."""

    fields: ZoneFields = field(default_factory=ZoneFields)
    marine_regions: bool | None = None
    """Use the Marine Regions attribute mapping; ``None`` detects it (``MRGID`` + ``POL_TYPE``)."""
    members: Mapping[str, str] = field(default_factory=dict)
    """Owner code -> member code (e.g. ISO ``PHL`` -> ``PHL-PCG``); unmapped owners stay as is."""
    regime: Regime | None = None
    """Regime of features that carry none (e.g. a KML of watch areas), and of Marine Regions
    features whose ``POL_TYPE`` is not in :data:`MARINE_REGIONS_POL_TYPES`; else errors."""
    owners: tuple[str, ...] = ()
    """Owners of features that name none."""
    approximate: bool = False
    """``approximate`` of features that do not say."""
    source: str | None = None
    """Attribution of features that carry none; default: Marine Regions' or the file name."""
    layer: str | None = None
    """GeoPackage table (or shapefile in a zip) to read; default: every one."""


def read_zones(path: str | Path, options: ZoneImport | None = None) -> list[Zone]:
    """The zones of one file, in file order; raises :class:`ZoneFileError`."""
    path = Path(path)
    options = options or ZoneImport()
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SUFFIXES))
        raise ZoneFileError(f"{path}: unknown zone file type {path.suffix!r} (known: {known})")
    if not path.is_file():
        raise ZoneFileError(f"{path}: no such file")
    zones: list[Zone] = []
    first: dict[str, str] = {}
    try:
        for feature in read_features(path, fmt, options.layer):
            zone, label = _zone(path, feature, options)
            if zone.id in first:
                raise ZoneFileError(f"{path}: {label}: id already used by {first[zone.id]}")
            first[zone.id] = label
            zones.append(zone)
    except ZoneFileError:
        raise
    except _FILE_ERRORS as exc:
        raise ZoneFileError(f"{path}: cannot read it as {fmt}: {exc}") from exc
    log.info("%s: %d zones", path, len(zones))
    return zones


# -- features to zones ----------------------------------------------------------------------


def _zone(path: Path, feature: RawFeature, options: ZoneImport) -> tuple[Zone, str]:
    props = {str(k).lower(): v for k, v in feature.props.items()}
    marine = options.marine_regions
    if marine is None:
        marine = "pol_type" in props and ("mrgid" in props or "mrgid_eez" in props)
    label = _label(feature, props, options, marine)
    try:
        if feature.problem:
            raise ValueError(feature.problem)
        if marine:
            attrs = _marine_regions(props, options)
        else:
            attrs = _plain(props, options, feature, options.source or path.name)
        geometry = _polygonal(_to_wgs84(feature.geometry, feature.crs))
        return Zone(geometry=geometry, **attrs), label
    except (ZoneError, ValueError, TypeError) as exc:
        raise ZoneFileError(f"{path}: {label}: {exc}") from exc


def _label(feature: RawFeature, props: dict[str, Any], options: ZoneImport, marine: bool) -> str:
    where = f"layer {feature.layer!r} " if feature.layer else ""
    keys = ("mrgid", "geoname") if marine else (options.fields.id, options.fields.name)
    id_, name = (_text(props.get(k.lower())) for k in keys)
    return f"{where}feature {feature.index} (id {id_!r}, name {name!r})"


def _plain(
    props: dict[str, Any], options: ZoneImport, feature: RawFeature, source: str
) -> dict[str, Any]:
    f = options.fields
    id_ = _text(props.get(f.id.lower())) or f"{feature.layer or 'feature'}-{feature.index}"
    raw_regime = _text(props.get(f.regime.lower()))
    if raw_regime:
        regime = _regime(raw_regime)
    elif options.regime is not None:
        regime = Regime(options.regime)
    else:
        raise ValueError(f"no regime: property {f.regime!r} is missing and no default was given")
    owners = _owners(props.get(f.owners.lower())) or options.owners
    return {
        "id": id_,
        "name": _text(props.get(f.name.lower())) or id_,
        "regime": regime,
        "owners": _members(owners, options),
        "approximate": _flag(props.get(f.approximate.lower()), options.approximate),
        "source": _text(props.get(f.source.lower())) or source,
    }


def _marine_regions(props: dict[str, Any], options: ZoneImport) -> dict[str, Any]:
    mrgid = props.get("mrgid") if props.get("mrgid") not in (None, "") else props.get("mrgid_eez")
    if mrgid in (None, ""):
        raise ValueError("no MRGID")
    pol_type = _text(props.get("pol_type"))
    regime = next(
        (r for key, r in MARINE_REGIONS_POL_TYPES.items() if pol_type.lower().startswith(key)),
        options.regime,
    )
    if regime is None:
        known = ", ".join(repr(k) for k in MARINE_REGIONS_POL_TYPES)
        raise ValueError(f"unknown POL_TYPE {pol_type!r} (known: {known})")
    several = pol_type.lower().startswith(("overlapping claim", "joint regime"))
    owners = []
    for n in (1, 2, 3) if several else (1,):
        owner = _text(props.get(f"iso_sov{n}")) or _text(props.get(f"sovereign{n}"))
        if owner and owner not in owners:
            owners.append(owner)
    id_ = str(int(float(mrgid))) if _is_number(mrgid) else _text(mrgid)
    return {
        "id": id_,
        "name": _text(props.get("geoname")) or id_,
        "regime": regime,
        "owners": _members(tuple(owners) or options.owners, options),
        "approximate": options.approximate,
        "source": options.source or MARINE_REGIONS_SOURCE,
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_number(value: Any) -> bool:
    try:
        return float(value).is_integer()
    except (TypeError, ValueError):
        return False


def _regime(text: str) -> Regime:
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    try:
        return Regime(key)
    except ValueError:
        known = ", ".join(r.value for r in Regime)
        raise ValueError(f"unknown regime {text!r} (known: {known})") from None


def _owners(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,;]", str(value))
    return tuple(_text(i) for i in items if _text(i))


def _members(owners: tuple[str, ...], options: ZoneImport) -> tuple[str, ...]:
    mapped = [options.members.get(o, o) for o in owners]
    return tuple(dict.fromkeys(mapped))


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool | int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y", "t"):
        return True
    if text in ("false", "no", "0", "n", "f"):
        return False
    raise ValueError(f"approximate must be true or false, got {value!r}")


# -- geometry --------------------------------------------------------------------------------

_WGS84 = CRS.from_epsg(4326)


def _to_wgs84(geometry: BaseGeometry | None, crs: CRS | None) -> BaseGeometry:
    if geometry is None or geometry.is_empty:
        raise ValueError("no geometry")
    geometry = shapely.force_2d(geometry)
    if crs is not None and not crs.equals(_WGS84, ignore_axis_order=True):
        transformer = Transformer.from_crs(crs, _WGS84, always_xy=True)

        def project(xy: np.ndarray) -> np.ndarray:
            lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        geometry = shapely.transform(geometry, project)
        if not np.isfinite(shapely.get_coordinates(geometry)).all():
            raise ValueError(f"coordinates cannot be projected from {crs.name} to WGS84")
        return geometry
    west, south, east, north = geometry.bounds
    if not (west >= -540.0 and east <= 540.0 and south >= -90.0 and north <= 90.0):
        raise ValueError(
            f"coordinates ({west:g}, {south:g}, {east:g}, {north:g}) are not WGS84 lon/lat and "
            "the file declares no coordinate reference system"
        )
    return geometry


def _polygonal(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    if geometry.geom_type == "GeometryCollection":
        parts = list(geometry.geoms)
        if parts and all(isinstance(p, Polygon | MultiPolygon) for p in parts):
            geometry = shapely.multipolygons(shapely.get_parts(parts))
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise ValueError(f"the geometry is a {geometry.geom_type}, not a Polygon or MultiPolygon")
    split = split_antimeridian(geometry)
    if not isinstance(split, Polygon | MultiPolygon):
        raise ValueError("the geometry vanished when split at the antimeridian")
    return split
