"""Tracks as GeoJSON: one feature per segment, split at the antimeridian (RFC 7946 3.1.9)."""

from __future__ import annotations

import pytest

from lookout.api.geojson import split_antimeridian, track_feature_collection
from lookout.model import TrackPoint


def _point(segment: int, ts: float, lat: float, lon: float) -> TrackPoint:
    return TrackPoint(
        mmsi=412000001,
        segment=segment,
        observed_ts=ts,
        lat=lat,
        lon=lon,
        speed_kn=10.0,
        course_deg=90.0,
        heading_deg=90,
        member="ph",
        source="s",
        receivers=("r",),
    )


def test_eastward_crossing_splits_at_plus_minus_180_with_interpolated_latitude() -> None:
    # 179E,10N -> 179W,12N: halfway in longitude, so the crossing is at 11N.
    parts = split_antimeridian([[179.0, 10.0], [-179.0, 12.0]])
    assert parts == [[[179.0, 10.0], [180.0, 11.0]], [[-180.0, 11.0], [-179.0, 12.0]]]


def test_westward_crossing_and_no_crossing() -> None:
    parts = split_antimeridian([[-178.0, 0.0], [178.0, 4.0]])
    assert parts[0][-1] == [-180.0, pytest.approx(2.0)]
    assert parts[1][0] == [180.0, pytest.approx(2.0)]
    assert split_antimeridian([[10.0, 0.0], [11.0, 0.0]]) == [[[10.0, 0.0], [11.0, 0.0]]]


def test_one_feature_per_segment() -> None:
    points = [
        _point(0, 1000.0, 10.0, 179.5),
        _point(1, 1010.0, 50.0, 5.0),
        _point(0, 1020.0, 10.0, -179.5),
        _point(0, 1030.0, 10.0, -179.0),
    ]
    fc = track_feature_collection(412000001, points)
    assert fc["type"] == "FeatureCollection"
    by_segment = {f["properties"]["segment"]: f for f in fc["features"]}
    assert by_segment[0]["geometry"]["type"] == "MultiLineString"
    assert by_segment[0]["properties"]["points"] == 3
    assert len(by_segment[0]["properties"]["times"]) == 3
    assert by_segment[0]["properties"]["start_at"] == "1970-01-01T00:16:40Z"
    assert by_segment[1]["geometry"] == {"type": "Point", "coordinates": [5.0, 50.0]}
