"""The incident workflow: open, comment, close, attach, request and answer assistance, and
find the nearest member assets; who may see what of an incident.

Who sees an incident (:func:`sight`): its member always; the members its ``release`` names
(read like a source's release, docs/sharing.md) in full; and, once assistance is requested,
every member, redacted: the record (time, place, vessels, category, severity, description,
status) and the assistance entries, but not comments, attachments or linked events. Anyone
else sees nothing (deny by default).

An assistance request is published on ``lookout.alert.network`` as an alert of kind
``assistance_request`` (the shape of :func:`lookout.pipeline.alerts.alert_messages`), so every
member's live stream (``GET /api/v1/stream``) delivers it. Every change is recorded in the
audit log (action ``incident``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any, Literal

from lookout.geo.distance import distance_m
from lookout.model import VesselState
from lookout.model.incidents import RESPONSES, STATUSES, Asset, Entry, Incident, IncidentError
from lookout.pipeline import subjects
from lookout.pipeline.ports import Bus
from lookout.sharing import NETWORK, Label, Policy, Release, ReleaseError
from lookout.storage.audit import AuditLog
from lookout.storage.incidents import IncidentStore, new_incident_id

__all__ = [
    "ASSISTANCE_KIND",
    "DEFAULT_ASSIST_SPEED_KN",
    "AssetReach",
    "Incidents",
    "Sight",
    "assistance_alert",
    "incident_label",
    "reach",
    "sight",
]

log = logging.getLogger(__name__)

ASSISTANCE_KIND = "assistance_request"
"""The alert kind of an assistance request."""
DEFAULT_ASSIST_SPEED_KN = 15.0
"""Speed assumed for an asset with no registered speed and no way on, knots."""
UNDERWAY_KN = 3.0
"""An asset reporting at least this speed is taken to steam at it (unless registered)."""
METRES_PER_NM = 1852.0
MAX_LANE_DETOUR = 3.0
"""A sea lane longer than this many times the great circle is a gap in ``searoute``'s lane
network (it has no lanes through the Spratlys' Dangerous Ground, where coast guard vessels do
go), not the sea's: the great circle is used instead."""

Sight = Literal["full", "assistance"]
REDACTED_KINDS = frozenset({"opened", "status", "assistance_request", "assistance_response"})
"""Timeline entries a member shown an incident for assistance only may see."""


def incident_label(incident: Incident, policy: Policy) -> Label:
    """Who may see the whole incident: its member and the readers of its release."""
    try:
        release = Release.parse(incident.release)
    except ReleaseError:
        release = Release()
    if release.scope == "network":
        return NETWORK
    readers = frozenset({incident.member}) | release.members
    if release.scope == "community":
        readers |= policy.agreement.community(release.community or "")
    return Label(readers)


def sight(policy: Policy, viewer: str | None, incident: Incident) -> Sight | None:
    """How much of ``incident`` ``viewer`` may see (module docstring), or ``None``."""
    if viewer is None:
        return None
    if viewer == incident.member or incident_label(incident, policy).allows(viewer):
        return "full"
    return "assistance" if incident.assistance_requested else None


def visible_entries(entries: Sequence[Entry], shown: Sight) -> list[Entry]:
    return [e for e in entries if shown == "full" or e.kind in REDACTED_KINDS]


def assistance_alert(incident: Incident, entry: Entry) -> tuple[str, dict[str, Any]]:
    """The bus message (subject, payload) telling every member of an assistance request."""
    event_id = f"{incident.id}/assistance/{entry.seq}"
    mmsi = incident.vessels[0] if incident.vessels else None
    details = {
        "incident": incident.id, "requested_by": entry.member, "category": incident.category,
        "severity": incident.severity, "message": entry.text,
    }  # fmt: skip
    event = {
        "id": event_id, "kind": ASSISTANCE_KIND, "status": "confirmed", "ts": entry.ts,
        "start_ts": entry.ts, "end_ts": None, "mmsi": mmsi, "mmsis": list(incident.vessels),
        "lat": incident.lat, "lon": incident.lon, "zone": None, "members": [], "sources": [],
        "observations": [], "details": details,
    }  # fmt: skip
    what = incident.category.replace("_", " ")
    payload = {
        "id": f"{event_id}@network", "event_id": event_id, "member": "network",
        "severity": incident.severity, "kind": ASSISTANCE_KIND, "status": "confirmed",
        "title": f"{entry.member} requests assistance: {what} ({incident.id})",
        "ts": entry.ts, "lat": incident.lat, "lon": incident.lon, "zone": None, "mmsi": mmsi,
        "mmsis": list(incident.vessels), "incident": incident.id, "event": event,
    }  # fmt: skip
    return subjects.alert("network"), payload


@dataclass(frozen=True, slots=True)
class AssetReach:
    """How far an asset is from an incident and when it could be there.

    ``distance_m``: great circle; ``sea_distance_m``: along ``searoute``'s sea lanes (never
    shorter than the great circle; the great circle when :func:`sea_distance_m` finds no
    usable lane, ``route`` then says ``great_circle``); ``eta_s``: the sea distance at
    ``speed_kn``."""

    asset: Asset
    lat: float
    lon: float
    observed_ts: float
    distance_m: float
    sea_distance_m: float
    speed_kn: float
    eta_s: float
    route: str


def sea_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, str]:
    """Length of ``searoute``'s lane between two points, metres, and ``searoute``; the great
    circle and ``great_circle`` when it finds none or its lane is more than
    :data:`MAX_LANE_DETOUR` times the great circle."""
    direct = distance_m(lat1, lon1, lat2, lon2)
    try:
        import searoute

        feature = searoute.searoute([lon1, lat1], [lon2, lat2], append_orig_dest=True)
        coords = feature["geometry"]["coordinates"]
    except Exception as exc:  # the lane network has no answer here
        log.info("no sea lane from %s,%s to %s,%s: %s", lat1, lon1, lat2, lon2, exc)
        return direct, "great_circle"
    length = sum(distance_m(a[1], a[0], b[1], b[0]) for a, b in pairwise(coords))
    if length > MAX_LANE_DETOUR * direct:
        log.info("sea lane %.0f m for %.0f m direct: taken as a gap in the lanes", length, direct)
        return direct, "great_circle"
    return max(length, direct), "searoute"


def reach(
    incident: Incident, asset: Asset, state: VesselState, default_speed_kn: float
) -> AssetReach:
    """Distances and ETA of one asset at its latest position (``state``)."""
    speed = asset.speed_kn
    if speed is None:
        reported = state.speed_kn or 0.0
        speed = reported if reported >= UNDERWAY_KN else default_speed_kn
    sea, route = sea_distance_m(state.lat, state.lon, incident.lat, incident.lon)
    eta = sea / (speed * METRES_PER_NM / 3600.0) if speed > 0 else math.inf
    return AssetReach(
        asset=asset, lat=state.lat, lon=state.lon, observed_ts=state.observed_ts,
        distance_m=distance_m(state.lat, state.lon, incident.lat, incident.lon),
        sea_distance_m=sea, speed_kn=speed, eta_s=eta, route=route,
    )  # fmt: skip


class Incidents:
    """The workflow over an :class:`IncidentStore`; publishes on ``bus``, audits to
    ``audit`` (both optional)."""

    def __init__(
        self,
        store: IncidentStore,
        *,
        bus: Bus | None = None,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.bus = bus
        self.audit = audit
        self._clock = clock

    def _record(self, actor: str, incident_id: str, detail: Mapping[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append(actor, "incident", f"incident:{incident_id}", detail)

    def get(self, incident_id: str) -> Incident:
        found = self.store.incident(incident_id)
        if found is None:
            raise IncidentError(f"no incident {incident_id!r}")
        return found

    def open(self, draft: Incident) -> Incident:
        """Record ``draft`` under a new id, opened now."""
        try:
            Release.parse(draft.release)
        except ReleaseError as exc:
            raise IncidentError(str(exc)) from exc
        now = self._clock()
        incident = replace(draft, id=new_incident_id(now), opened_ts=now, status="open")
        self.store.open_incident(incident)
        detail = {"opened": incident.category, "member": incident.member}
        self._record(incident.opened_by, incident.id, {**detail, "release": incident.release})
        return incident

    def comment(self, incident: Incident, member: str, user: str, text: str) -> Entry:
        return self.store.add_entry(incident.id, "comment", member=member, user=user, text=text)

    def set_status(
        self, incident: Incident, member: str, user: str, status: str, text: str = ""
    ) -> Entry:
        if status not in STATUSES:
            raise IncidentError(f"status {status!r}: one of {', '.join(STATUSES)}")
        entry = self.store.add_entry(
            incident.id, "status", member=member, user=user, text=text, data={"status": status}
        )
        self._record(user, incident.id, {"status": status})
        return entry

    def attach(
        self, incident: Incident, member: str, user: str, name: str, media_type: str, data: bytes
    ) -> Entry:
        found = self.store.add_attachment(
            incident.id, name=name, media_type=media_type, content=data, member=member, user=user
        )
        self._record(user, incident.id, {"attachment": found.sha256, "size_bytes": len(data)})
        return self.store.entries(incident.id)[-1]

    def request_assistance(self, incident: Incident, member: str, user: str, text: str) -> Entry:
        """Record the request and tell every member (``lookout.alert.network``)."""
        entry = self.store.add_entry(
            incident.id, "assistance_request", member=member, user=user, text=text
        )
        self._record(user, incident.id, {"assistance": "requested"})
        if self.bus is not None:
            subject, payload = assistance_alert(self.get(incident.id), entry)
            self.bus.publish(subject, payload)
        return entry

    def respond(
        self,
        incident: Incident,
        member: str,
        user: str,
        response: str,
        *,
        asset_mmsi: int | None = None,
        eta_ts: float | None = None,
        text: str = "",
    ) -> Entry:
        if response not in RESPONSES:
            raise IncidentError(f"response {response!r}: one of {', '.join(RESPONSES)}")
        if not incident.assistance_requested:
            raise IncidentError(f"no assistance was requested for {incident.id}")
        owner = next((a.member for a in self.store.assets() if a.mmsi == asset_mmsi), member)
        if owner != member:
            raise IncidentError(f"MMSI {asset_mmsi} is an asset of {owner}, not of {member}")
        data = {"response": response, "asset_mmsi": asset_mmsi, "eta_ts": eta_ts}
        entry = self.store.add_entry(
            incident.id, "assistance_response", member=member, user=user, text=text, data=data
        )
        self._record(user, incident.id, {"assistance": response, "member": member})
        return entry

    def nearest_assets(
        self,
        incident: Incident,
        vessel: Callable[[int], VesselState | None],
        default_speed_kn: float = DEFAULT_ASSIST_SPEED_KN,
        limit: int = 10,
    ) -> list[AssetReach]:
        """The registered assets whose position ``vessel`` gives (as the caller may see it),
        soonest there first."""
        found = []
        for asset in self.store.assets():
            state = vessel(asset.mmsi)
            if state is not None:
                found.append(reach(incident, asset, state, default_speed_kn))
        found.sort(key=lambda r: (r.eta_s, r.distance_m))
        return found[:limit]
