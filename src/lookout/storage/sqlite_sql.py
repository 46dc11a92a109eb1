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
    "ADD_REJECTS",
    "INSERT_RECEIPT",
    "INSERT_STATIC",
    "INSERT_TRACK",
    "SELECT_COUNTS",
    "SELECT_REJECTS",
    "SELECT_STATICS",
    "SELECT_TRACK",
    "SELECT_VESSEL",
    "UPSERT_VESSEL",
    "RowCodec",
    "Rows",
    "count_rows",
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
