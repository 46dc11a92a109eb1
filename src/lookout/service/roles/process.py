"""The process node (``lookout serve --role process``): raw batches -> pipeline -> shared store.

**Partitions.** Ingest nodes publish each batch split by vessel partition (a hash of the MMSI,
``process_partitions``, :mod:`lookout.service.roles.routing`) on
``lookout.raw.<partition>.<member>.<source>``. Each partition has its own durable consumer
(``lookout-process-p<N>``) and is owned by exactly one process node at a time, by lease
(:mod:`lookout.service.roles.partitions`, :class:`~lookout.bus.nats_leases.LeaseTable`). The
owner runs one :class:`~lookout.pipeline.engine.Pipeline` per owned partition, with the
per-vessel detectors, so each vessel's state and per-vessel detectors live on one node.
The detectors that compare vessels (encounter, close approach, shadowing, swarm, dark vessel:
:func:`~lookout.service.roles.partitions.is_pairwise`) run on the holder of the ``pairwise``
lease: its own durable consumer (``lookout-pairwise``) of every partition's raw messages and a
pipeline with only those detectors; it stores and publishes only their events (each raw
message committed once under the receipt ``pairwise:<receipt key>``).

**Hand-over.** A node that gives up a partition (a node joined, or it stops) finishes the
message in hand, saves its pipeline's snapshot in the snapshot bucket, then releases the lease;
the next owner restores that snapshot (and deletes it) and resumes from the partition's
durable consumer. A node that dies hands nothing over: its leases lapse after
``process_lease_ttl_s``, the next owner starts a fresh pipeline (vessels recalled from the
store, detectors afresh, as after a crash), and the messages the dead node held come back
after ``process_ack_wait_s``.

A partition's consumer waits for a raw message and takes the others its stream already holds
(up to :data:`FETCH_BATCH`). For those messages, in partition order:

1. a message whose receipt the store already holds (its idempotency key, else
   ``raw:<message id>``; one query for all of them) was committed before (a redelivery
   after a crash between commit and acknowledgement): it is acknowledged and nothing is
   stored again;
2. the pipeline processes the others in one call, one submission each (``now_ts`` = when the
   ingest node published the latest of them), and the store commits their rows *and their
   receipts* in one transaction;
3. their events, alerts, vessel updates (only while someone listens to them:
   :meth:`~lookout.bus.nats.NatsBus.has_subscribers`) and counters are published on the bus;
4. the consumer acknowledges them (only now: a node killed before this point leaves them
   to be redelivered after ``process_ack_wait_s``). If step 2 fails, each message is tried
   again on its own (a fresh pipeline), so a bad one is retried and dead-lettered alone.

A message is not processed once this node's lease on its partition may have lapsed
(:meth:`~lookout.service.roles.partitions.Ownership.valid`): it is handed back
(:class:`LeaseLost`) for the next owner.

A pipeline or commit failure makes the message come back (``retry_delay_s``, then the dead
letters after ``max_deliver`` tries) and replaces that partition's pipeline by a fresh one: its
in-memory state had seen a batch that was not stored, and keeping it would dedupe the
redelivered lines away.

A store outage (PostgreSQL restarting) does not spend the message's tries: when a failure
comes with a store that does not answer (``ping``), the node holds the message and asks the
store every ``OUTAGE_RETRY_S`` until it answers, then tries the message again (fresh
pipeline); it stops fetching meanwhile, so the raw stream holds the backlog. A message held
past ``process_ack_wait_s`` is also redelivered and found committed by its receipt.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lookout.detectors.base import Detector
from lookout.model import VesselState
from lookout.pipeline import subjects
from lookout.pipeline.engine import Pipeline, PipelineConfig, Submission
from lookout.pipeline.ports import Bus, SourceItem, Store, StoreBatch
from lookout.service.gc_tuning import tune_gc
from lookout.service.roles.partitions import PAIRWISE, Ownership, is_pairwise, lease_names
from lookout.service.roles.raw import FORMAT, decode_items, partition_pattern, receipt_key
from lookout.service.roles.routing import vessel_mmsis
from lookout.service.runtime import OUTAGE_RETRY_S, open_bus, open_store, vessel_updates_wanted
from lookout.service.settings import Settings

__all__ = ["CONSUMER", "LeaseLost", "ProcessNode"]

log = logging.getLogger(__name__)

CONSUMER = "lookout-process"
"""The durable consumer names: ``lookout-process-p<N>`` per partition, ``lookout-pairwise``."""

FETCH_BATCH = 20
"""Most raw messages of one partition processed together: one pipeline call, one commit,
one acknowledgement round. The consumer waits for one message and takes only what the stream
already holds besides (:class:`~lookout.bus.nats_consumer.DurableConsumer`'s batches), so an
idle partition adds no wait and a busy one pays its per-message costs once per batch."""

_EVENT_SUBJECTS = (subjects.EVENTS[:-1], subjects.ALERTS[:-1])


class LeaseLost(RuntimeError):
    """This node's lease on the message's partition may have lapsed: not processed here."""


@dataclass
class _Work:
    """What runs under one lease: its pipeline and its durable consumer."""

    name: str
    pipeline: Pipeline
    consumer: Any = None
    prefetched: dict[int, VesselState | None] = field(default_factory=dict)
    """Stored states of the vessels of the batch in hand its pipeline has not met yet, read
    in one query before it runs (its recall looks here first)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while a message batch of this lease is in hand, and while it is handed over."""

    @property
    def stopping(self) -> bool:
        return self.consumer is not None and bool(self.consumer.stopping.is_set())


def _node_id(settings: Settings) -> str:
    given = settings.process_node_id
    name = given or f"{socket.gethostname()}-{os.getpid()}"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


class ProcessNode:
    """Consumes the partitions it owns into the shared store; see the module docstring.

    ``detectors`` builds a fresh detector suite (called per partition, at a take-over and
    after a failed batch). Counters: ``stored`` messages committed, ``skipped`` redeliveries
    already committed, ``failed`` messages whose processing or commit failed (they come back).
    """

    def __init__(
        self,
        settings: Settings,
        detectors: Any,
        *,
        store: Store | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.settings = settings
        self._detectors = detectors
        self._store = store
        self._bus = bus
        self.node_id = _node_id(settings)
        self._ownership: Ownership | None = None
        self._work: dict[str, _Work] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.stored = 0
        self.skipped = 0
        self.failed = 0

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("process node not started")
        return self._store

    @property
    def owned(self) -> list[str]:
        """The leases this node works on now (``p<N>``, ``pairwise``)."""
        with self._lock:
            return sorted(self._work)

    def start(self) -> None:
        """Open the store, the bus and the lease table, join and take this node's share."""
        from lookout.bus.nats_leases import LeaseTable

        if self._store is None:
            self._store = open_store(self.settings)
        if self._bus is None:
            self._bus = open_bus(self.settings)
        if getattr(self._bus, "consume", None) is None:
            raise RuntimeError("--role process needs a bus with durable consumers (bus = nats)")
        pairwise = any(is_pairwise(d) for d in self._detectors())
        leases = LeaseTable(
            self.settings.nats_url,
            prefix=self.settings.nats_stream_prefix,
            node_id=self.node_id,
            ttl_s=self.settings.process_lease_ttl_s,
            replicas=self.settings.nats_replicas,
        )
        names = lease_names(self.settings.process_partitions, pairwise)
        self._ownership = Ownership(leases, names, self._take, self._give)
        self._ownership.start()
        tune_gc()  # as the embedded runtime: without it, collections paused the node for long
        log.info("process node %s consuming; owns %s", self.node_id, " ".join(self.owned))

    def stop(self) -> None:
        """Finish the messages in hand, hand every partition over, close bus and store."""
        self._stopping.set()
        if self._ownership is not None:
            self._ownership.stop()
            self._ownership.leases.close()
            self._ownership = None
        if self._bus is not None:
            self._bus.close()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> ProcessNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- taking and giving leases -------------------------------------------------------------

    def _take(self, name: str) -> None:
        """Start work on a lease just acquired: restore a handed-over snapshot, consume."""
        assert self._ownership is not None
        leases = self._ownership.leases
        prefetched: dict[int, VesselState | None] = {}
        work = _Work(name, self._new_pipeline(name, prefetched), prefetched=prefetched)
        snapshot = leases.load(name)
        if snapshot is not None:
            work.pipeline.restore(snapshot)
            leases.discard(name)  # used once: after a crash of this owner it would be stale
        pattern = subjects.RAW if name == PAIRWISE else partition_pattern(int(name[1:]))
        consumer = "lookout-pairwise" if name == PAIRWISE else f"{CONSUMER}-{name}"
        took_at = time.time()  # before the first message can be handled
        with self._lock:
            self._work[name] = work
        consume = getattr(self._bus, "consume")  # noqa: B009 - NatsBus only
        work.consumer = consume(
            consumer,
            pattern,
            lambda subject, payload: self._handle(work, [payload]),
            ack_wait_s=self.settings.process_ack_wait_s,
            batch=FETCH_BATCH,
            batch_handler=lambda given: self._handle(work, [payload for _, payload in given]),
        )
        how = "its hand-over snapshot" if snapshot is not None else "a fresh pipeline"
        log.info("took %s from %s at=%.3f", name, how, took_at)

    def _give(self, names: list[str], clean: bool) -> None:
        """Stop work on ``names``: their messages in hand finish; ``clean``: save snapshots."""
        with self._lock:
            works = [w for n in names if (w := self._work.get(n)) is not None]
        for work in works:
            work.consumer.stopping.set()  # all at once: each stops within one fetch wait
        for work in works:
            work.consumer.close()
        assert self._ownership is not None
        for work in works:
            with self._lock:
                self._work.pop(work.name, None)
            with work.lock:  # no message of it is in hand any more
                snapshot = work.pipeline.snapshot() if clean else None
            if snapshot is not None:
                try:
                    self._ownership.leases.save(work.name, snapshot)
                except Exception:
                    log.exception(
                        "saving the snapshot of %s failed; the next owner starts afresh", work.name
                    )
            log.info(
                "released %s (%s) at=%.3f",
                work.name,
                "snapshot saved" if clean else "lease lapsed",
                time.time(),
            )

    def _new_pipeline(self, name: str, prefetched: dict[int, VesselState | None]) -> Pipeline:
        simulated = frozenset((c.member, c.name) for c in self.settings.sources if c.simulated)
        suite: list[Detector[Any]] = list(self._detectors())
        if name == PAIRWISE:
            return Pipeline(
                PipelineConfig(simulated_sources=simulated, publish_vessels=False),
                detectors=[d for d in suite if is_pairwise(d)],
            )
        store = self.store

        def recall(mmsi: int) -> VesselState | None:
            if mmsi in prefetched:
                return prefetched.pop(mmsi)
            return store.vessel(mmsi)

        return Pipeline(
            PipelineConfig(simulated_sources=simulated),
            detectors=[d for d in suite if not is_pairwise(d)],
            recall=recall,
        )

    def _prefetch(self, work: _Work, items: list[list[SourceItem]]) -> None:
        """Read the stored states of the batch's vessels new to the partition's pipeline in
        one query (a store that cannot: one query each, when the pipeline meets them)."""
        many = getattr(self.store, "vessels_of", None)
        if many is None or work.name == PAIRWISE:
            return
        tracker = work.pipeline.tracker
        wanted = [m for m in vessel_mmsis([i for part in items for i in part]) if m not in tracker]
        work.prefetched.clear()
        if wanted:
            found = many(wanted)
            work.prefetched.update({m: found.get(m) for m in wanted})

    # -- one raw message ----------------------------------------------------------------------

    def _handle(self, work: _Work, payloads: list[Mapping[str, Any]]) -> None:
        """Raw messages of one lease, in stream order: skip those committed, process the rest
        in one pipeline call, commit, publish (see above). Raising leaves them all unacked."""
        keys = []
        for payload in payloads:
            if payload.get("v") != FORMAT:
                raise ValueError(f"raw batch format {payload.get('v')!r} unknown (want {FORMAT})")
            key = receipt_key(payload)
            keys.append(f"{PAIRWISE}:{key}" if work.name == PAIRWISE else key)
        while True:
            try:
                return self._handle_once(work, keys, payloads)
            except LeaseLost:
                raise
            except Exception:
                if not self._wait_for_store():
                    raise
                log.warning("the store answers again; trying raw batches %s again", keys)

    def _wait_for_store(self) -> bool:
        """After a failure: True once a store that did not answer answers again; False at
        once when it answers (the failure was something else) or when the node stops."""
        ping = getattr(self.store, "ping", None)
        if ping is None or ping():
            return False
        log.warning("the store does not answer; holding raw batches until it does")
        while not self._stopping.wait(OUTAGE_RETRY_S):
            if ping():
                return True
        return False

    def _check_lease(self, work: _Work) -> None:
        ownership = self._ownership
        if ownership is None or not ownership.valid(work.name):
            raise LeaseLost(f"the lease on {work.name} may have lapsed; left to its next owner")

    def _wait_for_lease(self, work: _Work) -> None:
        """Before a message: wait while a late lease round has not renewed the lease yet
        (a loaded machine), until it does or the work on it stops (then LeaseLost)."""
        ownership = self._ownership
        while ownership is not None and not ownership.valid(work.name):
            if work.stopping or self._stopping.is_set():
                self._check_lease(work)
            time.sleep(0.05)

    def _handle_once(self, work: _Work, keys: list[str], payloads: list[Mapping[str, Any]]) -> None:
        self._wait_for_lease(work)
        # one message batch in hand per lease; the leases of a node overlap, so one's
        # pipeline runs while another waits for its commit
        with work.lock:
            self._check_lease(work)
            done = self._committed(keys)
            todo = [(k, p) for k, p in zip(keys, payloads, strict=True) if k not in done]
            if len(todo) < len(keys):
                self._count(skipped=len(keys) - len(todo))
            if not todo:
                return
            try:
                items = [decode_items(p["items"]) for _, p in todo]
                self._prefetch(work, items)
                submissions = [Submission(i, k) for i, (k, _) in zip(items, todo, strict=True)]
                sent_ts = max(float(p["sent_ts"]) for _, p in todo)
                assert self._bus is not None  # opened by start, before any lease
                # the partition owners publish vessel updates, never the pairwise holder
                vessels = work.name != PAIRWISE and vessel_updates_wanted(self._bus)
                result = work.pipeline.process(submissions, now_ts=sent_ts, publish_vessels=vessels)
                messages = result.messages
                batch = result.store
                if work.name == PAIRWISE:  # only the pairwise detectors' events are its own
                    batch = StoreBatch(
                        receipts=batch.receipts, received_ts=batch.received_ts, events=batch.events
                    )
                    messages = [m for m in messages if m[0].startswith(_EVENT_SUBJECTS)]
                self._check_lease(work)
                self.store.write(batch)
            except LeaseLost:
                work.pipeline = self._new_pipeline(work.name, work.prefetched)
                raise
            except Exception:
                self._count(failed=len(todo))
                work.pipeline = self._new_pipeline(work.name, work.prefetched)
                raise
            self._count(stored=len(todo))
            if log.isEnabledFor(logging.DEBUG):  # the journal the partition tests read
                at = time.time()
                for key, _ in todo:
                    log.debug("committed %s on %s at=%.3f", key, work.name, at)
        self._publish(messages)

    def _count(self, *, stored: int = 0, skipped: int = 0, failed: int = 0) -> None:
        with self._lock:
            self.stored += stored
            self.skipped += skipped
            self.failed += failed

    def _committed(self, keys: list[str]) -> set[str]:
        """Those of ``keys`` the store holds a receipt for: in one query where it can."""
        many = getattr(self.store, "receipts_of", None)
        if many is not None:
            found: set[str] = many(keys)
            return found
        return {k for k in keys if self.store.receipt(k) is not None}

    def _publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish a committed batch's messages; a failure is logged (the store has them)."""
        bus = self._bus
        assert bus is not None
        try:
            soon = getattr(bus, "publish_soon", None)  # NatsBus: the acks are not awaited
            many = getattr(bus, "publish_many", None)
            if soon is not None:
                soon(messages)
            elif many is not None:
                many(messages)
            else:
                for subject, payload in messages:
                    bus.publish(subject, payload)
        except Exception:
            log.exception("publishing %d messages of a committed batch failed", len(messages))

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"stored": self.stored, "skipped": self.skipped, "failed": self.failed}
