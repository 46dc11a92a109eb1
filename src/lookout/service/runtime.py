"""The running service: one ingest thread driving the pure pipeline, the store and the bus.

Threads:
- sources (one thread each) and API handlers call :meth:`Runtime.submit`, which queues the
  items (frames, :class:`~lookout.model.Lines` blocks, records) and returns a future;
- the ingest thread closes a micro-batch at ``batch_max_lines`` lines or ``batch_max_wait_ms``
  after its first line and runs it through the pure pipeline;
- each processed batch is committed to the store in one transaction, and only then are the
  futures of the submissions in it resolved (so an HTTP push is acknowledged after its data is
  durable) and the batch's messages published on the bus.

The default store, :class:`~lookout.storage.sqlite_process.SqliteProcessStore`, commits in a
child process, so commits run on a second core beside the pipeline (Python runs one thread at
a time): the ingest thread sends each batch to it (``write_async``) and goes on with the next;
the store's answer thread acknowledges each batch once its commit is done, in order. At most
``MAX_WRITES_IN_FLIGHT`` batches wait for their commit; beyond that the ingest thread waits.
With another store (one without ``write_async``) the writer thread commits each batch; at most
four processed batches wait for it.

The detectors the settings describe run in a child process too
(:mod:`lookout.service.detection_process`; ``detection_process``, on by default): the ingest
thread sends each processed batch's positions to it and goes on with the next batch; the
batch's events come back, join its store batch, and only then is it committed (with its
events, in one transaction) and acknowledged. So an acknowledged batch's events are stored,
as when the detectors run on the ingest thread, and a failed detection fails its batch like a
failed pipeline (below: a fresh pipeline, with a fresh detection process, takes the input).
At most ``MAX_DETECTING`` processed batches wait for their events while the ingest thread
goes on; when the input pauses, it waits for them at once.

Vessel updates (``lookout.vessel.<mmsi>``) are built for a batch only while the bus has a
subscriber for them (``has_subscribers``; a bus that cannot tell is assumed to have one).

If a commit fails, its submissions fail (the API answers 500) and nothing in them is
acknowledged. The pipeline's in-memory state has already seen them, and a re-send would be
deduped away as a duplicate of lines that were never stored, so that pipeline is done with:
batches it processed that are not committed yet fail too (never written). With a store that
can say whether it answers again (``ping``: PostGIS), this is an *outage*: ``submit`` raises
:class:`StoreUnavailable` (HTTP 503, retry) while the ingest thread asks the store every
``OUTAGE_RETRY_S``; once it answers, ingest resumes with a fresh pipeline (vessels recalled
from the store, detectors afresh, as after a crash) and senders' re-sends are stored. A store
that cannot tell (SQLite's writer process died) stops the intake for good (:class:`Stopping`):
restart Lookout. A pipeline failure (a store read inside it failed) is an outage the same way.

Pipeline state across a restart: on a clean stop (every submission committed) the runtime that
opened its own store writes the pipeline's snapshot (fused vessel state, every detector's
open episodes, pending detections and timers) to ``<data_dir>/pipeline-state.json``, and the
next start resumes from it, so a gap that was provisional is still confirmed or retracted
and a vessel seen outside a zone before the restart still raises its entry. After a crash
there is no snapshot: detectors start afresh (the store keeps every event already raised).

Back-pressure: the queue holds at most ``max_queued_lines`` lines; beyond that ``submit``
raises :class:`Overloaded` (the API answers 503) instead of buffering without bound.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lookout.bus.inprocess import InProcessBus
from lookout.detectors.base import Detector
from lookout.geo.zones import ZoneIndex
from lookout.model import IngestReceipt
from lookout.pipeline import subjects
from lookout.pipeline.batcher import MicroBatcher
from lookout.pipeline.engine import BatchResult, Pipeline, PipelineConfig, Submission
from lookout.pipeline.ports import Bus, SourceItem, Store, StoreBatch, item_lines
from lookout.pipeline.suite import DeferredSuite
from lookout.service.access import Access, shared_database
from lookout.service.detection_process import (
    INGEST_THREAD_KINDS,
    DetectionProcess,
    DetectionProcessError,
)
from lookout.service.gc_tuning import tune_gc
from lookout.service.incidents import Incidents
from lookout.service.settings import Settings, SourceConfig
from lookout.service.sharing import PolicySource
from lookout.sharing import Policy
from lookout.sinks import Outputs, read_outputs, start_outputs
from lookout.storage.alert_states import AlertStateStore
from lookout.storage.audit import AUDIT_FILE, AuditLog
from lookout.storage.incidents import IncidentStore

__all__ = [
    "AUDIT_FILE",
    "STATE_FILE",
    "Overloaded",
    "Runtime",
    "Stopping",
    "StoreUnavailable",
    "open_bus",
    "open_store",
]

STATE_FILE = "pipeline-state.json"
"""Where a cleanly stopped runtime leaves its pipeline's state, in the data dir."""

OUTAGE_RETRY_S = 0.5
"""How often the ingest thread asks a store in an outage whether it answers again."""

log = logging.getLogger(__name__)


MAX_DETECTING = 3
"""Processed batches waiting for their events from the detection process while the ingest
thread goes on, at most (it then waits for the oldest): enough to ride out a slow batch on
either side, few enough that a busy runtime adds little to the ingest-to-alert latency."""


class Overloaded(RuntimeError):
    """The ingest queue is full: the sender should retry later (HTTP 503)."""


class Stopping(RuntimeError):
    """The runtime is stopping or stopped and takes no more input (HTTP 503)."""


class StoreUnavailable(Overloaded):
    """The store does not answer (an outage): the sender should retry later (HTTP 503)."""


@dataclass(slots=True)
class _Pending:
    items: Sequence[SourceItem]
    key: str | None
    future: Future[IngestReceipt]
    lines: int


@dataclass(slots=True)
class _Write:
    result: BatchResult
    todo: list[_Pending]
    pending: list[_Pending]
    started: float
    generation: int


def open_store(settings: Settings) -> Store:
    """The store the settings name: ``sqlite`` (a writer process on ``db_path``) or
    ``postgis`` (``database_url``, which must then be set)."""
    retention_s = settings.retention_days * 86_400 if settings.retention_days else None
    if settings.store == "postgis":
        if not settings.database_url:
            raise ValueError("store = postgis needs database_url (LOOKOUT_DATABASE_URL)")
        from lookout.storage.postgis import PostgisStore

        return PostgisStore(settings.database_url, retention_s=retention_s)
    if settings.store != "sqlite":
        raise ValueError(f"store must be 'sqlite' or 'postgis', not {settings.store!r}")
    from lookout.storage.sqlite_process import SqliteProcessStore

    return SqliteProcessStore(
        settings.db_path, synchronous=settings.sqlite_synchronous, retention_s=retention_s
    )


def zone_index_of(detectors: Sequence[Detector[Any]]) -> ZoneIndex | None:
    """The zone index the suite's zone detectors watch, ``None`` without one."""
    zones = (getattr(d, "zones", None) for d in detectors)
    return next((z for z in zones if isinstance(z, ZoneIndex)), None)


def vessel_updates_wanted(bus: Bus) -> bool:
    """Whether anyone listens to vessel updates, in any process where the bus can tell
    (``has_subscribers``; a bus that cannot tell: yes). A pipeline builds them only then."""
    has_subscribers = getattr(bus, "has_subscribers", None)
    return has_subscribers is None or bool(has_subscribers(subjects.VESSELS))


def open_bus(settings: Settings) -> Bus:
    """The bus the settings name: ``inprocess`` or ``nats`` (JetStream at ``nats_url``, its
    streams created or checked now, so an unreachable server stops the start)."""
    if settings.bus == "nats":
        from lookout.bus.nats import NatsBus

        return NatsBus(
            settings.nats_url,
            prefix=settings.nats_stream_prefix,
            replicas=settings.nats_replicas,
        )
    if settings.bus != "inprocess":
        raise ValueError(f"bus must be 'inprocess' or 'nats', not {settings.bus!r}")
    return InProcessBus()


def _copy_outcome(source: Future[IngestReceipt], target: Future[IngestReceipt]) -> None:
    exc = source.exception()
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


class Runtime:
    """Wires settings, store, bus, pipeline and sources together; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        bus: Bus | None = None,
        clock: Callable[[], float] = time.time,
        max_queued_lines: int = 200_000,
        detectors: Sequence[Detector[Any]] | None = None,
    ) -> None:
        """``detectors`` replaces the suite the settings describe (tests, embedding)."""
        self.settings = settings
        self._detectors = detectors
        self._owns_store = False
        self.audit: AuditLog | None = None
        """The audit log in the data dir, open while a runtime that owns its store runs."""
        self.incidents: Incidents | None = None
        """Incidents, their timelines, attachments and assets (``incidents.db`` in the data
        dir), open while a runtime that owns its store runs."""
        self.alert_states: AlertStateStore | None = None
        """Alerts acknowledged and escalated per member (``alert-states.db`` in the data
        dir), open while a runtime that owns its store runs."""
        self.access: Access | None = None
        """Members, users, keys and tokens (``identity.db`` in the data dir), open while a
        runtime that owns its store runs."""
        self.detector_kinds: list[str] = []
        """The kinds of the detectors running (once started)."""
        self._zone_index: ZoneIndex | None = None
        self.outputs: Outputs | None = None
        """The running outputs of ``outputs_file`` (webhooks, CoT), while started."""
        self._policy = PolicySource(
            lambda: [(s.member, s.name, s.release) for s in self.sources()],
            self.settings.sharing_file,
            lambda: self._zone_index,
        )
        self._store = store
        self.bus: Bus = bus if bus is not None else open_bus(settings)
        self._clock = clock
        self._max_queued_lines = max_queued_lines
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._queued_lines = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sources_stop = threading.Event()
        self._bound: dict[str, tuple[str, int]] = {}
        self._adapters: list[Any] = []
        self._thread: threading.Thread | None = None
        self._source_threads: list[threading.Thread] = []
        self._sources: dict[str, SourceConfig] = {}
        self._keys: dict[str, SourceConfig] = {}
        self._pipeline: Pipeline | None = None
        for cfg in settings.sources:
            self.add_source(cfg)
        self._writes: queue.Queue[_Write | None] = queue.Queue(maxsize=4)
        self._write_async: Callable[[StoreBatch], Future[None]] | None = None
        self._commits: list[Future[None]] = []
        self._writer: threading.Thread | None = None
        self._inflight: dict[str, Future[IngestReceipt]] = {}
        self._failed: BaseException | None = None
        self._outage: BaseException | None = None
        self._generation = 0  # of the pipeline; batches of a failed one are never written
        self._bad_generation = -1
        self._retry_at = 0.0
        self._pristine: list[dict[str, Any]] = []
        self._detection: DetectionProcess | None = None
        """The child process running the detectors (``detection_process``), while started."""
        self._deferred: DeferredSuite | None = None
        """The current pipeline's stand-in for the detectors the child runs."""
        self._detecting: deque[tuple[_Write, Future[list[dict[str, Any]]]]] = deque()
        """The processed batches waiting for their events, oldest first."""
        self._stats = {"batches": 0, "lines": 0, "submissions": 0, "last_batch_ms": 0.0}
        self._started_at = clock()

    # -- configuration -------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("runtime not started")
        return self._store

    def _pipeline_config(self) -> PipelineConfig:
        simulated = frozenset(
            (cfg.member, cfg.name) for cfg in self._sources.values() if cfg.simulated
        )
        return PipelineConfig(simulated_sources=simulated)

    def add_source(self, cfg: SourceConfig) -> None:
        """Register a source (its ingest key authenticates pushes as that source)."""
        self._sources[f"{cfg.member}/{cfg.name}"] = cfg
        if cfg.key:
            self._keys[cfg.key] = cfg
        if self.audit is not None:  # sources added to a running server
            resource = f"source:{cfg.member}/{cfg.name}"
            self.audit.append("lookout", "configuration", resource, {"added": cfg.kind})
        if self._pipeline is not None:
            self._pipeline.configure(self._pipeline_config())

    def sources(self) -> list[SourceConfig]:
        """The configured sources, and the push sources registered with ``lookout sources``."""
        found = list(self._sources.values())
        if self.access is not None:
            known = set(self._sources)
            found += [
                SourceConfig(name=s.name, member=s.member, kind=s.kind, release=s.release)
                for s in self.access.store.sources()
                if s.kind == "push" and f"{s.member}/{s.name}" not in known
            ]
        return found

    def source_for_key(self, key: str) -> SourceConfig | None:
        return self._keys.get(key)

    def actor_for_token(self, token: str) -> str | None:
        return self.settings.api_tokens.get(token)

    def zone_index(self) -> ZoneIndex | None:
        """The zones the running ``zone_entry``/``zone_exit`` detectors watch (``None``
        before start or when neither runs)."""
        return self._zone_index

    @property
    def detection_pid(self) -> int | None:
        """The process id of the detection process, while one runs (``detection_process``)."""
        return self._detection.pid if self._detection is not None else None

    def policy(self) -> Policy:
        """The sharing policy in force: every source's release, the agreement file
        (``sharing_file``) and the watched zones; rebuilt within a second of a change."""
        return self._policy.policy()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the store, start the ingest and writer threads and the sources (once)."""
        if self._thread is not None:
            return
        detectors = self._detectors
        if detectors is None:  # before anything opens: a bad zone file stops the start
            if self.settings.detection_process and self.settings.detectors != "none":
                self._detection = DetectionProcess(self.settings)  # builds beside this one
            try:
                detectors = self._build_detectors()
                if self._detection is not None and not detectors:
                    self._detection.close()
                    self._detection = None
                if self._detection is not None:
                    self._detection.ready()
            except BaseException:
                if self._detection is not None:
                    self._detection.close()
                    self._detection = None
                raise
        self.detector_kinds = [d.kind for d in detectors]
        path = self.settings.outputs_file
        outputs = read_outputs(path) if path is not None else ()  # a bad file stops the start
        self._zone_index = zone_index_of(detectors)
        self._owns_store = self._store is None
        if self._store is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._store = open_store(self.settings)
        self._pristine = [d.snapshot() for d in detectors] if self._detectors else []
        self._pipeline = self._new_pipeline(detectors)
        if self._owns_store:
            self._resume(self._pipeline)
            data_dir, shared = self.settings.data_dir, shared_database(self.settings)
            self.audit = AuditLog.open(data_dir, shared)
            self.audit.append("lookout", "configuration", "settings", self._configuration())
            self.access = Access.open(data_dir, shared, audit=self.audit)
            self.alert_states = AlertStateStore.open(data_dir, shared)
            self.incidents = Incidents(
                IncidentStore.open(data_dir, shared), bus=self.bus, audit=self.audit
            )
        self._write_async = getattr(self._store, "write_async", None)
        tune_gc()  # what start-up built stays; the pipeline's churn is collected less often
        self._writer = threading.Thread(target=self._write_loop, name="lookout-writer", daemon=True)
        self._writer.start()
        self._thread = threading.Thread(target=self._run, name="lookout-ingest", daemon=True)
        self._thread.start()
        if outputs:
            self.outputs = start_outputs(outputs, self.bus, self.policy)
        for cfg in list(self._sources.values()):
            if cfg.kind != "push":
                self._start_source(cfg)

    def _new_pipeline(self, detectors: Sequence[Detector[Any]]) -> Pipeline:
        """A pipeline running ``detectors``, or, with a detection process, handing their
        work to it (``detectors`` unused)."""
        if self._detection is not None:
            self._deferred = DeferredSuite([d for d in detectors if d.kind in INGEST_THREAD_KINDS])
            return Pipeline(
                self._pipeline_config(), detectors=self._deferred, recall=self.store.vessel
            )
        return Pipeline(self._pipeline_config(), detectors=detectors, recall=self.store.vessel)

    def _build_detectors(self) -> list[Detector[Any]]:
        """The suite the settings describe. With a detection process, the shore is left out:
        the detectors that measure distances to shore run in the child, and the 1 km land
        mask takes about 0.9 GB in each process that loads it."""
        from lookout.service.detect_setup import setup_from_settings
        from lookout.service.detection import build_detectors

        settings = self.settings
        if self._detection is not None and settings.shore == "landmask":
            settings = dataclasses.replace(settings, shore="none")
        return build_detectors(setup_from_settings(settings))

    def _fresh_detectors(self) -> Sequence[Detector[Any]]:
        """The detector suite afresh: built again from the settings, or the given ones with
        their state dropped."""
        if self._detectors is None:
            return self._build_detectors()
        for detector, pristine in zip(self._detectors, self._pristine, strict=True):
            detector.restore(pristine)
        return self._detectors

    def _start_source(self, cfg: SourceConfig) -> None:
        """Build the adapter, bind listeners now (so a busy port fails at start and an
        ephemeral port is known), and run it in its own thread."""
        from lookout.service.sources import build_source

        source = build_source(cfg)
        bind = getattr(source, "bind", None)
        if bind is not None:
            self._bound[f"{cfg.member}/{cfg.name}"] = bind()
        self._adapters.append(source)
        thread = threading.Thread(
            target=self._run_source, args=(source,), name=f"source-{cfg.name}", daemon=True
        )
        thread.start()
        self._source_threads.append(thread)

    def _run_source(self, source: Any) -> None:
        try:
            source.run(self, self._sources_stop)
        except Exception:
            log.exception("source %s/%s failed", source.member, source.name)

    def bound_address(self, member: str, name: str) -> tuple[str, int] | None:
        """The address a listening source bound (its port, when configured as 0)."""
        return self._bound.get(f"{member}/{name}")

    def transport_stats(self, member: str, name: str) -> dict[str, Any]:
        """The adapter's own counters (lines too long, lost at shutdown, refused clients...)
        for a running source; empty for push sources and sources not running here."""
        for adapter in self._adapters:
            if adapter.member == member and adapter.name == name:
                stats = getattr(adapter, "stats", None)
                if stats is not None and dataclasses.is_dataclass(stats):
                    return dataclasses.asdict(stats)  # type: ignore[arg-type]
        return {}

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking input, commit everything already submitted, close the store."""
        if self._stopping.is_set():
            return
        # Sources first, while input is still taken, so their last chunks are submitted.
        self._sources_stop.set()
        for thread in self._source_threads:
            thread.join(timeout=2.0)
        for adapter in self._adapters:
            close = getattr(adapter, "close", None)
            if close is not None:
                close()
        with self._lock:
            self._stopping.set()
            self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        if self._writer is not None:
            self._writer.join(timeout=timeout_s)
        healthy = self._failed is None and self._outage is None
        if self._owns_store and self._pipeline is not None and healthy:
            self._save(self._pipeline)
        if self._detection is not None:
            self._detection.close()
        if self.access is not None:
            self.access.close()
        if self.alert_states is not None:
            self.alert_states.close()
        if self.incidents is not None:
            self.incidents.store.close()
        if self.audit is not None:
            self.audit.close()
        self._close_outputs()
        self.bus.close()
        if self._store is not None:
            self._store.close()

    def _close_outputs(self) -> None:
        """Let the outputs take what was published (up to 2 s), then stop them."""
        if self.outputs is None:
            return
        flush = getattr(self.bus, "flush", None)
        if flush is not None:
            flush(2.0)
        self.outputs.close()
        self.outputs = None

    def _configuration(self) -> dict[str, Any]:
        """The settings in force, without secrets (the audit log's configuration record)."""
        s = self.settings
        return {
            "sources": sorted(f"{c.member}/{c.name} ({c.kind})" for c in self._sources.values()),
            "api_tokens": len(s.api_tokens),
            "detectors": self.detector_kinds,
            "detector_config": None if s.detector_config is None else str(s.detector_config),
            "zones": [str(p) for p in s.zones],
            "region": s.region,
            "ports_file": None if s.ports_file is None else str(s.ports_file),
            "shore": s.shore,
            "retention_days": s.retention_days,
            "sqlite_synchronous": s.sqlite_synchronous,
            "store": s.store,
        }

    @property
    def _state_path(self) -> Path:
        return self.settings.data_dir / STATE_FILE

    def _resume(self, pipeline: Pipeline) -> None:
        """Restore the snapshot a clean stop left, if any; a bad one is set aside (logged)."""
        path = self._state_path
        if not path.is_file():
            return
        try:
            pipeline.restore(path.read_bytes())
            deferred = self._deferred
            if self._detection is not None and deferred is not None and deferred.restored:
                self._detection.restore(deferred.restored)
        except (OSError, ValueError, KeyError, TypeError, DetectionProcessError) as exc:
            aside = path.with_suffix(".unreadable")
            log.warning("pipeline state %s not restored (%s); kept as %s", path, exc, aside)
            path.replace(aside)
            return
        path.unlink()  # consumed: a crash from here on must not resume from a stale state
        log.info("pipeline state restored from %s", path)

    def _save(self, pipeline: Pipeline) -> None:
        """Write the pipeline's snapshot atomically (a temporary file, synced, renamed)."""
        path = self._state_path
        temp = path.with_suffix(".tmp")
        if self._detection is not None and self._deferred is not None:
            try:
                self._deferred.states = self._detection.snapshot()
            except DetectionProcessError:
                log.exception("pipeline state not saved: the detectors' state is lost")
                return
        try:
            with open(temp, "wb") as out:
                out.write(pipeline.snapshot())
                out.flush()
                os.fsync(out.fileno())
            temp.replace(path)
        except OSError:
            log.exception("pipeline state not saved to %s", path)

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- ingest ----------------------------------------------------------------------------

    def submit(
        self, items: Sequence[SourceItem], *, key: str | None = None
    ) -> Future[IngestReceipt]:
        """Queue items for ingest; the future resolves once they are durably committed.

        Raises :class:`Overloaded` when the queue is full, :class:`StoreUnavailable` in a
        store outage and :class:`Stopping` when the runtime is stopping or its store failed;
        nothing is queued then.
        """
        fut: Future[IngestReceipt] = Future()
        lines = item_lines(items)
        with self._lock:  # the stop marker is queued under this lock: nothing lands after it
            if self._failed is not None:
                raise Stopping(f"store failed ({self._failed}); restart Lookout")
            if isinstance(self._outage, DetectionProcessError):
                raise StoreUnavailable(
                    f"the detection process failed ({self._outage}); a fresh one is starting, "
                    "retry later"
                )
            if self._outage is not None:
                raise StoreUnavailable(f"the store does not answer ({self._outage}); retry later")
            if self._stopping.is_set() or self._thread is None:
                raise Stopping("Lookout is stopping" if self._thread else "Lookout not started")
            if self._queued_lines + lines > self._max_queued_lines and self._queued_lines:
                raise Overloaded(
                    f"ingest queue full ({self._queued_lines} lines waiting); retry later"
                )
            self._queued_lines += lines
            self._queue.put(_Pending(items, key, fut, lines))
        return fut

    def _run(self) -> None:
        batcher: MicroBatcher[_Pending] = MicroBatcher(
            max_lines=self.settings.batch_max_lines,
            max_wait_s=self.settings.batch_max_wait_ms / 1000.0,
        )
        while True:
            while self._detecting and self._queue.empty():
                self._finish_detection()  # nothing to go on with: write the waiting batches
            wait = batcher.time_left(self._clock())
            if wait is None:
                wait = self._idle_wait()
            if self._outage is not None:  # (a failed detection may have just begun one)
                self._recover()
                wait = OUTAGE_RETRY_S if wait is None else min(wait, OUTAGE_RETRY_S)
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                self._process(batcher.take())
                continue
            if item is None:
                break
            closed = batcher.add(item, item.lines, self._clock())
            if closed is not None:
                self._process(closed)
        self._process(batcher.take(), final=True)
        while self._detecting:
            self._finish_detection()
        futures.wait(self._commits)
        self._writes.put(None)

    def _idle_wait(self) -> float | None:
        """How long the batching loop may wait for input with no batch open (``None``: for
        ever); when it times out, :meth:`_process` is called with nothing."""
        return None

    def _process(self, pending: list[_Pending], *, final: bool = False) -> None:
        """Run one micro-batch through the pipeline and hand it to the writer thread.

        A keyed submission whose key was already committed is answered with the stored
        receipt; one whose key is still in flight (in this or an earlier, uncommitted batch)
        waits for that batch's receipt. Neither is processed twice.
        """
        if not pending and not final:
            return
        if self._outage is not None:  # not recovered yet: nothing is processed
            self._fail(pending, StoreUnavailable(f"the store does not answer ({self._outage})"))
            self._release(pending)
            return
        todo: list[_Pending] = []
        looked_at = 0
        pipeline, generation = self._pipeline, self._generation
        assert pipeline is not None, "runtime not started"
        try:
            for p in pending:
                if not (p.key is not None and self._answer_known_key(p)):
                    todo.append(p)
                    if p.key is not None:
                        self._inflight[p.key] = p.future
                looked_at += 1
            now_ts = self._clock()
            submissions = [Submission(p.items, p.key) for p in todo]
            wanted = vessel_updates_wanted(self.bus)
            result = pipeline.process(submissions, now_ts=now_ts, publish_vessels=wanted)
            if final:
                result = result.merged(pipeline.flush(now_ts=now_ts))
        except Exception as exc:
            failed = todo + pending[looked_at:]
            log.exception("pipeline failed on a batch of %d submissions", len(failed))
            self._taint(generation, exc, commit=False)
            self._fail(failed, exc)
            self._release(failed)
            return
        job = _Write(result, todo, pending, time.perf_counter(), generation)
        if self._detection is not None and result.detection:
            try:
                events = self._detection.run(result.detection)
            except Exception as exc:  # could not even be sent: failed like a failed pipeline
                events = Future()
                events.set_exception(exc)
            self._detecting.append((job, events))
            while len(self._detecting) > MAX_DETECTING:  # the oldest, detected meanwhile
                self._finish_detection()
            return
        self._write(job)

    def _finish_detection(self) -> None:
        """Wait for the events of the oldest batch waiting for them, then write it (ingest
        thread)."""
        if not self._detecting:
            return
        job, events = self._detecting.popleft()
        try:
            found = events.result()
        except Exception as exc:
            log.error("detection failed; %d submissions not acknowledged", len(job.todo),
                      exc_info=exc)  # fmt: skip
            self._taint(job.generation, exc, commit=False)
            self._fail(job.todo, exc)
            self._release(job.pending)
            return
        if job.generation <= self._bad_generation:  # processed by a failed pipeline
            self._fail(job.todo, StoreUnavailable("an earlier batch failed; retry"))
            self._release(job.pending)
            return
        job.result = job.result.with_events(found)
        self._write(job)

    def _write(self, job: _Write) -> None:
        """Hand a processed batch to the store (ingest thread)."""
        if self._write_async is None:
            self._writes.put(job)
            return
        try:  # sent from this thread: one thread less to wake per batch
            commit = self._write_async(job.result.store)
        except Exception as exc:
            self._write_failed(job, exc)
            return
        commit.add_done_callback(functools.partial(self._on_commit, job))
        self._commits = [f for f in self._commits if not f.done()] + [commit]

    def _answer_known_key(self, p: _Pending) -> bool:
        assert p.key is not None
        earlier = self._inflight.get(p.key)
        if earlier is not None:
            earlier.add_done_callback(functools.partial(_copy_outcome, target=p.future))
            self._release([p])
            return True
        receipt = self.store.receipt(p.key)
        if receipt is not None:
            p.future.set_result(receipt)
            self._release([p])
            return True
        return False

    def _write_loop(self) -> None:
        """Writer thread: commit each batch, then acknowledge and publish it."""
        while True:
            job = self._writes.get()
            if job is None:
                return
            if job.generation <= self._bad_generation:  # processed by a failed pipeline
                self._fail(job.todo, StoreUnavailable("an earlier commit failed; retry"))
                self._release(job.pending)
                continue
            try:
                self.store.write(job.result.store)
            except Exception as exc:
                self._write_failed(job, exc)
                continue
            self._committed(job)

    def _on_commit(self, job: _Write, commit: Future[None]) -> None:
        exc = commit.exception()
        if exc is None:
            self._committed(job)
        else:
            self._write_failed(job, exc)

    def _write_failed(self, job: _Write, exc: BaseException) -> None:
        log.error("commit failed; %d submissions not acknowledged", len(job.todo), exc_info=exc)
        self._taint(job.generation, exc, commit=True)
        self._fail(job.todo, exc)
        self._release(job.pending)

    def _taint(self, generation: int, exc: BaseException, *, commit: bool) -> None:
        """The pipeline of ``generation`` saw lines that are not stored: its uncommitted
        batches are not written, and input waits for a fresh one (see the module docstring)."""
        with self._lock:
            if generation < self._generation:
                return  # that pipeline was replaced already
            self._bad_generation = generation
            if commit and getattr(self._store, "ping", None) is None:
                self._failed = exc
            elif self._outage is None:
                self._outage = exc
                self._retry_at = 0.0
                log.warning("store outage (%s): input refused until it answers", exc)

    def _recover(self) -> None:
        """In an outage, at most every ``OUTAGE_RETRY_S``: once the store answers, a fresh
        pipeline takes the input (ingest thread)."""
        now = time.monotonic()
        if now < self._retry_at:
            return
        self._retry_at = now + OUTAGE_RETRY_S
        ping = getattr(self.store, "ping", None)
        try:
            if ping is not None and not ping():
                return
            if self._detection is not None:  # detectors afresh: a new child
                self._detection.close()
                self._detection = DetectionProcess(self.settings)
            pipeline = self._new_pipeline(self._fresh_detectors())
        except Exception:
            log.exception("a fresh pipeline could not be built; retrying")
            return
        with self._lock:
            self._pipeline = pipeline
            self._generation += 1
            self._outage = None
        log.warning("the store answers again: ingest resumes with a fresh pipeline state")

    def _committed(self, job: _Write) -> None:
        """Acknowledge the submissions of a committed batch and publish its messages."""
        for p, receipt in zip(job.todo, job.result.receipts, strict=True):
            if p.key is not None:
                self._inflight.pop(p.key, None)
            p.future.set_result(receipt)
        self._release(job.pending)
        self._stats["batches"] += 1
        self._stats["submissions"] += len(job.pending)
        self._stats["lines"] += sum(p.lines for p in job.pending)
        self._stats["last_batch_ms"] = round((time.perf_counter() - job.started) * 1000, 3)
        self._publish(job.result.messages)

    def _publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        many = getattr(self.bus, "publish_many", None)
        try:
            if many is not None:
                many(messages)
            else:
                for subject, payload in messages:
                    self.bus.publish(subject, payload)
        except Exception:
            log.exception("publishing %d messages failed", len(messages))

    def _fail(self, todo: list[_Pending], exc: BaseException) -> None:
        for p in todo:
            if p.key is not None and self._inflight.get(p.key) is p.future:
                self._inflight.pop(p.key, None)
            if not p.future.done():
                p.future.set_exception(exc)

    def _release(self, pending: list[_Pending]) -> None:
        with self._lock:
            self._queued_lines -= sum(p.lines for p in pending)

    def counters(self) -> dict[str, Any]:
        with self._lock:
            queued = self._queued_lines
        return {
            "queued_lines": queued,
            "uptime_s": round(self._clock() - self._started_at, 3),
            **self._stats,
        }
