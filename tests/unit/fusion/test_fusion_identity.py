"""Identity reports: cleaned like the standard says, merged newest-first."""

from __future__ import annotations

import pyais
import pytest
from pyais import encode_dict

from lookout.fusion.identity import (
    Identity,
    clean_text,
    length_of,
    merge,
    static_from_fields,
    static_from_record,
)
from lookout.model import ReportRecord, StaticReport

TYPE5 = {
    "type": 5,
    "mmsi": 219000001,
    "shipname": "TEST SHIP",
    "callsign": "OXAB1",
    "imo": 9123456,
    "ship_type": 70,
    "to_bow": 100,
    "to_stern": 20,
    "to_port": 10,
    "to_starboard": 12,
    "destination": "AARHUS",
    "draught": 7.5,
}


def _report(ts: float, **fields: object) -> StaticReport:
    return StaticReport(
        mmsi=219000001, msg_type=5, observed_ts=ts, member="dk", source="a", **fields
    )  # type: ignore[arg-type]


def test_a_type5_decoded_by_pyais_becomes_a_clean_static_report():
    decoded = pyais.decode(*encode_dict(TYPE5)).asdict()
    report = static_from_fields(decoded, observed_ts=5.0, member="dk", source="a")
    assert report.mmsi == 219000001
    assert (report.name, report.callsign, report.destination) == ("TEST SHIP", "OXAB1", "AARHUS")
    assert (report.imo, report.ship_type) == (9123456, 70)
    assert (report.to_bow_m, report.to_stern_m, report.to_port_m) == (100, 20, 10)
    assert report.draught_m == pytest.approx(7.5)
    assert length_of(report.to_bow_m, report.to_stern_m) == 120


def test_not_available_values_become_none():
    fields = {
        "msg_type": 5,
        "mmsi": 219000001,
        "shipname": "@@@@",
        "callsign": "  ",
        "imo": 0,
        "ship_type": 0,
        "to_bow": 0,
        "to_stern": 0,
        "draught": 0.0,
        "destination": "KIEL@@@@@",
    }
    report = static_from_fields(fields, observed_ts=0.0, member="dk", source="a")
    assert (report.name, report.callsign, report.imo, report.ship_type) == (None,) * 4
    assert (report.to_bow_m, report.to_stern_m, report.draught_m) == (None, None, None)
    assert report.destination == "KIEL"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("EVER GIVEN@@@", "EVER GIVEN"),
        ("  PADDED  ", "PADDED"),
        ("@", None),
        ("", None),
        (None, None),
        ("A@B", "A"),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_imo_numbers_need_seven_digits():
    fields = {"msg_type": 5, "mmsi": 1, "imo": 123}
    assert static_from_fields(fields, observed_ts=0, member="m", source="s").imo is None


def test_length_needs_at_least_one_dimension():
    assert length_of(None, None) is None
    assert length_of(0, 0) is None
    assert length_of(0, 85) == 85  # reference point unknown: A = 0, B = length


def test_newer_reports_overwrite_and_older_ones_only_fill_gaps():
    ident = Identity()
    assert merge(ident, _report(100.0, name="OLD NAME"))
    assert merge(ident, _report(200.0, name="NEW NAME"))
    assert not merge(ident, _report(150.0, name="STALE NAME"))
    assert ident.name == "NEW NAME"
    assert merge(ident, _report(150.0, callsign="OXAB1"))  # late, but fills a gap
    assert ident.callsign == "OXAB1"
    assert not merge(ident, _report(300.0, name="NEW NAME"))  # nothing new
    assert ident.version == 3


def test_a_record_with_identity_gives_a_static_report_and_one_without_gives_none():
    rec = ReportRecord(
        mmsi=219000001,
        observed_ts=0.0,
        lat=55.0,
        lon=12.0,
        member="dk",
        source="csv",
        name="SHIP",
        length_m=120,
    )
    report = static_from_record(rec)
    assert report is not None and report.name == "SHIP"
    assert length_of(report.to_bow_m, report.to_stern_m) == 120
    bare = ReportRecord(
        mmsi=219000001, observed_ts=0.0, lat=55.0, lon=12.0, member="dk", source="csv"
    )
    assert static_from_record(bare) is None
