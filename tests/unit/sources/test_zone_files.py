"""Zone files: each format read into zones, the property mappings, CRSs, and errors that name
the file and the feature. Every file is built here, in tmp_path, by independent writers
(json, sqlite3 + shapely WKB, pyshp's writer, KML text)."""

from __future__ import annotations

import json
import math
import sqlite3
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
import shapefile
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from lookout.geo.zones import Regime, Zone
from lookout.sources.zone_files import (
    MARINE_REGIONS_POL_TYPES,
    MARINE_REGIONS_SOURCE,
    ZoneFields,
    ZoneFileError,
    ZoneImport,
    read_zones,
)
from lookout.sources.zone_formats import gpkg_geometry

SQUARE = box(120.0, 10.0, 121.0, 11.0)
EARTH_A = 6_378_137.0  # WGS84 semi-major axis: the sphere of Web Mercator (EPSG:3857)


def attrs(zone: Zone) -> tuple[str, str, Regime, tuple[str, ...]]:
    return (zone.id, zone.name, zone.regime, zone.owners)


def feature(props: dict[str, Any], geometry: Any = SQUARE) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": mapping(geometry)}


def write_geojson(path: Path, *features: dict[str, Any], **extra: Any) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features), **extra}))
    return path


# -- GeoJSON and the plain property mapping ------------------------------------------------------


def test_geojson_features_become_zones_with_their_properties(tmp_path: Path):
    path = write_geojson(
        tmp_path / "zones.geojson",
        feature(
            {
                "id": "phl-ts",
                "name": "PH territorial sea",
                "regime": "territorial_sea",
                "owners": ["PHL-PCG"],
                "source": "PH NAMRIA",
            }
        ),
        feature(
            {
                "id": "spratly",
                "name": "Spratly",
                "regime": "Disputed",
                "owners": "PHL-PCG; CHN, VNM",
                "approximate": "yes",
            },
            box(114, 8, 116, 10),
        ),
    )
    ts, spratly = read_zones(path)
    assert attrs(ts) == (
        "phl-ts",
        "PH territorial sea",
        Regime.TERRITORIAL_SEA,
        ("PHL-PCG",),
    )
    assert ts.source == "PH NAMRIA" and not ts.approximate
    assert shapely.equals(ts.geometry, SQUARE)
    assert spratly.regime is Regime.DISPUTED and spratly.owners == ("PHL-PCG", "CHN", "VNM")
    assert spratly.approximate and spratly.source == "zones.geojson"  # the file by default


def test_field_names_defaults_and_member_codes_are_configurable(tmp_path: Path):
    path = write_geojson(
        tmp_path / "reefs.json",
        feature({"ZONE_ID": 7, "LABEL": "Whitsun Reef", "STATE": "PHL"}),
    )
    options = ZoneImport(
        fields=ZoneFields(id="zone_id", name="label", owners="state"),
        regime=Regime.WATCH_AREA,
        members={"PHL": "PHL-PCG"},
        source="exercise",
    )
    (reef,) = read_zones(path, options)
    assert (reef.id, reef.name, reef.regime, reef.owners, reef.source) == (
        "7",
        "Whitsun Reef",
        Regime.WATCH_AREA,
        ("PHL-PCG",),
        "exercise",
    )


def test_a_bare_geometry_or_single_feature_is_one_zone(tmp_path: Path):
    bare = tmp_path / "bare.geojson"
    bare.write_text(json.dumps(mapping(SQUARE)))
    (zone,) = read_zones(bare, ZoneImport(regime=Regime.WATCH_AREA))
    assert zone.id == "feature-0" and zone.name == "feature-0"
    single = tmp_path / "single.geojson"
    single.write_text(json.dumps({**feature({"regime": "watch_area"}), "id": "f-1"}))
    assert read_zones(single)[0].id == "f-1"


def test_an_invalid_polygon_is_an_error_naming_file_feature_and_fault(tmp_path: Path):
    bowtie = Polygon([(120, 10), (121, 11), (121, 10), (120, 11)])
    path = write_geojson(
        tmp_path / "bad.geojson",
        feature({"id": "ok", "regime": "watch_area"}),
        feature({"id": "bow", "name": "Bow tie", "regime": "watch_area"}, bowtie),
    )
    with pytest.raises(ZoneFileError) as err:
        read_zones(path)
    text = str(err.value)
    assert "bad.geojson" in text and "feature 1 (id 'bow', name 'Bow tie')" in text
    assert "Self-intersection" in text


@pytest.mark.parametrize(
    ("props", "geometry", "message"),
    [
        ({"id": "x"}, SQUARE, "no regime"),
        ({"id": "x", "regime": "high seas"}, SQUARE, "unknown regime 'high seas'"),
        ({"id": "x", "regime": "eez"}, SQUARE, "eez zone needs its owner"),
        ({"id": "x", "regime": "watch_area", "approximate": "maybe"}, SQUARE, "true or false"),
        ({"id": "x", "regime": "watch_area"}, None, "no geometry"),
        ({"id": "x", "regime": "watch_area"}, shapely.LineString([(0, 0), (1, 1)]), "LineString"),
        ({"id": "x", "regime": "watch_area"}, box(500000, 4000000, 600000, 4100000), "not WGS84"),
    ],
)
def test_feature_faults_are_errors_naming_the_feature(
    tmp_path: Path, props: dict[str, Any], geometry: Any, message: str
):
    item = (
        feature(props, geometry) if geometry is not None else {**feature(props), "geometry": None}
    )
    path = write_geojson(tmp_path / "f.geojson", item)
    with pytest.raises(ZoneFileError, match=rf"f\.geojson: feature 0 \(id 'x'.*{message}"):
        read_zones(path)


def test_a_repeated_id_names_both_features(tmp_path: Path):
    path = write_geojson(
        tmp_path / "dup.geojson",
        feature({"id": "a", "regime": "watch_area"}),
        feature({"id": "a", "name": "again", "regime": "watch_area"}),
    )
    with pytest.raises(ZoneFileError, match=r"feature 1 \(id 'a', name 'again'\).*feature 0"):
        read_zones(path)


def test_whole_file_faults_name_the_file(tmp_path: Path):
    with pytest.raises(ZoneFileError, match=r"unknown zone file type '\.csv'"):
        read_zones(tmp_path / "zones.csv")
    with pytest.raises(ZoneFileError, match="no such file"):
        read_zones(tmp_path / "missing.geojson")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    with pytest.raises(ZoneFileError, match=r"broken\.geojson: cannot read it as geojson"):
        read_zones(broken)


def test_a_geojson_crs_member_is_reprojected(tmp_path: Path):
    one_degree_m = EARTH_A * math.pi / 180.0  # Web Mercator metres per degree of longitude
    path = write_geojson(
        tmp_path / "mercator.geojson",
        feature({"id": "m", "regime": "watch_area"}, box(0, 0, 120 * one_degree_m, 1_000_000)),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
    )
    (zone,) = read_zones(path)
    west, south, east, north = zone.geometry.bounds
    lat_top = math.degrees(2 * math.atan(math.exp(1_000_000 / EARTH_A)) - math.pi / 2)
    assert (west, south, east) == pytest.approx((0.0, 0.0, 120.0), abs=1e-9)
    assert north == pytest.approx(lat_top, abs=1e-9)  # 8.9831 degrees


def test_a_polygon_across_the_antimeridian_is_split_at_180(tmp_path: Path):
    path = write_geojson(
        tmp_path / "fiji.geojson",
        feature({"id": "fji", "regime": "eez", "owners": ["FJI"]}, box(175, -20, 182, -15)),
    )
    (zone,) = read_zones(path)
    assert isinstance(zone.geometry, MultiPolygon)
    assert zone.geometry.bounds == (-180.0, -20.0, 180.0, -15.0)
    assert zone.geometry.area == pytest.approx(35.0)


# -- Marine Regions ------------------------------------------------------------------------------


def marine(mrgid: int, name: str, pol_type: str, *sovereigns: str) -> dict[str, Any]:
    props: dict[str, Any] = {"MRGID": mrgid, "GEONAME": name, "POL_TYPE": pol_type}
    for n, iso in enumerate(sovereigns, start=1):
        props[f"ISO_SOV{n}"] = iso
        props[f"SOVEREIGN{n}"] = f"State {iso}"
        props[f"TERRITORY{n}"] = f"Land {iso}"
    return props


def test_marine_regions_attributes_map_to_regimes_and_sovereign_owners(tmp_path: Path):
    path = write_geojson(
        tmp_path / "eez_v12.geojson",
        feature(marine(8444, "Philippine Exclusive Economic Zone", "200NM", "PHL")),
        feature(
            marine(
                49003,
                "Overlapping claim: Spratly Islands",
                "Overlapping claim",
                "CHN",
                "PHL",
                "VNM",
            ),
            box(114, 8, 116, 10),
        ),
        feature(marine(50170, "Joint regime area", "Joint regime", "JPN", "KOR"), box(0, 0, 1, 1)),
        feature(marine(49001, "Philippine 12 NM", "12NM", "PHL"), box(120, 10, 120.5, 10.5)),
        feature(marine(49002, "Philippine 24 NM", "24NM", "PHL"), box(120, 10, 120.6, 10.6)),
    )
    eez, spratly, joint, ts, cz = read_zones(path, ZoneImport(members={"PHL": "PHL-PCG"}))
    assert attrs(eez) == (
        "8444",
        "Philippine Exclusive Economic Zone",
        Regime.EEZ,
        ("PHL-PCG",),
    )
    assert spratly.regime is Regime.DISPUTED and spratly.owners == ("CHN", "PHL-PCG", "VNM")
    assert joint.regime is Regime.EEZ and joint.owners == ("JPN", "KOR")
    assert ts.regime is Regime.TERRITORIAL_SEA and cz.regime is Regime.CONTIGUOUS_ZONE
    assert {z.source for z in (eez, spratly, joint, ts, cz)} == {MARINE_REGIONS_SOURCE}


def test_lower_case_marine_regions_names_and_missing_iso_codes_are_understood(tmp_path: Path):
    props = {
        "mrgid": 48950.0,
        "geoname": "Overlapping claim X",
        "pol_type": "Overlapping claim",
        "sovereign1": "Kenya",
        "sovereign2": "Somalia",
        "iso_sov1": "",
        "iso_sov2": None,
    }
    path = write_geojson(tmp_path / "wfs.geojson", feature(props))
    (zone,) = read_zones(path)
    assert (zone.id, zone.regime, zone.owners) == ("48950", Regime.DISPUTED, ("Kenya", "Somalia"))


def test_an_unknown_pol_type_names_the_feature_unless_a_regime_is_given(tmp_path: Path):
    path = write_geojson(tmp_path / "mr.geojson", feature(marine(1, "Odd area", "Buffer", "PHL")))
    with pytest.raises(ZoneFileError, match=r"feature 0 \(id '1', name 'Odd area'\).*'Buffer'"):
        read_zones(path)
    (zone,) = read_zones(path, ZoneImport(regime=Regime.TERRITORIAL_SEA))
    assert zone.regime is Regime.TERRITORIAL_SEA and zone.owners == ("PHL",)


# -- GeoPackage ----------------------------------------------------------------------------------


def gpkg_blob(
    geometry: Any, *, little: bool = True, envelope: int = 1, empty: bool = False
) -> bytes:
    """A GeoPackageBinary blob written from the standard's layout (OGC 12-128r18 2.1.3)."""
    order = "<" if little else ">"
    flags = (1 if little else 0) | (envelope << 1) | (0x10 if empty else 0)
    minx, miny, maxx, maxy = geometry.bounds
    values = {
        0: [],
        1: [minx, maxx, miny, maxy],
        2: [minx, maxx, miny, maxy, 0.0, 0.0],
        4: [minx, maxx, miny, maxy, 0.0, 0.0, 0.0, 0.0],
    }[envelope]
    header = b"GP" + bytes([0, flags]) + struct.pack(f"{order}i", 4326)
    header += struct.pack(f"{order}{len(values)}d", *values)
    return header + shapely.to_wkb(geometry, byte_order=1 if little else 0)


def write_gpkg(
    path: Path,
    rows: list[tuple[Any, ...]],
    *,
    srs: tuple[int, str, int, str] = (4326, "EPSG", 4326, ""),
    table: str = "zones",
) -> Path:
    srs_id = srs[0]
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, "
        "organization TEXT, organization_coordsys_id INTEGER, definition TEXT, description TEXT);"
        "CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, "
        "identifier TEXT, srs_id INTEGER);"
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, "
        "geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER);"
        "CREATE TABLE notes (fid INTEGER PRIMARY KEY, text TEXT);"
        "INSERT INTO gpkg_contents VALUES ('notes', 'attributes', 'notes', NULL);"
    )
    db.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('crs', ?, ?, ?, ?, '')", srs)
    db.execute("INSERT INTO gpkg_contents VALUES (?, 'features', ?, ?)", (table, table, srs_id))
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POLYGON', ?, 0, 0)", (table, srs_id)
    )
    db.execute(
        f"CREATE TABLE {table} (fid INTEGER PRIMARY KEY, geom BLOB, zone_id TEXT, "
        "name TEXT, regime TEXT, owners TEXT)"
    )
    db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize(
    ("little", "envelope"), [(True, 0), (True, 1), (False, 1), (False, 2), (True, 4)]
)
def test_geopackage_geometry_headers_of_either_byte_order_and_any_envelope(
    little: bool, envelope: int
):
    shape = Polygon([(120, 10), (121, 10), (121, 11), (120, 10)])
    assert shapely.equals(gpkg_geometry(gpkg_blob(shape, little=little, envelope=envelope)), shape)
    assert gpkg_geometry(gpkg_blob(shape, empty=True)) is None
    with pytest.raises(ValueError, match="GP magic"):
        gpkg_geometry(b"XX" + gpkg_blob(shape)[2:])


def test_a_geopackage_feature_table_becomes_zones(tmp_path: Path):
    with_hole = Polygon(SQUARE.exterior.coords, [[(120.2, 10.2), (120.4, 10.2), (120.4, 10.4)]])
    rows = [
        (1, gpkg_blob(with_hole, little=False), "phl-ts", "PH TS", "territorial_sea", "PHL-PCG"),
        (
            2,
            gpkg_blob(box(114, 8, 116, 10), envelope=0),
            "spr",
            "Spratly",
            "disputed",
            "PHL-PCG,CHN",
        ),
    ]
    path = write_gpkg(tmp_path / "zones.gpkg", rows)
    ts, spratly = read_zones(path, ZoneImport(fields=ZoneFields(id="zone_id")))
    assert (ts.id, ts.regime, ts.owners) == ("phl-ts", Regime.TERRITORIAL_SEA, ("PHL-PCG",))
    assert shapely.equals(ts.geometry, with_hole)
    assert spratly.owners == ("PHL-PCG", "CHN")


def test_a_geopackage_in_another_crs_is_reprojected(tmp_path: Path):
    one_degree_m = EARTH_A * math.pi / 180.0
    square_m = box(120 * one_degree_m, 0, 121 * one_degree_m, one_degree_m)
    rows = [(1, gpkg_blob(square_m), "m", "Mercator", "watch_area", "")]
    path = write_gpkg(tmp_path / "m.gpkg", rows, srs=(3857, "EPSG", 3857, ""))
    (zone,) = read_zones(path, ZoneImport(fields=ZoneFields(id="zone_id")))
    assert zone.geometry.bounds[:3] == pytest.approx((120.0, 0.0, 121.0), abs=1e-9)


def test_a_bad_geopackage_geometry_names_the_layer_and_feature(tmp_path: Path):
    rows = [
        (1, gpkg_blob(SQUARE), "a", "A", "watch_area", ""),
        (2, b"XX" + gpkg_blob(SQUARE)[2:], "b", "B", "watch_area", ""),
    ]
    path = write_gpkg(tmp_path / "bad.gpkg", rows, table="reefs")
    with pytest.raises(
        ZoneFileError, match=r"bad\.gpkg: layer 'reefs' feature 1 \(id 'b'.*GP magic"
    ):
        read_zones(path, ZoneImport(fields=ZoneFields(id="zone_id")))
    with pytest.raises(ZoneFileError, match="no feature table 'other'"):
        read_zones(path, ZoneImport(layer="other"))


def test_an_undefined_cartesian_geopackage_crs_is_refused(tmp_path: Path):
    rows = [(1, gpkg_blob(SQUARE), "a", "A", "watch_area", "")]
    path = write_gpkg(tmp_path / "xy.gpkg", rows, srs=(-1, "NONE", -1, "undefined"))
    with pytest.raises(ZoneFileError, match="undefined Cartesian"):
        read_zones(path)


# -- Shapefile -----------------------------------------------------------------------------------


def write_shapefile(base: Path, rings: list[list[tuple[float, float]]], crs: CRS | None) -> Path:
    """One Marine Regions-style record (outer rings clockwise, holes anticlockwise)."""
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as writer:
        for name, kind, size, decimals in [
            ("MRGID", "N", 10, 0),
            ("GEONAME", "C", 80, 0),
            ("POL_TYPE", "C", 20, 0),
            ("ISO_SOV1", "C", 3, 0),
        ]:
            writer.field(name, kind, size, decimals)
        writer.poly(rings)
        writer.record(8444, "Philippine EEZ", "200NM", "PHL")
    if crs is not None:
        base.with_suffix(".prj").write_text(crs.to_wkt("WKT1_ESRI"))
    return base.with_suffix(".shp")


def test_a_shapefile_with_a_prj_is_reprojected_to_wgs84(tmp_path: Path):
    # UTM zone 51N: central meridian 123 E, false easting 500 km, so (500 km, 0) is (0, 123).
    ring = [(500_000, 0), (500_000, 50_000), (550_000, 50_000), (550_000, 0), (500_000, 0)]
    path = write_shapefile(tmp_path / "eez", [ring], CRS.from_epsg(32651))
    (zone,) = read_zones(path)
    assert attrs(zone) == (
        "8444",
        "Philippine EEZ",
        Regime.EEZ,
        ("PHL",),
    )
    west, south, _, _ = zone.geometry.bounds
    assert (west, south) == pytest.approx((123.0, 0.0), abs=1e-9)


def test_a_zipped_shapefile_reads_like_the_files(tmp_path: Path):
    outer = [(120, 10), (120, 11), (121, 11), (121, 10), (120, 10)]  # clockwise
    hole = [(120.2, 10.2), (120.4, 10.2), (120.4, 10.4), (120.2, 10.4), (120.2, 10.2)]
    path = write_shapefile(tmp_path / "eez", [outer, hole], None)
    archive = tmp_path / "eez.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for ext in (".shp", ".shx", ".dbf"):
            zipped.write(path.with_suffix(ext), f"World_EEZ_v12/eez{ext}")
    (plain,) = read_zones(path)
    (zipped_zone,) = read_zones(archive)
    assert shapely.equals(plain.geometry, zipped_zone.geometry)
    assert plain.geometry.area == pytest.approx(1.0 - 0.04)  # the hole stays a hole


def test_a_shapefile_of_lines_is_an_error_naming_the_feature(tmp_path: Path):
    with shapefile.Writer(str(tmp_path / "lines"), shapeType=shapefile.POLYLINE) as writer:
        writer.field("id", "C", 10, 0)
        writer.line([[(120, 10), (121, 11)]])
        writer.record("l1")
    with pytest.raises(ZoneFileError, match=r"layer 'lines' feature 0 \(id 'l1'.*not a polygon"):
        read_zones(tmp_path / "lines.shp", ZoneImport(regime=Regime.WATCH_AREA))


# -- KML -----------------------------------------------------------------------------------------

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder>
  <Placemark id="scarborough">
    <name>Scarborough Shoal</name>
    <ExtendedData>
      <Data name="regime"><value>watch_area</value></Data>
      <Data name="owners"><value>PHL-PCG</value></Data>
    </ExtendedData>
    <Polygon><outerBoundaryIs><LinearRing><coordinates>
      117.6,15.0,0 117.9,15.0,0 117.9,15.3,0 117.6,15.3,0 117.6,15.0,0
    </coordinates></LinearRing></outerBoundaryIs>
    <innerBoundaryIs><LinearRing><coordinates>
      117.7,15.1 117.8,15.1 117.8,15.2 117.7,15.1
    </coordinates></LinearRing></innerBoundaryIs></Polygon>
  </Placemark>
  <Placemark>
    <name>Two reefs</name>
    <ExtendedData><SchemaData><SimpleData name="regime">protected_area</SimpleData></SchemaData>
    </ExtendedData>
    <MultiGeometry>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        115,9 115.1,9 115.1,9.1 115,9
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        116,9 116.1,9 116.1,9.1 116,9
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
    </MultiGeometry>
  </Placemark>
  PLACEMARK
</Folder></Document></kml>
"""


def test_kml_placemarks_with_polygons_and_multigeometry_become_zones(tmp_path: Path):
    path = tmp_path / "reefs.kml"
    path.write_text(KML.replace("PLACEMARK", ""))
    shoal, reefs = read_zones(path)
    assert attrs(shoal) == (
        "scarborough",
        "Scarborough Shoal",
        Regime.WATCH_AREA,
        ("PHL-PCG",),
    )
    assert shoal.geometry.area == pytest.approx(0.09 - 0.005)  # 0.3 x 0.3 less the triangle
    assert reefs.regime is Regime.PROTECTED_AREA and reefs.id == "feature-1"
    assert isinstance(reefs.geometry, MultiPolygon) and len(reefs.geometry.geoms) == 2


def test_a_kmz_holds_its_kml(tmp_path: Path):
    path = tmp_path / "reefs.kmz"
    with zipfile.ZipFile(path, "w") as kmz:
        kmz.writestr("doc.kml", KML.replace("PLACEMARK", ""))
    assert [z.name for z in read_zones(path)] == ["Scarborough Shoal", "Two reefs"]


def test_a_kml_placemark_without_a_polygon_is_an_error_naming_it(tmp_path: Path):
    pin = "<Placemark><name>Pin</name><Point><coordinates>117,15</coordinates></Point></Placemark>"
    path = tmp_path / "pins.kml"
    path.write_text(KML.replace("PLACEMARK", pin))
    with pytest.raises(ZoneFileError, match=r"pins\.kml: feature 2 \(id '', name 'Pin'\).*Point"):
        read_zones(path)


def test_every_marine_regions_pol_type_and_regime_is_in_the_zones_doc():
    text = (Path(__file__).resolve().parents[3] / "docs" / "zones.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for pol_type, regime in MARINE_REGIONS_POL_TYPES.items():
        assert any(
            line.lower().startswith(f"| `{pol_type}` | `{regime.value}` |") for line in rows
        ), pol_type
    assert {r.value for r in Regime} <= {line.split("`")[1] for line in rows}
