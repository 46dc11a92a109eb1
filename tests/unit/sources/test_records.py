"""CSV and JSON report rows: layouts, sentinels (ITU-R M.1371), times, and bad rows."""

from __future__ import annotations

import calendar
import io
from pathlib import Path

import pytest

from lookout.model import Frame, Rejection, RejectReason, ReportRecord
from lookout.sources.files import FileFormatError, iter_csv, iter_jsonl
from lookout.sources.records import BadRecord, detect_layout, parse_time

MC_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)
DMA_HEADER = (
    "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,"
    "Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,"
    "Type of position fixing device,Draught,Destination,ETA,Data source type,A,B,C,D"
)


def _utc(*fields: int) -> float:
    return float(calendar.timegm((*fields, 0, 0, 0)))


def _read_csv(text: str) -> list[ReportRecord | Rejection]:
    return list(iter_csv(io.StringIO(text), member="m", source="s"))


def test_marinecadastre_row_maps_columns_units_and_sentinels() -> None:
    rows = _read_csv(
        f"{MC_HEADER}\n"
        "368084090,2023-01-01T00:00:06,29.31444,-94.79219,0.0,360.0,511.0,GALVESTON,"
        "IMO9133393,WDD7294,31,5,20.0,7.0,3.0,31,A\n"
    )
    [rec] = rows
    assert isinstance(rec, ReportRecord)
    assert rec.mmsi == 368084090
    assert rec.observed_ts == _utc(2023, 1, 1, 0, 0, 6)
    assert (rec.lat, rec.lon) == (29.31444, -94.79219)
    assert rec.speed_kn == 0.0
    assert rec.course_deg is None  # COG 360 = not available
    assert rec.heading_deg is None  # 511 = not available
    assert (rec.name, rec.callsign, rec.imo) == ("GALVESTON", "WDD7294", 9133393)
    assert (rec.ship_type, rec.status, rec.length_m) == (31, 5, 20)
    assert rec.msg_type == 1  # class A
    assert (rec.member, rec.source) == ("m", "s")


@pytest.mark.parametrize(
    ("sog", "cog", "heading", "expected"),
    [
        ("102.3", "359.9", "359", (None, 359.9, 359)),
        ("12.5", "361.0", "0", (12.5, None, 0)),
        ("", "", "", (None, None, None)),
        ("0.1", "0.0", "511", (0.1, 0.0, None)),
    ],
)
def test_motion_sentinels_become_none(
    sog: str, cog: str, heading: str, expected: tuple[object, ...]
) -> None:
    [rec] = _read_csv(
        f"{MC_HEADER}\n366000001,2023-01-01T00:00:00,1.0,2.0,{sog},{cog},{heading},,,,,,,,,,B\n"
    )
    assert isinstance(rec, ReportRecord)
    assert (rec.speed_kn, rec.course_deg, rec.heading_deg) == expected
    assert rec.msg_type == 18  # class B


def test_old_lowercase_marinecadastre_layout_is_recognised(shared_data: Path) -> None:
    path = shared_data / "tracks/boston-2014/demodata_ais.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header[:2] == ["mmsi", "basedatetime"]
    layout = detect_layout(header)
    assert layout is not None and layout.name == "marinecadastre"


def test_dma_row_with_day_first_time_unknowns_and_position_sentinels() -> None:
    rows = _read_csv(
        f"{DMA_HEADER}\n"
        "01/11/2023 00:00:07,Class A,219000873,91.000000,181.000000,Unknown value,,,,,"
        "Unknown,Unknown,,Undefined,,,,Undefined,,Unknown,,AIS,,,,\n"
        "02/11/2023 13:45:59,Class A,257000123,56.990910,10.304543,Engaged in fishing,0.0,"
        "3.4,120.5,118,9123456,LAXZ,NORDKAPP,Fishing,,8,42,GPS,4.2,HIRTSHALS,,AIS,30,12,4,4\n"
    )
    first, second = rows
    assert isinstance(first, ReportRecord) and isinstance(second, ReportRecord)
    assert first.observed_ts == _utc(2023, 11, 1, 0, 0, 7)  # 1 November, not 11 January
    assert (first.lat, first.lon) == (None, None)
    assert (first.status, first.imo, first.callsign, first.ship_type) == (None, None, None, None)
    assert second.observed_ts == _utc(2023, 11, 2, 13, 45, 59)
    assert (second.lat, second.lon) == (56.99091, 10.304543)
    assert (second.speed_kn, second.course_deg, second.heading_deg) == (3.4, 120.5, 118)
    assert (second.status, second.ship_type) == (7, 30)  # engaged in fishing; fishing
    assert (second.name, second.callsign, second.imo) == ("NORDKAPP", "LAXZ", 9123456)
    assert (second.length_m, second.destination) == (42, "HIRTSHALS")


def test_bad_rows_are_rejections_with_their_line_number_not_silently_dropped() -> None:
    rows = _read_csv(
        f"{MC_HEADER}\n"
        "366000001,2023-01-01T00:00:00,1.0,2.0,,,,,,,,,,,,,A\n"
        "notanmmsi,2023-01-01T00:00:00,1.0,2.0,,,,,,,,,,,,,A\n"
        "366000001,yesterday,1.0,2.0,,,,,,,,,,,,,A\n"
        "366000001,2023-01-01T00:00:00,north,2.0,,,,,,,,,,,,,A\n"
        "366000001,2023-01-01T00:00:00,1.0\n"
        "366000001,2023-01-01T00:00:01,1.0,2.0,,,,,,,,,,,,,A\n"
    )
    kinds = [type(r).__name__ for r in rows]
    assert kinds == [
        "ReportRecord",
        "Rejection",
        "Rejection",
        "Rejection",
        "Rejection",
        "ReportRecord",
    ]
    rejections = [r for r in rows if isinstance(r, Rejection)]
    assert all(r.reason is RejectReason.BAD_RECORD and r.source == "s" for r in rejections)
    assert [r.detail.split(":")[0] for r in rejections] == ["line 3", "line 4", "line 5", "line 6"]
    assert "mmsi" in rejections[0].detail
    assert "time" in rejections[1].detail
    assert "lat" in rejections[2].detail
    assert "columns" in rejections[3].detail
    assert rejections[0].line.startswith("notanmmsi,")


def test_a_csv_without_report_columns_is_refused_with_a_clear_error() -> None:
    with pytest.raises(FileFormatError, match="MMSI"):
        _read_csv("iso3,label,latitude,longitude\nPHL,Manila,14.5,120.9\n")


def test_generic_csv_with_epoch_times_and_ssvid() -> None:
    [rec] = _read_csv("ssvid,lat,lon,timestamp,speed\n412000001,10.5,114.2,1700000000,7.5\n")
    assert isinstance(rec, ReportRecord)
    assert (rec.mmsi, rec.observed_ts, rec.speed_kn) == (412000001, 1700000000.0, 7.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-01-05T09:48:32Z", _utc(2014, 1, 5, 9, 48, 32)),
        ("2018-01-01 00:12:19+00:00", _utc(2018, 1, 1, 0, 12, 19)),
        ("2018-01-01T08:12:19+08:00", _utc(2018, 1, 1, 0, 12, 19)),
        ("2023-01-01T00:00:06", _utc(2023, 1, 1, 0, 0, 6)),
        ("1565218798", 1565218798.0),
        ("1565218798123", 1565218798.123),
    ],
)
def test_parse_time_formats(text: str, expected: float) -> None:
    assert parse_time(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "tomorrow", "nan", "2023-13-45T00:00:00"])
def test_parse_time_rejects_garbage(text: str) -> None:
    with pytest.raises(BadRecord):
        parse_time(text)


def _read_jsonl(text: str) -> list[Frame | ReportRecord | Rejection]:
    return list(iter_jsonl(io.StringIO(text), member="m", source="s"))


def test_json_lines_frames_reports_and_bad_lines() -> None:
    vdm = "!AIVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"
    items = _read_jsonl(
        f'{{"nmea": "{vdm}", "received_at": "2019-08-07T22:59:58Z", "receiver": "R1"}}\n'
        f'{{"nmea": "{vdm}", "received_at": 1565218798}}\n'
        "\n"
        '{"mmsi": 548123456, "lat": 14.5, "lon": 120.9, "timestamp": "2024-05-01T10:00:00Z",'
        ' "sog": 12.5, "cog": 360, "heading": 511, "name": "BRP TEST@@@"}\n'
        '{"mmsi": 548123457, "latitude": 91, "longitude": 181, "observed_at": 1714557600,'
        ' "speed": 3, "course": 45.5}\n'
        "{not json\n"
        "[1, 2]\n"
        '{"lat": 1, "lon": 2, "timestamp": 0}\n'
    )
    f1, f2, r1, r2, bad_json, not_object, no_mmsi = items
    assert isinstance(f1, Frame) and isinstance(f2, Frame)
    assert (f1.line, f1.receiver, f1.received_ts) == (vdm, "R1", 1565218798.0)
    assert f2.received_ts == 1565218798.0
    assert isinstance(r1, ReportRecord) and isinstance(r2, ReportRecord)
    assert (r1.mmsi, r1.lat, r1.lon, r1.speed_kn) == (548123456, 14.5, 120.9, 12.5)
    assert (r1.course_deg, r1.heading_deg, r1.name) == (None, None, "BRP TEST")
    assert r1.observed_ts == _utc(2024, 5, 1, 10, 0, 0)
    assert (r2.lat, r2.lon, r2.speed_kn, r2.course_deg) == (None, None, 3.0, 45.5)
    for rejection, line in ((bad_json, 6), (not_object, 7), (no_mmsi, 8)):
        assert isinstance(rejection, Rejection)
        assert rejection.reason is RejectReason.BAD_RECORD
        assert rejection.detail.startswith(f"line {line}:")
