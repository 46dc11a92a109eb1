"""What one pipeline batch comes to: :class:`BatchResult`, and the counters that build it.

Counting rules (the same for a source's :class:`~lookout.pipeline.ports.IngestCounts` and a
submission's :class:`~lookout.model.IngestReceipt`):

- ``lines``: input items (NMEA lines, decoded records, rejections a source could not read).
- ``rejected[reason]``: lines rejected, by reason. Framing rejects count their line; a message
  rejected at decode or validation counts every line it was made of (two for a two-sentence
  type 5).
- ``accepted``: for a receipt ``lines - sum(rejected)``, so fragments still waiting for the
  rest of their message count as accepted; if they are later dropped as orphans, the source's
  counters record it in that later batch. For a source, the framer's own count, so that over
  time ``lines == accepted + sum(rejected) + fragments pending``.
- ``observations``: new vessel positions (after dedupe); ``duplicates``: copies of a
  transmission already accepted (heard by another receiver), counted and not stored again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lookout.detectors.base import Event
from lookout.model import (
    Detection,
    IngestReceipt,
    Observation,
    Rejection,
    StaticReport,
    VesselState,
)
from lookout.model.rows import VESSEL_STATE_FIELDS, TrackRow, VesselRow
from lookout.pipeline import subjects
from lookout.pipeline.alerts import event_messages
from lookout.pipeline.ports import IngestCounts, StoreBatch
from lookout.pipeline.suite import DetectionWork

__all__ = [
    "BatchResult",
    "BatchState",
    "Counts",
    "counts_payload",
    "keyed_receipts",
    "vessel_payload",
    "vessel_row_payload",
]


@dataclass(slots=True)
class Counts:
    """Mutable counters of one source or one submission within one batch."""

    lines: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    observations: int = 0
    duplicates: int = 0
    last_received_ts: float | None = None

    def reject(self, reason: str, lines: int = 1) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + lines

    def seen_at(self, ts: float) -> None:
        if self.last_received_ts is None or ts > self.last_received_ts:
            self.last_received_ts = ts

    def receipt(self) -> IngestReceipt:
        rejected = sum(self.rejected.values())
        return IngestReceipt(
            lines=self.lines,
            accepted=max(0, self.lines - rejected),
            rejected=dict(self.rejected),
            observations=self.observations,
            duplicates=self.duplicates,
        )

    def ingest_counts(self, member: str, source: str) -> IngestCounts:
        return IngestCounts(
            member=member,
            source=source,
            lines=self.lines,
            accepted=self.accepted,
            rejected=dict(self.rejected),
            observations=self.observations,
            duplicates=self.duplicates,
            last_received_ts=self.last_received_ts,
        )


class BatchState:
    """What the batch being processed has produced so far (mutable, one per batch)."""

    __slots__ = ("counts", "detections", "events", "max_rejections", "messages", "now_ts",
                 "number", "observations", "rejections", "statics", "track")  # fmt: skip

    def __init__(self, number: int, now_ts: float, max_rejections: int) -> None:
        self.number = number
        self.now_ts = now_ts
        self.max_rejections = max_rejections
        self.track: list[TrackRow] = []
        self.statics: list[StaticReport] = []
        self.counts: dict[tuple[str, str], Counts] = {}
        self.rejections: list[Rejection] = []
        self.events: list[Event] = []
        self.detections: list[Detection] = []
        """Non-AIS detections received in the batch (stored with it)."""
        self.observations: list[Observation] = []
        """Accepted positions for the detectors, handed to them when the batch closes."""
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def counter(self, member: str, source: str) -> Counts:
        """The counters of one source in this batch."""
        counts = self.counts.get((member, source))
        if counts is None:
            counts = self.counts[(member, source)] = Counts()
        return counts

    def keep(self, rejection: Rejection) -> None:
        """Keep a rejected line for the error stream (the first ``max_rejections``)."""
        if len(self.rejections) < self.max_rejections:
            self.rejections.append(rejection)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Everything one :meth:`Pipeline.process` call produced.

    ``store``: write it in one transaction. ``messages``: ``(subject, payload)`` pairs to
    publish *after* the commit (vessel updates, detector events, ingest counters, observations
    if enabled). ``receipts``: one per :class:`Submission`, in the order given (also in
    ``store.receipts`` under their idempotency keys). ``events``: the detector events (also in
    ``messages``). ``rejections``: the first ``max_rejections`` rejected lines of the batch,
    for an error stream or a log (all of them are counted in ``store.counts``).
    ``detection``: what the detectors of a pipeline built with a
    :class:`~lookout.pipeline.suite.DeferredSuite` were not handed (one work per batch);
    their events join the result with :meth:`with_events` before it is written.
    """

    store: StoreBatch = field(default_factory=StoreBatch)
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    receipts: list[IngestReceipt] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    detection: list[DetectionWork] = field(default_factory=list)

    def with_events(self, events: Sequence[Event]) -> BatchResult:
        """This result with detector events run elsewhere (from its ``detection``): stored
        with the batch, published after its vessel updates and events, before its ingest
        counters, as the pipeline places its own."""
        if not events:
            return replace(self, detection=[])
        messages = self.messages
        tail = 1 if messages and messages[-1][0] == subjects.INGEST_STATS else 0
        cut = len(messages) - tail
        return replace(
            self,
            store=replace(self.store, events=[*self.store.events, *events]),
            messages=[*messages[:cut], *event_messages(events), *messages[cut:]],
            events=[*self.events, *events],
            detection=[],
        )

    def merged(self, later: BatchResult) -> BatchResult:
        """One result for this batch followed by ``later`` (e.g. a final :meth:`flush`)."""
        newest: dict[int, VesselState] = {v.mmsi: v for v in self.store.vessels}
        newest.update((v.mmsi, v) for v in later.store.vessels)
        received = [self.store.received_ts, later.store.received_ts]
        track = [
            p if p.received_ts is not None or r is None else replace(p, received_ts=r)
            for points, r in zip((self.store.track, later.store.track), received, strict=True)
            for p in points
        ]
        store = StoreBatch(
            track=track,
            vessels=list(newest.values()),
            statics=[*self.store.statics, *later.store.statics],
            counts=[*self.store.counts, *later.store.counts],
            receipts={**self.store.receipts, **later.store.receipts},
            received_ts=later.store.received_ts,
            events=[*self.store.events, *later.store.events],
            detections=[*self.store.detections, *later.store.detections],
        )
        return BatchResult(
            store=store,
            messages=[*self.messages, *later.messages],
            receipts=[*self.receipts, *later.receipts],
            events=[*self.events, *later.events],
            rejections=[*self.rejections, *later.rejections],
            detection=[*self.detection, *later.detection],
        )


def vessel_row_payload(
    row: VesselRow, feed: str = "", ais_class: str | None = None
) -> dict[str, Any]:
    """:func:`vessel_payload` of a state given as a row; ``feed`` (``MEMBER/NAME`` of the
    source of the latest position) lets a stream show the position to those it is released
    to without asking the store; ``ais_class`` (``A``, ``B``, ``SAR`` or ``None``) is the
    station class the latest position reports came from (the NMEA relay encodes by it)."""
    payload = dict(zip(VESSEL_STATE_FIELDS, row, strict=True))
    payload["members"] = list(payload["members"])
    payload["sources"] = list(payload["sources"])
    payload["feed"] = feed
    payload["ais_class"] = ais_class
    return payload


def vessel_payload(v: VesselState) -> dict[str, Any]:
    """The bus payload of a vessel update: every field of the state, JSON-able."""
    return vessel_row_payload(tuple(getattr(v, name) for name in VESSEL_STATE_FIELDS))


def counts_payload(number: int, now_ts: float, counts: Sequence[IngestCounts]) -> dict[str, Any]:
    """The bus payload of ``lookout.stats.ingest``: the batch's counter increments."""
    return {
        "batch": number,
        "now_ts": now_ts,
        "sources": [
            {
                "member": c.member,
                "source": c.source,
                "lines": c.lines,
                "accepted": c.accepted,
                "rejected": dict(c.rejected),
                "observations": c.observations,
                "duplicates": c.duplicates,
                "last_received_ts": c.last_received_ts,
            }
            for c in counts
        ],
    }


def keyed_receipts(
    keys: Sequence[str | None], receipts: Sequence[IngestReceipt]
) -> Mapping[str, IngestReceipt]:
    """Receipts by idempotency key, for the submissions that have one."""
    return {k: r for k, r in zip(keys, receipts, strict=True) if k}
