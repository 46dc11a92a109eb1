"""``/api/v1/events``: what the detectors found, each event as its latest version, and the
history of one event (provisional -> confirmed -> retracted; nothing is deleted)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from lookout.api.auth import Actor, authorize, current_actor, require
from lookout.api.deps import ApiRuntime, get_runtime, parse_bbox, query_ts
from lookout.api.schemas import (
    DetectionOut,
    DetectionsOut,
    EventDetailOut,
    EventOut,
    EventsOut,
)
from lookout.detectors.base import EVENT_STATUSES
from lookout.pipeline.alerts import severity_of
from lookout.pipeline.ports import EventQuery
from lookout.service.batch import event_record, iso_utc

__all__ = ["event_out", "router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

ActorDep = Annotated[Actor, Depends(current_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
MAX_LIMIT = 10_000


def event_out(event: Mapping[str, Any]) -> EventOut:
    """One stored event version as the API shows it: the ``lookout detect`` record plus
    ``version``, ``at`` (the version's event time) and ``severity``."""
    record = event_record(dict(event))
    return EventOut(
        **record,
        version=int(event.get("version", 1)),
        at=iso_utc(float(event["ts"])),
        severity=severity_of(event),
    )


@router.get("/events", response_model=EventsOut)
def list_events(
    actor: ActorDep,
    runtime: RuntimeDep,
    kind: Annotated[str | None, Query(description="event kind, e.g. zone_entry")] = None,
    status: Annotated[str | None, Query(description="provisional, confirmed or retracted")] = None,
    mmsi: Annotated[int | None, Query(ge=1, le=999_999_999, description="one vessel")] = None,
    zone: Annotated[str | None, Query(description="zone id")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; no offset = UTC")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601; no offset = UTC")] = None,
    bbox: Annotated[
        str | None, Query(description="west,south,east,north in degrees (WGS84)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> EventsOut:
    """Latest version of each event matching every filter, newest event time first."""
    box = parse_bbox(bbox)
    if status is not None and status not in EVENT_STATUSES:
        raise HTTPException(
            status_code=422, detail=f"status must be one of {', '.join(EVENT_STATUSES)}"
        )
    low, high = query_ts(since), query_ts(until)
    if low is not None and high is not None and low > high:
        raise HTTPException(status_code=422, detail="since must not be after until")
    require(actor, "read", "events")
    query = EventQuery(
        kind=kind, status=status, mmsi=mmsi, zone=zone, since_ts=low, until_ts=high,
        bbox=box, limit=limit,
    )  # fmt: skip
    found = runtime.store.events(query)
    shown = [event_out(e) for e in found if authorize(actor, "read", f"event:{e['kind']}")]
    return EventsOut(count=len(shown), limit=limit, events=shown)


@router.get("/events/{event_id}", response_model=EventDetailOut)
def get_event(
    actor: ActorDep,
    runtime: RuntimeDep,
    event_id: Annotated[str, Path(max_length=512, description="the event's stable id")],
) -> EventDetailOut:
    """One event: its latest version and every version it had, oldest first."""
    versions = runtime.store.event_history(event_id)
    if not versions:
        require(actor, "read", "events")
        raise HTTPException(status_code=404, detail=f"no event {event_id!r}")
    require(actor, "read", f"event:{versions[-1]['kind']}")
    shown = [event_out(v) for v in versions]
    return EventDetailOut(event=shown[-1], versions=shown)


@router.get("/detections", response_model=DetectionsOut, tags=["detections"])
def list_detections(
    actor: ActorDep,
    runtime: RuntimeDep,
    since: Annotated[datetime | None, Query(description="ISO 8601; no offset = UTC")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601; no offset = UTC")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> DetectionsOut:
    """Non-AIS detections received (satellite, radar, patrol), newest first."""
    low, high = query_ts(since), query_ts(until)
    if low is not None and high is not None and low > high:
        raise HTTPException(status_code=422, detail="since must not be after until")
    require(actor, "read", "detections")
    shown = [
        DetectionOut(
            id=d.id, at=iso_utc(d.ts), lat=d.lat, lon=d.lon, source=d.source, member=d.member
        )
        for d in runtime.store.detections(low, high, limit)
    ]
    return DetectionsOut(count=len(shown), limit=limit, detections=shown)
