"""The ports the core uses; adapters in ``lookout.storage`` / ``lookout.bus`` implement them.

Each port is small on purpose (httpx's transport is the model): the same seam serves the
embedded default, the production backends and unit tests. Every implementation runs the same
contract suite in ``tests/contract``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lookout.model import (
    BBox,
    Detection,
    Frame,
    IngestReceipt,
    Lines,
    Rejection,
    ReportRecord,
    SourceStats,
    StaticReport,
    TrackPoint,
    VesselState,
)

__all__ = [
    "Bus",
    "EventQuery",
    "FrameSink",
    "IngestCounts",
    "Source",
    "SourceItem",
    "StopSignal",
    "Store",
    "StoreBatch",
    "Subscription",
    "item_lines",
]


@dataclass(frozen=True, slots=True)
class IngestCounts:
    """Counter increments for one source within one batch."""

    member: str
    source: str
    lines: int = 0
    accepted: int = 0
    rejected: Mapping[str, int] = field(default_factory=dict)
    observations: int = 0
    duplicates: int = 0
    last_received_ts: float | None = None


@dataclass(frozen=True, slots=True)
class StoreBatch:
    """Everything one micro-batch writes, committed in one transaction.

    ``track`` are the new track points (already deduplicated), ``vessels`` the fused states to
    upsert (one per MMSI, the newest); the pipeline gives both as row-backed sequences
    (:class:`~lookout.model.rows.TrackRows`, :class:`~lookout.model.rows.VesselRows`) that a
    store may read as rows. ``statics`` identity reports to keep as history,
    ``counts`` the ingest counters to add. ``receipts`` maps idempotency keys of acknowledged
    sender batches to what they came to, so a re-sent batch is answered without being stored
    twice. ``received_ts`` is when Lookout received the batch (the wall-clock time it was
    processed); a store records it on every track point of the batch whose own
    ``received_ts`` is ``None``. ``events`` are detector event versions in the order they
    were published (JSON-able dicts with at least ``id``, ``kind``, ``status`` and ``ts``); a
    store keeps every version and answers queries with the latest one per ``id``.
    ``detections`` are non-AIS detections (satellite, radar, patrol) received in the batch;
    a store keeps the first of each ``(member, id)``.
    """

    track: Sequence[TrackPoint] = ()
    vessels: Sequence[VesselState] = ()
    statics: Sequence[StaticReport] = ()
    counts: Sequence[IngestCounts] = ()
    receipts: Mapping[str, IngestReceipt] = field(default_factory=dict)
    received_ts: float | None = None
    events: Sequence[Mapping[str, Any]] = ()
    detections: Sequence[Detection] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """Which events to list (the latest version of each); every given filter must hold.

    ``kind`` / ``status``: equal. ``mmsi``: one of the event's vessels. ``zone``: the zone id.
    ``since_ts`` / ``until_ts``: the latest version's event time ``ts`` within them
    (inclusive). ``bbox``: the event's position inside it. Newest ``ts`` first (ties by id),
    at most ``limit``.
    """

    kind: str | None = None
    status: str | None = None
    mmsi: int | None = None
    zone: str | None = None
    since_ts: float | None = None
    until_ts: float | None = None
    bbox: BBox | None = None
    limit: int = 1000

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether the event (its latest version) passes every filter but ``limit``."""
        ts = event["ts"]
        lat, lon = event.get("lat"), event.get("lon")
        vessels = event.get("mmsis") or ([event["mmsi"]] if event.get("mmsi") is not None else [])
        return (
            (self.kind is None or event["kind"] == self.kind)
            and (self.status is None or event["status"] == self.status)
            and (self.mmsi is None or self.mmsi in vessels)
            and (self.zone is None or event.get("zone") == self.zone)
            and (self.since_ts is None or ts >= self.since_ts)
            and (self.until_ts is None or ts <= self.until_ts)
            and (
                self.bbox is None
                or (lat is not None and lon is not None and self.bbox.contains(lat, lon))
            )
        )


class Store(Protocol):
    """Durable storage of the fused picture. ``write`` returns only once committed durably."""

    def write(self, batch: StoreBatch) -> None: ...

    def receipt(self, idempotency_key: str) -> IngestReceipt | None:
        """The receipt of an already committed sender batch, or ``None``."""
        ...

    def vessels(self, bbox: BBox | None = None, limit: int = 10_000) -> list[VesselState]:
        """Latest state of vessels whose latest position lies in ``bbox`` (all if ``None``)."""
        ...

    def vessel(self, mmsi: int) -> VesselState | None: ...

    def vessels_at(
        self, at_ts: float, lookback_s: float = 3600.0, limit: int = 100_000
    ) -> list[TrackPoint]:
        """The picture as it was at ``at_ts``: for each vessel and each (member, source) that
        reported it, the latest track point with ``at_ts - lookback_s <= observed_ts <= at_ts``
        (a tie at one time: any of them). Sorted by MMSI, member, source; at most ``limit``.
        One point per source, so that a caller can keep only the sources it may see."""
        ...

    def track(
        self,
        mmsi: int,
        start_ts: float | None = None,
        end_ts: float | None = None,
        limit: int = 10_000,
    ) -> list[TrackPoint]:
        """Track points of one vessel in time order, ``start_ts <= t <= end_ts``."""
        ...

    def statics(self, mmsi: int) -> list[StaticReport]:
        """Identity history of one vessel, oldest first."""
        ...

    def ingest_stats(self) -> list[SourceStats]: ...

    def events(self, query: EventQuery | None = None) -> list[dict[str, Any]]:
        """The latest version of each event that ``query`` selects, with ``version`` (how
        many versions it has had)."""
        ...

    def event_history(self, event_id: str) -> list[dict[str, Any]]:
        """Every version of one event, oldest first, each with its ``version`` (1, 2, ...);
        empty if unknown."""
        ...

    def detections(
        self, since_ts: float | None = None, until_ts: float | None = None, limit: int = 1000
    ) -> list[Detection]:
        """Stored detections with ``since_ts <= ts <= until_ts``, newest first (ties by member
        and id), at most ``limit``."""
        ...

    def prune(self, before_ts: float) -> int:
        """Delete track points observed before ``before_ts``; returns how many."""
        ...

    def close(self) -> None: ...


class Subscription(Protocol):
    def close(self) -> None: ...


Handler = Callable[[str, Mapping[str, Any]], None]


class Bus(Protocol):
    """Publish/subscribe with NATS-style subjects (see ``lookout.pipeline.subjects``).

    ``publish`` hands a message to every subscription whose pattern matches, in publish order
    per subscription. A slow subscriber never blocks publishers: each subscription has its own
    bounded queue and counts what it had to drop.
    """

    def publish(self, subject: str, payload: Mapping[str, Any]) -> None: ...

    def subscribe(self, pattern: str, handler: Handler) -> Subscription: ...

    def close(self) -> None: ...


SourceItem = Frame | Lines | ReportRecord | Rejection | Detection
"""What a source hands to the core: raw lines (one per :class:`Frame`, or a block of them as
:class:`Lines`), pre-decoded reports, non-AIS detections, or rows it could not read (a bad
CSV/JSON row is a ``Rejection`` so that it is counted, never dropped silently)."""


def item_lines(items: Sequence[SourceItem]) -> int:
    """Input lines in ``items``: those of each :class:`Lines` block, one for any other item."""
    count = len(items)
    for item in items:
        if type(item) is Lines:
            count += len(item.lines) - 1
    return count


class FrameSink(Protocol):
    """Where a source delivers what it reads (the service's ingest queue).

    ``submit`` returns a ``concurrent.futures.Future[IngestReceipt]`` in the service, resolved
    once the items are durably committed; sources whose transport carries no acknowledgement
    ignore it. It may raise when the ingest queue is full; the caller retries or gives up.
    """

    def submit(self, items: Sequence[SourceItem], *, key: str | None = None) -> Any: ...


class StopSignal(Protocol):
    """A stop flag a source polls (``threading.Event`` satisfies it)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Source(Protocol):
    """An input adapter: reads from a file, socket or generator and submits to a sink.

    ``run`` blocks; the service runs it in a thread. It returns when ``stop`` is set (within
    about half a second) or when its input ends.
    """

    name: str
    member: str

    def run(self, sink: FrameSink, stop: StopSignal) -> None: ...
