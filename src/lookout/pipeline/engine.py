"""The pure pipeline: frames in, a store batch, bus messages and receipts out.

:class:`Pipeline` does no I/O and reads no clock: the caller passes ``now_ts``. One call of
:meth:`Pipeline.process` handles one micro-batch:

frame -> decode -> validate -> dedupe -> fuse -> detectors -> :class:`BatchResult`

**Input.** A sequence of :class:`~lookout.model.Frame` (raw lines) or
:class:`~lookout.model.Lines` (blocks of lines that arrived together), :class:`ReportRecord`
(decoded CSV/JSON rows), :class:`~lookout.model.Rejection` (rows a source could not read; they
are counted), :class:`~lookout.model.Detection` (non-AIS detections: handed to the detectors
that have an ``on_detection`` method, nothing else; they neither count as lines nor advance
the watermark) and :class:`Submission` (one sender's push, answered with one receipt). Each
``(member, source, receiver)`` has its own :class:`~lookout.ais.framing.Framer`, kept across
batches, so a multi-sentence message may span batches. Consecutive frames (and line blocks) of
one framer are framed together; frames whose ``received_ts`` differ by at most
``frame_time_tolerance_s`` share the first one's time (a line's own time, from a tag block,
``$PGHP`` or USCG trailer, always wins).

**Time.** A message's observed time is the time its line carried, else its frame's
``received_ts``, else ``now_ts``: *files without receive times are stamped with ingest time*.

**What enters the vessel picture**: class A (types 1, 2, 3), class B (18, 19), long-range
class A (27) and SAR aircraft (9) positions, and identity from types 5, 19 and 24. Base
stations (4, 11) and aids to navigation (21) are not vessels: their lines are accepted and
counted without being decoded, as are all other types (they carry no vessel position).

**Validation**: MMSI 1..999,999,999 (``bad_mmsi``), a position that is available and in range
(``no_position``); decoder errors keep the decoder's reason.

**Dedupe** (:mod:`lookout.fusion.dedupe`): a copy of a transmission accepted within
``dedupe_window_s`` counts as a duplicate of its source and is not stored again. Its receiver
is added to the first copy's track point when both copies are in the same batch; when the
first copy was already emitted in an earlier batch, the stored point is left as it is and
the copy's member and source are added to the vessel's ``members``/``sources``.

**Identity**: a static report that changed nothing is not kept; an identical type 5 or 24
payload seen again (ships repeat them every few minutes) is not even decoded again.

**Memory** is bounded: the dedupe memory by time and count, vessels by eviction after
``tracks.vessel_ttl_s`` of data time (with ``recall``, a returning vessel is seeded from its
stored state), fragment buffers per framer by ``max_partials``.

**Output** per batch: one :class:`~lookout.model.TrackPoint` per accepted position, one
:class:`~lookout.model.VesselState` per changed MMSI (the newest; both kept as rows, see
:mod:`lookout.model.rows`), the static reports that changed a vessel's identity, counters per
source, receipts per submission; bus messages for vessel updates (unless
``publish_vessels`` is off), detector events and ingest counters (observations too if
``publish_observations``). Detector timers fire as the data-time watermark advances.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lookout.ais.framing import Framer
from lookout.detectors.base import Detector
from lookout.fusion.dedupe import Deduplicator
from lookout.fusion.tracks import TrackConfig, VesselTracker
from lookout.model import (
    Detection,
    Frame,
    IngestReceipt,
    Lines,
    Rejection,
    ReportRecord,
    VesselState,
)
from lookout.model.rows import TrackRows, VesselRows
from lookout.pipeline import subjects
from lookout.pipeline.alerts import event_messages
from lookout.pipeline.fuse import Fuser
from lookout.pipeline.ports import StoreBatch
from lookout.pipeline.results import (
    BatchResult,
    BatchState,
    Counts,
    counts_payload,
    keyed_receipts,
    vessel_row_payload,
)
from lookout.pipeline.suite import DetectorSuite

__all__ = ["BatchResult", "Pipeline", "PipelineConfig", "Submission"]

Item = Frame | Lines | ReportRecord | Rejection | Detection


def _run_lines(items: Sequence[Item], i: int, j: int) -> Sequence[str]:
    """The lines of the frames and line blocks ``items[i:j]``, in order."""
    if j == i + 1 and type(items[i]) is Lines:
        return items[i].lines  # type: ignore[union-attr]
    if all(type(item) is Frame for item in items[i:j]):
        return [f.line for f in items[i:j]]  # type: ignore[union-attr]
    out: list[str] = []
    for item in items[i:j]:
        if type(item) is Lines:
            out += item.lines
        else:
            out.append(item.line)  # type: ignore[union-attr]
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineConfig:
    """Settings of the pipeline (thresholds with units in their names)."""

    tracks: TrackConfig = field(default_factory=TrackConfig)
    """Fusion and segmentation thresholds."""
    dedupe_window_s: float = 60.0
    """Copies of one payload received at most this far apart are one transmission."""
    dedupe_max_entries: int = 1_000_000
    """Bound of the dedupe memory (transmissions remembered)."""
    max_partials: int = 1024
    """Fragments of multi-sentence messages buffered per framer."""
    partial_ttl_s: float = 120.0
    """A fragment waiting longer than this (data time) is dropped as an orphan."""
    frame_time_tolerance_s: float = 1.0
    """Consecutive frames received this close together are framed in one call (one time)."""
    simulated_sources: frozenset[tuple[str, str]] = frozenset()
    """``(member, source)`` pairs whose data is simulated (flagged on vessels)."""
    publish_vessels: bool = True
    """Publish a vessel update per changed MMSI per batch."""
    publish_observations: bool = False
    """Publish every accepted observation (costly at high rates)."""
    max_rejections: int = 1000
    """Rejected lines kept per batch in ``BatchResult.rejections`` (all are counted)."""
    evict_interval_s: float = 600.0
    """How often (data time) idle vessels are evicted from memory."""


@dataclass(frozen=True, slots=True)
class Submission:
    """Items from one sender (an HTTP push body), answered with one receipt.

    ``key`` is the sender's idempotency key (``None`` for streams).
    """

    frames: Sequence[Item]
    key: str | None = None


class Pipeline:
    """The streaming core; see the module docstring. Not thread-safe: one ingest thread."""

    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        detectors: Sequence[Detector[Any]] | DetectorSuite = (),
        recall: Callable[[int], VesselState | None] | None = None,
    ) -> None:
        """``recall`` (e.g. ``Store.vessel``) seeds a vessel not in memory from its stored
        state, so a restart or an eviction does not reset its identity, counts and track.

        ``detectors``: the detectors to run, or a suite; a
        :class:`~lookout.pipeline.suite.DeferredSuite` runs none and puts what they would
        have been handed in ``BatchResult.detection`` (see :meth:`BatchResult.with_events`)."""
        self.config = cfg = config if config is not None else PipelineConfig()
        self._framers: dict[tuple[str, str, str | None], Framer] = {}
        self._member_of: dict[str, str] = {}
        self._fuser = Fuser(
            Deduplicator(cfg.dedupe_window_s, cfg.dedupe_max_entries),
            VesselTracker(cfg.tracks, recall=recall),
            detectors if isinstance(detectors, DetectorSuite) else DetectorSuite(detectors),
            publish_observations=cfg.publish_observations,
        )
        self._batches = 0
        self._next_evict_ts: float | None = None

    def configure(self, config: PipelineConfig) -> None:
        """Apply new settings; state (tracks, fragments, dedupe memory) is kept."""
        self.config = config
        self._fuser.tracker.reconfigure(config.tracks)
        self._fuser.dedupe.window_s = config.dedupe_window_s
        self._fuser.publish_observations = config.publish_observations

    @property
    def tracker(self) -> VesselTracker:
        """The fused state (read-only use: inspection, tests)."""
        return self._fuser.tracker

    # -- entry points ----------------------------------------------------------------------

    def process(
        self,
        items: Sequence[Item | Submission],
        *,
        now_ts: float,
        publish_vessels: bool | None = None,
    ) -> BatchResult:
        """Run one micro-batch; see the module docstring.

        ``BatchResult.receipts`` has one receipt per :class:`Submission` in ``items``, in order.
        ``publish_vessels`` overrides :attr:`PipelineConfig.publish_vessels` for this batch (the
        service passes ``False`` while nobody listens to vessel updates: building them costs).
        """
        batch = self._open(now_ts)
        receipts: list[IngestReceipt] = []
        keys: list[str | None] = []
        loose: list[Item] = []
        for item in items:
            if type(item) is Submission:
                if loose:
                    self._ingest(batch, loose, None)
                    loose = []
                counts = Counts()
                self._ingest(batch, item.frames, counts)
                receipts.append(counts.receipt())
                keys.append(item.key)
            else:
                loose.append(item)  # type: ignore[arg-type]
        if loose:
            self._ingest(batch, loose, None)
        if publish_vessels is None:
            publish_vessels = self.config.publish_vessels
        return self._close(batch, receipts, keys, publish_vessels)

    def flush(self, *, now_ts: float) -> BatchResult:
        """End of input: pending fragments become ``orphan_fragment`` rejections, timers due
        by the data-time watermark fire, idle vessels are evicted."""
        batch = self._open(now_ts)
        for (member, source, _), framer in self._framers.items():
            counts = batch.counter(member, source)
            for rejection in framer.flush():
                counts.reject(rejection.reason.value)
                batch.keep(rejection)
        self._next_evict_ts = None
        return self._close(batch, [], [], self.config.publish_vessels)

    # -- batch plumbing --------------------------------------------------------------------

    def _open(self, now_ts: float) -> BatchState:
        self._batches += 1
        self._fuser.dedupe.advance(self._fuser.tracker.watermark_ts)
        return BatchState(self._batches, now_ts, self.config.max_rejections)

    def _close(
        self,
        batch: BatchState,
        receipts: list[IngestReceipt],
        keys: list[str | None],
        publish_vessels: bool,
    ) -> BatchResult:
        tracker, suite = self._fuser.tracker, self._fuser.suite
        self._fuser.run_detectors(batch)
        watermark = tracker.watermark_ts
        if watermark is not None:
            batch.events.extend(suite.advance(watermark))
            if self._next_evict_ts is None or watermark >= self._next_evict_ts:
                tracker.evict()
                self._next_evict_ts = watermark + self.config.evict_interval_s
        vessels = tracker.take_state_rows()
        counts = [c.ingest_counts(m, s) for (m, s), c in batch.counts.items()]
        messages = batch.messages
        if publish_vessels:
            feed, ais_class = tracker.feed, tracker.ais_class
            messages.extend(
                (subjects.vessel(v[0]), vessel_row_payload(v, feed(v[0]), ais_class(v[0])))
                for v in vessels
            )
        messages.extend(event_messages(batch.events))
        if counts:
            payload = counts_payload(batch.number, batch.now_ts, counts)
            messages.append((subjects.INGEST_STATS, payload))
        store = StoreBatch(
            track=TrackRows(batch.track),
            vessels=VesselRows(vessels),
            statics=batch.statics,
            counts=counts,
            receipts=keyed_receipts(keys, receipts),
            received_ts=batch.now_ts,
            events=batch.events,
            detections=batch.detections,
        )
        suite.close_batch()
        return BatchResult(store, messages, receipts, batch.events, batch.rejections, suite.take())

    def _ingest(self, batch: BatchState, items: Sequence[Item], receipt: Counts | None) -> None:
        """Frame runs of consecutive frames (and line blocks) of one framer; records and
        rejections one by one."""
        member = ""
        i, n = 0, len(items)
        while i < n:
            first = items[i]
            kind = type(first)
            if kind is Frame or kind is Lines:
                member = first.member  # type: ignore[union-attr]
                j = self._run_end(items, i)
                self._lines(batch, first, _run_lines(items, i, j), receipt)  # type: ignore[arg-type]
                i = j
                continue
            if type(first) is ReportRecord:
                member = first.member
                simulated = (member, first.source) in self.config.simulated_sources
                self._fuser.record(batch, first, simulated, receipt)
            elif type(first) is Detection:
                batch.detections.append(first)
                self._fuser.detection(batch, first)
            else:
                self._source_reject(batch, first, member, receipt)  # type: ignore[arg-type]
            i += 1

    def _run_end(self, items: Sequence[Item], i: int) -> int:
        """End of the run of frames (or line blocks) starting at ``i`` that one framer call
        can take."""
        first = items[i]
        assert type(first) is Frame or type(first) is Lines
        member, source, receiver, ts = first.member, first.source, first.receiver, first.received_ts
        tolerance = self.config.frame_time_tolerance_s
        j, n = i + 1, len(items)
        while j < n:
            frame = items[j]
            if (
                (type(frame) is not Frame and type(frame) is not Lines)
                or frame.source != source
                or frame.member != member
                or frame.receiver != receiver
            ):
                break
            frame_ts = frame.received_ts
            if frame_ts != ts and (
                frame_ts is None or ts is None or abs(frame_ts - ts) > tolerance
            ):
                break
            j += 1
        return j

    def _framer(self, member: str, source: str, receiver: str | None) -> Framer:
        framer = self._framers.get((member, source, receiver))
        if framer is None:
            framer = Framer(
                member=member,
                source=source,
                receiver=receiver,
                max_partials=self.config.max_partials,
                partial_ttl_s=self.config.partial_ttl_s,
            )
            self._framers[(member, source, receiver)] = framer
            self._member_of[source] = member
        return framer

    def _lines(
        self, batch: BatchState, first: Frame | Lines, lines: Sequence[str], receipt: Counts | None
    ) -> None:
        member, source, received_ts = first.member, first.source, first.received_ts
        framer = self._framer(member, source, first.receiver)
        accepted_before = framer.stats.accepted
        framed, rejections = framer.frame(lines, received_ts)
        counts = batch.counter(member, source)
        counts.lines += len(lines)
        counts.accepted += framer.stats.accepted - accepted_before
        default_ts = batch.now_ts if received_ts is None else received_ts
        counts.seen_at(default_ts)
        if receipt is not None:
            receipt.lines += len(lines)
        for rejection in rejections:
            counts.reject(rejection.reason.value)
            if receipt is not None:
                receipt.reject(rejection.reason.value)
            batch.keep(rejection)
        simulated = (member, source) in self.config.simulated_sources
        self._fuser.messages(batch, framed, default_ts, simulated, counts, receipt)

    def _source_reject(
        self, batch: BatchState, rejection: Rejection, member: str, receipt: Counts | None
    ) -> None:
        """A row its source could not read: counted like any rejected line.

        A :class:`Rejection` names no member: it is counted under the member of the items
        before it, else the member last seen with that source.
        """
        member = member or self._member_of.get(rejection.source, "")
        counts = batch.counter(member, rejection.source)
        counts.lines += 1
        counts.reject(rejection.reason.value)
        counts.seen_at(batch.now_ts)
        if receipt is not None:
            receipt.lines += 1
            receipt.reject(rejection.reason.value)
        batch.keep(rejection)

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The fused state and detector state as bytes (JSON), so a restart resumes.

        Not included: fragments of multi-sentence messages waiting in the framers (lost on a
        restart) and the dedupe memory (a copy arriving across a restart is stored twice).
        """
        data = {
            "version": 1,
            "tracker": self._fuser.tracker.snapshot(),
            "detectors": self._fuser.suite.snapshot(),
        }
        return json.dumps(data, separators=(",", ":")).encode()

    def restore(self, snapshot: bytes) -> None:
        """Resume from :meth:`snapshot`. Detectors are matched by kind: one turned on since
        starts afresh, the state of one turned off is dropped."""
        data = json.loads(snapshot)
        if data.get("version") != 1:
            raise ValueError(f"unknown snapshot version {data.get('version')!r}")
        self._fuser.tracker.restore(data["tracker"])
        self._fuser.suite.restore(data.get("detectors", ()))
