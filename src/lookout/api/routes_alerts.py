"""``/api/v1/alerts``: a member's alerts with what its watch officers did about them.

An alert is an event version of severity ``low`` or above for one addressee
(:func:`lookout.pipeline.alerts.alert_messages`), its id ``<event id>@<member>``. Acknowledging
or escalating one (``watch_officer`` or higher) is recorded for the caller's member in the
:class:`~lookout.storage.alert_states.AlertStateStore`, written to the audit log, and
published on ``lookout.alertstate.<member>`` so that the member's other users see it on their
stream at once. An alert is found only when the caller may see its event (404 alike for an
unknown and a withheld one).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from lookout.api.auth import Actor, authorize, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.geojson import iso_utc
from lookout.api.limits import limited_actor
from lookout.api.sharing import View, policy_route
from lookout.model.members import Role
from lookout.pipeline import subjects
from lookout.pipeline.alerts import NETWORK, alert_messages
from lookout.pipeline.ports import EventQuery
from lookout.storage.alert_states import AlertState, AlertStateStore, Mark

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["alerts"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
AlertId = Annotated[str, Path(min_length=3, max_length=600, description="`<event id>@<member>`")]
_NO_STORE: dict[int | str, dict[str, Any]] = {
    503: {"description": "this server keeps no alert states (no data dir)"}
}


class AlertStateOut(BaseModel):
    """What the caller's member did about one alert."""

    id: str = Field(description="`<event id>@<member>`")
    event_id: str
    member: str = Field(description="whose state this is: the caller's member")
    acknowledged_at: str | None
    acknowledged_by: str | None
    escalated_at: str | None
    escalated_by: str | None


class AlertOut(AlertStateOut):
    """One alert of the caller's member and its state."""

    addressee: str = Field(description="whom the alert is for: the member, or `network`")
    severity: str
    kind: str
    status: str
    title: str
    at: str = Field(description="event time of the alert's latest version (ISO 8601 UTC)")


class AlertsOut(BaseModel):
    count: int
    limit: int
    alerts: list[AlertOut]


def _store(runtime: ApiRuntime) -> AlertStateStore:
    store: AlertStateStore | None = getattr(runtime, "alert_states", None)
    if store is None:
        raise HTTPException(status_code=503, detail="this server keeps no alert states")
    return store


def _member(actor: Actor) -> str:
    """The caller's member, when it may act on alerts (403 otherwise)."""
    if actor.member is None or actor.role is None or not actor.role.includes(Role.WATCH_OFFICER):
        raise HTTPException(status_code=403, detail=f"{actor.name} may not act on alerts")
    return actor.member


def _state_out(state: AlertState) -> AlertStateOut:
    return AlertStateOut(
        id=state.alert_id,
        event_id=state.event_id,
        member=state.member,
        acknowledged_at=_iso(state.acknowledged_ts),
        acknowledged_by=state.acknowledged_by,
        escalated_at=_iso(state.escalated_ts),
        escalated_by=state.escalated_by,
    )


def _iso(ts: float | None) -> str | None:
    return iso_utc(ts) if ts is not None else None


def _event_of(view: View, actor: Actor, alert_id: str) -> dict[str, Any]:
    """The event (as the caller may see it) behind an alert id, else 404."""
    event_id, at, _ = alert_id.rpartition("@")
    versions = view.runtime.store.event_history(event_id) if at else []
    shown = view.event(versions[-1]) if versions else None
    if shown is None or not authorize(actor, "read", f"event:{shown['kind']}"):
        raise HTTPException(status_code=404, detail=f"no alert {alert_id!r}")
    return shown


def _mark(actor: Actor, runtime: ApiRuntime, alert_id: str, what: Mark) -> AlertStateOut:
    member = _member(actor)
    store = _store(runtime)
    event = _event_of(View(runtime, actor), actor, alert_id)
    state, changed = store.mark(alert_id, member, event["id"], what, actor.name, time.time())
    out = _state_out(state)
    if changed:
        audit = getattr(runtime, "audit", None)
        if audit is not None:
            audit.append(actor.name, "alert", f"alert:{alert_id}", {"member": member, what: True})
        runtime.bus.publish(subjects.alert_state(member), _payload(state))
    return out


def _payload(state: AlertState) -> dict[str, Any]:
    """The bus message: the state with epoch ``*_ts`` (the stream writes them as ``*_at``)."""
    return {
        "id": state.alert_id, "event_id": state.event_id, "member": state.member,
        "acknowledged_ts": state.acknowledged_ts, "acknowledged_by": state.acknowledged_by,
        "escalated_ts": state.escalated_ts, "escalated_by": state.escalated_by,
    }  # fmt: skip


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertStateOut,
    responses=_NO_STORE,
    openapi_extra=policy_route("write"),
)
def acknowledge(actor: ActorDep, runtime: RuntimeDep, alert_id: AlertId) -> AlertStateOut:
    """Acknowledge an alert for the caller's member (``watch_officer`` or higher); the first
    acknowledgement stands."""
    return _mark(actor, runtime, alert_id, "acknowledged")


@router.post(
    "/alerts/{alert_id}/escalate",
    response_model=AlertStateOut,
    responses=_NO_STORE,
    openapi_extra=policy_route("write"),
)
def escalate(actor: ActorDep, runtime: RuntimeDep, alert_id: AlertId) -> AlertStateOut:
    """Escalate an alert for the caller's member (``watch_officer`` or higher); the first
    escalation stands."""
    return _mark(actor, runtime, alert_id, "escalated")


@router.get(
    "/alerts",
    response_model=AlertsOut,
    responses=_NO_STORE,
    openapi_extra=policy_route("filtered"),
)
def list_alerts(
    actor: ActorDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlertsOut:
    """The alerts addressed to the caller's member or to the network, from the latest
    ``limit`` events it may see, newest first, each with the member's state."""
    require(actor, "read", "events")
    member = actor.member or ""
    view = View(runtime, actor)
    found: list[tuple[str, Mapping[str, Any]]] = []
    for event in runtime.store.events(EventQuery(limit=limit)):
        shown = view.event(event)
        if shown is None or not authorize(actor, "read", f"event:{event['kind']}"):
            continue
        titles = {a["member"]: a["title"] for _, a in alert_messages(shown)}
        for _, alert in alert_messages(event):
            if alert["member"] in (member, NETWORK):
                title = titles.get(alert["member"]) or str(event["kind"]).replace("_", " ")
                found.append((alert["id"], {**alert, **_summary(shown), "title": title}))
    store: AlertStateStore | None = getattr(runtime, "alert_states", None)
    states = {s.alert_id: s for s in store.states(member, [i for i, _ in found])} if store else {}
    alerts = [_alert_out(a, states.get(i), member) for i, a in found]
    return AlertsOut(count=len(alerts), limit=limit, alerts=alerts)


def _summary(shown: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": shown["status"], "ts": shown["ts"]}


def _alert_out(alert: Mapping[str, Any], state: AlertState | None, member: str) -> AlertOut:
    blank = AlertState(alert["id"], member, alert["event_id"])
    return AlertOut(
        **_state_out(state or blank).model_dump(),
        addressee=alert["member"],
        severity=alert["severity"],
        kind=alert["kind"],
        status=alert["status"],
        title=alert["title"],
        at=iso_utc(float(alert["ts"])),
    )
