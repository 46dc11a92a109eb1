"""The ingest node (``lookout serve --role ingest``): sources and pushes to JetStream.

It runs the configured sources and the push routes of the API, micro-batches what they submit
exactly like the embedded runtime (``batch_max_lines`` / ``batch_max_wait_ms``), and publishes
each closed batch as raw messages (:mod:`lookout.service.roles.raw`): a keyed push, and
everything else of one ``(member, source)`` in the batch, is split by vessel partition
(:mod:`lookout.service.roles.routing`: each line's MMSI read, not decoded) into one message
per partition it touches. A submission is answered only after JetStream acknowledged every
message of it (durable there; docs/nats.md for the server's ``sync_interval``), so an
acknowledged push is never lost; a refused or timed-out publish fails its submissions (HTTP
500: nothing acknowledged, the sender re-sends; the parts JetStream did store are dropped
there as duplicates of the re-send, or skipped by their receipts). Decoding happens on the
process nodes, so an ingest receipt counts the lines taken, not what they decoded to.

It holds no store: read routes answer 503 (:class:`~lookout.service.roles.NotServedHere`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from lookout.model import IngestReceipt
from lookout.pipeline.ports import SourceItem, Store
from lookout.service.access import Access
from lookout.service.roles import NotServedHere
from lookout.service.roles.raw import RawBatch, raw_batches, raw_subject
from lookout.service.roles.routing import NO_VESSEL, PartitionRouter
from lookout.service.runtime import Runtime, _Pending
from lookout.storage.audit import AuditLog

__all__ = ["IngestNode"]

log = logging.getLogger(__name__)


def _batches(
    pending: Sequence[_Pending], sent_ts: float, router: PartitionRouter
) -> list[tuple[RawBatch, list[_Pending]]]:
    """Raw messages for a closed micro-batch and the submissions each one acknowledges."""
    out: list[tuple[RawBatch, list[_Pending]]] = []
    loose: dict[str, tuple[list[SourceItem], list[_Pending]]] = {}
    for p in pending:
        if p.key is not None:
            parts = router.split(p.items, carry=False, now=sent_ts)  # sent again: alike
            out += [(b, [p]) for b in raw_batches(parts, p.items, p.key, sent_ts)]
            continue
        subject = raw_subject(p.items)
        items, owners = loose.setdefault(subject, ([], []))
        items.extend(p.items)
        owners.append(p)
    for items, owners in loose.values():
        parts = router.split(items, now=sent_ts)
        out += [(b, owners) for b in raw_batches(parts, items, None, sent_ts)]
    return out


class IngestNode(Runtime):
    """Sources and push routes publishing raw batches; see the module docstring."""

    _router: PartitionRouter | None = None

    @property
    def store(self) -> Store:
        raise NotServedHere(
            "this node runs --role ingest and holds no store: read from an api node"
        )

    def start(self) -> None:
        """Open identity and audit log (shared in PostgreSQL when the settings name its
        database, so push keys added with the CLI anywhere are honoured here; else the data
        dir's files), start batching and the sources."""
        if self._thread is not None:
            return
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shared = settings.database_url if settings.store == "postgis" else None
        if settings.store == "postgis" and not shared:
            log.warning(
                "store = postgis without database_url: this ingest node checks push keys "
                "against %s, not the shared identity",
                settings.data_dir,
            )
        self.audit = AuditLog.open(settings.data_dir, shared or None)
        self.audit.append("lookout", "configuration", "settings", self._configuration())
        self.access = Access.open(settings.data_dir, shared or None, audit=self.audit)
        self._thread = threading.Thread(target=self._run, name="lookout-ingest", daemon=True)
        self._thread.start()
        for cfg in list(self._sources.values()):
            if cfg.kind != "push":
                self._start_source(cfg)

    def _idle_wait(self) -> float | None:
        """Held lines that ended a source's last batch wait for its next one at most one
        batch wait (``batch_max_wait_ms``), then go out alone."""
        router = self._router
        return self.settings.batch_max_wait_ms / 1000.0 if router and router.carrying else None

    def _process(self, pending: list[_Pending], *, final: bool = False) -> None:
        """Publish a closed micro-batch and answer its submissions once JetStream has it."""
        if self._router is None:
            self._router = PartitionRouter(self.settings.process_partitions)
        if not pending:
            if self._router.carrying:
                self._send_carried()
            return
        started = time.perf_counter()
        carried = self._router.carried()
        batches = _batches(pending, self._clock(), self._router)
        try:
            publish_many = getattr(self.bus, "publish_many")  # noqa: B009 - NatsBus only
            publish_many(
                [(b.subject, b.payload) for b, _ in batches], msg_ids=[b.msg_id for b, _ in batches]
            )
        except Exception as exc:
            log.error(
                "publishing %d raw batches failed; not acknowledged", len(batches), exc_info=exc
            )
            self._fail(list(pending), exc)
            self._release(pending)
            self._router.carry(carried, only=True)  # what was acknowledged before still waits
            return
        for p in pending:
            p.future.set_result(IngestReceipt(lines=p.lines, accepted=0))
        self._release(pending)
        self._stats["batches"] += 1
        self._stats["submissions"] += len(pending)
        self._stats["lines"] += sum(p.lines for p in pending)
        self._stats["last_batch_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if self._router.carrying:  # all at the end; else those of sources gone quiet
            wait_s = self.settings.batch_max_wait_ms / 1000.0
            self._send_carried(None if final else self._clock() - wait_s)

    def _send_carried(self, since: float | None = None) -> None:
        """Publish the held lines no next batch came for (their sources went quiet; those
        left waiting by a batch no later than ``since``) to the no-vessel partition; kept
        for the next try if JetStream refuses them."""
        assert self._router is not None
        waiting = self._router.carried()
        for origin, items in self._router.take_carried(since=since).items():
            batches = raw_batches({NO_VESSEL: items}, items, None, self._clock())
            try:
                publish_many = getattr(self.bus, "publish_many")  # noqa: B009 - NatsBus only
                publish_many(
                    [(b.subject, b.payload) for b in batches], msg_ids=[b.msg_id for b in batches]
                )
            except Exception as exc:
                log.warning("publishing held lines failed (%s); trying again later", exc)
                self._router.carry({origin: waiting[origin]})
