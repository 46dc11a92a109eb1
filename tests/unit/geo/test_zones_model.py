"""Zones: the legal regimes, validation that names the zone, and the antimeridian split."""

from __future__ import annotations

import dataclasses

import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from lookout.geo.zones import Regime, Zone, ZoneError, split_antimeridian

SQUARE = box(120.0, 10.0, 121.0, 11.0)


def zone(**changes: object) -> Zone:
    fields: dict[str, object] = {
        "id": "z1",
        "name": "Zone one",
        "regime": Regime.TERRITORIAL_SEA,
        "owners": ("PHL-PCG",),
        "geometry": SQUARE,
    }
    fields.update(changes)
    return Zone(**fields)  # type: ignore[arg-type]


def test_the_regimes_are_the_eight_the_issue_names():
    assert {r.value for r in Regime} == {
        "territorial_sea",
        "contiguous_zone",
        "eez",
        "internal_waters",
        "archipelagic_waters",
        "protected_area",
        "disputed",
        "watch_area",
    }


def test_a_zone_is_a_frozen_value_and_takes_the_regime_as_a_string():
    z = zone(regime="eez", owners=["PHL-PCG"])
    assert z.regime is Regime.EEZ and z.owners == ("PHL-PCG",)
    assert not z.approximate and z.source == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        z.name = "other"  # type: ignore[misc]


def test_an_invalid_polygon_is_refused_naming_the_zone_and_the_fault():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ZoneError, match=r"zone 'z1'.*Self-intersection"):
        zone(geometry=bowtie)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": " "}, "id is empty"),
        ({"regime": "high_seas"}, "unknown regime 'high_seas'"),
        ({"regime": Regime.DISPUTED, "owners": ("CHN",)}, "every claimant"),
        ({"owners": ()}, "territorial_sea zone needs its owner"),
        ({"owners": ("PHL", "PHL")}, "listed twice"),
        ({"owners": ("PHL", "")}, "owner is empty"),
        ({"geometry": LineString([(0, 0), (1, 1)])}, "LineString, not a Polygon"),
        ({"geometry": Polygon()}, "empty"),
        ({"geometry": box(170, 0, 190, 10)}, "outside lon -180..180"),
        ({"geometry": box(0, 80, 1, 91)}, "outside lon -180..180"),
    ],
)
def test_a_bad_zone_is_refused_with_what_is_wrong(changes: dict[str, object], message: str):
    with pytest.raises(ZoneError, match=message):
        zone(**changes)


def test_watch_areas_and_protected_areas_need_no_owner_and_disputes_list_claimants():
    assert zone(regime=Regime.WATCH_AREA, owners=()).owners == ()
    assert zone(regime=Regime.PROTECTED_AREA, owners=()).owners == ()
    claimants = ("PHL-PCG", "CHN", "VNM")
    assert zone(regime=Regime.DISPUTED, owners=claimants).owners == claimants


# -- antimeridian ------------------------------------------------------------------------------


def covers(geometry: shapely.Geometry, lat: float, lon: float) -> bool:
    return bool(shapely.intersects_xy(geometry, lon, lat))


def test_a_polygon_written_past_180_is_split_into_two_parts_within_the_world():
    split = split_antimeridian(box(170.0, -10.0, 190.0, 10.0))
    assert isinstance(split, MultiPolygon) and len(split.geoms) == 2
    assert split.bounds == (-180.0, -10.0, 180.0, 10.0)
    assert split.area == pytest.approx(400.0)  # 20 x 20 degrees, nothing lost
    assert covers(split, 0.0, 175.0) and covers(split, 0.0, -175.0)
    assert covers(split, 0.0, 180.0) and covers(split, 0.0, -180.0)
    assert not covers(split, 0.0, 0.0) and not covers(split, 0.0, -169.0)


def test_a_ring_that_jumps_from_179_to_minus_179_is_read_the_short_way_round():
    jumping = Polygon([(170, -10), (-170, -10), (-170, 10), (170, 10)])
    split = split_antimeridian(jumping)
    assert split.area == pytest.approx(400.0)  # not the 340-degree-wide reading
    assert shapely.equals(split, split_antimeridian(box(170, -10, 190, 10)))


def test_a_hole_across_the_antimeridian_stays_a_hole():
    shell = [(170, -10), (-170, -10), (-170, 10), (170, 10)]
    hole = [(175, -1), (-175, -1), (-175, 1), (175, 1)]
    split = split_antimeridian(Polygon(shell, [hole]))
    assert split.is_valid and split.area == pytest.approx(400.0 - 20.0)
    assert not covers(split, 0.0, 179.0) and not covers(split, 0.0, -179.0)
    assert covers(split, 5.0, 179.0) and covers(split, 5.0, -179.0)


def test_a_polygon_within_the_world_comes_back_unchanged():
    assert split_antimeridian(SQUARE) is SQUARE


def test_a_ring_around_a_pole_is_refused():
    around = Polygon([(0, 80), (120, 80), (-120, 80), (0, 80)])
    with pytest.raises(ZoneError, match="pole"):
        split_antimeridian(around)


def test_a_split_zone_is_a_valid_zone():
    split = split_antimeridian(box(175.0, -20.0, 182.0, -15.0))  # Fiji's longitudes
    assert zone(geometry=split).geometry.is_valid
