"""The API node (``lookout serve --role api``): reads and event streams, no pipeline.

It reads the shared store (PostGIS) that the process nodes write and streams what they publish
on the bus (vessel updates, events, alerts, counters: NATS subscriptions). It takes no input:
a push is answered 503 naming the ingest nodes (it does not forward it, so a sender's
acknowledgement always comes from the node that made the batch durable). It builds the
detector suite the settings describe only to know the watched zones (the sharing policy uses
them); the suite does not run here. Users, tokens, the audit log, incidents and alert states
are the shared tables of the store's database, so every API node answers alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from lookout.model import IngestReceipt
from lookout.pipeline.ports import SourceItem
from lookout.service.access import Access, shared_database
from lookout.service.incidents import Incidents
from lookout.service.roles import NotServedHere
from lookout.service.runtime import Runtime, open_store, zone_index_of
from lookout.storage.alert_states import AlertStateStore
from lookout.storage.audit import AuditLog
from lookout.storage.incidents import IncidentStore

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
        self._zone_index = zone_index_of(detectors)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._store = open_store(self.settings)
        data_dir, shared = self.settings.data_dir, shared_database(self.settings)
        self.audit = AuditLog.open(data_dir, shared)
        self.audit.append("lookout", "configuration", "settings", self._configuration())
        self.access = Access.open(data_dir, shared, audit=self.audit)
        self.alert_states = AlertStateStore.open(data_dir, shared)
        self.incidents = Incidents(
            IncidentStore.open(data_dir, shared), bus=self.bus, audit=self.audit
        )

    def submit(
        self, items: Sequence[SourceItem], *, key: str | None = None
    ) -> Future[IngestReceipt]:
        raise NotServedHere("this node runs --role api and takes no input: push to an ingest node")
