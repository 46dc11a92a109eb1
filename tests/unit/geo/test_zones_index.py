"""ZoneIndex answers exactly what shapely answers on the zones themselves, only faster."""

from __future__ import annotations

import math

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from lookout.geo.zones import Regime, Zone, ZoneError, ZoneIndex, split_antimeridian


def make_zone(zone_id: str, geometry: shapely.Geometry, regime: Regime = Regime.WATCH_AREA) -> Zone:
    owners = ("PHL-PCG", "CHN") if regime is Regime.DISPUTED else ("PHL-PCG",)
    return Zone(zone_id, zone_id, regime, owners, geometry)


def brute_force(zones: list[Zone], lat: float, lon: float) -> list[str]:
    """The oracle: every zone whose closed polygon holds the point, tested one by one."""
    return [z.id for z in zones if shapely.intersects_xy(z.geometry, lon, lat)]


def ids(index: ZoneIndex, lat: float, lon: float) -> list[str]:
    return [z.id for z in index.zones_at(lat, lon)]


def wiggly(cx: float, cy: float, radius: float, vertices: int, seed: int) -> Polygon:
    """A coastline-like star-shaped polygon with many vertices."""
    pts = []
    for i in range(vertices):
        a = 2 * math.pi * i / vertices
        r = radius * (1 + 0.2 * math.sin(7 * a + seed) + 0.05 * math.sin(41 * a + 2 * seed))
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return Polygon(pts)


def test_positions_inside_outside_and_on_the_boundary():
    index = ZoneIndex([make_zone("sq", box(120.0, 10.0, 121.0, 11.0))])
    assert ids(index, 10.5, 120.5) == ["sq"]
    assert ids(index, 10.5, 121.5) == []
    assert ids(index, 10.5, 121.0) == ["sq"]  # on the eastern edge: inside
    assert ids(index, 11.0, 120.0) == ["sq"]  # on a corner: inside
    assert ids(index, 11.0 + 1e-9, 120.5) == []
    assert ids(index, -80.0, 0.0) == []  # far outside the grid


def test_overlapping_zones_all_answer_in_the_order_given():
    disputed = make_zone("disputed", box(114.0, 8.0, 118.0, 12.0), Regime.DISPUTED)
    ts = make_zone("ts", Point(116.0, 10.0).buffer(0.2), Regime.TERRITORIAL_SEA)
    index = ZoneIndex([disputed, ts])
    assert ids(index, 10.0, 116.0) == ["disputed", "ts"]
    assert index.ids_at(10.0, 116.0) == ("disputed", "ts")
    assert ids(index, 9.0, 115.0) == ["disputed"]
    assert [z.id for z in ZoneIndex([ts, disputed]).zones_at(10.0, 116.0)] == ["ts", "disputed"]


def test_a_zone_across_the_antimeridian_holds_both_sides_and_180_itself():
    fiji = make_zone("fiji", split_antimeridian(box(175.0, -20.0, 182.0, -15.0)))
    index = ZoneIndex([fiji])
    for lon in (176.0, 179.999, 180.0, -180.0, -179.0, -178.0, 181.0):
        assert ids(index, -17.0, lon) == ["fiji"], lon
    for lon in (174.0, -177.5, 0.0):
        assert ids(index, -17.0, lon) == [], lon


def test_unusable_positions_hold_no_zone():
    index = ZoneIndex([make_zone("sq", box(0.0, 0.0, 1.0, 1.0))])
    assert index.zones_at(float("nan"), 0.5) == ()
    assert index.zones_at(0.5, float("nan")) == ()
    assert index.zones_at(91.0, 0.5) == ()
    assert index.zones_at(0.5, 360.5) == index.zones_at(0.5, 0.5)  # longitudes wrap


def test_an_empty_index_holds_nothing_and_ids_must_be_unique():
    assert ZoneIndex().zones_at(10.0, 120.0) == ()
    assert len(ZoneIndex()) == 0
    a = make_zone("a", box(0, 0, 1, 1))
    with pytest.raises(ZoneError, match="repeated: a"):
        ZoneIndex([a, make_zone("a", box(2, 2, 3, 3))])
    assert ZoneIndex([a]).get("a") is a and ZoneIndex([a]).get("b") is None


def test_many_detailed_zones_agree_with_shapely_near_every_boundary():
    zones = [
        make_zone(f"z{i}", wiggly(110 + 2.5 * (i % 4), 5 + 2.5 * (i // 4), 1.6, 600 + 150 * i, i))
        for i in range(12)
    ]
    index = ZoneIndex(zones)
    probes = []
    for z in zones:  # on, just inside and just outside the boundary
        for x, y in shapely.get_coordinates(z.geometry)[::7]:
            for d in (0.0, 1e-6, -1e-6, 3e-3, -3e-3):
                probes.append((y + d, x + d))
    for i in range(4000):  # and a lattice over the whole area
        probes.append((3.0 + 10.0 * (i % 63) / 63, 108.0 + 11.0 * (i // 63) / 63))
    wrong = [
        (lat, lon) for lat, lon in probes if ids(index, lat, lon) != brute_force(zones, lat, lon)
    ]
    assert wrong == []


boxes = st.tuples(
    st.floats(-10, 10), st.floats(-10, 10), st.floats(0.01, 8), st.floats(0.01, 8)
).map(lambda t: box(t[0], t[1], t[0] + t[2], t[1] + t[3]))
blobs = st.tuples(st.floats(-10, 10), st.floats(-10, 10), st.floats(0.05, 5)).map(
    lambda t: Point(t[0], t[1]).buffer(t[2], 8)
)


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(st.one_of(boxes, blobs), min_size=1, max_size=6),
    points=st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=1, max_size=40),
    max_cells=st.sampled_from([4, 64, 1024]),
)
def test_the_index_agrees_with_shapely_for_any_zones_and_positions(shapes, points, max_cells):
    zones = [make_zone(f"z{i}", g) for i, g in enumerate(shapes)]
    index = ZoneIndex(zones, max_cells=max_cells)
    corners = [(y, x) for g in shapes for x, y in shapely.get_coordinates(g)]
    for lat, lon in points + corners:
        assert ids(index, lat, lon) == brute_force(zones, lat, lon)
