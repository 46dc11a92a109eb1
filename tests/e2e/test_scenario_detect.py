"""Exercises through the real ``lookout detect``: every expected event is found, no near miss
fires, and the background raises nothing of its own (the commands a user runs, as
subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lookout.sources.scenario_match import final_events, read_jsonl, score

LOOKOUT = str(Path(sys.executable).parent / "lookout")


def _run(*args: str) -> None:
    done = subprocess.run([LOOKOUT, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_seed_of_several_scenarios_scores_perfectly(tmp_path: Path) -> None:
    names = ["second-thomas-resupply", "dark-transfer", "identity-spoof", "dark-vessel"]
    _run("scenario", *names, "--seed", "11", "--out", str(tmp_path))
    _run(
        "detect",
        str(tmp_path / "exercise.nmea"),
        "--zones",
        str(tmp_path / "zones.geojson"),
        "--detections",
        str(tmp_path / "detections.csv"),
        "--out",
        str(tmp_path / "events.jsonl"),
    )
    labels = read_jsonl((tmp_path / "labels.jsonl").read_text())
    events = final_events(read_jsonl((tmp_path / "events.jsonl").read_text()))
    result = score(labels, events)
    assert result.missed == []
    assert result.near_misses_fired == []
    assert result.unexplained == []
    found = {kind for kind, s in result.kinds.items() if s.tp}
    assert found == {
        "shadowing",
        "close_approach",
        "encounter",
        "ais_gap",
        "identity_conflict",
        "dark_vessel",
    }
