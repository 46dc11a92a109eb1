"""The station class in vessel updates: ``ais_class`` follows the message types a vessel was
heard in (1/2/3 -> A, 18/19 -> B, 9 -> SAR), and a type 27 or a snapshot restore keeps it."""

from __future__ import annotations

from typing import Any

from pyais import encode_dict

from lookout.model import Lines
from lookout.pipeline import subjects
from lookout.pipeline.engine import Pipeline

NOW = 1_780_000_000.0
SHIP_A, SHIP_B, PLANE = 412_000_001, 412_000_002, 111_412_001


def line(**fields: Any) -> str:
    base = {"lat": 10.5, "lon": 116.5, "speed": 8.0, "course": 90.0}
    [sentence] = encode_dict({**base, **fields}, talker_id="AI")
    return str(sentence)


def classes(pipeline: Pipeline, lines: list[str], now_ts: float = NOW) -> dict[int, Any]:
    result = pipeline.process([Lines(lines, "dk", "ais")], now_ts=now_ts)
    return {
        int(payload["mmsi"]): payload["ais_class"]
        for subject, payload in result.messages
        if subject == subjects.vessel(int(payload.get("mmsi", 0)))
    }


def test_vessel_updates_carry_the_station_class_of_the_message_types_heard() -> None:
    lines = [
        line(type=1, mmsi=SHIP_A),
        line(type=18, mmsi=SHIP_B),
        line(type=9, mmsi=PLANE, alt=300),
    ]
    assert classes(Pipeline(), lines) == {SHIP_A: "A", SHIP_B: "B", PLANE: "SAR"}


def test_a_long_range_report_keeps_the_class_and_a_restore_too() -> None:
    pipeline = Pipeline()
    assert classes(pipeline, [line(type=18, mmsi=SHIP_B)]) == {SHIP_B: "B"}
    long_range = line(type=27, mmsi=SHIP_B, lat=10.6, lon=116.6, speed=8, course=90)
    assert classes(pipeline, [long_range], NOW + 60) == {SHIP_B: "B"}
    restored = Pipeline()
    restored.restore(pipeline.snapshot())
    assert classes(restored, [long_range], NOW + 120) == {SHIP_B: "B"}
