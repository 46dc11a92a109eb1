"""Incidents, their timelines, attachments and the members' assets, in
``<data_dir>/incidents.db`` with attachment bytes under ``<data_dir>/attachments/<sha256>``;
or, with the PostGIS store, in tables of its database with the bytes in ``attachment_blobs``
(``bytea``), shared by every API node (:mod:`lookout.storage.small_db`).

Each change is its own write transaction, so the CLI (``lookout assets``, ``lookout
evidence``) works beside running servers. The SQLite file (WAL, ``synchronous = FULL``) is
versioned by ``PRAGMA user_version``: :data:`MIGRATIONS` are applied in order on open, each in
one transaction; the PostgreSQL tables come from ``migrations_pg``. Attachments are
content-addressed: the same file attached twice is stored once (a file written to a temporary
name, synced and renamed; or one row, in the transaction that records the attachment).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lookout.model.incidents import (
    ENTRY_KINDS,
    Asset,
    Attachment,
    Entry,
    Incident,
    IncidentError,
    check_incident,
)
from lookout.storage.small_db import SmallDb, Tx
from lookout.storage.sqlite_file import SqliteFile

__all__ = ["ATTACHMENTS_DIR", "INCIDENTS_FILE", "MIGRATIONS", "IncidentStore"]

INCIDENTS_FILE = "incidents.db"
ATTACHMENTS_DIR = "attachments"

MIGRATIONS = (
    """
    CREATE TABLE incidents (
        id          TEXT PRIMARY KEY,
        member      TEXT NOT NULL,
        opened_by   TEXT NOT NULL,
        opened_ts   REAL NOT NULL,
        occurred_ts REAL NOT NULL,
        lat         REAL NOT NULL,
        lon         REAL NOT NULL,
        category    TEXT NOT NULL,
        severity    TEXT NOT NULL,
        description TEXT NOT NULL,
        vessels     TEXT NOT NULL,
        status      TEXT NOT NULL,
        release     TEXT NOT NULL,
        events      TEXT NOT NULL,
        assistance  INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX incidents_opened ON incidents (opened_ts);
    CREATE TABLE entries (
        incident_id TEXT NOT NULL REFERENCES incidents(id),
        seq         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        member      TEXT NOT NULL,
        user        TEXT NOT NULL,
        ts          REAL NOT NULL,
        text        TEXT NOT NULL,
        data        TEXT NOT NULL,
        PRIMARY KEY (incident_id, seq)
    ) STRICT;
    CREATE TABLE attachments (
        incident_id TEXT NOT NULL REFERENCES incidents(id),
        sha256      TEXT NOT NULL,
        name        TEXT NOT NULL,
        media_type  TEXT NOT NULL,
        size_bytes  INTEGER NOT NULL,
        member      TEXT NOT NULL,
        added_ts    REAL NOT NULL,
        PRIMARY KEY (incident_id, sha256)
    ) STRICT;
    CREATE TABLE assets (
        member   TEXT NOT NULL,
        mmsi     INTEGER NOT NULL PRIMARY KEY,
        name     TEXT NOT NULL,
        speed_kn REAL
    ) STRICT;
    """,
)
"""Schema versions: ``MIGRATIONS[n]`` takes the file from ``user_version`` n to n + 1."""

_INCIDENT_COLUMNS = (
    "id, member, opened_by, opened_ts, occurred_ts, lat, lon, category, severity, "
    "description, vessels, status, release, events, assistance"
)


def _incident(row: tuple[Any, ...]) -> Incident:
    return Incident(
        id=row[0], member=row[1], opened_by=row[2], opened_ts=row[3], occurred_ts=row[4],
        lat=row[5], lon=row[6], category=row[7], severity=row[8], description=row[9],
        vessels=tuple(json.loads(row[10])), status=row[11], release=row[12],
        events=tuple(json.loads(row[13])), assistance_requested=bool(row[14]),
    )  # fmt: skip


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(
        incident_id=row[0], seq=row[1], kind=row[2], member=row[3], user=row[4], ts=row[5],
        text=row[6], data=json.loads(row[7]),
    )  # fmt: skip


def new_incident_id(now_ts: float) -> str:
    """``INC-YYYYMMDD-xxxxxx``: the UTC day it was opened and 24 random bits."""
    day = time.strftime("%Y%m%d", time.gmtime(now_ts))
    return f"INC-{day}-{secrets.token_hex(3)}"


class IncidentStore:
    """The incident store in ``db`` (a path: the SQLite file, created and migrated on open)
    with attachment files under ``attachments`` (``None``: their bytes in the database);
    safe from any thread."""

    def __init__(
        self,
        db: Path | str | SmallDb,
        attachments: Path | str | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(db, Path | str):
            file = SqliteFile(db)
            file.migrate(MIGRATIONS)
            db = file
        self.db: SmallDb = db
        self.attachments_dir = None if attachments is None else Path(attachments)
        self._clock = clock
        self._read = db.read
        self._write = db.write

    @classmethod
    def open(cls, data_dir: Path, database_url: str | None = None, **kwargs: Any) -> IncidentStore:
        """``<data_dir>/incidents.db`` and ``attachments/``, or the tables at
        ``database_url`` when given."""
        if database_url is None:
            return cls(data_dir / INCIDENTS_FILE, data_dir / ATTACHMENTS_DIR, **kwargs)
        from lookout.storage.pg_small import PostgresDb

        return cls(PostgresDb(database_url, store="incidents"), None, **kwargs)

    def close(self) -> None:
        self.db.close()

    @property
    def schema_version(self) -> int:
        """The SQLite file's ``user_version`` (the PostgreSQL tables: their migration)."""
        if self.db.dialect == "sqlite":
            return int(self._read("PRAGMA user_version")[0][0])
        return int(self._read("SELECT max(version) FROM schema_version")[0][0])

    # -- incidents ---------------------------------------------------------------------------

    def open_incident(self, incident: Incident) -> Incident:
        """Record a new incident (its ``id`` as given) and its ``opened`` entry."""
        check_incident(incident)
        i = incident
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO incidents ({_INCIDENT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    i.id, i.member, i.opened_by, i.opened_ts, i.occurred_ts, i.lat, i.lon,
                    i.category, i.severity, i.description, json.dumps(list(i.vessels)),
                    i.status, i.release, json.dumps(list(i.events)),
                    int(i.assistance_requested),
                ),
            )  # fmt: skip
            self._append(conn, i.id, "opened", i.member, i.opened_by, i.description, {})
        return incident

    def incident(self, incident_id: str) -> Incident | None:
        rows = self._read(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
        return _incident(rows[0]) if rows else None

    def incidents(self, limit: int = 1000) -> list[Incident]:
        """The newest ``limit`` incidents, newest opened first."""
        rows = self._read(
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents ORDER BY opened_ts DESC, id LIMIT ?",
            (limit,),
        )
        return [_incident(r) for r in rows]

    def _require(self, conn: Tx, incident_id: str) -> None:
        if conn.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone() is None:
            raise IncidentError(f"no incident {incident_id!r}")

    # -- timeline ----------------------------------------------------------------------------

    def _append(
        self,
        conn: Tx,
        incident_id: str,
        kind: str,
        member: str,
        user: str,
        text: str,
        data: Mapping[str, Any],
    ) -> Entry:
        if kind not in ENTRY_KINDS:
            raise IncidentError(f"entry kind {kind!r}: one of {', '.join(ENTRY_KINDS)}")
        (last,) = conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM entries WHERE incident_id = ?", (incident_id,)
        ).fetchone()
        entry = Entry(
            incident_id=incident_id, seq=int(last) + 1, kind=kind, member=member, user=user,
            ts=self._clock(), text=text, data=dict(data),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO entries (incident_id, seq, kind, member, \"user\", ts, text, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (incident_id, entry.seq, kind, member, user, entry.ts, text,
             json.dumps(entry.data, sort_keys=True)),
        )  # fmt: skip
        return entry

    def add_entry(
        self,
        incident_id: str,
        kind: str,
        *,
        member: str,
        user: str,
        text: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append an entry; a ``status`` entry also sets the incident's status
        (``data["status"]``), an ``assistance_request`` marks assistance requested."""
        data = dict(data or {})
        with self._write() as conn:
            self._require(conn, incident_id)
            if kind == "status":
                conn.execute(
                    "UPDATE incidents SET status = ? WHERE id = ?", (data["status"], incident_id)
                )
            if kind == "assistance_request":
                conn.execute("UPDATE incidents SET assistance = 1 WHERE id = ?", (incident_id,))
            return self._append(conn, incident_id, kind, member, user, text, data)

    def entries(self, incident_id: str) -> list[Entry]:
        """The timeline, oldest first."""
        rows = self._read(
            'SELECT incident_id, seq, kind, member, "user", ts, text, data FROM entries '
            "WHERE incident_id = ? ORDER BY seq",
            (incident_id,),
        )
        return [_entry(r) for r in rows]

    # -- attachments -------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        """The file of an attachment's bytes (SQLite backend only; :meth:`blob` reads both)."""
        _check_sha256(sha256)
        if self.attachments_dir is None:
            raise IncidentError("attachments are kept in the database, not in files")
        return self.attachments_dir / sha256

    def blob(self, sha256: str) -> bytes:
        """The bytes of the attachment with this SHA-256."""
        if self.attachments_dir is not None:
            return self.blob_path(sha256).read_bytes()
        _check_sha256(sha256)
        rows = self._read("SELECT content FROM attachment_blobs WHERE sha256 = ?", (sha256,))
        if not rows:
            raise IncidentError(f"no attachment {sha256}")
        return bytes(rows[0][0])

    def _put_file(self, digest: str, content: bytes) -> None:
        path = self.blob_path(digest)
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{digest}.{secrets.token_hex(4)}.tmp")
        with open(temp, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)

    def add_attachment(
        self, incident_id: str, *, name: str, media_type: str, content: bytes, member: str,
        user: str,
    ) -> Attachment:  # fmt: skip
        """Store the file and record it (with an ``attachment`` entry)."""
        if self.incident(incident_id) is None:
            raise IncidentError(f"no incident {incident_id!r}")
        digest = hashlib.sha256(content).hexdigest()
        if self.attachments_dir is not None:
            self._put_file(digest, content)
        found = Attachment(
            incident_id=incident_id, sha256=digest, name=name, media_type=media_type,
            size_bytes=len(content), member=member, added_ts=self._clock(),
        )  # fmt: skip
        with self._write() as conn:
            if self.attachments_dir is None:
                conn.execute(
                    "INSERT INTO attachment_blobs (sha256, content) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (digest, content),
                )
            conn.execute(
                "INSERT INTO attachments "
                "(incident_id, sha256, name, media_type, size_bytes, member, added_ts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (incident_id, digest, name, media_type, len(content), member, found.added_ts),
            )
            data = {"sha256": digest, "name": name, "size_bytes": len(content)}
            self._append(conn, incident_id, "attachment", member, user, name, data)
        return found

    def attachments(self, incident_id: str) -> list[Attachment]:
        rows = self._read(
            "SELECT incident_id, sha256, name, media_type, size_bytes, member, added_ts "
            "FROM attachments WHERE incident_id = ? ORDER BY added_ts, sha256",
            (incident_id,),
        )
        return [_attachment(r) for r in rows]

    def attachment(self, incident_id: str, sha256: str) -> Attachment | None:
        return next((a for a in self.attachments(incident_id) if a.sha256 == sha256), None)

    # -- assets ------------------------------------------------------------------------------

    def add_asset(self, asset: Asset) -> None:
        """Register (or update) a member's asset; one MMSI belongs to one member."""
        if not 1 <= asset.mmsi <= 999_999_999:
            raise IncidentError(f"MMSI {asset.mmsi} is not 1..999999999")
        with self._write() as conn:
            owner = conn.execute(
                "SELECT member FROM assets WHERE mmsi = ?", (asset.mmsi,)
            ).fetchone()
            if owner is not None and owner[0] != asset.member:
                raise IncidentError(f"MMSI {asset.mmsi} is an asset of {owner[0]} already")
            conn.execute(
                "INSERT INTO assets (member, mmsi, name, speed_kn) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (mmsi) DO UPDATE SET member = excluded.member, "
                "name = excluded.name, speed_kn = excluded.speed_kn",
                (asset.member, asset.mmsi, asset.name, asset.speed_kn),
            )

    def remove_asset(self, member: str, mmsi: int) -> None:
        with self._write() as conn:
            gone = conn.execute(
                "DELETE FROM assets WHERE member = ? AND mmsi = ?", (member, mmsi)
            ).rowcount
        if not gone:
            raise IncidentError(f"MMSI {mmsi} is not an asset of {member}")

    def assets(self, member: str | None = None) -> list[Asset]:
        sql = "SELECT member, mmsi, name, speed_kn FROM assets"
        rows = (
            self._read(sql + " ORDER BY member, mmsi")
            if member is None
            else self._read(sql + " WHERE member = ? ORDER BY mmsi", (member,))
        )
        return [Asset(member=r[0], mmsi=r[1], name=r[2], speed_kn=r[3]) for r in rows]


def _check_sha256(sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise IncidentError(f"not a SHA-256: {sha256!r}")


def _attachment(row: tuple[Any, ...]) -> Attachment:
    return Attachment(
        incident_id=row[0], sha256=row[1], name=row[2], media_type=row[3], size_bytes=row[4],
        member=row[5], added_ts=row[6],
    )  # fmt: skip
