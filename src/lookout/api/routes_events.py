"""``/api/v1/events``: what the detectors found, each event as its latest version, and the
history of one event (provisional -> confirmed -> retracted; nothing is deleted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from lookout.api.auth import Actor, authorize, require
from lookout.api.deps import ApiRuntime, get_runtime, query_ts
from lookout.api.limits import invalid, limited_actor
from lookout.api.params import BBoxQuery, TimeQuery, bbox_of
from lookout.api.schemas import (
    DetectionOut,
    DetectionsOut,
    EventDetailOut,
    EventOut,
    EventsOut,
)
from lookout.api.sharing import View, policy_route
from lookout.pipeline.alerts import severity_of
from lookout.pipeline.ports import EventQuery
from lookout.service.batch import event_record, iso_utc

__all__ = ["event_out", "router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
MAX_LIMIT = 10_000
EventStatus = Literal["provisional", "confirmed", "retracted"]
"""``lookout.detectors.base.EVENT_STATUSES`` as a type (a test keeps them equal)."""


def event_out(event: Mapping[str, Any]) -> EventOut:
    """One stored event version as the API shows it: the ``lookout detect`` record plus
    ``version``, ``at`` (the version's event time) and ``severity``."""
    record = event_record(dict(event))
    return EventOut(
        **record,
        version=int(event.get("version", 1)),
        at=iso_utc(float(event["ts"])),
        severity=severity_of(event),
        sources=list(event.get("sources") or ()),
        label=str(event.get("label", "network")),
        redacted=bool(event.get("redacted", False)),
    )


@router.get("/events", response_model=EventsOut, openapi_extra=policy_route("filtered"))
def list_events(
    actor: ActorDep,
    runtime: RuntimeDep,
    kind: Annotated[str | None, Query(description="event kind, e.g. zone_entry")] = None,
    status: Annotated[EventStatus | None, Query(description="of the latest version")] = None,
    mmsi: Annotated[int | None, Query(ge=1, le=999_999_999, description="one vessel")] = None,
    zone: Annotated[str | None, Query(description="zone id")] = None,
    since: TimeQuery = None,
    until: TimeQuery = None,
    bbox: BBoxQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> EventsOut:
    """Latest version of each event matching every filter, newest event time first."""
    box = bbox_of(bbox)
    low, high = query_ts(since), query_ts(until)
    if low is not None and high is not None and low > high:
        raise invalid(("query", "since"), "since must not be after until")
    require(actor, "read", "events")
    query = EventQuery(
        kind=kind, status=status, mmsi=mmsi, zone=zone, since_ts=low, until_ts=high,
        bbox=box, limit=limit,
    )  # fmt: skip
    found = runtime.store.events(query)
    allowed = (e for e in found if authorize(actor, "read", f"event:{e['kind']}"))
    shown = [event_out(e) for e in View(runtime, actor).events(allowed)]
    return EventsOut(count=len(shown), limit=limit, events=shown)


@router.get(
    "/events/{event_id}", response_model=EventDetailOut, openapi_extra=policy_route("filtered")
)
def get_event(
    actor: ActorDep,
    runtime: RuntimeDep,
    event_id: Annotated[str, Path(max_length=512, description="the event's stable id")],
) -> EventDetailOut:
    """One event: its latest version and every version it had, oldest first."""
    view = View(runtime, actor)
    versions = runtime.store.event_history(event_id)
    latest = view.event(versions[-1]) if versions else None
    if latest is None:  # unknown or withheld: the same answer
        require(actor, "read", "events")
        raise HTTPException(status_code=404, detail=f"no event {event_id!r}")
    require(actor, "read", f"event:{versions[-1]['kind']}")
    shown = [event_out(v) for v in view.events(versions[:-1])] + [event_out(latest)]
    return EventDetailOut(event=shown[-1], versions=shown)


@router.get(
    "/detections",
    response_model=DetectionsOut,
    tags=["detections"],
    openapi_extra=policy_route("filtered"),
)
def list_detections(
    actor: ActorDep,
    runtime: RuntimeDep,
    since: TimeQuery = None,
    until: TimeQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> DetectionsOut:
    """Non-AIS detections received (satellite, radar, patrol), newest first."""
    low, high = query_ts(since), query_ts(until)
    if low is not None and high is not None and low > high:
        raise invalid(("query", "since"), "since must not be after until")
    require(actor, "read", "detections")
    view = View(runtime, actor)
    shown = [
        DetectionOut(
            id=d.id, at=iso_utc(d.ts), lat=lat, lon=lon, source=d.source, member=d.member,
            label=view.detection_label(d),
        )
        for d in runtime.store.detections(low, high, limit)
        if view.detection(d)
        for lat, lon in (view.detection_position(d),)
    ]  # fmt: skip
    return DetectionsOut(count=len(shown), limit=limit, detections=shown)
