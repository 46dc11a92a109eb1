"""Scale-out roles: ``lookout serve --role ingest|process|api|all`` (docs/deployment.md).

- ``all`` (the default): one process does everything (:class:`~lookout.service.runtime.Runtime`).
- ``ingest``: runs the sources and the push routes, publishes raw batches to JetStream and
  acknowledges a push once JetStream stored it (:class:`~lookout.service.roles.ingest.IngestNode`).
- ``process``: the vessel partitions it holds a lease on, one durable consumer and pipeline
  each (and the pairwise detectors when it holds that lease): shared store, then the bus
  (:class:`~lookout.service.roles.process.ProcessNode`).
- ``api``: the read API and the event stream from the shared store and the bus; pushes are
  answered 503 (:class:`~lookout.service.roles.api.ApiNode`).
"""

from __future__ import annotations

from lookout.service.runtime import Stopping
from lookout.service.settings import Settings

__all__ = ["NEEDS", "ROLES", "NotServedHere", "role_problem"]

ROLES = ("all", "ingest", "process", "api")

NEEDS = {
    "all": "any store and bus",
    "ingest": "bus = nats (no store)",
    "process": "bus = nats and the shared store = postgis",
    "api": "bus = nats and the shared store = postgis",
}
"""What each role needs from the settings (``lookout doctor`` prints it)."""


class NotServedHere(Stopping):
    """This node's role does not serve that request (HTTP 503, naming the role to ask)."""


def role_problem(settings: Settings) -> str | None:
    """Why ``settings.role`` cannot run with these settings, or ``None``."""
    role = settings.role
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}, not {role!r}"
    if role == "all":
        return None
    if settings.bus != "nats":
        return f"--role {role} needs bus = nats (LOOKOUT_BUS=nats), not {settings.bus!r}"
    if role != "ingest" and settings.store != "postgis":
        return (
            f"--role {role} needs the shared store: store = postgis (LOOKOUT_STORE=postgis), "
            f"not {settings.store!r}"
        )
    return None
