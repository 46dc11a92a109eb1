"""Incidents: what a member reports or opens from an alert, and how the network responds.

An :class:`Incident` is one happening at sea (a water cannon used against a resupply boat, a
laser pointed at a bridge, an incursion) with a time, a place, the vessels involved, a
category from :data:`CATEGORIES`, a severity, a status (``open`` or ``closed``) and a
``release``: who may see it, as a source's release text (``owner``, ``network``,
``members:A,B``, ``community:NAME``; docs/sharing.md). Its :class:`Entry` timeline records
comments, status changes, assistance requests and responses and attachments, in order.
:class:`Attachment` is a file (photo, video) kept by its SHA-256; :class:`Asset` a vessel a
member offers for assistance.

Pure values: times are epoch seconds (``*_ts``), positions WGS84 degrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATEGORIES",
    "ENTRY_KINDS",
    "RESPONSES",
    "SEVERITIES",
    "STATUSES",
    "Asset",
    "Attachment",
    "Entry",
    "Incident",
    "IncidentError",
    "check_incident",
]

CATEGORIES = (
    "water_cannon",
    "laser",
    "ramming",
    "blocking",
    "dangerous_manoeuvre",
    "swarming",
    "unsafe_approach",
    "incursion",
    "illegal_fishing",
    "piracy_armed_robbery",
)
"""What happened (issue 7's list, as stable snake_case names)."""

SEVERITIES = ("low", "medium", "high")
"""How grave an incident is, least first (the severities of alerts above ``info``)."""

STATUSES = ("open", "closed")

ENTRY_KINDS = (
    "opened",
    "comment",
    "status",
    "assistance_request",
    "assistance_response",
    "attachment",
)
"""What a timeline entry records."""

RESPONSES = ("can_assist", "cannot", "en_route")
"""A member's answer to an assistance request."""


class IncidentError(ValueError):
    """An incident, entry or asset that cannot be recorded; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """One incident. ``member`` opened it (``opened_by``: the user or script);
    ``events`` are the ids of the detector events it was opened from or linked to."""

    id: str
    member: str
    opened_by: str
    opened_ts: float
    occurred_ts: float
    lat: float
    lon: float
    category: str
    severity: str = "medium"
    description: str = ""
    vessels: tuple[int, ...] = ()
    status: str = "open"
    release: str = "owner"
    events: tuple[str, ...] = ()
    assistance_requested: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One timeline entry, numbered from 1 within its incident (``seq``).

    ``data`` holds what the kind needs: ``status`` for a status change; ``response``,
    ``asset_mmsi`` and ``eta_ts`` for an assistance response; ``sha256`` and ``name`` for an
    attachment."""

    incident_id: str
    seq: int
    kind: str
    member: str
    user: str
    ts: float
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file attached to an incident; its bytes are kept by ``sha256``."""

    incident_id: str
    sha256: str
    name: str
    media_type: str
    size_bytes: int
    member: str
    added_ts: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """A vessel a member offers for assistance (its position comes from the picture)."""

    member: str
    mmsi: int
    name: str
    speed_kn: float | None = None


def check_incident(incident: Incident) -> Incident:
    """``incident`` when its fields are valid, else :class:`IncidentError` naming the first
    bad one."""
    if incident.category not in CATEGORIES:
        raise IncidentError(
            f"unknown category {incident.category!r}; one of {', '.join(CATEGORIES)}"
        )
    if incident.severity not in SEVERITIES:
        raise IncidentError(f"severity {incident.severity!r}: one of {', '.join(SEVERITIES)}")
    if incident.status not in STATUSES:
        raise IncidentError(f"status {incident.status!r}: one of {', '.join(STATUSES)}")
    if not (-90.0 <= incident.lat <= 90.0 and -180.0 <= incident.lon <= 180.0):
        raise IncidentError(f"position {incident.lat}, {incident.lon} is not on the globe")
    for mmsi in incident.vessels:
        if not 1 <= mmsi <= 999_999_999:
            raise IncidentError(f"MMSI {mmsi} is not 1..999999999")
    return incident
