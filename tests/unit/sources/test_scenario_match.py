"""Scoring detector events against exercise labels: the matching rule of docs/exercises.md."""

from __future__ import annotations

from typing import Any

from lookout.sources.scenario_match import final_events, score


def _label(
    kind: str, mmsis: list[int], start: str, end: str, expect: str = "fire"
) -> dict[str, Any]:
    return {"kind": kind, "mmsis": mmsis, "start": start, "end": end, "expect": expect}


def _event(
    kind: str, mmsis: list[int], start: str, end: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"{kind}-{mmsis}-{start}",
        "kind": kind,
        "status": "confirmed",
        "mmsis": mmsis,
        "mmsi": mmsis[0] if len(mmsis) == 1 else None,
        "start": start,
        "end": end,
        **extra,
    }


def test_a_found_label_is_a_true_positive_and_a_missing_one_a_false_negative() -> None:
    labels = [
        _label("encounter", [1, 2], "2025-06-01T02:00:00Z", "2025-06-01T05:00:00Z"),
        _label("ais_gap", [3], "2025-06-01T06:00:00Z", "2025-06-01T13:00:00Z"),
    ]
    events = [_event("encounter", [1, 2], "2025-06-01T02:10:00Z", "2025-06-01T04:50:00Z")]
    result = score(labels, events)
    assert (result.kinds["encounter"].tp, result.kinds["encounter"].fp) == (1, 0)
    assert result.kinds["ais_gap"].fn == 1 and result.kinds["ais_gap"].recall == 0.0
    assert result.min_f1() == 0.0


def test_wrong_vessels_or_times_outside_the_tolerance_do_not_match() -> None:
    labels = [_label("shadowing", [1, 2], "2025-06-01T02:00:00Z", "2025-06-01T04:00:00Z")]
    other_pair = _event("shadowing", [1, 3], "2025-06-01T02:00:00Z", "2025-06-01T04:00:00Z")
    too_late = _event("shadowing", [1, 2], "2025-06-01T04:31:00Z", "2025-06-01T06:00:00Z")
    just_in = _event("shadowing", [1, 2], "2025-06-01T04:29:00Z", "2025-06-01T06:00:00Z")
    assert score(labels, [other_pair]).kinds["shadowing"].fp == 1
    assert score(labels, [too_late]).kinds["shadowing"].tp == 0
    assert score(labels, [just_in]).kinds["shadowing"].tp == 1


def test_a_fired_near_miss_and_a_duplicate_are_false_positives() -> None:
    labels = [
        _label("close_approach", [1, 2], "2025-06-01T01:00:00Z", "2025-06-01T01:00:00Z"),
        _label("close_approach", [3, 4], "2025-06-01T01:00:00Z", "2025-06-01T01:00:00Z", "silent"),
    ]
    events = [
        _event("close_approach", [1, 2], "2025-06-01T01:01:00Z", "2025-06-01T01:01:00Z"),
        _event("close_approach", [1, 2], "2025-06-01T01:05:00Z", "2025-06-01T01:05:00Z"),
        _event("close_approach", [3, 4], "2025-06-01T01:00:30Z", "2025-06-01T01:00:30Z"),
    ]
    result = score(labels, events)
    kind = result.kinds["close_approach"]
    assert (kind.tp, kind.fp, kind.fn, kind.near_misses_fired) == (1, 2, 0, 1)
    assert kind.precision == 1 / 3


def test_only_the_last_version_counts_and_retracted_events_are_dropped() -> None:
    first = _event("ais_gap", [3], "2025-06-01T06:00:00Z", None, status="provisional")
    final = {**first, "status": "retracted"}
    kept = _event("ais_gap", [4], "2025-06-01T06:00:00Z", None, status="provisional")
    assert final_events([first, kept, final]) == [kept]


def test_a_swarm_matches_on_most_of_its_vessels_and_dark_vessels_on_the_detection() -> None:
    labels = [
        _label("swarm", list(range(10)), "2025-06-01T01:00:00Z", "2025-06-01T09:00:00Z"),
        {
            **_label("dark_vessel", [], "2025-06-01T03:00:00Z", "2025-06-01T03:00:00Z"),
            "detection_id": "EX-SAR-01",
        },
    ]
    swarm = _event("swarm", list(range(1, 10)), "2025-06-01T01:10:00Z", "2025-06-01T09:00:00Z")
    dark = _event(
        "dark_vessel",
        [],
        "2025-06-01T03:00:00Z",
        "2025-06-01T03:00:00Z",
        details={"detection_id": "EX-SAR-01"},
    )
    other = _event(
        "dark_vessel",
        [],
        "2025-06-01T03:00:00Z",
        "2025-06-01T03:00:00Z",
        details={"detection_id": "EX-SAR-09"},
    )
    result = score(labels, [swarm, dark, other])
    assert result.kinds["swarm"].tp == 1
    assert (result.kinds["dark_vessel"].tp, result.kinds["dark_vessel"].fp) == (1, 1)
    assert len(result.unexplained) == 1
