"""Readers of the zone file formats: each yields raw features (properties + geometry + CRS).

Used by :mod:`lookout.sources.zone_files`, which turns raw features into zones. A reader
raises ``ValueError`` for a fault of the whole file; a fault of one feature's geometry is kept
in :attr:`RawFeature.problem`, so the caller can name the feature.

- GeoJSON (RFC 7946; also the older ``crs`` member): a FeatureCollection, a Feature or a bare
  geometry.
- GeoPackage (OGC 12-128r18), read with the stdlib ``sqlite3``: every table of
  ``gpkg_contents`` with ``data_type = 'features'`` (or the one asked for), its geometry column
  and ``srs_id`` from ``gpkg_geometry_columns``, the CRS from ``gpkg_spatial_ref_sys``.
- ESRI Shapefile (``.shp`` with ``.shx``/``.dbf``/``.prj``/``.cpg`` beside it, or all of them in
  a ``.zip``), read with pyshp.
- KML 2.2 (``.kml``, or ``doc.kml`` in a ``.kmz``), read with ``xml.etree``: every Placemark,
  its Polygon(s) (also inside MultiGeometry) with outer and inner boundaries, its ``name``,
  ``description`` and ExtendedData (``Data``/``SimpleData``) as properties.
"""

from __future__ import annotations

import glob
import io
import json
import re
import sqlite3
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import shapefile
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

__all__ = ["FORMATS", "RawFeature", "gpkg_geometry", "read_features"]


@dataclass(slots=True)
class RawFeature:
    """One feature as the file has it; ``problem`` says why its geometry could not be read."""

    index: int
    props: dict[str, Any]
    geometry: BaseGeometry | None = None
    layer: str = ""
    crs: CRS | None = None
    problem: str = ""


Reader = Callable[[Path, "str | None"], Iterator[RawFeature]]


def read_features(path: Path, fmt: str, layer: str | None = None) -> Iterator[RawFeature]:
    """The raw features of ``path`` read as ``fmt`` (a key of :data:`FORMATS`), in file order."""
    return FORMATS[fmt](path, layer)


def _crs(text: str, what: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise ValueError(f"unknown coordinate reference system in {what}: {exc}") from exc


# -- GeoJSON ---------------------------------------------------------------------------------


def _read_geojson(path: Path, layer: str | None) -> Iterator[RawFeature]:
    with open(path, "rb") as stream:
        doc = json.load(stream)
    if not isinstance(doc, dict):
        raise ValueError("the top level is not a JSON object")
    crs = _geojson_crs(doc)
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ValueError("a FeatureCollection without a features list")
    elif kind == "Feature":
        features = [doc]
    else:
        features = [{"type": "Feature", "properties": {}, "geometry": doc}]
    for index, item in enumerate(features):
        if not isinstance(item, dict):
            yield RawFeature(index, {}, problem="not a GeoJSON Feature object")
            continue
        feature = RawFeature(index, dict(item.get("properties") or {}), crs=crs)
        if "id" in item and "id" not in feature.props:
            feature.props["id"] = item["id"]
        try:
            geometry = item.get("geometry")
            feature.geometry = shape(geometry) if geometry else None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            feature.problem = f"bad GeoJSON geometry: {exc}"
        yield feature


def _geojson_crs(doc: dict[str, Any]) -> CRS | None:
    """The pre-RFC 7946 ``crs`` member, if any (RFC 7946 files are always WGS84)."""
    member = doc.get("crs")
    if not member:
        return None
    name = (member.get("properties") or {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str):
        raise ValueError(f"a crs member without a name: {member!r}")
    return _crs(name, "the GeoJSON crs member")


# -- GeoPackage: OGC 12-128r18, 2.1.3 (GeoPackageBinary), 1.1.2 (gpkg_spatial_ref_sys) --------

_ENVELOPE_BYTES = (0, 32, 48, 48, 64)


def gpkg_geometry(blob: bytes) -> BaseGeometry | None:
    """A GeoPackage geometry blob to a shapely geometry (``None`` for an empty geometry).

    The header is the magic ``GP``, a version byte (0 = version 1), a flags byte (bit 0: byte
    order of the header, 1 = little-endian; bits 1-3: envelope contents 0..4; bit 4: empty
    geometry; bit 5: extended type) and an int32 ``srs_id``, then the envelope (0, 4, 6 or 8
    doubles), then the geometry as WKB.
    """
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry (no GP magic)")
    if blob[2] != 0:
        raise ValueError(f"GeoPackage binary version {blob[2] + 1} is not supported")
    flags = blob[3]
    if flags & 0x20:
        raise ValueError("extended GeoPackage geometry types are not supported")
    envelope = (flags >> 1) & 0x07
    if envelope >= len(_ENVELOPE_BYTES):
        raise ValueError(f"bad envelope contents indicator {envelope}")
    start = 8 + _ENVELOPE_BYTES[envelope]
    if len(blob) < start:
        raise ValueError("a GeoPackage geometry shorter than its header")
    struct.unpack("<i" if flags & 1 else ">i", blob[4:8])  # srs_id: the column's one is used
    if flags & 0x10:
        return None
    geometry: BaseGeometry = shapely.from_wkb(bytes(blob[start:]))
    return geometry


def _read_gpkg(path: Path, layer: str | None) -> Iterator[RawFeature]:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = db.execute(
            "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
            "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.table_name"
        ).fetchall()
        if layer is not None:
            tables = [t for t in tables if t[0] == layer]
            if not tables:
                raise ValueError(f"no feature table {layer!r}")
        for table, column, srs_id in tables:
            crs = _gpkg_crs(db, int(srs_id), table)
            yield from _gpkg_features(db, table, column, crs)
    finally:
        db.close()


def _gpkg_crs(db: sqlite3.Connection, srs_id: int, table: str) -> CRS | None:
    if srs_id == 0:
        return None  # "undefined geographic": taken as lon/lat, range-checked
    if srs_id == -1:
        raise ValueError(f"table {table!r} has an undefined Cartesian CRS (srs_id -1)")
    row = db.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys "
        "WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None:
        raise ValueError(f"table {table!r}: srs_id {srs_id} is not in gpkg_spatial_ref_sys")
    organization, code, definition = row
    if str(organization).upper() == "EPSG" and code is not None:
        return _crs(f"EPSG:{int(code)}", f"table {table!r}")
    return _crs(str(definition), f"table {table!r}")


def _gpkg_features(
    db: sqlite3.Connection, table: str, column: str, crs: CRS | None
) -> Iterator[RawFeature]:
    quoted = table.replace('"', '""')
    cursor = db.execute(f'SELECT * FROM "{quoted}"')
    names = [d[0] for d in cursor.description]
    at = names.index(column)
    for index, row in enumerate(cursor):
        props = {n: v for n, v in zip(names, row, strict=True) if n != column}
        feature = RawFeature(index, props, layer=table, crs=crs)
        try:
            feature.geometry = gpkg_geometry(row[at]) if row[at] is not None else None
        except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
            feature.problem = f"bad GeoPackage geometry: {exc}"
        yield feature


# -- Shapefile -------------------------------------------------------------------------------

_POLYGON_TYPES = (shapefile.NULL, shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM)


def _read_shapefile(path: Path, layer: str | None) -> Iterator[RawFeature]:
    for name, files in _shapefile_parts(path):
        if layer is not None and name != layer:
            continue
        for needed in (".shp", ".dbf"):
            if needed not in files:
                raise ValueError(f"shapefile {name!r} has no {needed} file")
        prj = files.get(".prj")
        crs = _crs(prj.decode("utf-8", "replace"), f"{name}.prj") if prj else None
        cpg = files.get(".cpg")
        encoding = _encoding(cpg.decode("ascii", "replace")) if cpg else "utf-8"
        shx = io.BytesIO(files[".shx"]) if ".shx" in files else None
        with shapefile.Reader(
            shp=io.BytesIO(files[".shp"]),
            shx=shx,
            dbf=io.BytesIO(files[".dbf"]),
            encoding=encoding,
            encodingErrors="replace",
        ) as reader:
            yield from _shapefile_features(reader, name, crs)


def _shapefile_features(
    reader: shapefile.Reader, name: str, crs: CRS | None
) -> Iterator[RawFeature]:
    for index, item in enumerate(reader.iterShapeRecords()):
        feature = RawFeature(index, item.record.as_dict(), layer=name, crs=crs)
        shp = item.shape
        if shp.shapeType not in _POLYGON_TYPES:
            feature.problem = f"a {shp.shapeTypeName} shape, not a polygon"
        elif shp.shapeType != shapefile.NULL and shp.points:
            feature.geometry = shape(shp.__geo_interface__)
        yield feature


def _shapefile_parts(path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(layer name, extension -> bytes) per shapefile in ``path`` (a .shp or a .zip)."""
    if path.suffix.lower() == ".shp":
        files = {p.suffix.lower(): p.read_bytes() for p in _siblings(path)}
        yield path.stem, files
        return
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        shps = sorted(n for n in names if n.lower().endswith(".shp"))
        if not shps:
            raise ValueError("the zip file holds no .shp file")
        for shp in shps:
            stem = shp[:-4].lower() + "."
            parts = [n for n in names if n.lower().startswith(stem) and "." not in n[len(stem) :]]
            yield Path(shp).stem, {"." + n[len(stem) :].lower(): archive.read(n) for n in parts}


def _siblings(path: Path) -> list[Path]:
    return [p for p in path.parent.glob(glob.escape(path.stem) + ".*") if p.stem == path.stem]


def _encoding(cpg: str) -> str:
    text = cpg.strip().lower()
    return "cp" + text if text.isdigit() else (text or "utf-8")


# -- KML -------------------------------------------------------------------------------------

_NAMESPACE = re.compile(r"^\{[^}]*\}")
_NOT_ZONES = ("Point", "LineString", "Model", "Track", "MultiTrack")


def _read_kml(path: Path, layer: str | None) -> Iterator[RawFeature]:
    if path.suffix.lower() == ".kmz":
        with zipfile.ZipFile(path) as archive:
            kmls = sorted(n for n in archive.namelist() if n.lower().endswith(".kml"))
            if not kmls:
                raise ValueError("the KMZ file holds no .kml file")
            data = archive.read("doc.kml" if "doc.kml" in kmls else kmls[0])
    else:
        data = path.read_bytes()
    root = ElementTree.fromstring(data)
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = _NAMESPACE.sub("", element.tag)
    for index, placemark in enumerate(root.iter("Placemark")):
        feature = RawFeature(index, _kml_props(placemark))
        try:
            feature.geometry = _kml_geometry(placemark)
        except ValueError as exc:
            feature.problem = str(exc)
        yield feature


def _kml_props(placemark: ElementTree.Element) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if placemark.get("id"):
        props["id"] = placemark.get("id")
    for tag in ("name", "description"):
        child = placemark.find(tag)
        if child is not None and child.text:
            props[tag] = child.text.strip()
    for data in placemark.iter("Data"):
        value = data.find("value")
        props[data.get("name", "")] = (value.text or "").strip() if value is not None else ""
    for simple in placemark.iter("SimpleData"):
        props[simple.get("name", "")] = (simple.text or "").strip()
    return props


def _kml_geometry(placemark: ElementTree.Element) -> BaseGeometry | None:
    polygons = [_kml_polygon(p) for p in placemark.iter("Polygon")]
    if not polygons:
        other = next((e.tag for e in placemark.iter() if e.tag in _NOT_ZONES), None)
        if other is not None:
            raise ValueError(f"a {other} is not a zone: a zone needs a Polygon")
        return None
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def _kml_polygon(polygon: ElementTree.Element) -> Polygon:
    outer = polygon.find("outerBoundaryIs/LinearRing/coordinates")
    if outer is None:
        raise ValueError("a Polygon without outerBoundaryIs/LinearRing/coordinates")
    holes = [_kml_ring(c) for c in polygon.findall("innerBoundaryIs/LinearRing/coordinates")]
    return Polygon(_kml_ring(outer), holes)


def _kml_ring(element: ElementTree.Element) -> list[tuple[float, float]]:
    coords = []
    for token in (element.text or "").split():
        parts = token.split(",")
        try:
            coords.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            raise ValueError(f"bad KML coordinate {token!r}") from None
    if len(coords) < 4:
        raise ValueError(f"a KML ring needs at least 4 coordinates, got {len(coords)}")
    return coords


FORMATS: dict[str, Reader] = {
    "geojson": _read_geojson,
    "gpkg": _read_gpkg,
    "shapefile": _read_shapefile,
    "kml": _read_kml,
}
"""Format name -> reader."""
