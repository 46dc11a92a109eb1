"""Port data sets: the one installed with Lookout and the files a user imports."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lookout.sources.ports import PortFileError, installed_ports, port_index, read_ports


def test_the_installed_ports_are_searoutes_and_cover_real_harbours() -> None:
    ports = installed_ports()
    assert len(ports.points) == 3_962  # searoute 1.x data/ports.geojson
    assert ports.error_count == 0
    index = port_index([ports])
    assert index.near(1.264, 103.84, 10_000.0)  # Singapore
    assert index.near(14.58, 120.96, 10_000.0)  # Manila
    assert not index.near(10.0, 150.0, 10_000.0)  # the open Pacific


def test_a_csv_with_latitude_and_longitude_columns(tmp_path: Path) -> None:
    path = tmp_path / "ports.csv"
    path.write_text(
        "name,latitude,longitude\nA,10.5,120.25\nB,north,120\nC,95,120\nD, -3.5 , 40\n",
        encoding="utf-8",
    )
    read = read_ports(path)
    assert read.points == ((10.5, 120.25), (-3.5, 40.0))
    assert read.error_count == 2
    assert read.errors[0].startswith("line 3: latitude 'north'")
    assert "line 4: latitude 95.0 out of range" in read.errors[1]


def test_gzipped_csv_with_short_column_names(tmp_path: Path) -> None:
    path = tmp_path / "anchorages.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("id,lat,lon\n1,1.0,2.0\n")
    assert read_ports(path).points == ((1.0, 2.0),)


def test_geojson_points_and_multipoints_other_geometries_counted(tmp_path: Path) -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.0, 14.0]}},
        {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}},
    ]
    path = tmp_path / "ports.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    read = read_ports(path)
    assert read.points == ((14.0, 120.0), (2.0, 1.0), (4.0, 3.0))
    assert read.errors == ("feature 2: a LineString geometry, expected a Point or MultiPoint",)


@pytest.mark.parametrize(
    ("text", "message"),
    [("mmsi,x,y\n1,2,3\n", "needs a latitude and a longitude column"), ("", "empty file"),
     ('{"type": "Polygon"}', "not GeoJSON points")],
)  # fmt: skip
def test_files_that_are_not_ports_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ports.txt"
    path.write_text(text)
    with pytest.raises(PortFileError, match=message):
        read_ports(path)


def test_real_reference_files(shared_data: Path) -> None:
    """Counts from geo/anchorages-and-ports/PROVENANCE.md: 3,669 WPI ports, 60,410 GFW
    anchorage rows (one with longitude 1001, which is not a position)."""
    folder = shared_data / "geo" / "anchorages-and-ports"
    wpi = read_ports(folder / "WPI_ports.csv")
    assert (len(wpi.points), wpi.error_count) == (3_669, 0)
    gfw = read_ports(folder / "anchorage_overrides.csv.gz")
    assert len(gfw.points) + gfw.error_count == 60_410
    assert gfw.error_count == 1
    assert gfw.errors[0].endswith("longitude 1001.0 out of range")
