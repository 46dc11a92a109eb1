"""MemoryStore: the reference :class:`~lookout.pipeline.ports.Store`, in dictionaries.

For tests and for reading what the contract means: every backend must answer as this one
does (``tests/contract``). Nothing survives ``close()`` or the process; ``write`` is atomic
towards readers because one lock guards everything. Same semantics as ``SqliteStore``:
vessels are upserted as given (the pipeline decides which state is the latest), ``vessels``
is sorted by MMSI, ``track`` by time with ties in write order and keeps the earliest
``limit`` points, statics are oldest first, a receipt key keeps its first receipt, and
``prune`` deletes track points and statics observed before the cut. Events are kept as
JSON (a copy, as a database would), every version; ``events`` answers with the latest.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lookout.model import (
    BBox,
    Detection,
    IngestReceipt,
    SourceStats,
    StaticReport,
    TrackPoint,
    VesselState,
)
from lookout.pipeline.ports import EventQuery, IngestCounts, StoreBatch

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Counter:
    """Mutable running totals of one (member, source)."""

    lines: int = 0
    accepted: int = 0
    observations: int = 0
    duplicates: int = 0
    last_received_ts: float | None = None
    rejected: dict[str, int] = field(default_factory=dict)

    def add(self, counts: IngestCounts) -> None:
        self.lines += counts.lines
        self.accepted += counts.accepted
        self.observations += counts.observations
        self.duplicates += counts.duplicates
        for reason, n in counts.rejected.items():
            self.rejected[reason] = self.rejected.get(reason, 0) + n
        if counts.last_received_ts is not None and (
            self.last_received_ts is None or counts.last_received_ts > self.last_received_ts
        ):
            self.last_received_ts = counts.last_received_ts


class MemoryStore:
    """Everything in memory behind one lock; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._track: dict[int, list[TrackPoint]] = {}
        self._vessels: dict[int, VesselState] = {}
        self._statics: dict[int, list[StaticReport]] = {}
        self._counters: dict[tuple[str, str], _Counter] = {}
        self._receipts: dict[str, IngestReceipt] = {}
        self._event_versions: dict[str, list[str]] = {}
        self._event_order: dict[str, int] = {}
        self._event_seq = 0
        self._detections: dict[tuple[str, str], Detection] = {}
        self._closed = False

    def write(self, batch: StoreBatch) -> None:
        with self._lock:
            self._check_open()
            received = batch.received_ts
            for point in batch.track:
                if point.received_ts is None and received is not None:
                    point = replace(point, received_ts=received)
                self._track.setdefault(point.mmsi, []).append(point)
            for state in batch.vessels:
                self._vessels[state.mmsi] = state
            for report in batch.statics:
                self._statics.setdefault(report.mmsi, []).append(report)
            for counts in batch.counts:
                key = (counts.member, counts.source)
                self._counters.setdefault(key, _Counter()).add(counts)
            for idempotency_key, receipt in batch.receipts.items():
                self._receipts.setdefault(idempotency_key, receipt)
            for event in batch.events:
                self._add_event(event)
            for detection in batch.detections:
                self._detections.setdefault((detection.member, detection.id), detection)

    def _add_event(self, event: Mapping[str, Any]) -> None:
        self._event_seq += 1
        self._event_versions.setdefault(event["id"], []).append(json.dumps(event))
        self._event_order[event["id"]] = self._event_seq

    def events(self, query: EventQuery | None = None) -> list[dict[str, Any]]:
        query = query if query is not None else EventQuery()
        with self._lock:
            self._check_open()
            latest = [
                {**json.loads(versions[-1]), "version": len(versions)}
                for versions in self._event_versions.values()
            ]
        found = [e for e in latest if query.matches(e)]
        found.sort(key=lambda e: (-e["ts"], e["id"]))
        return found[: max(query.limit, 0)]

    def detections(
        self, since_ts: float | None = None, until_ts: float | None = None, limit: int = 1000
    ) -> list[Detection]:
        with self._lock:
            self._check_open()
            found = [
                d
                for d in self._detections.values()
                if (since_ts is None or d.ts >= since_ts) and (until_ts is None or d.ts <= until_ts)
            ]
        found.sort(key=lambda d: (-d.ts, d.member, d.id))
        return found[: max(limit, 0)]

    def event_history(self, event_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._check_open()
            versions = list(self._event_versions.get(event_id, ()))
        return [{**json.loads(v), "version": n} for n, v in enumerate(versions, 1)]

    def receipt(self, idempotency_key: str) -> IngestReceipt | None:
        with self._lock:
            self._check_open()
            return self._receipts.get(idempotency_key)

    def vessels(self, bbox: BBox | None = None, limit: int = 10_000) -> list[VesselState]:
        with self._lock:
            self._check_open()
            found = [
                v for v in self._vessels.values() if bbox is None or bbox.contains(v.lat, v.lon)
            ]
        found.sort(key=lambda v: v.mmsi)
        return found[: max(limit, 0)]

    def vessel(self, mmsi: int) -> VesselState | None:
        with self._lock:
            self._check_open()
            return self._vessels.get(mmsi)

    def vessels_at(
        self, at_ts: float, lookback_s: float = 3600.0, limit: int = 100_000
    ) -> list[TrackPoint]:
        low = at_ts - lookback_s
        latest: dict[tuple[int, str, str], TrackPoint] = {}
        with self._lock:
            self._check_open()
            for points in self._track.values():
                for p in points:
                    key = (p.mmsi, p.member, p.source)
                    if low <= p.observed_ts <= at_ts and (
                        key not in latest or p.observed_ts >= latest[key].observed_ts
                    ):
                        latest[key] = p
        return [latest[k] for k in sorted(latest)][: max(limit, 0)]

    def track(
        self,
        mmsi: int,
        start_ts: float | None = None,
        end_ts: float | None = None,
        limit: int = 10_000,
    ) -> list[TrackPoint]:
        with self._lock:
            self._check_open()
            points = [
                p
                for p in self._track.get(mmsi, ())
                if (start_ts is None or p.observed_ts >= start_ts)
                and (end_ts is None or p.observed_ts <= end_ts)
            ]
        points.sort(key=lambda p: p.observed_ts)  # stable: ties stay in write order
        return points[: max(limit, 0)]

    def statics(self, mmsi: int) -> list[StaticReport]:
        with self._lock:
            self._check_open()
            reports = list(self._statics.get(mmsi, ()))
        reports.sort(key=lambda r: r.observed_ts)
        return reports

    def ingest_stats(self) -> list[SourceStats]:
        with self._lock:
            self._check_open()
            return [
                SourceStats(
                    member=member,
                    source=source,
                    lines=c.lines,
                    accepted=c.accepted,
                    rejected=dict(c.rejected),
                    observations=c.observations,
                    duplicates=c.duplicates,
                    last_received_ts=c.last_received_ts,
                )
                for (member, source), c in sorted(self._counters.items())
            ]

    def prune(self, before_ts: float) -> int:
        with self._lock:
            self._check_open()
            deleted = 0
            for mmsi, points in list(self._track.items()):
                kept = [p for p in points if p.observed_ts >= before_ts]
                deleted += len(points) - len(kept)
                self._track[mmsi] = kept
            for mmsi, reports in list(self._statics.items()):
                self._statics[mmsi] = [r for r in reports if r.observed_ts >= before_ts]
            return deleted

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")
