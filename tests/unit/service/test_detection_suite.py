"""The detector suite the server and ``lookout detect`` build: config file, subsets, errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lookout.detectors.base import detector_types
from lookout.service.detect_setup import SetupError, setup_from_settings
from lookout.service.detection import (
    DetectionSetup,
    DetectorConfigError,
    build_detectors,
    load_detector_config,
    parse_detector_config,
)
from lookout.service.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "detectors.md"


def test_the_documented_config_example_loads_and_takes_effect() -> None:
    text = DOC.read_text(encoding="utf-8").split("## Configuring detectors", 1)[1]
    example = re.search(r"```toml\n(.*?)```", text, re.S)
    assert example is not None
    kinds, configs = parse_detector_config(tomllib.loads(example.group(1)))
    assert kinds == {"zone_entry", "zone_exit", "encounter", "ais_gap", "dark_vessel"}
    built = build_detectors(DetectionSetup(kinds=kinds, configs=configs))
    assert [d.kind for d in built] == [k for k in detector_types() if k in kinds]
    encounter = next(d for d in built if d.kind == "encounter")
    assert encounter.thresholds()["max_distance_m"] == 300.0  # the file's value...
    assert encounter.thresholds()["min_duration_s"] == 1800.0  # ...on top of the profile
    gap = next(d for d in built if d.kind == "ais_gap")
    assert gap.thresholds()["min_gap_s"] == 14_400.0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[encounterz]\nx = 1\n", "[encounterz] is not a detector"),
        ("[encounter]\nmax_dist = 1\n", "[encounter] has no setting 'max_dist'"),
        ("[encounter]\nmax_distance_m = 'far'\n", "max_distance_m must be a number"),
        ("[encounter]\nmax_distance_m = -5\n", "[encounter]"),
        ("[encounter]\nprofile = 'tight'\n", "profile 'tight' is unknown"),
        ("[detectors]\nenabled = ['swarms']\n", "unknown detector 'swarms'"),
        ("[detectors\n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_table_and_key(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "detectors.toml"
    path.write_text(text)
    with pytest.raises(DetectorConfigError) as caught:
        load_detector_config(path)
    assert says in str(caught.value) and str(path) in str(caught.value)


def test_the_server_settings_choose_the_detectors(tmp_path: Path) -> None:
    every = setup_from_settings(Settings(shore="none"))
    assert every.enabled() == list(detector_types())
    assert every.near_port(1.264, 103.84, 10_000.0)  # Singapore: the installed ports are on
    assert setup_from_settings(Settings(detectors="none", shore="none")).enabled() == []
    two = setup_from_settings(Settings(detectors="encounter,swarm", shore="none"))
    assert two.enabled() == ["encounter", "swarm"]
    with pytest.raises(SetupError, match="unknown detector 'swarmz'"):
        setup_from_settings(Settings(detectors="swarmz", shore="none"))
    with pytest.raises(SetupError, match="shore must be"):
        setup_from_settings(Settings(shore="coastline"))
    missing = tmp_path / "nope.geojson"
    with pytest.raises(SetupError, match="no such file"):
        setup_from_settings(Settings(zones=(missing,), shore="none"))
