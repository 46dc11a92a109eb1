"""``lookout detect`` options and errors, in-process (typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lookout.cli.main import app

ROWS = "mmsi,timestamp,lat,lon,speed\n" + "".join(
    f"111000001,2023-11-14T22:{m:02d}:00Z,{10.0 + m * 1e-4},150.0,0.5\n" for m in range(30)
)


@pytest.fixture
def track(tmp_path: Path) -> Path:
    path = tmp_path / "track.csv"
    path.write_text(ROWS)
    return path


def _detect(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["detect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_run_writes_the_events_file_and_a_summary(track: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    code, stdout, _ = _detect(str(track), "--out", str(out), "--no-ports", "--detectors",
                              "loitering,ais_gap")  # fmt: skip
    assert code == 0
    assert "positions analysed" in stdout and "30" in stdout
    assert out.exists() and all(json.loads(line) for line in out.read_text().splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "{missing}"], "cannot read"),
        (["--detectors", "teleport"], "unknown detector 'teleport'"),
        (["--zones", "{missing}"], "--zones: no such file"),
        (["--ports", "{bad_ports}"], "needs a latitude and a longitude column"),
        (["--region", "atlantis"], "unknown region 'atlantis'"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    track: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    bad_ports = tmp_path / "ports.csv"
    bad_ports.write_text("name,x,y\nA,1,2\n")
    args = [a.format(missing=tmp_path / "missing.toml", bad_ports=bad_ports) for a in args]
    code, _, stderr = _detect(str(track), "--out", str(tmp_path / "e.jsonl"), *args)
    assert code == 2
    assert stderr.startswith("lookout: error: ") and message in stderr
    assert "Traceback" not in stderr


def test_an_input_in_no_known_format_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n")
    code, _, stderr = _detect(str(path), "--out", str(tmp_path / "e.jsonl"), "--no-ports")
    assert code == 2 and "not a report CSV" in stderr
