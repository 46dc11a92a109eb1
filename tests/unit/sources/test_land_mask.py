"""The installed 1 km land mask as a Shore: signed distances, small islets, the package's cells."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from global_land_mask import globe

from lookout.geo.distance import destination
from lookout.sources.land_mask import LandMaskShore


@pytest.fixture(scope="module")
def shore() -> LandMaskShore:
    return LandMaskShore()


def test_land_and_sea_are_the_packages_cells(shore: LandMaskShore) -> None:
    rng = random.Random(7)
    points = [(rng.uniform(-89.9, 89.9), rng.uniform(-180.0, 180.0)) for _ in range(5000)]
    lats, lons = np.array(points).T
    expected = globe.is_land(lats.copy(), lons.copy())
    assert [shore.is_land(a, o) for a, o in points] == expected.tolist()
    assert shore.land_flags(lats, lons).tolist() == expected.tolist()


def test_distances_are_signed_positive_at_sea_negative_inland(shore: LandMaskShore) -> None:
    assert shore.distance_to_shore_m(0.0, -140.0) == 200_000.0  # mid-Pacific: "at least"
    inland = shore.distance_to_shore_m(15.6, 120.9)  # central Luzon
    assert -62_000 < inland < -54_000


def test_a_one_cell_islet_far_out_is_found(shore: LandMaskShore) -> None:
    # Spratly Islands: the nearest land to (10.331 N, 114.064 E) is a one-cell islet at
    # about (10.37, 114.36), 32 km east; sampling a few bearings per ring missed it.
    islet = shore.distance_to_shore_m(10.331, 114.064)
    assert 30_000 < islet < 35_000


def test_distance_grows_moving_away_from_a_coast(shore: LandMaskShore) -> None:
    # west off the Zambales coast of Luzon, into the open South China Sea
    start = (15.5, 119.9)
    near = shore.distance_to_shore_m(*destination(*start, 270.0, 5_000.0))
    far = shore.distance_to_shore_m(*destination(*start, 270.0, 40_000.0))
    assert 0 < near < far
    assert far - near == pytest.approx(35_000, abs=3_000)


def test_a_second_process_maps_the_cached_mask_instead_of_decompressing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import global_land_mask

    from lookout.sources import land_mask

    small = SimpleNamespace(  # a 4 x 8 world: one land cell
        _mask=np.ones((4, 8), dtype=bool),
        _lat=np.array([90.0, 45.0]),
        _lon=np.array([-180.0, -135.0]),
    )
    small._mask[0, 2] = False  # 90 to 45 N, 90 to 45 W
    monkeypatch.setattr(global_land_mask, "globe", small)
    monkeypatch.setenv("LOOKOUT_CACHE_DIR", str(tmp_path / "cache"))
    first = land_mask.LandMaskShore()  # from the package, and written to the cache
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".json", ".npy"]
    monkeypatch.setattr(global_land_mask, "globe", None)  # a second load must not need it
    second = land_mask.LandMaskShore()
    assert isinstance(second._ocean.base, np.memmap) and not second._ocean.flags.writeable
    for lat, lon in ((50.0, -80.0), (10.0, -80.0), (-60.0, 170.0)):
        assert second.is_land(lat, lon) == first.is_land(lat, lon)
    assert second.is_land(50.0, -80.0) and not second.is_land(10.0, -80.0)


def test_an_unwritable_cache_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setenv("LOOKOUT_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert LandMaskShore().is_land(48.85, 2.35)  # Paris, from the package's own load
