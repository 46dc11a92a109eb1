"""The per-vessel detectors on real tracks (../shared/data/tracks, see their PROVENANCE.md)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from vessel_scenarios import file_observations, run_all, segmenter_observations

from lookout.detectors.identity import IdentityConflictDetector
from lookout.detectors.land import PositionOnLandConfig, PositionOnLandDetector
from lookout.detectors.speed import SpeedAnomalyDetector
from lookout.geo.distance import distance_m


def _impossible_moves(observations: list) -> int:
    """Consecutive positions at most 10 minutes apart and more than 100 km apart: 324 knots,
    a move no vessel makes."""
    obs = sorted(observations, key=lambda o: o.observed_ts)
    return sum(
        1
        for a, b in itertools.pairwise(obs)
        if b.observed_ts - a.observed_ts <= 600 and distance_m(a.lat, a.lon, b.lat, b.lon) > 1e5
    )


def test_identity_conflicts_are_reported_for_the_segmenter_mmsis_that_carry_several_vessels(
    shared_data: Path,
) -> None:
    files = sorted((shared_data / "tracks" / "gfw-segmenter" / "regression").glob("*.json.gz"))
    assert len(files) == 28
    expected, found, speed = set(), set(), {}
    for path in files:
        obs = segmenter_observations(path)
        mmsi = obs[0].mmsi
        # Several vessels at once: the MMSI is repeatedly in two places >100 km apart within
        # 10 minutes. (PROVENANCE names these as shared MMSIs: 412331088 with two ship
        # names, 567000000 used by several Thai vessels, 666000001 "UAIS TEST", ...)
        if _impossible_moves(obs) >= 10:
            expected.add(mmsi)
        events = run_all(IdentityConflictDetector(), obs)
        if any(e["details"]["reason"] == "alternating_positions" for e in events):
            found.add(mmsi)
        speed[mmsi] = run_all(SpeedAnomalyDetector(), obs)
    assert {412331088, 567000000, 666000001} <= expected
    assert found == expected
    # a clean single-vessel track on a single MMSI raises no speed anomaly either
    assert not speed[224306000] and not speed[636019687]


@pytest.mark.parametrize(
    "relative", ["boston-2014/demodata_ais.csv", "gfw-pyseas/position_messages.csv.gz"]
)
def test_clean_tracks_raise_no_speed_anomaly(shared_data: Path, relative: str) -> None:
    obs = list(file_observations(shared_data / "tracks" / relative))
    assert len({o.mmsi for o in obs}) in (3, 4)
    assert run_all(SpeedAnomalyDetector(), obs) == []


@pytest.mark.parametrize(
    "relative", ["boston-2014/demodata_ais.csv", "gfw-pyseas/position_messages.csv.gz"]
)
def test_clean_tracks_raise_no_identity_conflict(shared_data: Path, relative: str) -> None:
    """gfw-pyseas carries late satellite copies of its vessels' own tracks: what they raise
    is retracted as an echo (docs/detectors.md#identity_conflict)."""
    obs = list(file_observations(shared_data / "tracks" / relative))
    events = {e["id"]: e for e in run_all(IdentityConflictDetector(), obs)}
    assert [e for e in events.values() if e["status"] != "retracted"] == []


@pytest.mark.parametrize(
    ("relative", "bad_positions"),
    [
        ("boston-2014/demodata_ais.csv", []),
        ("gfw-pyseas/position_messages.csv.gz", [(49.33, 79.75)]),
    ],
)
def test_clean_tracks_are_not_on_land_under_the_global_land_mask(
    shared_data: Path, relative: str, bad_positions: list[tuple[float, float]]
) -> None:
    """The 1 km mask reads Boston's inner harbour and the Pearl River estuary as land up to
    about 7 km from their coast, so the default 2 km cannot be used with it there; 10 km is.
    The one event left is a corrupt report of 220413000 in Kazakhstan, 8,250 km from the
    positions 25 s before and after it: a position on land by any data set."""
    from lookout.sources.land_mask import LandMaskShore

    obs = list(file_observations(shared_data / "tracks" / relative))
    config = PositionOnLandConfig(min_inland_m=10_000.0)
    events = run_all(PositionOnLandDetector(config, shore=LandMaskShore()), obs)
    confirmed = [e for e in events if e["status"] == "confirmed"]
    assert [(round(e["lat"], 2), round(e["lon"], 2)) for e in confirmed] == bad_positions
