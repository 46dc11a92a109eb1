"""SQL, row mapping and migrations of :class:`~lookout.storage.postgis.PostgisStore`.

The tables and columns are those of the SQLite store (``migrations_pg/0001_initial.sql``):
column names equal the field names of the value types, tuples of strings are ``text[]``, and
each position has a ``geography(Point, 4326)`` column generated from ``lat``/``lon``.
Statements use psycopg's ``%s`` placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from importlib import resources
from typing import Any

import psycopg

from lookout.model import BBox, StaticReport, TrackPoint, VesselState
from lookout.storage.migrations import (
    Migration,
    MigrationError,
    SchemaVersionError,
    load_migrations,
)
from lookout.storage.sqlite_sql import Rows

__all__ = [
    "ADD_COUNTS",
    "ADD_EVENT_VESSEL",
    "ADD_REJECTS",
    "CLAIM_RECEIPTS",
    "COPY_STATICS",
    "COPY_TRACK",
    "COPY_VESSELS",
    "CREATE_VESSELS_IN",
    "INSERT_DETECTION",
    "INSERT_EVENT_VERSION",
    "INSERT_RECEIPT",
    "MIGRATION_LOCK",
    "SELECT_COUNTS",
    "SELECT_DETECTIONS",
    "SELECT_EVENT_HISTORY",
    "SELECT_REJECTS",
    "SELECT_STATICS",
    "SELECT_TRACK",
    "SELECT_TRACK_AT",
    "SELECT_VESSEL",
    "SELECT_VESSELS_OF",
    "STATIC_TYPES",
    "TRACK_TYPES",
    "UPSERT_EVENT",
    "UPSERT_VESSELS",
    "VESSEL_TYPES",
    "events_query",
    "migrate",
    "pg_migrations",
    "point_from_row",
    "schema_version",
    "track_rows",
    "vessel_from_row",
    "vessel_rows",
    "vessels_query",
]

# Typed Callable[..., T]: mypy cannot count the columns of a row read from the database.
_new_point: Callable[..., TrackPoint] = TrackPoint
_new_vessel: Callable[..., VesselState] = VesselState
_TRACK = tuple(f.name for f in fields(TrackPoint))
_VESSEL = tuple(f.name for f in fields(VesselState))
_STATIC = tuple(f.name for f in fields(StaticReport))

# The binary COPY formats of the track and statics columns, in field order.
TRACK_TYPES = (
    "int8", "int8", "float8", "float8", "float8", "float8", "float8", "int4", "text", "text",
    "text[]", "float8",
)  # fmt: skip
STATIC_TYPES = (
    "int8", "int4", "float8", "text", "text", "text", "text", "int8", "int4", "int4", "int4",
    "int4", "int4", "text", "float8",
)  # fmt: skip
assert len(TRACK_TYPES) == len(_TRACK) and len(STATIC_TYPES) == len(_STATIC)

COPY_TRACK = f"COPY track ({', '.join(_TRACK)}) FROM STDIN (FORMAT BINARY)"
COPY_STATICS = f"COPY statics ({', '.join(_STATIC)}) FROM STDIN (FORMAT BINARY)"
VESSEL_TYPES = (
    "int8", "int8", "float8", "float8", "float8", "float8", "float8", "int4", "int4", "text",
    "text", "text", "int8", "int4", "text", "int4", "text[]", "text[]", "int8", "bool",
)  # fmt: skip
assert len(VESSEL_TYPES) == len(_VESSEL)
# Vessel states are COPied into a temporary table (one per connection, emptied at each
# commit), then upserted from it in one statement: ~1,000 upserts per batch cost ~40 ms as
# pipelined statements.
CREATE_VESSELS_IN = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS vessels_in (
    {", ".join(f"{c} {t}" for c, t in zip(_VESSEL, VESSEL_TYPES, strict=True))}
) ON COMMIT DELETE ROWS
"""
COPY_VESSELS = f"COPY vessels_in ({', '.join(_VESSEL)}) FROM STDIN (FORMAT BINARY)"
UPSERT_VESSELS = (
    f"INSERT INTO vessels ({', '.join(_VESSEL)}) SELECT {', '.join(_VESSEL)} FROM vessels_in"
    " ON CONFLICT (mmsi) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _VESSEL[1:])
)
ADD_COUNTS = """
INSERT INTO ingest_counts AS c
    (member, source, lines, accepted, observations, duplicates, last_received_ts)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (member, source) DO UPDATE SET
    lines = c.lines + excluded.lines,
    accepted = c.accepted + excluded.accepted,
    observations = c.observations + excluded.observations,
    duplicates = c.duplicates + excluded.duplicates,
    last_received_ts = greatest(c.last_received_ts, excluded.last_received_ts)
"""
ADD_REJECTS = """
INSERT INTO ingest_rejects AS r (member, source, reason, count) VALUES (%s, %s, %s, %s)
ON CONFLICT (member, source, reason) DO UPDATE SET count = r.count + excluded.count
"""
INSERT_RECEIPT = """
INSERT INTO receipts (key, receipt, created_ts) VALUES (%s, %s, %s) ON CONFLICT (key) DO NOTHING
"""
CLAIM_RECEIPTS = """
INSERT INTO receipts (key, receipt, created_ts)
SELECT key, receipt, %s FROM unnest(%s::text[], %s::text[]) AS r (key, receipt)
ON CONFLICT (key) DO NOTHING RETURNING key
"""
SELECT_TRACK = f"""
SELECT {", ".join(_TRACK)} FROM track
WHERE mmsi = %s AND observed_ts BETWEEN %s AND %s ORDER BY observed_ts, id LIMIT %s
"""
SELECT_TRACK_AT = f"""
SELECT DISTINCT ON (mmsi, member, source) {", ".join(_TRACK)} FROM track
WHERE observed_ts BETWEEN %s AND %s
ORDER BY mmsi, member, source, observed_ts DESC, id DESC LIMIT %s
"""
_SELECT_VESSELS = f"SELECT {', '.join(_VESSEL)} FROM vessels"
SELECT_VESSEL = f"{_SELECT_VESSELS} WHERE mmsi = %s"
SELECT_VESSELS_OF = f"{_SELECT_VESSELS} WHERE mmsi = ANY(%s)"
SELECT_STATICS = (
    f"SELECT {', '.join(_STATIC)} FROM statics WHERE mmsi = %s ORDER BY observed_ts, id"
)
SELECT_COUNTS = """
SELECT member, source, lines, accepted, observations, duplicates, last_received_ts
FROM ingest_counts ORDER BY member, source
"""
SELECT_REJECTS = "SELECT member, source, reason, count FROM ingest_rejects ORDER BY reason"

INSERT_EVENT_VERSION = (
    "INSERT INTO event_versions (id, kind, status, ts, payload) VALUES (%s, %s, %s, %s, %s)"
)
UPSERT_EVENT = """
INSERT INTO events AS e
    (id, kind, status, ts, mmsi, start_ts, end_ts, lat, lon, zone, versions, payload)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, status = excluded.status, ts = excluded.ts, mmsi = excluded.mmsi,
    start_ts = excluded.start_ts, end_ts = excluded.end_ts, lat = excluded.lat,
    lon = excluded.lon, zone = excluded.zone, versions = e.versions + 1,
    payload = excluded.payload
"""
ADD_EVENT_VESSEL = "INSERT INTO event_vessels (mmsi, id) VALUES (%s, %s) ON CONFLICT DO NOTHING"
SELECT_EVENT_HISTORY = "SELECT payload FROM event_versions WHERE id = %s ORDER BY seq"
INSERT_DETECTION = """
INSERT INTO detections (member, id, ts, lat, lon, source, feed)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (member, id) DO NOTHING
"""
SELECT_DETECTIONS = """
SELECT id, ts, lat, lon, source, member, feed FROM detections
WHERE ts >= %s AND ts <= %s ORDER BY ts DESC, member, id LIMIT %s
"""


def track_rows(chunk: Iterable[tuple[Any, ...]], received_ts: float | None) -> Rows:
    """COPY rows of journal-style track rows (see :func:`lookout.storage.sqlite.batch_entry`):
    receivers as a list, the point's own receive time or else the batch's."""
    return [(*row[:10], list(row[10]), row[11] if len(row) > 11 else received_ts) for row in chunk]


def vessel_rows(rows: Iterable[tuple[Any, ...]]) -> Rows:
    """COPY rows of vessel state field tuples (members and sources as lists), the last state
    of each MMSI only: an upsert may change a row once per statement."""
    latest = {v[0]: v for v in rows}
    return [(*v[:-4], list(v[-4]), list(v[-3]), v[-2], bool(v[-1])) for v in latest.values()]


def point_from_row(row: Sequence[Any]) -> TrackPoint:
    return _new_point(*row[:10], tuple(row[10]), row[11])


def vessel_from_row(row: Sequence[Any]) -> VesselState:
    *head, members, sources, positions, simulated = row
    return _new_vessel(*head, tuple(members), tuple(sources), positions, simulated)


def _box_test(bbox: BBox, column: str) -> tuple[str, list[float]]:
    """Candidates from the GiST index (``&&`` on the planar position, one envelope per side
    of the antimeridian), then the exact test on lat/lon: the index rounds its boxes outward."""
    if bbox.west <= bbox.east:
        spans = [(bbox.west, bbox.east)]
    else:
        spans = [(bbox.west, 180.0), (-180.0, bbox.east)]
    index = " OR ".join(
        f"{column}::geometry && ST_MakeEnvelope(%s, %s, %s, %s, 4326)" for _ in spans
    )
    exact = " OR ".join("lon BETWEEN %s AND %s" for _ in spans)
    params: list[float] = []
    for west, east in spans:
        params += [west, bbox.south, east, bbox.north]
    params += [bbox.south, bbox.north]
    for west, east in spans:
        params += [west, east]
    return f"({index}) AND lat BETWEEN %s AND %s AND ({exact})", params


def vessels_query(bbox: BBox | None, limit: int) -> tuple[str, list[Any]]:
    """Vessels by MMSI, all or those whose latest position is in ``bbox``."""
    if bbox is None:
        return f"{_SELECT_VESSELS} ORDER BY mmsi LIMIT %s", [limit]
    test, params = _box_test(bbox, "position")
    return f"{_SELECT_VESSELS} WHERE {test} ORDER BY mmsi LIMIT %s", [*params, limit]


def events_query(query: Any) -> tuple[str, list[Any]]:
    """SQL and parameters listing the latest versions an ``EventQuery`` selects."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("kind", query.kind), ("status", query.status), ("zone", query.zone)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if query.mmsi is not None:
        where.append("id IN (SELECT id FROM event_vessels WHERE mmsi = %s)")
        params.append(query.mmsi)
    if query.since_ts is not None:
        where.append("ts >= %s")
        params.append(query.since_ts)
    if query.until_ts is not None:
        where.append("ts <= %s")
        params.append(query.until_ts)
    if query.bbox is not None:
        test, box_params = _box_test(query.bbox, "position")
        where.append(test)
        params += box_params
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    params.append(max(query.limit, 0))
    return f"SELECT payload, versions FROM events {clause} ORDER BY ts DESC, id LIMIT %s", params


# -- migrations --------------------------------------------------------------------------------

MIGRATION_LOCK = 0x100C_0017
"""The advisory lock key held while migrations are read and applied: two processes opening
one new database at once apply them once."""

_POSTGIS_HINT = (
    " (PostGIS must be installed on the database server, e.g. apt-get install"
    " postgresql-15-postgis-3, and CREATE EXTENSION postgis run once by a superuser"
    " if Lookout's role may not create it)"
)
_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_ts double precision NOT NULL
)
"""


def pg_migrations() -> list[Migration]:
    """The PostGIS store's migrations (``lookout/storage/migrations_pg``), by version."""
    return load_migrations(resources.files("lookout.storage.migrations_pg"))


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The newest migration applied (0 for a database Lookout never opened)."""
    found = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not found or not found[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(
    conn: psycopg.Connection[Any], migrations: Sequence[Migration], *, now_ts: float
) -> list[int]:
    """Apply the pending ``migrations`` in one transaction (PostgreSQL DDL is transactional)
    under :data:`MIGRATION_LOCK`; returns the versions applied. Raises
    :class:`~lookout.storage.migrations.SchemaVersionError` for a database of a newer Lookout.
    """
    newest = migrations[-1].version if migrations else 0
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(_CREATE_VERSION_TABLE)
        version = schema_version(conn)
        if version > newest:
            raise SchemaVersionError(
                f"the database has schema version {version} but this Lookout knows versions "
                f"up to {newest}: it was written by a newer Lookout; upgrade Lookout to open it"
            )
        applied = [m for m in migrations if m.version > version]
        for migration in applied:
            try:
                conn.execute(migration.sql.encode())
            except psycopg.Error as exc:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed: {exc}"
                    + (_POSTGIS_HINT if "postgis" in str(exc).lower() else "")
                ) from exc
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_ts) VALUES (%s, %s, %s)",
                (migration.version, migration.name, now_ts),
            )
    return [m.version for m in applied]
