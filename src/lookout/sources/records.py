"""CSV rows and JSON objects to ``ReportRecord``s: column names, units, sentinels, times.

One alias table serves every layout: a column (or JSON key) is recognised by its normalised
name (lower case, ``#`` and spaces removed: ``"# Timestamp"`` -> ``timestamp``, ``"Ship type"``
-> ``ship_type``). Layouts differ only in how their times are written:

- ``marinecadastre`` (NOAA/BOEM, ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,...``; older files
  lower case with ``rot,status,voyageid``): ISO 8601 times, numeric status and ship type.
- ``dma`` (Danish Maritime Authority, ``# Timestamp,Type of mobile,MMSI,...``): times
  ``dd/mm/yyyy HH:MM:SS`` UTC, status and ship type as text, ``Unknown``/``Undefined`` for
  missing values.
- ``generic``: any CSV with an MMSI (or ``ssvid``), a time and lat/lon columns, ISO 8601 or epoch
  seconds (e.g. Global Fishing Watch exports).

Sentinels become ``None`` (ITU-R M.1371): heading 511 (and anything >= 360), course >= 360,
speed >= 102.3 kn, latitude beyond +-90 (91 = not available), longitude beyond +-180 (181),
status 15 (not defined), IMO 0, length 0. A row that cannot be read (MMSI or time missing or not
a number, a field that should be a number and is not, a ragged row) raises :class:`BadRecord`,
which the file reader turns into a counted ``Rejection``.

``msg_type`` tells what kind of station reported: 1 for class A, 18 class B, 4 base station,
21 aid to navigation, 9 SAR aircraft (MarineCadastre ``TransceiverClass``, DMA ``Type of
mobile``), 0 when the file does not say.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lookout.model import Frame, ReportRecord

__all__ = [
    "BadRecord",
    "CsvLayout",
    "detect_layout",
    "parse_time",
    "record_from_json",
]

ALIASES: dict[str, tuple[str, ...]] = {
    "mmsi": ("mmsi", "ssvid", "userid"),
    "time": (
        "basedatetime",
        "timestamp",
        "timestamp_utc",
        "observed_at",
        "time",
        "ts",
        "datetime",
        "received_at",
    ),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "speed_kn": ("sog", "speed", "speed_kn"),
    "course_deg": ("cog", "course", "course_deg"),
    "heading_deg": ("heading", "true_heading", "heading_deg"),
    "status": ("status", "navigational_status", "nav_status"),
    "name": ("vesselname", "vessel_name", "name", "shipname", "ship_name"),
    "callsign": ("callsign", "call_sign"),
    "imo": ("imo",),
    "ship_type": ("vesseltype", "vessel_type", "ship_type", "shiptype"),
    "length_m": ("length", "length_m"),
    "destination": ("destination",),
    "receiver": ("receiver", "station"),
    "msg_type": ("transceiverclass", "transceiver_class", "type_of_mobile"),
}
"""Field -> accepted column / key names, normalised (see ``normalise``)."""

_NAME_TO_FIELD = {alias: fld for fld, names in ALIASES.items() for alias in names}

MISSING = frozenset(
    {"", "unknown", "undefined", "unknown value", "n/a", "na", "nan", "null", "none"}
)
"""Text that means "no value" (compared lower-cased)."""

STATUS_TEXT: dict[str, int] = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted manoeuverability": 3,
    "restricted maneuverability": 3,
    "restricted manoeuvrability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use": 13,
    "ais-sart is active": 14,
    "ais-sart (active)": 14,
}
"""Navigational status as written in DMA files (and some MarineCadastre years) -> ITU code."""

SHIP_TYPE_TEXT: dict[str, int] = {
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}
"""DMA ship type text -> the ITU ship type code of that category (first digit, x0)."""

STATION_TEXT: dict[str, int] = {
    "a": 1,
    "class a": 1,
    "b": 18,
    "class b": 18,
    "base station": 4,
    "aton": 21,
    "sar airborne": 9,
}
"""Transceiver class / type of mobile -> a representative AIS message type."""


class BadRecord(ValueError):
    """A row or object that cannot be read as a report; the message says why."""


def normalise(name: str) -> str:
    """``"# Timestamp"`` -> ``timestamp``, ``"Ship type"`` -> ``ship_type``."""
    return "_".join(name.replace("#", " ").strip().lower().split())


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in MISSING else text


def _number(value: object, fld: str) -> float | None:
    if isinstance(value, bool):
        raise BadRecord(f"{fld}: not a number: {value!r}")
    if isinstance(value, int | float):
        # NaN (JSON exports of pandas frames, e.g. Global Fishing Watch's) means "no value",
        # as the text "nan" does
        return None if value != value else float(value)
    text = _text(value)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise BadRecord(f"{fld}: not a number: {text!r}") from None


def _int(value: object, fld: str) -> int | None:
    number = _number(value, fld)
    if number is None:
        return None
    if number != number or number in (float("inf"), float("-inf")) or number % 1:
        raise BadRecord(f"{fld}: not an integer: {value!r}")
    return int(number)


def _coded(value: object, table: Mapping[str, int], fld: str) -> int | None:
    """An integer code given as a number or as text from ``table``.

    Text the table does not know (``Reserved``, ``Spare 1``) is a category with no usable
    code: ``None``.
    """
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return table.get(text.lower())
    if number % 1 or not 0 <= number < 1000:
        raise BadRecord(f"{fld}: not a code: {text!r}")
    return int(number)


def parse_time(value: object, *, day_first: bool = False) -> float:
    """Epoch seconds UTC from ISO 8601 (naive = UTC), epoch seconds, or ``dd/mm/yyyy HH:MM:SS``.

    Epoch values above 1e11 are taken as milliseconds.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        ts = float(value)
        if not math.isfinite(ts):
            raise BadRecord(f"time: not a time: {value!r}")
        return ts / 1000.0 if ts > 1e11 else ts
    text = _text(value)
    if text is None:
        raise BadRecord("time: missing")
    try:
        return parse_time(float(text))
    except ValueError:
        pass
    if day_first and len(text) >= 10 and text[2] == "/" and text[5] == "/":
        text = f"{text[6:10]}-{text[3:5]}-{text[0:2]}{text[10:]}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"time: not ISO 8601 or epoch seconds: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _position(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if lat is not None and not -90.0 <= lat <= 90.0:
        lat = None
    if lon is not None and not -180.0 <= lon <= 180.0:
        lon = None
    return lat, lon


def _motion(
    speed: float | None, course: float | None, heading: int | None
) -> tuple[float | None, float | None, int | None]:
    if speed is not None and not 0.0 <= speed < 102.3:
        speed = None
    if course is not None and not 0.0 <= course < 360.0:
        course = None
    if heading is not None and not 0 <= heading < 360:
        heading = None
    return speed, course, heading


def _imo(value: object) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if text[:3].upper() == "IMO":
        text = text[3:].strip()
    imo = _int(text, "imo")
    return imo or None


def _name(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = text.rstrip("@ ").strip()
    return text or None


def build_record(
    values: Mapping[str, object], *, member: str, source: str, day_first: bool = False
) -> ReportRecord:
    """A ``ReportRecord`` from field -> raw value (see ``ALIASES`` for the field names)."""
    mmsi = _int(values.get("mmsi"), "mmsi")
    if mmsi is None or not 0 < mmsi <= 999_999_999:
        raise BadRecord(f"mmsi: missing or out of range: {values.get('mmsi')!r}")
    lat, lon = _position(_number(values.get("lat"), "lat"), _number(values.get("lon"), "lon"))
    speed, course, heading = _motion(
        _number(values.get("speed_kn"), "speed_kn"),
        _number(values.get("course_deg"), "course_deg"),
        _int(values.get("heading_deg"), "heading_deg"),
    )
    status = _coded(values.get("status"), STATUS_TEXT, "status")
    station = _coded(values.get("msg_type"), STATION_TEXT, "msg_type")
    length = _int(values.get("length_m"), "length_m")
    return ReportRecord(
        mmsi=mmsi,
        observed_ts=parse_time(values.get("time"), day_first=day_first),
        lat=lat,
        lon=lon,
        member=member,
        source=source,
        receiver=_text(values.get("receiver")),
        speed_kn=speed,
        course_deg=course,
        heading_deg=heading,
        status=None if status is None or not 0 <= status < 15 else status,
        name=_name(values.get("name")),
        callsign=_name(values.get("callsign")),
        imo=_imo(values.get("imo")),
        ship_type=_coded(values.get("ship_type"), SHIP_TYPE_TEXT, "ship_type") or None,
        length_m=length or None,
        destination=_name(values.get("destination")),
        msg_type=station or 0,
    )


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """A recognised CSV header: its layout name and which column holds which field."""

    name: str
    columns: tuple[tuple[str, int], ...]
    width: int

    @property
    def day_first(self) -> bool:
        return self.name == "dma"

    def reader(self, *, member: str, source: str) -> Callable[[Sequence[str]], ReportRecord]:
        """A function turning one CSV row of this layout into a ``ReportRecord``."""
        columns, width, day_first = self.columns, self.width, self.day_first

        def read(row: Sequence[str]) -> ReportRecord:
            if len(row) != width:
                raise BadRecord(f"expected {width} columns, got {len(row)}")
            values = {fld: row[i] for fld, i in columns}
            return build_record(values, member=member, source=source, day_first=day_first)

        return read


def detect_layout(header: Sequence[str]) -> CsvLayout | None:
    """The layout of a CSV file from its header row, or ``None`` if it is not a report CSV."""
    names = [normalise(h) for h in header]
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        fld = _NAME_TO_FIELD.get(name)
        if fld is not None and fld not in columns:
            columns[fld] = i
    if not {"mmsi", "time", "lat", "lon"} <= columns.keys():
        return None
    if "type_of_mobile" in names:
        layout = "dma"
    elif "basedatetime" in names:
        layout = "marinecadastre"
    else:
        layout = "generic"
    return CsvLayout(layout, tuple(columns.items()), len(header))


def record_from_json(obj: Any, *, member: str, source: str) -> Frame | ReportRecord:
    """One JSON-lines object: ``{"nmea": ...}`` -> ``Frame``, a report object -> ``ReportRecord``.

    A frame object may carry ``received_at`` (ISO 8601 or epoch seconds) and ``receiver``.
    """
    if not isinstance(obj, dict):
        raise BadRecord(f"expected a JSON object, got {type(obj).__name__}")
    if "nmea" in obj:
        line = obj["nmea"]
        if not isinstance(line, str):
            raise BadRecord("nmea: not a string")
        received = obj.get("received_at")
        return Frame(
            line=line,
            member=member,
            source=source,
            received_ts=None if received is None else parse_time(received),
            receiver=_text(obj.get("receiver")),
        )
    values: dict[str, object] = {}
    for key, value in obj.items():
        fld = _NAME_TO_FIELD.get(normalise(str(key)))
        if fld is not None and fld not in values:
            values[fld] = value
    return build_record(values, member=member, source=source)
