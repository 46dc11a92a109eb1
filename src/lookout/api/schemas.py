"""Response bodies of the HTTP API: times are ISO 8601 UTC (``*_at``), units in the names.

Each ``...Out`` model is built from its value type by :meth:`_Out.of`, which copies the fields
of the same name and turns every ``<name>_ts`` epoch time into ``<name>_at``; the models list
only what the API shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from lookout.model import ts_to_datetime

__all__ = [
    "ErrorOut",
    "HealthOut",
    "OutputStatusOut",
    "ReceiptOut",
    "SourceOut",
    "SourcesOut",
    "StaticOut",
    "StatusOut",
    "TrackOut",
    "TrackPointOut",
    "ValidationErrorOut",
    "ValidationIssueOut",
    "VesselDetailOut",
    "VesselOut",
    "VesselsOut",
]


class _Out(BaseModel):
    @classmethod
    def of(cls, value: object, **extra: Any) -> Self:
        """The model of ``value``: same-named attributes, ``*_ts`` as ``*_at``, then ``extra``."""
        data: dict[str, Any] = {}
        for name in cls.model_fields:
            if name in extra:
                continue
            if name.endswith("_at") and hasattr(value, name[:-3] + "_ts"):
                data[name] = ts_to_datetime(getattr(value, name[:-3] + "_ts"))
            elif hasattr(value, name):
                data[name] = getattr(value, name)
        return cls(**data, **extra)


class VesselOut(_Out):
    """The latest fused picture of one vessel."""

    mmsi: int
    segment: int
    observed_at: datetime
    lat: float
    lon: float
    speed_kn: float | None
    course_deg: float | None
    heading_deg: int | None
    status: int | None
    flag: str | None = Field(description="ISO 3166 alpha-2 of the MMSI's MID, if known")
    name: str | None
    callsign: str | None
    imo: int | None
    ship_type: int | None
    destination: str | None
    length_m: int | None
    members: list[str]
    sources: list[str] = Field(description="the sources shown, as MEMBER/NAME")
    positions: int
    simulated: bool
    label: str = Field(
        "network",
        description="releasability of what is shown: network, or members:CODE,... "
        "(the most restrictive of its sources; docs/sharing.md)",
    )


class VesselsOut(BaseModel):
    count: int
    limit: int
    vessels: list[VesselOut]


class StaticOut(_Out):
    """One identity report (types 5, 19, 24, 21); ``null`` = not carried by that message."""

    msg_type: int
    observed_at: datetime
    member: str
    source: str
    name: str | None
    callsign: str | None
    imo: int | None
    ship_type: int | None
    to_bow_m: int | None
    to_stern_m: int | None
    to_port_m: int | None
    to_starboard_m: int | None
    destination: str | None
    draught_m: float | None


class VesselDetailOut(VesselOut):
    """A vessel with its identity history, oldest first."""

    statics: list[StaticOut]


class TrackPointOut(_Out):
    segment: int
    observed_at: datetime
    lat: float
    lon: float
    speed_kn: float | None
    course_deg: float | None
    heading_deg: int | None
    member: str
    source: str
    receivers: list[str]
    received_at: datetime | None = None
    """When Lookout received the report (its batch's processing time, wall clock)."""
    label: str = "network"
    """Releasability of the point: its source's release (docs/sharing.md)."""


class TrackOut(BaseModel):
    mmsi: int
    count: int
    limit: int
    points: list[TrackPointOut]


class SourceOut(_Out):
    """A source with its ingest statistics. ``kind`` is ``null`` for a source that is not
    configured on this server (e.g. files ingested with ``lookout ingest``)."""

    member: str
    name: str
    kind: str | None
    simulated: bool
    lines: int = 0
    accepted: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)
    observations: int = 0
    duplicates: int = 0
    last_received_at: datetime | None = None
    listen: str | None = None
    """``host:port`` a ``udp`` / ``tcp-server`` source is listening on (port 0 resolved)."""
    transport: dict[str, Any] = Field(default_factory=dict)
    """The network or file adapter's own counters, e.g. ``oversize_lines`` (longer than
    1 KiB, dropped), ``lost_lines`` (received but refused by a stopping server),
    ``refused_clients``, ``connect_failures``; empty for push sources."""


class SourcesOut(BaseModel):
    sources: list[SourceOut]


class ReceiptOut(_Out):
    """What a pushed batch came to, returned only once it is durably committed."""

    lines: int
    accepted: int
    rejected: dict[str, int]
    observations: int
    duplicates: int


class OutputStatusOut(BaseModel):
    """One running output and its counters since start (docs/outputs.md, "Counters")."""

    name: str
    kind: str
    member: str = Field(description="the member the output acts for")
    target: str = Field(description="where it sends, without path, query or credentials")
    sent: int = Field(description="messages delivered (webhook: POSTs answered 2xx)")
    failed: int = Field(description="messages given up: not sent, or refused by the receiver")
    retried: int = Field(description="webhook: POSTs tried again; cot, nmea: reconnect attempts")
    dropped: int = Field(description="messages lost to a full queue (or queued at shutdown)")
    queue_depth: int = Field(description="messages waiting in the output's queue now")
    last_error: str | None = Field(description="the latest failure, null if none yet")
    last_success_at: datetime | None = Field(description="the latest delivery, null if none")
    counters: dict[str, Any] = Field(description="every counter of the output's kind")

    @classmethod
    def of(cls, status: dict[str, Any]) -> OutputStatusOut:
        """The model of one :meth:`lookout.sinks.Outputs.status` entry."""
        success = status["last_success_ts"]
        fields = {k: v for k, v in status.items() if k != "last_success_ts"}
        return cls(**fields, last_success_at=None if success is None else ts_to_datetime(success))


class StatusOut(BaseModel):
    version: str
    stream_clients: int
    counters: dict[str, Any]
    outputs: list[OutputStatusOut] = Field(
        default_factory=list,
        description="outputs running in this process that the caller administers",
    )


class HealthOut(BaseModel):
    status: str
    version: str


class EventOut(BaseModel):
    """One version of a detector event (docs/detectors.md): the ``lookout detect`` record
    plus ``version`` (1 for the first), ``at`` (this version's event time) and
    ``severity`` (``info``, ``low``, ``medium``, ``high``)."""

    id: str
    kind: str
    status: str
    version: int
    at: str | None
    severity: str
    mmsi: int | None
    mmsis: list[int]
    start: str | None
    end: str | None
    lat: float | None
    lon: float | None
    zone: str | None
    details: dict[str, Any]
    observations: list[str]
    members: list[str]
    sources: list[str] = Field(
        default_factory=list, description="the sources the event rests on, as MEMBER/NAME"
    )
    label: str = Field("network", description="releasability (docs/sharing.md)")
    redacted: bool = Field(
        False,
        description="true when shown under mutual alerting without the inputs the caller "
        "may not see (observations dropped, sources and members narrowed)",
    )


class EventsOut(BaseModel):
    count: int
    limit: int
    events: list[EventOut]


class EventDetailOut(BaseModel):
    event: EventOut
    versions: list[EventOut]


class DetectionsReceiptOut(BaseModel):
    """What a pushed detections CSV came to, once committed: detections read and handed to
    the detectors, rows not read (counted; the first ``errors`` named by line)."""

    detections: int
    rejected: int
    errors: list[str]


class DetectionOut(BaseModel):
    """One stored non-AIS detection."""

    id: str
    at: str | None
    lat: float
    lon: float
    source: str
    member: str
    label: str = "network"
    """Releasability: the release of the member's source named like ``source``."""


class DetectionsOut(BaseModel):
    count: int
    limit: int
    detections: list[DetectionOut]


class ErrorOut(BaseModel):
    """The body of every error response but 422: what went wrong, for people."""

    detail: str


class ValidationIssueOut(BaseModel):
    """One reason a request was refused with 422: where (``["query", "bbox"]``,
    ``["body"]``; empty when it concerns several parameters), what, and a stable type."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """The body of a 422: every issue found (FastAPI's validation error shape)."""

    detail: list[ValidationIssueOut]
