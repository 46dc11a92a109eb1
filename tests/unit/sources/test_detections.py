"""Reading non-AIS detections (DETECTIONS.csv) for ``dark_vessel``."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from lookout.model import Detection
from lookout.sources.detections import read_detections
from lookout.sources.files import FileFormatError


def write(tmp_path: Path, text: str, name: str = "detections.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_become_detections_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,timestamp,lat,lon,source,confidence\n"
        "s1-0007,2024-03-07T02:15:00Z,9.55,115.05,sar,0.93\n"
        "r-12,1709777700,9.6,115.1,radar,\n"
        "p-1,2024-03-07 02:16:30,-9.6,-179.5,patrol,0.5\n",
    )
    read = read_detections(path, member="PHL-PCG")
    assert read.errors == []
    assert read.detections == [
        Detection("s1-0007", 1709777700.0, 9.55, 115.05, "sar", "PHL-PCG"),
        Detection("r-12", 1709777700.0, 9.6, 115.1, "radar", "PHL-PCG"),
        Detection("p-1", 1709777790.0, -9.6, -179.5, "patrol", "PHL-PCG"),  # naive = UTC
    ]


def test_columns_in_any_order_and_case_gzip_too(tmp_path: Path) -> None:
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("Source, LAT ,Lon,Timestamp,ID\nsar,1.5,2.5,1709777700000,a\n")
    (det,) = read_detections(path).detections
    assert (det.id, det.ts, det.lat, det.lon, det.source) == ("a", 1709777700.0, 1.5, 2.5, "sar")
    assert det.member == ""


def test_bad_rows_are_skipped_with_their_line_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,timestamp,lat,lon,source\n"
        "a,2024-03-07T02:15:00Z,9.5,115.0,sar\n"
        ",2024-03-07T02:15:00Z,9.5,115.0,sar\n"  # 3: no id
        "b,yesterday,9.5,115.0,sar\n"  # 4: bad time
        "c,2024-03-07T02:15:00Z,north,115.0,sar\n"  # 5: bad number
        "d,2024-03-07T02:15:00Z,91,115.0,sar\n"  # 6: out of range
        "e,2024-03-07T02:15:00Z,9.5,181,sar\n"  # 7: out of range
        "\n"  # 8: blank, not counted
        "a,2024-03-07T03:00:00Z,9.0,115.0,radar\n"  # 9: duplicate id
        "f,2024-03-07T02:15:00Z,9.5\n"  # 10: ragged
        "g,2024-03-07T02:15:00Z,9.5,115.0,optical\n",
    )
    read = read_detections(path)
    assert [d.id for d in read.detections] == ["a", "g"]
    assert [e.line for e in read.errors] == [3, 4, 5, 6, 7, 9, 10]
    assert read.rows == 9
    messages = [str(e) for e in read.errors]
    assert messages[0] == "line 3: id: missing"
    assert "time" in messages[1] and "'yesterday'" in messages[1]
    assert "lat: not a number" in messages[2]
    assert "lat: 91 is out of range" in messages[3]
    assert "lon: 181 is out of range" in messages[4]
    assert messages[5] == "line 9: id 'a' already used on line 2"
    assert messages[6].startswith("line 10: lon: missing")


def test_a_header_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "id,time,latitude,longitude\n1,1709777700,1,2\n")
    with pytest.raises(FileFormatError, match="missing timestamp, lat, lon, source"):
        read_detections(path)
    with pytest.raises(FileFormatError, match="not a detections CSV"):
        read_detections(write(tmp_path, "", "empty.csv"))
