"""The pieces of the request limits: the JSON depth scanner, the token bucket, the geometry
vertex check and the strict query parameters."""

from __future__ import annotations

import json
import time
from typing import get_args

import pytest
from fastapi import HTTPException

from lookout.api.geojson import GeometryError, count_vertices
from lookout.api.limits import JsonDepthScanner, RateLimits, TokenBucket
from lookout.api.params import bbox_of
from lookout.api.routes_events import EventStatus
from lookout.detectors.base import EVENT_STATUSES
from lookout.model import BBox

# -- JSON depth --------------------------------------------------------------------------------


def _depth_ok(text: str, max_depth: int, chunk: int = 7) -> bool:
    scanner = JsonDepthScanner(max_depth)
    data = text.encode()
    return all(scanner.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))


def _true_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_true_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_true_depth(v) for v in value.values()), default=0)
    return 0


@pytest.mark.parametrize(
    "doc",
    [
        {"a": [1, {"b": [2, [3]]}]},
        {"text": "[[[[[[[[ not structure {{{{", "more": ["]]]]", '\\"[[[']},
        {"escaped": 'a \\" [ " { \\\\', "x": [[["deep"]]]},
        [[[[]]], {}],
    ],
)
def test_the_scanner_measures_the_depth_json_has(doc: object) -> None:
    text = json.dumps(doc)
    depth = _true_depth(doc)
    for chunk in (1, 2, 5, 64):  # escapes and strings split across chunks
        assert _depth_ok(text, depth, chunk)
        assert not _depth_ok(text, depth - 1, chunk)


def test_a_deep_document_is_refused_without_reading_past_the_limit() -> None:
    scanner = JsonDepthScanner(32)
    started = time.perf_counter()
    assert not scanner.feed(b"[" * 10_000_000)
    assert time.perf_counter() - started < 1.0
    assert scanner.depth == 33


# -- token bucket ------------------------------------------------------------------------------


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate_per_s=2.0, burst=4, tokens=4, updated=0.0)
    assert [bucket.take(1, 0.0) for _ in range(4)] == [0.0] * 4
    assert bucket.take(1, 0.0) == pytest.approx(0.5)  # one token comes in 0.5 s
    assert bucket.take(1, 0.5) == 0.0
    assert bucket.take(1, 100.0) == 0.0
    assert bucket.tokens == 3  # refilled to the burst, not beyond


def test_a_cost_above_the_burst_passes_from_a_full_bucket_and_is_owed() -> None:
    bucket = TokenBucket(rate_per_s=10.0, burst=100, tokens=100, updated=0.0)
    assert bucket.take(250, 0.0) == 0.0
    assert bucket.take(1, 0.0) == pytest.approx(15.1)  # 150 owed + 1, at 10 a second


def test_members_have_their_own_buckets_and_refusals_are_counted() -> None:
    now = [0.0]
    limits = RateLimits(
        requests_per_s=1.0, requests_burst=2, lines_per_s=0, lines_burst=0, clock=lambda: now[0]
    )
    limits.check("PHL-PCG", "requests")
    limits.check("PHL-PCG", "requests")
    with pytest.raises(HTTPException) as info:
        limits.check("PHL-PCG", "requests")
    assert info.value.status_code == 429
    assert info.value.headers == {"Retry-After": "1"}
    limits.check("VNM-VCG", "requests")  # another member is not slowed
    limits.check("PHL-PCG", "lines", 10**9)  # a rate of 0 is no limit
    assert limits.refused == {"PHL-PCG": 1}
    now[0] = 1.0
    limits.check("PHL-PCG", "requests")


# -- geometry ----------------------------------------------------------------------------------


def _ring(n: int) -> list[list[float]]:
    return [[float(i % 360 - 180), 0.0] for i in range(n)]


def test_vertices_are_counted_for_every_geometry_type() -> None:
    assert count_vertices({"type": "Point", "coordinates": [1.0, 2.0]}, 10) == 1
    assert count_vertices({"type": "LineString", "coordinates": _ring(5)}, 10) == 5
    polygon = {"type": "Polygon", "coordinates": [_ring(4), _ring(3)]}
    assert count_vertices(polygon, 10) == 7
    multi = {"type": "MultiPolygon", "coordinates": [[_ring(4)], [_ring(4)]]}
    collection = {"type": "GeometryCollection", "geometries": [polygon, multi]}
    assert count_vertices(collection, 15) == 15


@pytest.mark.parametrize(
    ("geometry", "why"),
    [
        ({"type": "LineString", "coordinates": _ring(11)}, "more than 10"),
        ({"type": "Polygon", "coordinates": [_ring(6), _ring(6)]}, "more than 10"),
        ({"type": "GeometryCollection", "geometries": [
            {"type": "LineString", "coordinates": _ring(6)},
            {"type": "LineString", "coordinates": _ring(6)}]}, "more than 4"),
        ({"type": "Polygon", "coordinates": _ring(3)}, "[lon, lat]"),
        ({"type": "MultiLineString", "coordinates": [1.0, 2.0]}, "too shallow"),
        ({"type": "Point", "coordinates": [200.0, 0.0]}, "[lon, lat]"),
        ({"type": "Circle", "coordinates": [0.0, 0.0]}, "unknown geometry type"),
        ([1, 2], "JSON object"),
    ],
)  # fmt: skip
def test_too_many_vertices_or_a_malformed_geometry_is_refused(geometry: object, why: str) -> None:
    with pytest.raises(GeometryError) as info:
        count_vertices(geometry, 10)
    assert why in str(info.value)


# -- query parameters --------------------------------------------------------------------------


def test_a_bbox_is_four_plain_numbers_in_range() -> None:
    assert bbox_of("170,-10.5,-170,10") == BBox(170.0, -10.5, -170.0, 10.0)
    assert bbox_of(None) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1,2,3", "four numbers"),
        ("0,-95,1,1", "latitudes"),
        ("-181,0,1,1", "longitudes"),
        ("0,10,1,5", "south must not exceed north"),
        ("1e1,0,20,1", "plain decimal numbers"),
        (" 1,0,2,1", "plain decimal numbers"),
        ("", "plain decimal numbers"),
    ],
)
def test_a_bad_bbox_is_a_422_on_the_bbox_parameter(text: str, why: str) -> None:
    with pytest.raises(HTTPException) as info:
        bbox_of(text)
    assert info.value.status_code == 422
    (issue,) = info.value.detail
    assert issue["loc"] == ["query", "bbox"]
    assert why in issue["msg"]


def test_the_status_filter_takes_the_detectors_statuses() -> None:
    assert set(get_args(EventStatus)) == set(EVENT_STATUSES)
