"""The API node (``lookout serve --role api``): reads and event streams, no pipeline.

It reads the shared store (PostGIS) that the process nodes write and streams what they publish
on the bus (vessel updates, events, alerts, counters: NATS subscriptions). It takes no input:
a push is answered 503 naming the ingest nodes (it does not forward it, so a sender's
acknowledgement always comes from the node that made the batch durable). It builds the
detector suite the settings describe only to know the watched zones (the sharing policy uses
them); the suite does not run here.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from lookout.geo.zones import ZoneIndex
from lookout.model import IngestReceipt
from lookout.pipeline.ports import SourceItem
from lookout.service.access import Access
from lookout.service.roles import NotServedHere
from lookout.service.runtime import AUDIT_FILE, Runtime, open_store
from lookout.storage.audit import AuditLog

__all__ = ["ApiNode"]


class ApiNode(Runtime):
    """The read side over the shared store and bus; see the module docstring."""

    def start(self) -> None:
        if self._store is not None:
            return
        detectors = self._detectors
        if detectors is None:
            from lookout.service.detect_setup import setup_from_settings
            from lookout.service.detection import build_detectors

            detectors = build_detectors(setup_from_settings(self.settings))
        self.detector_kinds = [d.kind for d in detectors]
        self._zone_index = next(
            (z for d in detectors if isinstance(z := getattr(d, "zones", None), ZoneIndex)), None
        )
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._store = open_store(self.settings)
        self.audit = AuditLog(self.settings.data_dir / AUDIT_FILE)
        self.audit.append("lookout", "configuration", "settings", self._configuration())
        self.access = Access.open(self.settings.data_dir, audit=self.audit)

    def submit(
        self, items: Sequence[SourceItem], *, key: str | None = None
    ) -> Future[IngestReceipt]:
        raise NotServedHere("this node runs --role api and takes no input: push to an ingest node")
