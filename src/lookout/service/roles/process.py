"""The process node (``lookout serve --role process``): raw batches -> pipeline -> shared store.

A durable JetStream consumer of the raw stream under one name, :data:`CONSUMER`, shared by
every process node of a deployment, so JetStream hands each raw message to one of them. For
each message, in stream order:

1. if the store already holds the message's receipt (the sender's idempotency key, else
   ``raw:<message id>``), it was committed before (a redelivery after a crash between commit
   and acknowledgement): it is acknowledged and nothing is stored again;
2. otherwise the pipeline processes it (``now_ts`` = when the ingest node published it) and the
   store commits its rows *and its receipt* in one transaction;
3. the batch's events, alerts, vessel updates and counters are published on the bus;
4. the consumer acknowledges the message (only now: a node killed before this point leaves it
   to be redelivered after ``process_ack_wait_s``).

A pipeline or commit failure makes the message come back (``retry_delay_s``, then the dead
letters after ``max_deliver`` tries) and replaces the pipeline by a fresh one: its in-memory
state had seen a batch that was not stored, and keeping it would dedupe the redelivered lines
away. Vessels are recalled from the store; detectors restart, as after a crash.

A store outage (PostgreSQL restarting) does not spend the message's tries: when a failure
comes with a store that does not answer (``ping``), the node holds the message and asks the
store every ``OUTAGE_RETRY_S`` until it answers, then tries the message again (fresh
pipeline); it stops fetching meanwhile, so the raw stream holds the backlog. A message held
past ``process_ack_wait_s`` is also redelivered (to another node, or here later) and found
committed by its receipt.

This first slice does not partition by vessel: with several process nodes, JetStream spreads
raw batches over them, so one vessel's reports may be fused on two nodes, each with its own
per-vessel state (docs/deployment.md says what that means). Run one process node per
deployment, with a standby, until partitioning lands.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from lookout.detectors.base import Detector
from lookout.pipeline import subjects
from lookout.pipeline.engine import Pipeline, PipelineConfig, Submission
from lookout.pipeline.ports import Bus, Store
from lookout.service.roles.raw import FORMAT, decode_items, receipt_key
from lookout.service.runtime import OUTAGE_RETRY_S, open_bus, open_store
from lookout.service.settings import Settings

__all__ = ["CONSUMER", "ProcessNode"]

log = logging.getLogger(__name__)

CONSUMER = "lookout-process"
"""The durable consumer name every process node of a deployment shares."""

FETCH_BATCH = 1
"""Raw messages a node fetches at a time. One: a fetch returns as soon as a message is there
(a larger fetch waits up to half a second to fill), and a busy node holds no backlog that an
idle one could take. A raw batch is hundreds of lines: the fetch's round trip is small."""


class ProcessNode:
    """Consumes raw batches into the shared store; see the module docstring.

    ``detectors`` builds a fresh detector suite (called at start and after a failed batch).
    Counters: ``stored`` messages committed, ``skipped`` redeliveries already committed,
    ``failed`` messages whose processing or commit failed (they come back).
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
        self._consumer: Any = None
        self._pipeline: Pipeline | None = None
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

    def start(self) -> None:
        """Open the store and the bus, then consume the raw stream."""
        if self._store is None:
            self._store = open_store(self.settings)
        if self._bus is None:
            self._bus = open_bus(self.settings)
        self._pipeline = self._new_pipeline()
        consume = getattr(self._bus, "consume", None)
        if consume is None:
            raise RuntimeError("--role process needs a bus with durable consumers (bus = nats)")
        self._consumer = consume(
            CONSUMER,
            subjects.RAW,
            self._handle,
            ack_wait_s=self.settings.process_ack_wait_s,
            batch=FETCH_BATCH,
        )
        log.info("process node consuming %s as %s", subjects.RAW, CONSUMER)

    def stop(self) -> None:
        """Finish the message in hand, give the fetched ones back, close bus and store."""
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._bus is not None:
            self._bus.close()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> ProcessNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _new_pipeline(self) -> Pipeline:
        simulated = frozenset((c.member, c.name) for c in self.settings.sources if c.simulated)
        detectors: list[Detector[Any]] = list(self._detectors())
        return Pipeline(
            PipelineConfig(simulated_sources=simulated),
            detectors=detectors,
            recall=self.store.vessel,
        )

    def _handle(self, subject: str, payload: Mapping[str, Any]) -> None:
        """One raw message: skip if committed, else process, commit, publish (see above)."""
        if payload.get("v") != FORMAT:
            raise ValueError(f"raw batch format {payload.get('v')!r} unknown (want {FORMAT})")
        key = receipt_key(payload)
        while True:
            try:
                return self._handle_once(key, payload)
            except Exception:
                if not self._wait_for_store():
                    raise
                log.warning("the store answers again; trying raw batch %s again", key)

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

    def _handle_once(self, key: str, payload: Mapping[str, Any]) -> None:
        with self._lock:
            if self.store.receipt(key) is not None:
                self.skipped += 1
                return
            pipeline = self._pipeline
            assert pipeline is not None, "process node not started"
            try:
                items = decode_items(payload["items"])
                result = pipeline.process(
                    [Submission(items, key)], now_ts=float(payload["sent_ts"]), publish_vessels=True
                )
                self.store.write(result.store)
            except Exception:
                self.failed += 1
                self._pipeline = self._new_pipeline()
                raise
            self.stored += 1
        self._publish(result.messages)

    def _publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish a committed batch's messages; a failure is logged (the store has them)."""
        bus = self._bus
        assert bus is not None
        try:
            many = getattr(bus, "publish_many", None)
            if many is not None:
                many(messages)
            else:
                for subject, payload in messages:
                    bus.publish(subject, payload)
        except Exception:
            log.exception("publishing %d messages of a committed batch failed", len(messages))

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"stored": self.stored, "skipped": self.skipped, "failed": self.failed}
