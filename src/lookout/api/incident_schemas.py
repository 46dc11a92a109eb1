"""Request and response bodies of ``/api/v1/incidents`` (docs/incidents.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from lookout.model.incidents import CATEGORIES, RESPONSES, SEVERITIES

__all__ = [
    "AssetOut",
    "AssetsOut",
    "AssistanceIn",
    "AttachmentOut",
    "CommentIn",
    "EntryOut",
    "IncidentDetailOut",
    "IncidentIn",
    "IncidentOut",
    "IncidentsOut",
    "ResponseIn",
    "StatusIn",
]

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Answer = Literal[RESPONSES]  # type: ignore[valid-type]
Mmsi = Annotated[int, Field(ge=1, le=999_999_999)]


class IncidentIn(BaseModel):
    """A new incident: reported directly, or opened from an alert (``event_id``: its time,
    place and vessels are the event's unless given)."""

    category: Category
    severity: Severity = "medium"
    description: str = Field("", max_length=20_000)
    occurred_at: datetime | None = Field(None, description="when it happened (default: now)")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    vessels: list[Mmsi] = Field(default_factory=list, max_length=100, description="MMSIs")
    release: str = Field("owner", max_length=2000, description="who may see it (sharing.md)")
    event_id: str | None = Field(None, max_length=512, description="the alert's event")


class IncidentOut(BaseModel):
    id: str
    member: str
    opened_by: str
    opened_at: str | None
    occurred_at: str | None
    lat: float
    lon: float
    vessels: list[int]
    category: str
    severity: str
    description: str
    status: str
    release: str
    events: list[str]
    assistance_requested: bool
    redacted: bool = Field(
        False, description="shown to every member for assistance only (no comments, "
        "attachments or events)"
    )  # fmt: skip


class IncidentsOut(BaseModel):
    count: int
    incidents: list[IncidentOut]


class EntryOut(BaseModel):
    seq: int
    kind: str
    member: str
    user: str
    at: str | None
    text: str
    data: dict[str, Any]


class AttachmentOut(BaseModel):
    sha256: str
    name: str
    media_type: str
    size_bytes: int
    member: str
    added_at: str | None


class IncidentDetailOut(BaseModel):
    incident: IncidentOut
    timeline: list[EntryOut]
    attachments: list[AttachmentOut]


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class StatusIn(BaseModel):
    status: Literal["open", "closed"]
    text: str = Field("", max_length=20_000)


class AssistanceIn(BaseModel):
    text: str = Field("", max_length=20_000, description="what help is needed")


class ResponseIn(BaseModel):
    response: Answer
    asset_mmsi: Mmsi | None = None
    eta_at: datetime | None = None
    text: str = Field("", max_length=20_000)


class AssetOut(BaseModel):
    member: str
    mmsi: int
    name: str
    lat: float
    lon: float
    observed_at: str | None
    distance_m: float = Field(description="great-circle distance to the incident")
    sea_distance_m: float = Field(description="along sea lanes (searoute)")
    speed_kn: float
    eta_s: float
    eta_at: str | None
    route: str = Field(description="searoute, or great_circle when no lane was found")


class AssetsOut(BaseModel):
    incident: str
    assets: list[AssetOut]
