"""Identity and voyage data of a vessel, merged from static reports.

AIS spreads identity over several messages: type 5 (class A: name, callsign, IMO, ship type,
dimensions, destination, draught), type 24 part A (class B: name) and part B (callsign, ship
type, dimensions), type 19 (class B extended), type 21 (aid to navigation: name, dimensions).
Decoded CSV/JSON records carry some of the same fields.

Cleaning, applied to every source alike:

- text (name, callsign, destination) is cut at the first ``@`` (AIS padding) and stripped; an
  empty result is "not available";
- an IMO number is kept only when it has seven digits (1000000..9999999): the AIS field often
  carries 0 or junk;
- ship type 0 ("not available") and the reserved codes 100..255 are dropped;
- ``length_m = to_bow_m + to_stern_m`` when positive (the standard allows A = 0 with B = the
  full length when the reference point is unknown).

Merging: a report at least as new as the newest merged so far overwrites the fields it carries;
an older one (late data) only fills fields still unknown. :func:`merge` says whether anything
changed, so the pipeline keeps a static report as history only when it taught us something.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lookout.model import ReportRecord, StaticReport

__all__ = [
    "IDENTITY_FIELDS",
    "Identity",
    "clean_text",
    "length_of",
    "merge",
    "static_from_fields",
    "static_from_record",
]

IDENTITY_FIELDS = ("name", "callsign", "imo", "ship_type", "destination", "length_m")
"""The identity fields a :class:`~lookout.model.VesselState` carries, in this order."""


@dataclass(slots=True)
class Identity:
    """What is known of one vessel's identity (mutable, owned by the vessel tracker)."""

    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    destination: str | None = None
    length_m: int | None = None
    updated_ts: float | None = None
    """Observed time of the newest report merged."""
    version: int = 0
    """Incremented by every merge that changes a field."""


def clean_text(value: object) -> str | None:
    """AIS six-bit text without its ``@`` padding and blanks; ``None`` when nothing is left."""
    if not isinstance(value, str):
        return None
    cut = value.find("@")
    text = (value if cut < 0 else value[:cut]).strip()
    return text or None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _imo(value: object) -> int | None:
    imo = _int_or_none(value)
    return imo if imo is not None and 1_000_000 <= imo <= 9_999_999 else None


def _ship_type(value: object) -> int | None:
    code = _int_or_none(value)
    return code if code is not None and 1 <= code <= 99 else None


def _dimension(value: object) -> int | None:
    size = _int_or_none(value)
    return size if size is not None and size > 0 else None


def length_of(to_bow_m: int | None, to_stern_m: int | None) -> int | None:
    """Overall length from the reference-point distances, or ``None`` when unknown."""
    total = (to_bow_m or 0) + (to_stern_m or 0)
    return total if total > 0 else None


def static_from_fields(
    fields: Mapping[str, Any], *, observed_ts: float, member: str, source: str
) -> StaticReport:
    """A :class:`StaticReport` from a decoded message (pyais field names), cleaned."""
    msg_type = int(fields.get("msg_type") or 0)
    # Type 21 (aid to navigation) calls it ``name`` (the decoder joins the name extension).
    name = clean_text(fields.get("name" if msg_type == 21 else "shipname"))
    draught = fields.get("draught")
    return StaticReport(
        mmsi=int(fields["mmsi"]),
        msg_type=msg_type,
        observed_ts=observed_ts,
        member=member,
        source=source,
        name=name,
        callsign=clean_text(fields.get("callsign")),
        imo=_imo(fields.get("imo")),
        ship_type=None if msg_type == 21 else _ship_type(fields.get("ship_type")),
        to_bow_m=_dimension(fields.get("to_bow")),
        to_stern_m=_dimension(fields.get("to_stern")),
        to_port_m=_dimension(fields.get("to_port")),
        to_starboard_m=_dimension(fields.get("to_starboard")),
        destination=clean_text(fields.get("destination")),
        draught_m=float(draught) if isinstance(draught, int | float) and draught > 0 else None,
    )


def static_from_record(record: ReportRecord) -> StaticReport | None:
    """The identity part of a decoded record, or ``None`` when it carries none.

    A record gives the overall length only; it is kept as ``to_stern_m`` with ``to_bow_m = 0``
    (the standard's encoding for "reference point unknown"), so ``length_of`` gives it back.
    """
    length = _dimension(record.length_m)
    report = StaticReport(
        mmsi=record.mmsi,
        msg_type=record.msg_type,
        observed_ts=record.observed_ts,
        member=record.member,
        source=record.source,
        name=clean_text(record.name),
        callsign=clean_text(record.callsign),
        imo=_imo(record.imo),
        ship_type=_ship_type(record.ship_type),
        to_bow_m=0 if length is not None else None,
        to_stern_m=length,
        destination=clean_text(record.destination),
    )
    if (
        report.name is None
        and report.callsign is None
        and report.imo is None
        and report.ship_type is None
        and report.destination is None
        and length is None
    ):
        return None
    return report


def merge(identity: Identity, report: StaticReport) -> bool:
    """Merge ``report`` into ``identity``; ``True`` when a field changed."""
    incoming = (
        report.name,
        report.callsign,
        report.imo,
        report.ship_type,
        report.destination,
        length_of(report.to_bow_m, report.to_stern_m),
    )
    newer = identity.updated_ts is None or report.observed_ts >= identity.updated_ts
    changed = False
    for name, value in zip(IDENTITY_FIELDS, incoming, strict=True):
        if value is None:
            continue
        current = getattr(identity, name)
        if current == value or (current is not None and not newer):
            continue
        setattr(identity, name, value)
        changed = True
    if newer:
        identity.updated_ts = report.observed_ts
    if changed:
        identity.version += 1
    return changed
