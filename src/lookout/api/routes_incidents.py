"""``/api/v1/incidents``: open and work incidents, attach files, request and answer assistance,
list the nearest member assets (docs/incidents.md).

Reads pass the sharing rules of :func:`lookout.service.incidents.sight`: a member sees an
incident its release allows, and every member sees (redacted) one whose member asked for
assistance; anything else is 404, the answer for an unknown id. Writes need a
``watch_officer`` (or higher) of a member; comments and attachments need the full view, a
status change the incident's own member, a response only the (redacted) view.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lookout.api.auth import Actor, require
from lookout.api.deps import ApiRuntime, get_runtime, query_ts
from lookout.api.incident_schemas import (
    AssetOut,
    AssetsOut,
    AssistanceIn,
    AttachmentOut,
    CommentIn,
    EntryOut,
    IncidentDetailOut,
    IncidentIn,
    IncidentOut,
    IncidentsOut,
    ResponseIn,
    StatusIn,
)
from lookout.api.limits import limited_actor
from lookout.api.sharing import View, policy_route
from lookout.model import VesselState
from lookout.model.incidents import Entry, Incident, IncidentError
from lookout.model.members import Role
from lookout.service.batch import iso_utc
from lookout.service.evidence import (
    SigningKeys,
    attachment_record,
    entry_record,
    export,
    incident_record,
)
from lookout.service.incidents import Incidents, Sight, sight, visible_entries

__all__ = ["router"]

log = logging.getLogger("lookout.api.access")
router = APIRouter(prefix="/api/v1", tags=["incidents"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
IncidentId = Annotated[str, Path(max_length=64, description="the incident's id")]
ATTACHMENT_PART = "file"
"""The multipart field that carries an attachment."""
MULTIPART_SLACK_BYTES = 64 * 1024
"""What a multipart body may hold beyond the file itself (boundaries, headers)."""


def _service(runtime: ApiRuntime) -> Incidents:
    service: Incidents | None = getattr(runtime, "incidents", None)
    if service is None:
        raise HTTPException(status_code=503, detail="this server has no incident store")
    return service


def _officer(actor: Actor) -> str:
    """The actor's member, when it may act on incidents (403 otherwise)."""
    if actor.member is None or actor.role is None or not actor.role.includes(Role.WATCH_OFFICER):
        log.warning("denied actor=%s action=act resource=incidents", actor.name)
        raise HTTPException(status_code=403, detail=f"{actor.name} may not act on incidents")
    return actor.member


def _seen(runtime: ApiRuntime, actor: Actor, incident_id: str) -> tuple[Incident, Sight]:
    """The incident and how much the actor may see of it; 404 when nothing."""
    require(actor, "read", "incidents")
    found = _service(runtime).store.incident(incident_id)
    shown = sight(runtime.policy(), actor.member, found) if found is not None else None
    if found is None or shown is None:
        raise HTTPException(status_code=404, detail=f"no incident {incident_id!r}")
    return found, shown


def _out(incident: Incident, shown: Sight) -> IncidentOut:
    record = incident_record(incident)
    if shown != "full":
        record["events"] = []
    return IncidentOut(**record, redacted=shown != "full")


def _entry(entry: Entry) -> EntryOut:
    return EntryOut(**entry_record(entry))


def _full(runtime: ApiRuntime, actor: Actor, incident_id: str) -> Incident:
    incident, shown = _seen(runtime, actor, incident_id)
    if shown != "full":
        raise HTTPException(status_code=403, detail=f"{incident_id} is shared for assistance only")
    return incident


def _draft(body: IncidentIn, runtime: ApiRuntime, actor: Actor, member: str) -> Incident:
    """The new incident from the body, filled from the linked event where not given."""
    event: dict[str, Any] = {}
    if body.event_id is not None:
        history = runtime.store.event_history(body.event_id)
        shown = View(runtime, actor).event(history[-1]) if history else None
        if shown is None:
            raise HTTPException(status_code=404, detail=f"no event {body.event_id!r}")
        event = shown
    lat = body.lat if body.lat is not None else event.get("lat")
    lon = body.lon if body.lon is not None else event.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        raise HTTPException(status_code=422, detail="lat and lon are needed (or an event_id)")
    fallback = [event["mmsi"]] if event.get("mmsi") else []
    vessels = body.vessels or list(event.get("mmsis") or fallback)
    occurred = query_ts(body.occurred_at)
    if occurred is None:
        occurred = float(event.get("ts") or time.time())
    return Incident(
        id="", member=member, opened_by=actor.name, opened_ts=0.0, occurred_ts=occurred,
        lat=float(lat), lon=float(lon), category=body.category, severity=body.severity,
        description=body.description, vessels=tuple(int(v) for v in vessels),
        release=body.release, events=(body.event_id,) if body.event_id else (),
    )  # fmt: skip


@router.post("/incidents", response_model=IncidentOut, openapi_extra=policy_route("write"))
def open_incident(body: IncidentIn, actor: ActorDep, runtime: RuntimeDep) -> IncidentOut:
    """Open an incident (``watch_officer`` or higher); from an alert with ``event_id``."""
    member = _officer(actor)
    try:
        incident = _service(runtime).open(_draft(body, runtime, actor, member))
    except IncidentError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return _out(incident, "full")


@router.api_route(
    "/incidents", methods=["PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False
)
def incidents_other_methods() -> Response:
    """405 naming both methods of ``/incidents`` (Starlette would name only the first
    route's)."""
    raise HTTPException(
        status_code=405, detail="Method Not Allowed", headers={"Allow": "GET, POST"}
    )


@router.get("/incidents", response_model=IncidentsOut, openapi_extra=policy_route("filtered"))
def list_incidents(
    actor: ActorDep,
    runtime: RuntimeDep,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> IncidentsOut:
    """Incidents the caller may see, newest opened first."""
    require(actor, "read", "incidents")
    policy = runtime.policy()
    shown = [
        _out(i, s)
        for i in _service(runtime).store.incidents(limit)
        if (s := sight(policy, actor.member, i)) is not None
        and (status is None or i.status == status)
    ]
    return IncidentsOut(count=len(shown), incidents=shown)


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetailOut,
    openapi_extra=policy_route("filtered"),
)
def get_incident(
    incident_id: IncidentId, actor: ActorDep, runtime: RuntimeDep
) -> IncidentDetailOut:
    """One incident with its timeline and attachments (as much as the caller may see)."""
    incident, shown = _seen(runtime, actor, incident_id)
    store = _service(runtime).store
    timeline = [_entry(e) for e in visible_entries(store.entries(incident.id), shown)]
    files = store.attachments(incident.id) if shown == "full" else []
    return IncidentDetailOut(
        incident=_out(incident, shown),
        timeline=timeline,
        attachments=[AttachmentOut(**attachment_record(a)) for a in files],
    )


@router.post(
    "/incidents/{incident_id}/comments",
    response_model=EntryOut,
    openapi_extra=policy_route("write"),
)
def comment(
    incident_id: IncidentId, body: CommentIn, actor: ActorDep, runtime: RuntimeDep
) -> EntryOut:
    """Add a comment to the timeline."""
    member = _officer(actor)
    incident = _full(runtime, actor, incident_id)
    return _entry(_service(runtime).comment(incident, member, actor.name, body.text))


@router.post(
    "/incidents/{incident_id}/status", response_model=EntryOut, openapi_extra=policy_route("write")
)
def set_status(
    incident_id: IncidentId, body: StatusIn, actor: ActorDep, runtime: RuntimeDep
) -> EntryOut:
    """Close or reopen an incident (its own member only)."""
    member = _officer(actor)
    incident = _full(runtime, actor, incident_id)
    if member != incident.member:
        raise HTTPException(status_code=403, detail=f"only {incident.member} may change status")
    service = _service(runtime)
    return _entry(service.set_status(incident, member, actor.name, body.status, body.text))


async def _upload(request: Request, limit: int, filename: str | None) -> tuple[str, str, bytes]:
    """The file of a multipart body (field ``file``) or of a raw body, with its name and media
    type; 413 beyond ``limit`` bytes, 422 without a name."""
    media = request.headers.get("content-type", "") or "application/octet-stream"
    name = filename or ""
    if media.split(";", 1)[0].strip().lower() == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=4, max_part_size=limit + 1)
        part = form.get(ATTACHMENT_PART)
        if part is None or isinstance(part, str):
            raise HTTPException(status_code=422, detail=f"multipart field {ATTACHMENT_PART!r}")
        data = await part.read(limit + 1)
        name = part.filename or name
        media = part.content_type or "application/octet-stream"
    else:
        data = await request.body()
    if len(data) > limit:
        raise HTTPException(status_code=413, detail=f"attachment larger than {limit} bytes")
    if not name.strip() or len(name) > 255 or "/" in name or "\\" in name:
        raise HTTPException(status_code=422, detail="the attachment needs a file name")
    if not data:
        raise HTTPException(status_code=422, detail="the attachment is empty")
    return name, media[:200], data


@router.post(
    "/incidents/{incident_id}/attachments",
    response_model=EntryOut,
    openapi_extra=policy_route("write"),
)
async def attach(
    incident_id: IncidentId,
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    filename: Annotated[
        str | None, Query(max_length=255, description="the file's name (raw body)")
    ] = None,
) -> EntryOut:
    """Attach a photo, video or document: ``multipart/form-data`` (field ``file``) or the raw
    body with its ``Content-Type`` and ``filename``; 413 beyond ``max_attachment_bytes``."""
    member = _officer(actor)
    incident = await run_in_threadpool(_full, runtime, actor, incident_id)
    limit = int(runtime.settings.max_attachment_bytes)
    name, media, data = await _upload(request, limit, filename)
    service = _service(runtime)
    entry = await run_in_threadpool(service.attach, incident, member, actor.name, name, media, data)
    return _entry(entry)


@router.get(
    "/incidents/{incident_id}/attachments/{sha256}",
    response_class=Response,
    responses={200: {"description": "the file, with its media type", "content": {"*/*": {}}}},
    openapi_extra=policy_route("filtered"),
)
def get_attachment(
    incident_id: IncidentId,
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="the file's SHA-256")],
    actor: ActorDep,
    runtime: RuntimeDep,
) -> Response:
    """One attached file (for members with the full view of the incident)."""
    incident, shown = _seen(runtime, actor, incident_id)
    store = _service(runtime).store
    found = store.attachment(incident.id, sha256) if shown == "full" else None
    if found is None:
        raise HTTPException(status_code=404, detail=f"no attachment {sha256}")
    disposition = f'attachment; filename="{found.name.replace(chr(34), "_")}"'
    return Response(
        store.blob(sha256),
        media_type=found.media_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/incidents/{incident_id}/assistance",
    response_model=EntryOut,
    openapi_extra=policy_route("write"),
)
def request_assistance(
    incident_id: IncidentId, body: AssistanceIn, actor: ActorDep, runtime: RuntimeDep
) -> EntryOut:
    """Ask every member for help: an ``assistance_request`` alert on every member's stream."""
    member = _officer(actor)
    incident = _full(runtime, actor, incident_id)
    return _entry(_service(runtime).request_assistance(incident, member, actor.name, body.text))


@router.post(
    "/incidents/{incident_id}/assistance/responses",
    response_model=EntryOut,
    openapi_extra=policy_route("write"),
)
def respond(
    incident_id: IncidentId, body: ResponseIn, actor: ActorDep, runtime: RuntimeDep
) -> EntryOut:
    """Answer an assistance request: ``can_assist``, ``cannot`` or ``en_route``."""
    member = _officer(actor)
    incident, _ = _seen(runtime, actor, incident_id)
    try:
        entry = _service(runtime).respond(
            incident, member, actor.name, body.response, asset_mmsi=body.asset_mmsi,
            eta_ts=query_ts(body.eta_at), text=body.text,
        )  # fmt: skip
    except IncidentError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return _entry(entry)


@router.get(
    "/incidents/{incident_id}/assets",
    response_model=AssetsOut,
    openapi_extra=policy_route("filtered"),
)
def nearest_assets(
    incident_id: IncidentId,
    actor: ActorDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> AssetsOut:
    """Member assets the caller may see, soonest at the incident first, with distance and ETA
    along sea lanes."""
    incident, _ = _seen(runtime, actor, incident_id)
    view = View(runtime, actor)

    def position(mmsi: int) -> VesselState | None:
        state = runtime.store.vessel(mmsi)
        return view.vessel(state) if state is not None else None

    speed = float(runtime.settings.assist_speed_kn)
    found = _service(runtime).nearest_assets(incident, position, speed, limit)
    now = view.now
    return AssetsOut(
        incident=incident.id,
        assets=[
            AssetOut(
                member=r.asset.member, mmsi=r.asset.mmsi, name=r.asset.name, lat=r.lat,
                lon=r.lon, observed_at=iso_utc(r.observed_ts), distance_m=round(r.distance_m),
                sea_distance_m=round(r.sea_distance_m), speed_kn=r.speed_kn,
                eta_s=round(r.eta_s), eta_at=iso_utc(now + r.eta_s), route=r.route,
            )
            for r in found
        ],
    )  # fmt: skip


@router.get(
    "/incidents/{incident_id}/evidence",
    response_class=Response,
    responses={200: {"description": "the signed bundle (zip)", "content": {"application/zip": {}}}},
    openapi_extra=policy_route("filtered"),
)
def evidence(incident_id: IncidentId, actor: ActorDep, runtime: RuntimeDep) -> Response:
    """The incident's evidence bundle as the caller's member may see it, signed with that
    member's key (``watch_officer`` or higher); the same as ``lookout evidence export``."""
    member = _officer(actor)
    incident, _ = _seen(runtime, actor, incident_id)
    keys = SigningKeys.of(runtime.settings.data_dir)
    service = _service(runtime)
    data, checked = export(
        service.store, runtime.store, runtime.policy(), keys, member=member, incident_id=incident.id
    )
    audit = service.audit
    if audit is not None:
        detail = {"member": member, "fingerprint": checked.fingerprint, "files": checked.files}
        audit.append(actor.name, "evidence", f"incident:{incident.id}", detail)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{incident.id}-evidence.zip"'},
    )
