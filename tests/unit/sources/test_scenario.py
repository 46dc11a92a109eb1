"""``lookout scenario``: exercises are deterministic, labelled for every kind, marked EXERCISE,
decodable, and their episodes do not meet by accident."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from global_land_mask import globe
from typer.testing import CliRunner

from lookout.cli.main import app
from lookout.sources.scenario import (
    EXERCISE_SOURCE,
    SCENARIOS,
    ExerciseFeed,
    ScenarioError,
    build_exercise,
    contacts,
    nmea_lines,
    write_exercise,
)
from lookout.sources.scenario_background import positions
from lookout.sources.zone_files import read_zones

START = 1_748_736_000.0  # 2025-06-01T00:00:00Z
KINDS = {
    "zone_entry",
    "zone_exit",
    "ais_gap",
    "encounter",
    "loitering",
    "speed_anomaly",
    "identity_conflict",
    "position_on_land",
    "dark_vessel",
    "swarm",
    "shadowing",
    "close_approach",
}


def _small(tmp_path: Path, seed: int, name: str) -> dict[str, bytes]:
    exercise = build_exercise(["teleport", "dark-vessel"], seed=seed, start_ts=START, background=4)
    files = write_exercise(exercise, tmp_path / name)
    return {role: path.read_bytes() for role, path in files.items()}


def test_the_same_seed_gives_byte_identical_files_and_another_seed_does_not(
    tmp_path: Path,
) -> None:
    first, again = _small(tmp_path, 5, "a"), _small(tmp_path, 5, "b")
    assert first == again
    other = _small(tmp_path, 6, "c")
    assert other["nmea"] != first["nmea"]
    assert other["labels"] != first["labels"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_suite_labels_every_kind_with_positives_and_near_misses(seed: int) -> None:
    exercise = build_exercise(["all"], seed=seed, start_ts=START)
    fire = {label.kind for label in exercise.labels if label.expect == "fire"}
    silent = {label.kind for label in exercise.labels if label.expect == "silent"}
    assert fire == KINDS
    assert silent == KINDS
    assert {k for s in SCENARIOS.values() for k in s.kinds} == KINDS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_episodes_and_background_never_meet_by_accident(seed: int) -> None:
    exercise = build_exercise(["all"], seed=seed, start_ts=START)
    assert contacts(exercise.vessels, exercise.start_ts, exercise.end_ts) == []
    assert sum(v.background for v in exercise.vessels) >= 30


@pytest.mark.parametrize("seed", [2, 4])
def test_only_the_on_land_transponders_report_from_land(seed: int) -> None:
    exercise = build_exercise(["all"], seed=seed, start_ts=START)
    at_sea = [v for v in exercise.vessels if not v.group.startswith("on-land:")]
    assert len(at_sea) == len(exercise.vessels) - 2
    pos = positions(at_sea, exercise.start_ts, exercise.end_ts)
    lat, lon = pos[:, :, 0].ravel(), pos[:, :, 1].ravel()
    known = ~(lat != lat)  # not NaN
    land = globe.is_land(lat[known], lon[known])
    assert not land.any()


def test_every_line_is_marked_exercise_and_decodes(tmp_path: Path) -> None:
    exercise = build_exercise(["identity-spoof"], seed=2, start_ts=START, background=3)
    files = write_exercise(exercise, tmp_path)
    lines = files["nmea"].read_text().splitlines()
    assert lines and all(f",s:{EXERCISE_SOURCE}*" in line.split("\\")[1] for line in lines)
    result = CliRunner().invoke(app, ["decode", "--json", str(files["nmea"])])
    assert result.exit_code == 0, result.output
    decoded = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    messages = sum(1 for line in lines if line.split("!AIVDM,")[1].split(",")[1] == "1")
    assert len(decoded) == messages  # every message decodes, none rejected
    assert {m["mmsi"] for m in decoded} == {v.mmsi for v in exercise.vessels}
    names = {m["shipname"].strip() for m in decoded if m["msg_type"] == 5}
    assert {v.spec.name for v in exercise.vessels} <= names
    assert "EXERCISE - not real traffic" in files["readme"].read_text()
    labels = [json.loads(line) for line in files["labels"].read_text().splitlines()]
    assert labels and all(label["exercise"] is True for label in labels)


def test_labels_say_what_is_expected_and_when(tmp_path: Path) -> None:
    exercise = build_exercise(["incursion"], seed=1, start_ts=START, background=2)
    files = write_exercise(exercise, tmp_path)
    labels = [json.loads(line) for line in files["labels"].read_text().splitlines()]
    entry = next(x for x in labels if x["kind"] == "zone_entry" and x["expect"] == "fire")
    exit_ = next(x for x in labels if x["kind"] == "zone_exit" and x["expect"] == "fire")
    assert entry["mmsi"] == exit_["mmsi"] and entry["start"] < exit_["start"]
    assert entry["zone"] == "exercise-phl-territorial-sea-pag-asa"
    assert {x["expect"] for x in labels} == {"fire", "silent"}
    zones = read_zones(files["zones"])
    assert [z.id for z in zones] == [entry["zone"]]
    assert zones[0].regime.value == "territorial_sea" and zones[0].owners == ("PHL-PCG",)


def test_a_clone_alternates_between_two_places_on_one_mmsi() -> None:
    exercise = build_exercise(["identity-spoof"], seed=3, start_ts=START, background=0)
    label = next(x for x in exercise.labels if x.kind == "identity_conflict" and x.expect == "fire")
    clone = next(v for v in exercise.vessels if v.clone is not None)
    inside = [r for r in clone.reports(exercise.end_ts) if label.start_ts <= r.ts < label.end_ts]
    far = [abs(a.lon - b.lon) > 0.2 for a, b in itertools.pairwise(inside)]
    assert len(inside) > 100 and sum(far) > len(far) * 0.9


def test_nmea_is_in_time_order() -> None:
    exercise = build_exercise(["teleport"], seed=1, start_ts=START, background=2)
    times = [int(line.split("c:")[1].split(",")[0]) for line in nmea_lines(exercise)]
    assert times == sorted(times)
    assert times[0] >= START and times[-1] <= exercise.end_ts


def test_unknown_names_and_short_exercises_are_refused() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        build_exercise(["nope"], seed=1, start_ts=START)
    with pytest.raises(ScenarioError, match="at least 20 hours"):
        build_exercise(["teleport"], seed=1, start_ts=START, hours=5)


def test_cli_lists_builds_and_refuses(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["scenario", "--list"])
    assert listed.exit_code == 0
    assert all(name in listed.stdout for name in SCENARIOS)
    bad = runner.invoke(app, ["scenario", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown scenario" in bad.output
    naive = runner.invoke(
        app, ["scenario", "teleport", "--out", str(tmp_path), "--start", "2025-01-01T00:00"]
    )
    assert naive.exit_code == 2 and "time zone" in naive.output
    out = tmp_path / "ex"
    made = runner.invoke(
        app,
        [
            "scenario",
            "on-land",
            "--seed",
            "9",
            "--out",
            str(out),
            "--start",
            "2024-03-07T00:00:00Z",
        ],
    )
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in out.iterdir()) == [
        "EXERCISE.md",
        "exercise.nmea",
        "labels.jsonl",
        "zones.geojson",
    ]
    first = (out / "labels.jsonl").read_text().splitlines()[0]
    assert json.loads(first)["start"].startswith("2024-03-07")


def test_the_demo_feed_releases_each_line_once_when_it_falls_due() -> None:
    exercise = build_exercise(["second-thomas-resupply"], seed=1, start_ts=START, background=0)
    feed = ExerciseFeed(exercise, "PCG-PALAWAN")
    first = feed.step(START + 3 * 3600.0)
    later = feed.step(START + 6 * 3600.0)
    assert first and later and feed.step(START + 6 * 3600.0) == []
    times = [int(line.split("c:")[1].split(",")[0]) for _, line in first + later]
    assert max(times[: len(first)]) <= START + 3 * 3600.0 < min(times[len(first) :])
    assert {receiver for receiver, _ in first + later} == {"PCG-PALAWAN"}
    assert len(first) + len(later) == sum(1 for line in nmea_lines(exercise) if "c:" in line) - len(
        feed.step(exercise.end_ts)
    )


def test_an_exercise_injected_into_a_recording_keeps_its_lines_in_time_order(
    tmp_path: Path,
) -> None:
    from lookout.ais.nmea import checksum
    from lookout.sources.scenario import read_recording, write_exercise

    def tag(body: str) -> str:
        return f"\\{body}*{checksum(body):02X}\\"

    t0 = 1_750_000_000
    recording = tmp_path / "real.nmea"
    recording.write_text(
        "!AIVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D\n"  # before any time: left out
        f"{tag(f'c:{t0 + 7200}')}!AIVDM,1,1,,A,33mkDd1000QbddT`LhTnCiKh0Dfr,0*68\n"
        f"{tag(f'g:1-2-7,c:{t0 + 60}')}!AIVDM,2,1,7,A,53@o0E00000,0*00\n"
        f"{tag('g:2-2-7')}!AIVDM,2,2,7,A,00000000000,2*00\n"  # the group's second part
    )
    real = read_recording(recording)
    assert real.untimed == 1 and (real.first_ts, real.last_ts) == (t0 + 60, t0 + 7200)
    # sorted by time, the group's parts kept together with the time of their first
    assert [ts for ts, _ in real.lines] == [t0 + 60, t0 + 60, t0 + 7200]
    assert real.lines[1][1].startswith("\\g:2-2-7")
    exercise = build_exercise(["teleport"], seed=1, start_ts=t0, hours=20.0, background=0)
    out = write_exercise(exercise, tmp_path / "ex", real)["nmea"].read_text().splitlines()
    made = [line for line in out if "s:EXERCISE" in line]
    assert len(out) == len(made) + 3 and made  # every real line and every exercise line
    times = [int(line.split("c:")[1][:10]) for line in out if "c:" in line]
    assert times == sorted(times)
    assert "real.nmea" in (tmp_path / "ex" / "EXERCISE.md").read_text()
    with pytest.raises(ScenarioError, match="tag-block time"):
        empty = tmp_path / "bare.nmea"
        empty.write_text("!AIVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D\n")
        read_recording(empty)
