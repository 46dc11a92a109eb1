"""SQL statements and row mapping of :class:`~lookout.storage.sqlite.SqliteStore`.

Column names equal the field names of the value types (``migrations/0001_initial.sql``), so
statements are built from the dataclass fields and a row rebuilds its value positionally.
Tuples of strings (receivers, members, sources) are stored as JSON arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any

from lookout.model import BBox, StaticReport, TrackPoint, VesselState
from lookout.pipeline.ports import IngestCounts

__all__ = [
    "ADD_COUNTS",
    "ADD_EVENT_VESSEL",
    "ADD_REJECTS",
    "INSERT_DETECTION",
    "INSERT_EVENT_VERSION",
    "INSERT_RECEIPT",
    "INSERT_STATIC",
    "INSERT_TRACK",
    "SELECT_COUNTS",
    "SELECT_DETECTIONS",
    "SELECT_EVENT_HISTORY",
    "SELECT_REJECTS",
    "SELECT_STATICS",
    "SELECT_TRACK",
    "SELECT_TRACK_AT",
    "SELECT_VESSEL",
    "UPSERT_EVENT",
    "UPSERT_VESSEL",
    "RowCodec",
    "Rows",
    "count_rows",
    "detection_rows",
    "event_rows",
    "event_writes",
    "events_query",
    "static_from_row",
    "static_rows",
    "vessels_query",
]

Rows = list[tuple[Any, ...]]

_TRACK = tuple(f.name for f in fields(TrackPoint))
_VESSEL = tuple(f.name for f in fields(VesselState))
_STATIC = tuple(f.name for f in fields(StaticReport))
# RowCodec relies on this layout of the tuple-valued fields.
assert _TRACK[-2:] == ("receivers", "received_ts")
assert _VESSEL[-4:] == ("members", "sources", "positions", "simulated")

# Typed Callable[..., T]: mypy cannot count the columns of a row read from the database.
_new_point: Callable[..., TrackPoint] = TrackPoint
_new_vessel: Callable[..., VesselState] = VesselState
static_from_row: Callable[..., StaticReport] = StaticReport
_static_values = attrgetter(*_STATIC)


def _insert(table: str, columns: Sequence[str]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


INSERT_TRACK = _insert("track", _TRACK)
UPSERT_VESSEL = (
    _insert("vessels", _VESSEL)
    + " ON CONFLICT (mmsi) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _VESSEL[1:])
)
INSERT_STATIC = _insert("statics", _STATIC)
ADD_COUNTS = """
INSERT INTO ingest_counts
    (member, source, lines, accepted, observations, duplicates, last_received_ts)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (member, source) DO UPDATE SET
    lines = lines + excluded.lines,
    accepted = accepted + excluded.accepted,
    observations = observations + excluded.observations,
    duplicates = duplicates + excluded.duplicates,
    last_received_ts = coalesce(
        max(last_received_ts, excluded.last_received_ts),
        last_received_ts, excluded.last_received_ts)
"""
ADD_REJECTS = """
INSERT INTO ingest_rejects (member, source, reason, count) VALUES (?, ?, ?, ?)
ON CONFLICT (member, source, reason) DO UPDATE SET count = count + excluded.count
"""
INSERT_RECEIPT = """
INSERT INTO receipts (key, receipt, created_ts) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING
"""
SELECT_TRACK = f"""
SELECT {", ".join(_TRACK)} FROM track
WHERE mmsi = ? AND observed_ts BETWEEN ? AND ? ORDER BY observed_ts, rowid LIMIT ?
"""
# The latest point per (mmsi, member, source) in a time window: SQLite takes the bare
# columns of an aggregate query from the row that holds the MAX.
SELECT_TRACK_AT = f"""
SELECT {", ".join("MAX(observed_ts)" if c == "observed_ts" else c for c in _TRACK)} FROM track
WHERE observed_ts BETWEEN ? AND ? GROUP BY mmsi, member, source
ORDER BY mmsi, member, source LIMIT ?
"""
_SELECT_VESSELS = f"SELECT {', '.join(_VESSEL)} FROM vessels"
SELECT_VESSEL = f"{_SELECT_VESSELS} WHERE mmsi = ?"
_IN_BOX = (
    "SELECT mmsi FROM vessel_position"
    " WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?"
)
SELECT_STATICS = f"""
SELECT {", ".join(_STATIC)} FROM statics WHERE mmsi = ? ORDER BY observed_ts, id
"""
SELECT_COUNTS = """
SELECT member, source, lines, accepted, observations, duplicates, last_received_ts
FROM ingest_counts ORDER BY member, source
"""
SELECT_REJECTS = "SELECT member, source, reason, count FROM ingest_rejects ORDER BY reason"


class RowCodec:
    """Track and vessel rows to and from values. Their tuples of strings become JSON arrays,
    memoised: the same few receiver, member and source lists repeat on every row."""

    __slots__ = ("_decoded", "_encoded")
    _MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._encoded: dict[tuple[str, ...], str] = {}
        self._decoded: dict[str, tuple[str, ...]] = {}

    def encode(self, values: tuple[str, ...] | str) -> str:
        """A tuple of strings as a JSON array (a string is taken as encoded already: journal
        entries of older versions)."""
        if type(values) is str:
            return values
        text = self._encoded.get(values)  # type: ignore[arg-type]
        if text is None:
            if len(self._encoded) >= self._MAX_ENTRIES:
                self._encoded.clear()
            text = self._encoded[values] = json.dumps(values)  # type: ignore[index]
        return text

    def decode(self, text: str) -> tuple[str, ...]:
        values = self._decoded.get(text)
        if values is None:
            if len(self._decoded) >= self._MAX_ENTRIES:
                self._decoded.clear()
            values = self._decoded[text] = tuple(json.loads(text))
        return values

    def encode_track(
        self, chunks: Iterable[tuple[Iterable[tuple[Any, ...]], float | None]]
    ) -> Rows:
        """Track rows (the point fields but ``received_ts``), each chunk with its receive
        time, to table rows (receivers as JSON). A row with a twelfth field carries its own
        receive time."""
        enc = self.encode
        return [
            (*row[:10], enc(row[10]), row[11] if len(row) > 11 else received)
            for rows, received in chunks
            for row in rows
        ]

    def encode_vessels(self, rows: Iterable[tuple[Any, ...]]) -> Rows:
        """Vessel state field tuples to table rows (members and sources as JSON)."""
        enc = self.encode
        return [(*v[:-4], enc(v[-4]), enc(v[-3]), v[-2], v[-1]) for v in rows]

    def points(self, rows: Iterable[tuple[Any, ...]]) -> list[TrackPoint]:
        dec = self.decode
        return [_new_point(*row[:-2], dec(row[-2]), row[-1]) for row in rows]

    def vessel(self, row: tuple[Any, ...]) -> VesselState:
        *head, members, sources, positions, simulated = row
        dec = self.decode
        return _new_vessel(*head, dec(members), dec(sources), positions, bool(simulated))


def static_rows(reports: Iterable[StaticReport]) -> Rows:
    return [_static_values(s) for s in reports]


def count_rows(counts: Sequence[IngestCounts]) -> tuple[Rows, Rows]:
    """Rows for ``ADD_COUNTS`` and ``ADD_REJECTS``."""
    totals = [
        (c.member, c.source, c.lines, c.accepted, c.observations, c.duplicates,
         c.last_received_ts)
        for c in counts
    ]  # fmt: skip
    rejects = [(c.member, c.source, r, n) for c in counts for r, n in c.rejected.items()]
    return totals, rejects


def vessels_query(bbox: BBox | None, limit: int) -> tuple[str, tuple[float | int, ...]]:
    """Vessels by MMSI, all or those in ``bbox``: R*Tree candidates, then the exact test on
    lat/lon; a box crossing the antimeridian is searched as two."""
    if bbox is None:
        return f"{_SELECT_VESSELS} ORDER BY mmsi LIMIT ?", (limit,)
    if bbox.west <= bbox.east:
        spans = [(bbox.west, bbox.east)]
    else:
        spans = [(bbox.west, 180.0), (-180.0, bbox.east)]
    candidates = " UNION ALL ".join(_IN_BOX for _ in spans)
    exact = " OR ".join("lon BETWEEN ? AND ?" for _ in spans)
    sql = (
        f"{_SELECT_VESSELS} WHERE mmsi IN ({candidates})"
        f" AND lat BETWEEN ? AND ? AND ({exact}) ORDER BY mmsi LIMIT ?"
    )
    params: list[float | int] = []
    for west, east in spans:
        params += [west, east, bbox.south, bbox.north]
    params += [bbox.south, bbox.north]
    for west, east in spans:
        params += [west, east]
    params.append(limit)
    return sql, tuple(params)


# -- events ------------------------------------------------------------------------------------

INSERT_EVENT_VERSION = (
    "INSERT INTO event_versions (id, kind, status, ts, payload) VALUES (?, ?, ?, ?, ?)"
)
UPSERT_EVENT = """
INSERT INTO events
    (id, kind, status, ts, mmsi, start_ts, end_ts, lat, lon, zone, versions, payload)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, status = excluded.status, ts = excluded.ts, mmsi = excluded.mmsi,
    start_ts = excluded.start_ts, end_ts = excluded.end_ts, lat = excluded.lat,
    lon = excluded.lon, zone = excluded.zone, versions = versions + 1,
    payload = excluded.payload
"""
ADD_EVENT_VESSEL = "INSERT OR IGNORE INTO event_vessels (mmsi, id) VALUES (?, ?)"
SELECT_EVENT_HISTORY = "SELECT payload FROM event_versions WHERE id = ? ORDER BY seq"

EventRow = tuple[Any, ...]
"""An event version as the journal keeps it: (id, kind, status, ts, mmsi, start_ts, end_ts,
lat, lon, zone, mmsis, payload JSON)."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def event_rows(events: Iterable[Any]) -> Rows:
    """Journal rows of event versions (see :data:`EventRow`)."""
    rows: Rows = []
    for e in events:
        mmsi = e.get("mmsi")
        mmsis = [int(m) for m in e.get("mmsis") or ([] if mmsi is None else [mmsi])]
        rows.append(
            (
                str(e["id"]), str(e["kind"]), str(e["status"]), float(e["ts"]),
                None if mmsi is None else int(mmsi), _number(e.get("start_ts")),
                _number(e.get("end_ts")), _number(e.get("lat")), _number(e.get("lon")),
                e.get("zone"), mmsis, json.dumps(e),
            )
        )  # fmt: skip
    return rows


def event_writes(rows: Sequence[EventRow]) -> tuple[Rows, Rows, Rows]:
    """Parameters of :data:`INSERT_EVENT_VERSION`, :data:`UPSERT_EVENT` and
    :data:`ADD_EVENT_VESSEL` for journal rows, in publication order."""
    versions = [(r[0], r[1], r[2], r[3], r[11]) for r in rows]
    latest = [(*r[:10], r[11]) for r in rows]
    vessels = [(m, r[0]) for r in rows for m in r[10]]
    return versions, latest, vessels


def events_query(query: Any) -> tuple[str, list[Any]]:
    """SQL and parameters listing the latest versions an ``EventQuery`` selects."""
    where, params = [], []
    for column, value in (("kind", query.kind), ("status", query.status), ("zone", query.zone)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.mmsi is not None:
        where.append("id IN (SELECT id FROM event_vessels WHERE mmsi = ?)")
        params.append(query.mmsi)
    if query.since_ts is not None:
        where.append("ts >= ?")
        params.append(query.since_ts)
    if query.until_ts is not None:
        where.append("ts <= ?")
        params.append(query.until_ts)
    box = query.bbox
    if box is not None:
        where.append("lat BETWEEN ? AND ?")
        params += [box.south, box.north]
        if box.west <= box.east:
            where.append("lon BETWEEN ? AND ?")
            params += [box.west, box.east]
        else:  # across the antimeridian
            where.append("(lon >= ? OR lon <= ?)")
            params += [box.west, box.east]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    params.append(max(query.limit, 0))
    return f"SELECT payload, versions FROM events {clause} ORDER BY ts DESC, id LIMIT ?", params


# -- detections --------------------------------------------------------------------------------

INSERT_DETECTION = (
    "INSERT OR IGNORE INTO detections (member, id, ts, lat, lon, source, feed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
SELECT_DETECTIONS = """
SELECT id, ts, lat, lon, source, member, feed FROM detections
WHERE ts >= ? AND ts <= ? ORDER BY ts DESC, member, id LIMIT ?
"""


def detection_rows(detections: Iterable[Any]) -> Rows:
    """Journal rows of detections: (member, id, ts, lat, lon, source, feed)."""
    return [
        (d.member, d.id, float(d.ts), float(d.lat), float(d.lon), d.source, d.feed)
        for d in detections
    ]
