"""``lookout detect`` on real recorded tracks (../shared/data/tracks, see each PROVENANCE.md),
run as a user runs it: a subprocess writing events to a JSON-lines file."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from serve_process import LOOKOUT

from lookout.geo.distance import distance_m

Events = dict[str, dict[str, Any]]
VESSEL_KINDS = "speed_anomaly,identity_conflict,position_on_land"


def detect(tmp_path: Path, *args: str) -> Events:
    """Run ``lookout detect``; the final version of every event by id."""
    out = tmp_path / "events.jsonl"
    result = subprocess.run(
        [*LOOKOUT, "detect", *args, "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "lookout detect" in result.stdout  # the summary
    final: Events = {}
    for line in out.read_text().splitlines():
        event = json.loads(line)
        final[event["id"]] = event  # a later line with the same id replaces the earlier one
    return final


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _live(events: Events, kind: str) -> list[dict[str, Any]]:
    return [e for e in events.values() if e["kind"] == kind and e["status"] != "retracted"]


def test_the_gfw_encounter_pair_gives_gfws_encounter(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "tracks" / "gfw-encounter-pair-2015"
    events = detect(tmp_path, str(folder / "positions.csv"))  # every detector, installed ports
    expected = json.loads((folder / "expected_encounters.json").read_text())["encounters"]
    # GFW computes each vessel's encounters on its own; the pair's whole encounter is the longer
    gfw = max(expected, key=lambda e: _ts(e["end"]) - _ts(e["start"]))
    (encounter,) = _live(events, "encounter")
    assert encounter["status"] == "confirmed"
    assert encounter["mmsis"] == sorted([int(gfw["vessel_1"]), int(gfw["vessel_2"])])
    assert abs(_ts(encounter["start"]) - _ts(gfw["start"])) <= 600
    assert abs(_ts(encounter["end"]) - _ts(gfw["end"])) <= 600


def _segmenter_positions(path: Path) -> list[tuple[float, float, float]]:
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            row = json.loads(line)
            if abs(row["lat"]) <= 90 and abs(row["lon"]) <= 180:  # NaN and 91/181 are not
                out.append((datetime.fromisoformat(row["timestamp"]).timestamp(), row["lat"],
                            row["lon"]))  # fmt: skip
    return sorted(out)


def _several_vessels(path: Path) -> bool:
    """The MMSI is repeatedly (10+ times) in two places > 100 km apart within 10 minutes:
    324 knots, which no one vessel does (as tests/unit/detectors/test_per_vessel_real_data)."""
    moves = itertools.pairwise(_segmenter_positions(path))
    return sum(1 for a, b in moves if b[0] - a[0] <= 600 and distance_m(*a[1:], *b[1:]) > 1e5) >= 10


def test_identity_conflicts_on_the_segmenter_tracks(shared_data: Path, tmp_path: Path) -> None:
    files = sorted((shared_data / "tracks" / "gfw-segmenter" / "regression").glob("*.json.gz"))
    assert len(files) == 28
    expected = {int(p.name[5:-8]) for p in files if _several_vessels(p)}
    # PROVENANCE names these as shared MMSIs: 412331088 (two ship names), 567000000 (several
    # Thai vessels), 666000001 ("UAIS TEST")
    assert {412331088, 567000000, 666000001} <= expected
    events = detect(tmp_path, *map(str, files), "--detectors", "identity_conflict")
    conflicts = _live(events, "identity_conflict")
    found = {e["mmsi"] for e in conflicts if e["details"]["reason"] == "alternating_positions"}
    assert found == expected


@pytest.fixture(scope="module")
def clean_runs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Events]:
    tmp = tmp_path_factory.mktemp("clean")
    runs = {}
    for name in ("boston-2014/demodata_ais.csv", "gfw-pyseas/position_messages.csv.gz"):
        path = shared_data / "tracks" / name
        runs[name] = detect(tmp, str(path), "--detectors", VESSEL_KINDS)  # default thresholds
    return runs


CLEAN = ["boston-2014/demodata_ais.csv", "gfw-pyseas/position_messages.csv.gz"]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_tracks_raise_no_speed_anomaly(clean_runs: dict[str, Events], name: str) -> None:
    assert _live(clean_runs[name], "speed_anomaly") == []


@pytest.mark.parametrize("name", CLEAN)
def test_clean_tracks_raise_no_identity_conflict(clean_runs: dict[str, Events], name: str) -> None:
    assert _live(clean_runs[name], "identity_conflict") == []


@pytest.mark.parametrize(("name", "bad_positions"), [(CLEAN[0], []), (CLEAN[1], [(49.33, 79.75)])])
def test_clean_tracks_are_not_on_land(
    clean_runs: dict[str, Events], name: str, bad_positions: list[tuple[float, float]]
) -> None:
    """The one position on land in gfw-pyseas is a corrupt report of 220413000 in Kazakhstan,
    8,250 km from its positions 25 s before and after: on land by any data set."""
    found = _live(clean_runs[name], "position_on_land")
    assert [(round(e["lat"], 2), round(e["lon"], 2)) for e in found] == bad_positions


def test_the_alternations_on_pyseas_are_late_echoes_of_the_vessels_own_track(
    clean_runs: dict[str, Events], shared_data: Path, tmp_path: Path
) -> None:
    """Without the echo rule (``echo_window_s = 0``) gfw-pyseas alternates near Busan, where
    GFW's segmenter (``seg_id``) also runs two concurrent segments on the MMSI; with it, what
    is still raised there is retracted as a copy of the vessel's own track, hours late
    (docs/detectors.md#identity_conflict)."""
    path = shared_data / "tracks" / "gfw-pyseas" / "position_messages.csv.gz"
    config = tmp_path / "no-echoes.toml"
    config.write_text("[identity_conflict]\necho_window_s = 0\n")
    without = detect(
        tmp_path, str(path), "--detectors", "identity_conflict", "--config", str(config)
    )
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        rows = [(int(r["ssvid"]), _ts(r["timestamp"]), r["seg_id"]) for r in csv.DictReader(stream)]
    alternations = _live(without, "identity_conflict")
    assert alternations
    for event in alternations:
        start, end = _ts(event["start"]), _ts(event["end"])
        segments = {seg for mmsi, ts, seg in rows if mmsi == event["mmsi"] and start <= ts <= end}
        assert len(segments) >= 2, event["id"]
    raised = [e for e in clean_runs[CLEAN[1]].values() if e["kind"] == "identity_conflict"]
    assert {e["id"] for e in raised} <= {e["id"] for e in alternations}
    for event in raised:
        assert event["status"] == "retracted", event["id"]
        assert 3600 <= event["details"]["echo_late_s"] <= 12 * 3600, event["id"]
