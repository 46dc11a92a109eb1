"""Batch analysis (``lookout detect``): the live detectors over recorded files.

**Order.** Detectors need event-time order (a pairwise detector drops a position older than
the tick it last compared; a per-vessel detector compares each position with the one before),
but recorded files are often grouped by vessel or by receiver. So a run has two passes:

1. *Decode and fuse.* Every input file goes through the same :class:`~lookout.pipeline.engine.
   Pipeline` as ``lookout ingest`` (framing, tag-block times, reassembly, validation, dedupe
   across receivers, identity), in chunks of :data:`CHUNK_ITEMS` items, with no detector but
   a collector that keeps each accepted position (:class:`~lookout.model.Observation`) and
   each identity report that changed something (:class:`~lookout.model.StaticReport`).
2. *Detect.* The positions are sorted by observed time (a stable sort: ties keep file order)
   and fed to the detector suite one by one, identity reports and non-AIS detections merged
   in at their own times; after the positions of each instant every detector is advanced to
   it, as the live pipeline advances them after each micro-batch. At the end every detector
   is advanced to infinity, which closes the episodes still open.

**Memory.** Pass 1 holds every accepted position until pass 2: about 0.4 GB per million
positions (386 bytes each, measured with ``tracemalloc`` on the CSV of ``gfw-pyseas``: one
``Observation`` with its floats and key string), plus the detectors' own state. A year of a
busy coast's AIS (hundreds of millions of positions) does not fit; split such input by time
(the detectors' longest window is hours).

**Times.** A position's time is the one its line or row carried (NMEA tag block ``c:``,
``$PGHP``, USCG trailer; CSV/JSON time column). An NMEA line with no time at all cannot be put
in order: it is counted as ``no_time`` and not analysed (the live server would stamp it with the
time it arrived).

**Output.** Every version of every event, as published (``provisional``, then ``confirmed`` or
``retracted``), one JSON object per line (:func:`event_record`); a later line with the same
``id`` replaces the earlier one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

import orjson

from lookout.detectors.base import Detector, Event
from lookout.model import Detection, Lines, Observation, StaticReport
from lookout.pipeline.engine import Pipeline, PipelineConfig
from lookout.pipeline.ports import SourceItem, item_lines
from lookout.pipeline.suite import ReportSampler
from lookout.service.detection import DetectionSetup, build_detectors
from lookout.service.gc_tuning import tune_gc
from lookout.sources.files import FileFormatError, iter_file_items, open_text, sniff_format

__all__ = [
    "CHUNK_ITEMS",
    "UNTIMED_TS",
    "BatchError",
    "DetectRequest",
    "DetectSummary",
    "Progress",
    "event_record",
    "iso_utc",
    "run_detect",
]

CHUNK_ITEMS = 5_000
"""Items (NMEA: lines) per pipeline call in pass 1."""
T = TypeVar("T")

UNTIMED_TS = -(2.0**40)
"""The pipeline's ``now_ts`` in pass 1: a line without a time of its own gets it (and is
counted as ``no_time``); it is far before any real time."""


class BatchError(ValueError):
    """Input that cannot be analysed at all (a file in no known format); the message says why."""


class Progress(Protocol):
    """Where a run reports progress (the CLI draws a bar)."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase starts, with ``total`` units of work (``None``: unknown)."""

    def advance(self, done: int) -> None:
        """``done`` more units of the current phase are done."""


class _NoProgress:
    def phase(self, name: str, total: int | None) -> None:
        return None

    def advance(self, done: int) -> None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectRequest:
    """What to analyse: the input files, whose data they are, and the detector suite."""

    inputs: Sequence[Path]
    """NMEA (tag blocks, ``$PGHP``, USCG trailers; gzip too), report CSV or JSON-lines files."""
    member: str = "local"
    """The member the data belongs to (in every event's ``members``)."""
    setup: DetectionSetup = field(default_factory=DetectionSetup)
    """Detectors, thresholds, zones, shore and ports."""
    detections: Sequence[Detection] = ()
    """Non-AIS detections (``--detections``, for ``dark_vessel``) merged in at their times."""
    detections_rejected: int = 0
    """Rows of the detections files that could not be read (reported in the summary)."""
    line_counts: Sequence[int] | None = None
    """Lines per input file, for the progress bar (``None``: not shown as a fraction)."""


@dataclass(slots=True)
class DetectSummary:
    """What a run came to (the CLI prints it)."""

    files: int = 0
    lines: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    observations: int = 0
    duplicates: int = 0
    static_reports: int = 0
    detections: int = 0
    detections_rejected: int = 0
    detectors: list[str] = field(default_factory=list)
    versions: int = 0
    """Event lines written."""
    events: Counter[str] = field(default_factory=Counter)
    """Distinct events (ids) per kind whose last version is not ``retracted``."""
    retracted: int = 0
    """Distinct events whose last version is ``retracted``."""

    def rows(self) -> list[tuple[str, int | str]]:
        """Summary rows for a two-column table."""
        rejected = [(f"rejected: {r}", n) for r, n in sorted(self.rejected.items())]
        events = [(f"events: {kind}", n) for kind, n in sorted(self.events.items())]
        return [
            ("files", self.files),
            ("lines", self.lines),
            ("accepted", self.accepted),
            *rejected,
            ("positions analysed", self.observations),
            ("duplicates", self.duplicates),
            ("identity reports", self.static_reports),
            ("detections", self.detections),
            ("detections not read", self.detections_rejected),
            ("detectors", ", ".join(self.detectors) or "none"),
            *events,
            ("events retracted", self.retracted),
            ("event lines written", self.versions),
        ]


def run_detect(
    request: DetectRequest, out: IO[bytes], progress: Progress | None = None
) -> DetectSummary:
    """Analyse the input (see the module docstring), writing event lines to ``out``."""
    progress = progress or _NoProgress()
    summary = DetectSummary(
        files=len(request.inputs), detections_rejected=request.detections_rejected
    )
    collector = _Collector()
    _decode_and_fuse(request, collector, summary, progress)
    detectors = build_detectors(request.setup)
    tune_gc()  # the collected positions and the detectors' static data stay
    summary.detectors = [d.kind for d in detectors]
    writer = _EventWriter(out, summary)
    _detect(collector, list(request.detections), detectors, writer, summary, progress)
    writer.finish()
    return summary


# -- pass 1: decode and fuse ------------------------------------------------------------------


class _Collector(Detector[None]):
    """Keeps every accepted position, in arrival order, for pass 2 (detects nothing)."""

    kind = "batch_collector"

    def __init__(self) -> None:
        super().__init__()
        self.observations: list[Observation] = []
        self.statics: list[StaticReport] = []
        self.untimed = 0

    def on_observation(self, obs: Observation) -> list[Event]:
        if obs.observed_ts == UNTIMED_TS:
            self.untimed += 1
        else:
            self.observations.append(obs)
        return []


def _decode_and_fuse(
    request: DetectRequest, collector: _Collector, summary: DetectSummary, progress: Progress
) -> None:
    config = PipelineConfig(publish_vessels=False, max_rejections=0)
    pipeline = Pipeline(config, detectors=[collector])
    statics: list[StaticReport] = []
    counts = request.line_counts
    for number, path in enumerate(request.inputs):
        progress.phase(f"reading {path.name}", counts[number] if counts else None)
        for chunk in _chunks(path, request.member, path.name):
            result = pipeline.process(chunk, now_ts=UNTIMED_TS, publish_vessels=False)
            _add_counts(summary, result.store.counts)
            statics.extend(result.store.statics)
            progress.advance(item_lines(chunk))
    result = pipeline.flush(now_ts=UNTIMED_TS)
    _add_counts(summary, result.store.counts)
    statics.extend(result.store.statics)
    if collector.untimed:
        summary.rejected["no_time"] += collector.untimed
        summary.accepted -= collector.untimed
    summary.observations = len(collector.observations)
    summary.static_reports = len(statics)
    collector.statics = sorted(statics, key=_static_ts)


def _static_ts(report: StaticReport) -> float:
    return report.observed_ts


def _chunks(path: Path, member: str, source: str) -> Iterator[list[SourceItem]]:
    """The file's items, :data:`CHUNK_ITEMS` lines at a time (NMEA as blocks of lines)."""
    try:
        fmt = sniff_format(path)
        if fmt == "nmea":
            with open_text(path) as stream:
                block: list[str] = []
                for line in stream:
                    block.append(line.rstrip("\r\n"))
                    if len(block) >= CHUNK_ITEMS:
                        yield [Lines(block, member, source)]
                        block = []
                if block:
                    yield [Lines(block, member, source)]
            return
        chunk: list[SourceItem] = []
        for item in iter_file_items(path, member=member, source=source, fmt=fmt):
            chunk.append(item)
            if len(chunk) >= CHUNK_ITEMS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    except FileFormatError as exc:
        raise BatchError(str(exc)) from exc
    except OSError as exc:
        raise BatchError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _add_counts(summary: DetectSummary, counts: Sequence[Any]) -> None:
    for c in counts:
        summary.lines += c.lines
        summary.accepted += c.accepted
        summary.rejected.update(c.rejected)
        summary.duplicates += c.duplicates


# -- pass 2: detect in time order ---------------------------------------------------------------


def _detect(
    collector: _Collector,
    detections: list[Detection],
    detectors: list[Detector[Any]],
    writer: _EventWriter,
    summary: DetectSummary,
    progress: Progress,
) -> None:
    observations = collector.observations
    observations.sort(key=_observed_ts)
    statics = collector.statics
    detections.sort(key=_detection_ts)
    summary.detections = len(detections)
    static_hooks = [d.on_static for d in detectors if hasattr(d, "on_static")]
    detection_hooks = [d.on_detection for d in detectors if hasattr(d, "on_detection")]
    feeds: list[_Timed[Any]] = [
        _Timed(statics, static_hooks, _static_ts, writer),
        _Timed(detections, detection_hooks, _detection_ts, writer),
    ]
    progress.phase("detecting", len(observations))
    # The thinned streams the live pipeline gives detectors that judge hours of behaviour
    # (DetectorSuite.observations): the same sampler here, so a recording gives the events the
    # server would have raised.
    samplers = {
        d.min_report_interval_s: ReportSampler(d.min_report_interval_s)
        for d in detectors
        if d.min_report_interval_s > 0.0
    }
    on_obs = [(d.on_observation, d.min_report_interval_s) for d in detectors]
    advance = [d.advance for d in detectors]
    n = len(observations)
    for i, obs in enumerate(observations):
        ts = obs.observed_ts
        for feed in feeds:
            feed.until(ts)
        kept = {interval: sampler.keep(obs) for interval, sampler in samplers.items()}
        for hook, interval in on_obs:
            if interval > 0.0 and not kept[interval]:
                continue
            events = hook(obs)
            if events:
                writer.write(events)
        if i + 1 == n or observations[i + 1].observed_ts > ts:
            for step in advance:
                events = step(ts)
                if events:
                    writer.write(events)
        if i % CHUNK_ITEMS == CHUNK_ITEMS - 1:
            progress.advance(CHUNK_ITEMS)
    for feed in feeds:
        feed.until(math.inf)
    for step in advance:
        writer.write(step(math.inf))
    progress.advance(n % CHUNK_ITEMS)
    del observations[:]


def _observed_ts(obs: Observation) -> float:
    return obs.observed_ts


def _detection_ts(detection: Detection) -> float:
    return detection.ts


class _Timed(Generic[T]):
    """Items in time order (identity reports, detections), handed to their detectors' hooks
    when the stream of positions reaches their time (before the positions of that instant)."""

    def __init__(
        self,
        items: list[T],
        hooks: list[Callable[[T], list[Event]]],
        time_of: Callable[[T], float],
        writer: _EventWriter,
    ) -> None:
        self._items, self._hooks, self._time_of, self._writer = items, hooks, time_of, writer
        self._next = 0

    def until(self, ts: float) -> None:
        items, i = self._items, self._next
        while i < len(items) and self._time_of(items[i]) <= ts:
            for hook in self._hooks:
                self._writer.write(hook(items[i]))
            i += 1
        self._next = i


# -- output ---------------------------------------------------------------------------------------


def iso_utc(ts: float | None) -> str | None:
    """ISO 8601 UTC with a ``Z`` (seconds, or milliseconds when the time has a fraction)."""
    if ts is None or not math.isfinite(ts):
        return None
    when = datetime.fromtimestamp(ts, UTC)
    spec = "seconds" if ts == math.floor(ts) else "milliseconds"
    return when.isoformat(timespec=spec).replace("+00:00", "Z")


def event_record(event: Event) -> dict[str, Any]:
    """One output line: the contract fields first, then ``observations`` and ``members``.

    ``kind``, ``status``, ``id``, ``mmsi`` (int or null), ``mmsis``, ``start``/``end`` (ISO 8601
    UTC; ``end`` null while open), ``lat``, ``lon``, ``zone`` (id or null), ``details``.
    """
    mmsi = event.get("mmsi")
    mmsis = event.get("mmsis")
    if mmsis is None:
        mmsis = [mmsi] if mmsi is not None else []
    start_ts = event.get("start_ts", event.get("ts"))
    return {
        "id": event.get("id") or _fallback_id(event, start_ts),
        "kind": event["kind"],
        "status": event["status"],
        "mmsi": mmsi,
        "mmsis": list(mmsis),
        "start": iso_utc(start_ts),
        "end": iso_utc(event.get("end_ts")),
        "lat": event.get("lat"),
        "lon": event.get("lon"),
        "zone": event.get("zone"),
        "details": event.get("details", {}),
        "observations": list(event.get("observations", ())),
        "members": list(event.get("members", ())),
    }


def _fallback_id(event: Event, start_ts: float | None) -> str:
    """An id for a third-party detector's event that carries none: kind, vessel, start."""
    who = event.get("mmsi") or "-".join(str(m) for m in event.get("mmsis", ()))
    return f"{event['kind']}-{who}-{math.floor(start_ts or 0.0)}"


class _EventWriter:
    """Writes event lines and keeps the last status of each id for the summary."""

    def __init__(self, out: IO[bytes], summary: DetectSummary) -> None:
        self._out = out
        self._summary = summary
        self._last: dict[str, tuple[str, str]] = {}

    def write(self, events: Sequence[Event]) -> None:
        for event in events:
            record = event_record(event)
            line = orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
            self._out.write(line + b"\n")
            self._last[record["id"]] = (record["kind"], record["status"])
            self._summary.versions += 1

    def finish(self) -> None:
        self._out.flush()
        for kind, status in self._last.values():
            if status == "retracted":
                self._summary.retracted += 1
            else:
                self._summary.events[kind] += 1
