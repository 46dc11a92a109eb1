"""The bundled South China Sea region pack (built by ``make regions``): layers, ownership,
distances checked with geodesics on the WGS84 ellipsoid, and attribution.

Without the pack the tests skip on a laptop and fail under CI=true (``make test`` builds it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from lookout.geo.zones import Regime, ZoneIndex
from lookout.sources.region_pack import (
    ZONE_LAYERS,
    RegionPack,
    RegionPackError,
    load_region_pack,
    region_pack_path,
)

GEOD = Geod(ellps="WGS84")
NM = 1852.0
ROOT = Path(__file__).resolve().parents[3]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
APPROXIMATE = "approximate, not a legal boundary"
REEFS = {  # English Wikipedia infoboxes
    "scs-watch-scarborough-shoal": (15.183, 117.767),
    "scs-watch-second-thomas-shoal": (9.733, 115.867),
    "scs-watch-whitsun-reef": (9.994, 114.658),
}


@pytest.fixture(scope="module")
def pack() -> RegionPack:
    try:
        return load_region_pack("scs")
    except RegionPackError as exc:
        if IN_CI:
            pytest.fail(f"required in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def index(pack: RegionPack) -> ZoneIndex:
    return ZoneIndex(pack.zones)


@pytest.fixture(scope="module")
def coast(pack: RegionPack) -> shapely.MultiLineString:
    return shapely.union_all(pack.land).boundary


def ids(index: ZoneIndex, lat: float, lon: float, regime: Regime | None = None) -> list[str]:
    return [z.id for z in index.zones_at(lat, lon) if regime is None or z.regime is regime]


def offshore(coast: shapely.Geometry, lat: float, lon: float, nm: float) -> tuple[float, float]:
    """The point ``nm`` nautical miles out from the coast point nearest (lat, lon), heading
    from that coast point towards (lat, lon) (a sea point)."""
    near = shapely.get_point(shapely.shortest_line(coast, shapely.Point(lon, lat)), 0)
    azimuth, _, _ = GEOD.inv(near.x, near.y, lon, lat)
    out_lon, out_lat, _ = GEOD.fwd(near.x, near.y, azimuth, nm * NM)
    return out_lat, out_lon


def test_every_layer_is_there_and_the_inputs_are_the_locked_packages(pack: RegionPack) -> None:
    for regime in ZONE_LAYERS:
        assert pack.layer(regime), regime
    assert len(pack.land) > 100
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for item in pack.meta["inputs"]:
        assert item["version"] == lock["packages"][f"node_modules/{item['name']}"]["version"]
    west, south, east, north = shapely.total_bounds([z.geometry for z in pack.zones]).tolist()
    region = pack.meta["region"]
    assert region["west"] <= west and east <= region["east"]
    assert region["south"] <= south and north <= region["north"]


def test_attribution_is_carried_by_the_pack_and_its_zones(pack: RegionPack) -> None:
    assert "© OpenStreetMap contributors, ODbL" in pack.attribution
    assert "Made with Natural Earth" in pack.attribution
    assert all("OpenStreetMap" in z.source for z in pack.layer("territorial_sea"))
    assert all("Natural Earth" in z.source for z in pack.layer("eez"))
    readme = (region_pack_path("scs") / "README.md").read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors, ODbL" in readme and "Made with Natural Earth" in readme


def test_derived_boundaries_are_labelled_approximate(pack: RegionPack) -> None:
    for zone in [*pack.layer("eez"), *pack.layer("disputed")]:
        assert zone.approximate and APPROXIMATE in zone.name, zone.id
    assert not any(z.approximate for z in pack.layer("territorial_sea"))


def test_watch_areas_hold_their_reef_and_end_near_twelve_nm(
    pack: RegionPack, index: ZoneIndex
) -> None:
    assert {z.id for z in pack.layer("watch_area")} == set(REEFS)
    for zone_id, (lat, lon) in REEFS.items():
        assert zone_id in ids(index, lat, lon)
        for azimuth in (0.0, 135.0, 270.0):
            inside_lon, inside_lat, _ = GEOD.fwd(lon, lat, azimuth, 11.8 * NM)
            outside_lon, outside_lat, _ = GEOD.fwd(lon, lat, azimuth, 12.2 * NM)
            assert zone_id in ids(index, inside_lat, inside_lon)
            assert zone_id not in ids(index, outside_lat, outside_lon)


def test_disputed_areas_list_every_claimant(pack: RegionPack, index: ZoneIndex) -> None:
    scarborough = next(z for z in pack.layer("disputed") if "scarborough" in z.id)
    assert {"PHL-PCG", "CHN", "TWN"} <= set(scarborough.owners)
    assert scarborough.id in ids(index, 15.183, 117.767)
    spratly = next(z for z in pack.layer("disputed") if "spratly" in z.id)
    assert {"PHL-PCG", "VNM-VCG", "MYS-MMEA", "CHN", "TWN", "BRN"} <= set(spratly.owners)
    for lat, lon in (REEFS["scs-watch-second-thomas-shoal"], REEFS["scs-watch-whitsun-reef"]):
        assert spratly.id in ids(index, lat, lon)
    assert not ids(index, 14.0, 111.0, Regime.DISPUTED)  # open sea west of Macclesfield Bank


@pytest.mark.parametrize(
    ("toward", "owner"),
    [((15.5, 119.0), "PHL-PCG"), ((12.0, 110.0), "VNM-VCG"), ((21.5, 114.0), "CHN")],
)
def test_territorial_sea_reaches_five_nm_not_thirty(
    coast: shapely.Geometry, index: ZoneIndex, toward: tuple[float, float], owner: str
) -> None:
    near = offshore(coast, *toward, 5.0)
    far = offshore(coast, *toward, 30.0)
    assert [z.owners for z in index.zones_at(*near) if z.regime is Regime.TERRITORIAL_SEA] == [
        (owner,)
    ]
    assert not ids(index, *far, Regime.TERRITORIAL_SEA)


def test_a_point_100_nm_off_luzon_is_in_the_philippine_eez(
    coast: shapely.Geometry, index: ZoneIndex
) -> None:
    lat, lon = offshore(coast, 15.5, 119.0, 100.0)
    assert lon < 118.5  # west of Luzon
    assert [z.owners for z in index.zones_at(lat, lon) if z.regime is Regime.EEZ] == [("PHL-PCG",)]


def _coast_owners(pack: RegionPack, coast: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Coast vertices and the state whose territorial sea touches each ("" for none or
    several, or inside a disputed area): the coasts that generate EEZs."""
    xy = shapely.get_coordinates(coast)
    states = np.full(len(xy), "", dtype=object)
    counts = np.zeros(len(xy), dtype=int)
    seen: dict[str, np.ndarray] = {}
    for zone in pack.layer("territorial_sea"):
        iso = zone.id.removeprefix("scs-ts-")
        state = "CHN" if iso in {"HKG", "MAC"} else iso
        hit = shapely.dwithin(zone.geometry, shapely.points(xy), 0.02)
        seen[state] = seen.get(state, np.zeros(len(xy), dtype=bool)) | hit
    for state, hit in seen.items():
        states[hit] = state
        counts += hit
    disputed = shapely.union_all([z.geometry for z in pack.layer("disputed")])
    states[(counts != 1) | shapely.contains_xy(disputed, xy[:, 0], xy[:, 1])] = ""
    keep = states != ""
    return xy[keep], states[keep]


def _sphere_nm(lat: float, lon: float, xy: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat), np.radians(xy[:, 1])
    dl = np.radians(xy[:, 0] - lon)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(h)) / NM


def test_eez_belongs_to_the_nearer_coast_within_200_nm(
    pack: RegionPack, coast: shapely.Geometry, index: ZoneIndex
) -> None:
    """Random sea points, checked against distances computed here, independently of the
    build's projection: the nearer state's EEZ within 200 nm, none beyond. Points within
    6 nm of a median line or of the 200 nm limit are skipped (projection and sphere)."""
    xy, states = _coast_owners(pack, coast)
    land = shapely.union_all(pack.land)
    rng = np.random.default_rng(7)
    checked = {"owned": 0, "none": 0}
    for lat, lon in zip(rng.uniform(2, 22, 400), rng.uniform(103, 122, 400), strict=True):
        if shapely.intersects_xy(land, lon, lat):
            continue
        d = _sphere_nm(lat, lon, xy)
        best = {s: float(d[states == s].min()) for s in set(states)}
        ranked = sorted(best, key=lambda s: best[s])
        first, second = best[ranked[0]], best[ranked[1]]
        eez = [z.id for z in index.zones_at(lat, lon) if z.regime is Regime.EEZ]
        if first > 206:
            assert eez == [], (lat, lon, first)
            checked["none"] += 1
        elif first < 194 and second - first > 6:
            assert eez == [f"scs-eez-{ranked[0]}"], (lat, lon, best)
            checked["owned"] += 1
    assert checked["owned"] > 100 and checked["none"] > 20


def test_a_point_halfway_between_viet_nam_and_the_philippines_goes_to_the_nearer_coast(
    pack: RegionPack, coast: shapely.Geometry, index: ZoneIndex
) -> None:
    xy, states = _coast_owners(pack, coast)
    # the Vietnamese coast near Nha Trang and Luzon's west coast, and points between them
    (vn_lat, vn_lon), (ph_lat, ph_lon) = (
        offshore(coast, 12.0, 110.0, 0),
        offshore(coast, 15.5, 119.0, 0),
    )
    for fraction in (0.2, 0.3, 0.5, 0.7, 0.8):
        lon, lat = GEOD.fwd(
            vn_lon,
            vn_lat,
            GEOD.inv(vn_lon, vn_lat, ph_lon, ph_lat)[0],
            fraction * GEOD.inv(vn_lon, vn_lat, ph_lon, ph_lat)[2],
        )[:2]
        d_vn = float(_sphere_nm(lat, lon, xy[states == "VNM"]).min())
        d_ph = float(_sphere_nm(lat, lon, xy[states == "PHL"]).min())
        eez = [z.owners for z in index.zones_at(lat, lon) if z.regime is Regime.EEZ]
        if min(d_vn, d_ph) > 206:
            assert eez == []
        elif min(d_vn, d_ph) < 194:
            assert eez == [("VNM-VCG",) if d_vn < d_ph else ("PHL-PCG",)], (fraction, d_vn, d_ph)


def test_a_point_250_nm_from_every_coast_that_generates_an_eez_is_in_none(
    pack: RegionPack, coast: shapely.Geometry, index: ZoneIndex
) -> None:
    """No sea point of the region is 250 nm from all land; the land nearest to this one is in
    a disputed area (the Spratly Islands), and disputed land generates no EEZ in the pack."""
    lat, lon = 14.0, 115.5
    xy, _ = _coast_owners(pack, coast)
    assert _sphere_nm(lat, lon, xy).min() > 250
    assert not ids(index, lat, lon, Regime.EEZ)
    nearest = shapely.get_point(shapely.shortest_line(coast, shapely.Point(lon, lat)), 0)
    assert any(z.geometry.contains(nearest) for z in pack.layer("disputed"))


def test_a_pack_that_is_not_built_says_to_run_make_regions() -> None:
    with pytest.raises(RegionPackError, match="make regions"):
        load_region_pack("not-a-pack")


def test_an_unknown_layer_is_refused(pack: RegionPack) -> None:
    with pytest.raises(RegionPackError, match="unknown layer"):
        load_region_pack(pack.name, layers=["reefs"])
