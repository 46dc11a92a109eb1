"""Batch analysis (lookout.service.batch): order, output contract, counts, config errors."""

from __future__ import annotations

import io
import json
from datetime import datetime
from functools import reduce
from operator import xor
from pathlib import Path
from typing import Any

import pytest
from pyais.encode import encode_dict

from lookout.service.batch import BatchError, DetectRequest, run_detect
from lookout.service.detect_setup import DetectOptions, SetupError, build_setup
from lookout.service.detection import DetectionSetup

T0 = 1_700_000_400  # a multiple of 600 s: encounter ticks line up with the reports
SEA = (10.0, 150.0)  # open Pacific, far from any port and shore


def _track(mmsi: int, lat: float, lon: float, hours: float, speed: float = 0.3) -> list[tuple]:
    """A vessel nearly stopped at one place, reporting every 5 minutes."""
    return [(mmsi, T0 + 300 * i, lat + 1e-5 * i, lon, speed) for i in range(int(hours * 12) + 1)]


def _csv(path: Path, rows: list[tuple]) -> Path:
    lines = ["mmsi,timestamp,lat,lon,speed"]
    lines += [f"{m},{datetime.fromtimestamp(t).astimezone().isoformat()},{la},{lo},{s}"
              for m, t, la, lo, s in rows]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(paths: list[Path], kinds: set[str] | None = None) -> tuple[list[dict[str, Any]], Any]:
    out = io.BytesIO()
    setup = DetectionSetup(kinds=frozenset(kinds) if kinds else None)
    summary = run_detect(DetectRequest(inputs=paths, setup=setup, member="PHL-PCG"), out)
    return [json.loads(line) for line in out.getvalue().splitlines()], summary


def _final(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A later line with the same id replaces the earlier one."""
    return reduce(lambda acc, e: {**acc, e["id"]: e}, lines, {})


def test_a_file_grouped_by_vessel_gives_the_events_of_a_time_ordered_one(tmp_path: Path) -> None:
    a = _track(111000001, *SEA, hours=3)
    b = _track(111000002, SEA[0] + 0.001, SEA[1], hours=3)  # 111 m away
    grouped = _csv(tmp_path / "grouped.csv", a + b)
    ordered = _csv(tmp_path / "ordered.csv", sorted(a + b, key=lambda r: (r[1], r[0])))
    by_group, _ = _run([grouped], {"encounter"})
    by_time, _ = _run([ordered], {"encounter"})
    assert by_group == by_time
    encounters = [e for e in _final(by_group).values() if e["kind"] == "encounter"]
    assert len(encounters) == 1
    assert encounters[0]["mmsis"] == [111000001, 111000002]


def test_event_lines_follow_the_contract(tmp_path: Path) -> None:
    a = _track(111000001, *SEA, hours=3)
    b = _track(111000002, SEA[0] + 0.001, SEA[1], hours=3)
    lines, summary = _run([_csv(tmp_path / "pair.csv", a + b)], {"encounter"})
    assert [e["status"] for e in lines] == ["provisional", "confirmed"]
    assert lines[0]["id"] == lines[1]["id"]
    assert lines[0]["end"] is None
    final = lines[1]
    assert list(final)[:11] == ["id", "kind", "status", "mmsi", "mmsis", "start", "end", "lat",
                                "lon", "zone", "details"]  # fmt: skip
    assert final["mmsi"] is None and final["zone"] is None
    start = datetime.fromisoformat(final["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(final["end"].replace("Z", "+00:00"))
    assert final["start"].endswith("Z") and final["end"].endswith("Z")
    assert start.timestamp() == T0 and end.timestamp() == T0 + 3 * 3600
    assert final["details"]["duration_s"] == 3 * 3600
    assert summary.events == {"encounter": 1} and summary.versions == 2


def test_episodes_still_open_at_the_end_of_the_input_are_closed(tmp_path: Path) -> None:
    lines, _ = _run([_csv(tmp_path / "one.csv", _track(111000001, *SEA, hours=5))], {"loitering"})
    final = _final(lines)
    (episode,) = final.values()
    assert episode["status"] == "confirmed" and episode["end"] is not None
    assert episode["members"] == ["PHL-PCG"]


def test_bad_rows_are_counted_and_the_rest_analysed(tmp_path: Path) -> None:
    rows = _track(111000001, *SEA, hours=1)
    path = _csv(tmp_path / "bad.csv", rows)
    path.write_text(path.read_text() + "111000001,2023-11-14T23:00:00Z,north,150,1\n")
    _, summary = _run([path], {"speed_anomaly"})
    assert summary.rejected == {"bad_record": 1}
    assert summary.observations == len(rows)


def _nmea(mmsi: int, ts: int | None, lat: float, lon: float) -> str:
    sentence = encode_dict({"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": 12.0})[0]
    if ts is None:
        return sentence
    tag = f"c:{ts}"
    return f"\\{tag}*{reduce(xor, tag.encode()):02X}\\{sentence}"


def test_nmea_times_come_from_tag_blocks_and_untimed_lines_are_counted(tmp_path: Path) -> None:
    # a teleport: 10 N 150 E, then 12 N one minute later (7,200 knots), then staying there
    lines = [_nmea(366000001, T0 + 60 * i, (10.0 if i < 3 else 12.0) + 1e-4 * i, 150.0)
             for i in range(80)]  # fmt: skip
    lines.append(_nmea(366000001, None, 11.0, 150.0))
    path = tmp_path / "feed.nmea"
    path.write_text("\n".join(lines) + "\n")
    events, summary = _run([path], {"speed_anomaly"})
    assert summary.rejected == {"no_time": 1}
    assert summary.observations == 80
    (jump,) = _final(events).values()
    assert jump["kind"] == "speed_anomaly"
    assert jump["start"] == jump["end"]
    assert datetime.fromisoformat(jump["start"].replace("Z", "+00:00")).timestamp() == T0 + 180


def test_a_file_in_no_known_format_is_a_batch_error(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(BatchError, match="not a report CSV"):
        _run([path])


def test_config_errors_name_the_problem(tmp_path: Path) -> None:
    config = tmp_path / "detectors.toml"
    config.write_text("[encounter]\nmax_distance = 3\n")
    with pytest.raises(SetupError, match=r"\[encounter\] has no setting 'max_distance'"):
        build_setup(DetectOptions(config=config, shore=False, no_ports=True))
    with pytest.raises(SetupError, match="unknown detector 'encounters'"):
        build_setup(DetectOptions(detectors="encounters,ais_gap", shore=False, no_ports=True))
    with pytest.raises(SetupError, match="no such file"):
        build_setup(DetectOptions(zones=[tmp_path / "none.geojson"], shore=False, no_ports=True))


def test_ports_keep_encounters_out_of_harbours(tmp_path: Path) -> None:
    ports = tmp_path / "ports.csv"
    ports.write_text(f"latitude,longitude\n{SEA[0] + 0.02},{SEA[1]}\n")  # 2 km away
    a = _track(111000001, *SEA, hours=3)
    b = _track(111000002, SEA[0] + 0.001, SEA[1], hours=3)
    path = _csv(tmp_path / "pair.csv", a + b)
    for extra, expected in (([], 1), ([ports], 0)):
        setup, report = build_setup(
            DetectOptions(detectors="encounter", ports=extra, no_ports=True, shore=False)
        )
        out = io.BytesIO()
        run_detect(DetectRequest(inputs=[path], setup=setup), out)
        assert len(out.getvalue().splitlines()) == 2 * expected
        assert report.ports == len(extra)


def test_detections_are_judged_at_their_time_against_the_sorted_tracks(tmp_path: Path) -> None:
    from lookout.model import Detection

    rows = _track(111000001, *SEA, hours=2)
    path = _csv(tmp_path / "one.csv", rows[::-1])  # newest first: the run sorts them
    near = Detection("near", T0 + 1800, SEA[0] + 0.0002, SEA[1], "sar", "PHL-PCG")
    far = Detection("far", T0 + 1800, SEA[0] + 0.1, SEA[1], "sar", "PHL-PCG")
    out = io.BytesIO()
    setup = DetectionSetup(kinds=frozenset({"dark_vessel"}))
    run_detect(DetectRequest(inputs=[path], setup=setup, detections=[far, near]), out)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["details"]["detection_id"] for e in events] == ["far"]
    assert events[0]["start"] == events[0]["end"]
