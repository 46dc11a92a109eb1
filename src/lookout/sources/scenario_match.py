"""Scoring detector output against an exercise's labels.

The rule (docs/exercises.md):

- Events: the last version of each ``id``; ``retracted`` ones are dropped.
- An event matches a label of the same kind when it concerns the same vessel(s) and its time
  span overlaps the label's widened by ``tolerance_s`` on each side. Same vessel(s): the same
  ``mmsi`` for single-vessel kinds, the same set of ``mmsis`` for pairs, for ``swarm`` at
  least 80 % of the label's vessels among the event's; ``dark_vessel`` matches on
  ``details.detection_id``. A label naming a zone needs the same zone.
- Each label expecting an event (``expect="fire"``) is found by at most one event: that
  event is a true positive, and further events matching it are false positives (an episode
  reported twice). An event matching only a near miss (``expect="silent"``), or no label at
  all, is a false positive. A ``fire`` label no event matches is a false negative.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "KindScore",
    "Score",
    "final_events",
    "read_jsonl",
    "score",
]

DEFAULT_TOLERANCE_S = 1800.0
"""Time tolerance on each side of a label, seconds: detectors compare vessels on 10-minute
ticks, publish an episode from its first qualifying tick, and labels give the scripted
times."""
SWARM_SHARE = 0.8


def read_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def final_events(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The last version of each event id, without retracted events, in first-seen order."""
    last: dict[str, dict[str, Any]] = {}
    for record in records:
        last[str(record["id"])] = dict(record)
    return [e for e in last.values() if e.get("status") != "retracted"]


def _ts(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True, slots=True)
class _Span:
    kind: str
    mmsis: frozenset[int]
    start: float
    end: float
    zone: str | None
    detection_id: str | None


def _event_span(event: Mapping[str, Any]) -> _Span:
    start = _ts(event.get("start", event.get("start_ts")))
    end = _ts(event.get("end", event.get("end_ts")))
    start = start if start is not None else _ts(event.get("ts")) or 0.0
    mmsis = event.get("mmsis") or ([event["mmsi"]] if event.get("mmsi") is not None else [])
    details = event.get("details") or {}
    return _Span(
        kind=str(event["kind"]),
        mmsis=frozenset(int(m) for m in mmsis),
        start=start,
        end=end if end is not None else start,
        zone=event.get("zone") or event.get("zone_id"),
        detection_id=details.get("detection_id", event.get("detection_id")),
    )


def _label_span(label: Mapping[str, Any]) -> _Span:
    start, end = _ts(label["start"]), _ts(label["end"])
    assert start is not None and end is not None
    return _Span(
        kind=str(label["kind"]),
        mmsis=frozenset(int(m) for m in label.get("mmsis") or []),
        start=start,
        end=end,
        zone=label.get("zone"),
        detection_id=label.get("detection_id"),
    )


def matches(event: _Span, label: _Span, tolerance_s: float) -> bool:
    if event.kind != label.kind:
        return False
    if label.zone and event.zone and event.zone != label.zone:
        return False
    if label.detection_id is not None:
        return event.detection_id == label.detection_id
    if event.kind == "swarm":
        if len(event.mmsis & label.mmsis) < SWARM_SHARE * len(label.mmsis):
            return False
    elif event.mmsis != label.mmsis:
        return False
    return event.start <= label.end + tolerance_s and event.end >= label.start - tolerance_s


@dataclass(slots=True)
class KindScore:
    kind: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    silent: int = 0
    near_misses_fired: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Score:
    """Per-kind counts, plus what went wrong, for the report."""

    kinds: dict[str, KindScore] = field(default_factory=dict)
    missed: list[dict[str, Any]] = field(default_factory=list)
    near_misses_fired: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unexplained: list[dict[str, Any]] = field(default_factory=list)

    def kind(self, kind: str) -> KindScore:
        return self.kinds.setdefault(kind, KindScore(kind))

    def add(self, other: Score) -> None:
        for kind, s in other.kinds.items():
            mine = self.kind(kind)
            mine.tp += s.tp
            mine.fp += s.fp
            mine.fn += s.fn
            mine.silent += s.silent
            mine.near_misses_fired += s.near_misses_fired
        self.missed += other.missed
        self.near_misses_fired += other.near_misses_fired
        self.unexplained += other.unexplained

    def min_f1(self) -> float:
        scored = [s.f1 for s in self.kinds.values() if s.tp + s.fn]
        return min(scored) if scored else 0.0


def score(
    labels: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> Score:
    """Score final ``events`` against ``labels`` (see the module docstring)."""
    result = Score()
    spans = [_label_span(label) for label in labels]
    for label, span in zip(labels, spans, strict=True):
        if label["expect"] == "silent":
            result.kind(span.kind).silent += 1
        else:
            result.kind(span.kind)
    found: set[int] = set()
    for event in sorted(events, key=lambda e: _event_span(e).start):
        ev = _event_span(event)
        hits = [i for i, span in enumerate(spans) if matches(ev, span, tolerance_s)]
        fire = [i for i in hits if labels[i]["expect"] == "fire"]
        kind = result.kind(ev.kind)
        fresh = [i for i in fire if i not in found]
        if fresh:
            found.add(fresh[0])
            kind.tp += 1
            continue
        kind.fp += 1
        silent = [i for i in hits if labels[i]["expect"] == "silent"]
        if silent and not fire:
            kind.near_misses_fired += 1
            result.near_misses_fired.append((dict(labels[silent[0]]), dict(event)))
        elif not hits:
            result.unexplained.append(dict(event))
    for i, label in enumerate(labels):
        if label["expect"] == "fire" and i not in found:
            result.kind(spans[i].kind).fn += 1
            result.missed.append(dict(label))
    return result
