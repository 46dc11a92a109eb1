"""The ingest node (``lookout serve --role ingest``): sources and pushes to JetStream.

It runs the configured sources and the push routes of the API, micro-batches what they submit
exactly like the embedded runtime (``batch_max_lines`` / ``batch_max_wait_ms``), and publishes
each closed batch as raw messages (:mod:`lookout.service.roles.raw`): one per keyed push, and
one per ``(member, source)`` for everything else in the batch. A submission is answered only
after JetStream acknowledged its message (durable there; docs/nats.md for the server's
``sync_interval``), so an acknowledged push is never lost; a refused or timed-out publish fails
its submissions (HTTP 500: nothing acknowledged, the sender re-sends). Decoding happens on the
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
from lookout.service.roles.raw import RawBatch, raw_batch, raw_subject
from lookout.service.runtime import AUDIT_FILE, Runtime, _Pending
from lookout.storage.audit import AuditLog

__all__ = ["IngestNode"]

log = logging.getLogger(__name__)


def _batches(pending: Sequence[_Pending], sent_ts: float) -> list[tuple[RawBatch, list[_Pending]]]:
    """Raw messages for a closed micro-batch and the submissions each one acknowledges."""
    out: list[tuple[RawBatch, list[_Pending]]] = []
    loose: dict[str, tuple[list[SourceItem], list[_Pending]]] = {}
    for p in pending:
        if p.key is not None:
            out.append((raw_batch(p.items, p.key, sent_ts), [p]))
            continue
        subject = raw_subject(p.items)
        items, owners = loose.setdefault(subject, ([], []))
        items.extend(p.items)
        owners.append(p)
    out += [(raw_batch(items, None, sent_ts), owners) for items, owners in loose.values()]
    return out


class IngestNode(Runtime):
    """Sources and push routes publishing raw batches; see the module docstring."""

    @property
    def store(self) -> Store:
        raise NotServedHere(
            "this node runs --role ingest and holds no store: read from an api node"
        )

    def start(self) -> None:
        """Open the identity and audit files of the data dir, start batching and the sources."""
        if self._thread is not None:
            return
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.audit = AuditLog(self.settings.data_dir / AUDIT_FILE)
        self.audit.append("lookout", "configuration", "settings", self._configuration())
        self.access = Access.open(self.settings.data_dir, audit=self.audit)
        self._thread = threading.Thread(target=self._run, name="lookout-ingest", daemon=True)
        self._thread.start()
        for cfg in list(self._sources.values()):
            if cfg.kind != "push":
                self._start_source(cfg)

    def _process(self, pending: list[_Pending], *, final: bool = False) -> None:
        """Publish a closed micro-batch and answer its submissions once JetStream has it."""
        if not pending:
            return
        started = time.perf_counter()
        batches = _batches(pending, self._clock())
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
            return
        for _, owners in batches:
            for p in owners:
                p.future.set_result(IngestReceipt(lines=p.lines, accepted=0))
        self._release(pending)
        self._stats["batches"] += 1
        self._stats["submissions"] += len(pending)
        self._stats["lines"] += sum(p.lines for p in pending)
        self._stats["last_batch_ms"] = round((time.perf_counter() - started) * 1000, 3)
