"""Alerts: which detector events a watch officer must see now, how urgent, and for whom.

Every event version is published on ``lookout.event.<kind>`` and stored. An event whose
severity is above ``info`` is also an *alert*, published on ``lookout.alert.<member>`` for each
member it concerns:

- an event tied to a zone (``zone_entry``, ``zone_exit``) concerns the zone's owners (every
  claimant of a disputed zone);
- any other event concerns the whole network: ``lookout.alert.network``.

Each new version of the event (provisional, confirmed, retracted) is alerted again with the
same ``id``, so a feed updates the alert in place; a retraction is how an alert is withdrawn.

Severity (``high`` > ``medium`` > ``low`` > ``info``) comes from :data:`SEVERITY` by kind, and
for zone crossings from the zone's legal regime (:data:`ZONE_ENTRY_SEVERITY`): a foreign
vessel entering a member's territorial sea is ``high``, entering an EEZ ``low``. A vessel whose
flag (the MID of its MMSI) is the state of one of the zone's owners is at home: its entry is
``info``. An owner's state is the ISO 3166-1 alpha-3 code an owner starts with (``PHL`` of
``PHL-PCG``); :data:`ALPHA2_OF_STATE` knows the states of the region's zones and members, and a
vessel of unknown flag, or an owner not in it, counts as foreign. An
``ais_gap`` in a coverage hole (nobody was receiving near it) is ``info``: it says nothing
about the vessel. Which members may *see* what is the sharing policy's business (a later
layer); this module only decides urgency and addressees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lookout.pipeline import subjects

__all__ = [
    "ALPHA2_OF_STATE",
    "NETWORK",
    "SEVERITIES",
    "SEVERITY",
    "ZONE_ENTRY_SEVERITY",
    "alert_messages",
    "severity_of",
]

NETWORK = "network"
"""The addressee of alerts that concern every member."""

SEVERITIES = ("info", "low", "medium", "high")
"""Severities, least urgent first; ``info`` raises no alert."""

SEVERITY: Mapping[str, str] = {
    "zone_exit": "info",
    "ais_gap": "medium",
    "encounter": "medium",
    "loitering": "low",
    "speed_anomaly": "low",
    "identity_conflict": "medium",
    "position_on_land": "low",
    "dark_vessel": "high",
    "swarm": "high",
    "shadowing": "high",
    "close_approach": "high",
}
"""Severity by event kind (``zone_entry``: by regime, below). Unknown kinds: ``low``."""

ZONE_ENTRY_SEVERITY: Mapping[str, str] = {
    "territorial_sea": "high",
    "internal_waters": "high",
    "archipelagic_waters": "high",
    "contiguous_zone": "medium",
    "disputed": "medium",
    "watch_area": "medium",
    "protected_area": "medium",
    "eez": "low",
}
"""Severity of a ``zone_entry`` by the zone's regime."""

ALPHA2_OF_STATE: Mapping[str, str] = {
    "AUS": "AU", "BRN": "BN", "CHN": "CN", "HKG": "HK", "IDN": "ID", "IND": "IN",
    "JPN": "JP", "KHM": "KH", "KOR": "KR", "MAC": "MO", "MMR": "MM", "MYS": "MY",
    "PHL": "PH", "PNG": "PG", "PRK": "KP", "SGP": "SG", "THA": "TH", "TLS": "TL",
    "TWN": "TW", "USA": "US", "VNM": "VN",
}  # fmt: skip
"""ISO 3166-1 alpha-3 -> alpha-2 for the states around the South China Sea and of the demo
network's members (codes from ISO 3166-1; the flag of an MMSI is alpha-2)."""

_TITLES = {
    "zone_entry": "entered",
    "zone_exit": "left",
    "ais_gap": "went silent (AIS gap)",
    "encounter": "encounter at sea",
    "loitering": "loitering at sea",
    "speed_anomaly": "impossible speed",
    "identity_conflict": "identity conflict",
    "position_on_land": "position on land",
    "dark_vessel": "detection with no AIS vessel (dark vessel)",
    "swarm": "vessels massing",
    "shadowing": "shadowing",
    "close_approach": "dangerous close approach",
}


def severity_of(event: Mapping[str, Any]) -> str:
    """The severity of one event version (see the module docstring)."""
    kind = event["kind"]
    details = event.get("details") or {}
    if kind == "zone_entry":
        if _at_home(details):
            return "info"
        return ZONE_ENTRY_SEVERITY.get(str(details.get("regime")), "low")
    if kind == "ais_gap" and details.get("coverage_hole"):
        return "info"
    return SEVERITY.get(kind, "low")


def _at_home(details: Mapping[str, Any]) -> bool:
    """Is the vessel flagged to the state of one of the zone's owners?"""
    flag = details.get("flag")
    if not flag:
        return False
    owners = details.get("owners") or ()
    return any(ALPHA2_OF_STATE.get(str(owner)[:3]) == flag for owner in owners)


def _addressees(event: Mapping[str, Any]) -> list[str]:
    details = event.get("details") or {}
    owners = details.get("owners")
    if event.get("zone") is not None and owners:
        return sorted({str(o) for o in owners})
    return [NETWORK]


def _title(event: Mapping[str, Any]) -> str:
    kind = event["kind"]
    vessels = event.get("mmsis") or ([event["mmsi"]] if event.get("mmsi") is not None else [])
    who = ", ".join(f"MMSI {m}" for m in vessels[:3]) + (" ..." if len(vessels) > 3 else "")
    what = _TITLES.get(kind, kind.replace("_", " "))
    details = event.get("details") or {}
    if kind in ("zone_entry", "zone_exit"):
        regime = str(details.get("regime", "zone")).replace("_", " ")
        name = str(details.get("zone_name") or event.get("zone"))
        # "entered Philippines territorial sea", not "entered territorial sea Philippines
        # territorial sea": the regime is said once
        what = f"{what} {name}" if regime in name.lower() else f"{what} {regime} {name}"
    return f"{who}: {what}" if who else what[:1].upper() + what[1:]


def alert_messages(event: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The alert messages (subject, payload) of one event version; none for ``info``."""
    severity = severity_of(event)
    if severity == "info":
        return []
    title = _title(event)
    out = []
    for member in _addressees(event):
        payload = {
            "id": f"{event['id']}@{member}",
            "event_id": event["id"],
            "member": member,
            "severity": severity,
            "kind": event["kind"],
            "status": event["status"],
            "title": title,
            "ts": event["ts"],
            "lat": event.get("lat"),
            "lon": event.get("lon"),
            "zone": event.get("zone"),
            "mmsi": event.get("mmsi"),
            "mmsis": list(event.get("mmsis") or []),
            "event": dict(event),
        }
        out.append((subjects.alert(member), payload))
    return out


def event_messages(events: Sequence[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The bus messages of detector events: each event, then its alerts."""
    messages: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        messages.append((subjects.event(event["kind"]), event))
        messages.extend(alert_messages(event))
    return messages
