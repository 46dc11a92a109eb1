"""Cursor-on-Target (CoT) XML for vessel tracks and alerts, as a TAK server takes them.

The event follows the CoT 2.0 event schema (MITRE, ``Event-PUBLIC.xsd``, MITRE case
#11-3895; described in MITRE MTR 09-4937): ``<event version uid type how time start stale>``
with one ``<point lat lon hae ce le>`` and a free ``<detail>``. Times are ISO 8601 UTC
(``2026-05-28T12:00:00.000Z``); ``hae``, ``ce`` and ``le`` are metres, ``9999999.0`` meaning
unknown. TAK's detail conventions (``<contact callsign>``, ``<track course speed>`` with
speed in metres per second, ``<remarks>``, ``<link>``) are those TAK clients read
(github.com/dfpc-coe/node-CoT describes them).

A vessel is an atom at the sea surface, ``a-<affiliation>-S``; :func:`affiliation` maps it for
the receiving member (docs/outputs.md, "Cursor-on-Target"):

====================  =====================================================  ====
affiliation           when                                                   type
====================  =====================================================  ====
friend ``f``          the MMSI is one of the member's assets (``assets``)     a-f-S
hostile ``h``         the MMSI is listed in ``hostile``                       a-h-S
suspect ``s``         an alert the member received names it (``suspect_s``)  a-s-S
neutral ``n``         its flag (MID of the MMSI) is in ``neutral_flags``      a-n-S
unknown ``u``         anything else                                          a-u-S
====================  =====================================================  ====

An alert is a map marker (``b-m-p-s-m``) at the alert's position, linked to the vessel it
names; a retracted alert is sent already stale, which removes it from TAK maps.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ALERT_TYPE",
    "KNOT_M_S",
    "UNKNOWN",
    "affiliation",
    "alert_event",
    "cot_time",
    "track_event",
    "vessel_uid",
]

KNOT_M_S = 1852.0 / 3600.0
"""One knot in metres per second (1 nautical mile = 1,852 m)."""
UNKNOWN = 9999999.0
"""CoT's value for an unknown ``hae``, ``ce`` or ``le``."""
AIS_CE_M = 10.0
"""Circular error of an AIS position, metres: the "high accuracy" bound of ITU-R M.1371-5."""
ALERT_TYPE = "b-m-p-s-m"
ALERT_STALE_S = 3600.0
"""How long an alert marker stays on a TAK map without an update, seconds."""


def cot_time(ts: float) -> str:
    """Epoch seconds as a CoT time: ISO 8601 UTC with milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def vessel_uid(mmsi: int) -> str:
    return f"lookout-vessel-{mmsi}"


def affiliation(
    mmsi: int,
    flag: str | None,
    *,
    assets: Collection[int] = (),
    hostile: Collection[int] = (),
    suspects: Collection[int] = (),
    neutral_flags: Collection[str] = (),
) -> str:
    """The CoT affiliation letter of a vessel for one member (see the module table)."""
    if mmsi in assets:
        return "f"
    if mmsi in hostile:
        return "h"
    if mmsi in suspects:
        return "s"
    if flag and flag.upper() in neutral_flags:
        return "n"
    return "u"


def _event(uid: str, kind: str, now: float, start: float, stale: float) -> ET.Element:
    return ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": kind,
            "how": "m-g",
            "time": cot_time(now),
            "start": cot_time(start),
            "stale": cot_time(stale),
        },
    )


def _point(event: ET.Element, lat: float, lon: float, ce: float) -> None:
    ET.SubElement(
        event,
        "point",
        {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "hae": f"{UNKNOWN:.1f}",
         "ce": f"{ce:.1f}", "le": f"{UNKNOWN:.1f}"},
    )  # fmt: skip


def _xml(event: ET.Element) -> bytes:
    text: bytes = ET.tostring(event, encoding="utf-8", xml_declaration=False)
    return text + b"\n"


def track_event(vessel: Mapping[str, Any], aff: str, now: float, stale_s: float) -> bytes:
    """A vessel update (as the member sees it) as one CoT event.

    ``time`` is when it is sent, ``start`` when the vessel was at the position, ``stale``
    ``stale_s`` after the later of the two. A partial (coarsened) view has an unknown ``ce``.
    """
    mmsi = int(vessel["mmsi"])
    observed = float(vessel["observed_ts"])
    event = _event(vessel_uid(mmsi), f"a-{aff}-S", now, observed, max(observed, now) + stale_s)
    _point(event, vessel["lat"], vessel["lon"], UNKNOWN if vessel.get("partial") else AIS_CE_M)
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": str(vessel.get("name") or f"MMSI {mmsi}")})
    track = {}
    if vessel.get("course_deg") is not None:
        track["course"] = f"{float(vessel['course_deg']):.1f}"
    if vessel.get("speed_kn") is not None:
        track["speed"] = f"{float(vessel['speed_kn']) * KNOT_M_S:.2f}"
    if track:
        ET.SubElement(detail, "track", track)
    remarks = ET.SubElement(detail, "remarks")
    flag = vessel.get("flag") or "unknown flag"
    remarks.text = f"MMSI {mmsi}, {flag}; sources {', '.join(vessel.get('sources') or [])}"
    return _xml(event)


def alert_event(alert: Mapping[str, Any], now: float) -> bytes | None:
    """An alert (as the member sees it) as one CoT marker; ``None`` without a position."""
    if alert.get("lat") is None or alert.get("lon") is None:
        return None
    ts = float(alert["ts"])
    retracted = alert.get("status") == "retracted"
    stale = now if retracted else max(ts, now) + ALERT_STALE_S
    event = _event(f"lookout-alert-{alert['event_id']}", ALERT_TYPE, now, min(ts, stale), stale)
    _point(event, alert["lat"], alert["lon"], AIS_CE_M)
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": str(alert.get("title") or alert["kind"])[:80]})
    remarks = ET.SubElement(detail, "remarks")
    remarks.text = (
        f"{str(alert.get('severity', '')).upper()} {alert['kind']} ({alert.get('status')}): "
        f"{alert.get('title', '')}"
    )
    for mmsi in alert.get("mmsis") or ([alert["mmsi"]] if alert.get("mmsi") else []):
        ET.SubElement(detail, "link", {"uid": vessel_uid(int(mmsi)), "relation": "p-p",
                                       "type": "a-u-S"})  # fmt: skip
    return _xml(event)
