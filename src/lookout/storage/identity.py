"""Who belongs to the network: members, users, sources with their ingest keys, token signing
keys and revoked tokens, in ``<data_dir>/identity.db`` or, with the PostGIS store, in tables
of its database shared by every node (:mod:`lookout.storage.small_db`).

Every change is its own write transaction: the CLI (``lookout members``, ``users``,
``sources``, ``keys``) may change the store while servers read it, and every server sees the
change at its next read (a token revoked through one API node is refused by all). The SQLite
file (WAL, ``synchronous = FULL``) holds secrets (signing keys) and is created readable by its
owner only. Passwords and ingest keys are stored hashed only; hashing is the caller's
(:mod:`lookout.service.access`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lookout.model.members import Member, Role
from lookout.storage.small_db import SmallDb
from lookout.storage.sqlite_file import SqliteFile

__all__ = [
    "IDENTITY_FILE",
    "IdentityError",
    "IdentityStore",
    "SigningKey",
    "SourceRecord",
    "UserRecord",
]

IDENTITY_FILE = "identity.db"
"""The identity store's file in the data dir."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    country    TEXT NOT NULL,
    created_at REAL NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    member        TEXT NOT NULL REFERENCES members(code),
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    REAL NOT NULL,
    disabled_at   REAL
) STRICT;
CREATE TABLE IF NOT EXISTS sources (
    member     TEXT NOT NULL REFERENCES members(code),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    release    TEXT NOT NULL,
    key_hash   TEXT UNIQUE,
    key_set_at REAL,
    created_at REAL NOT NULL,
    PRIMARY KEY (member, name)
) STRICT;
CREATE TABLE IF NOT EXISTS signing_keys (
    kid        TEXT PRIMARY KEY,
    secret     BLOB NOT NULL,
    created_at REAL NOT NULL,
    retired_at REAL
) STRICT;
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti        TEXT PRIMARY KEY,
    revoked_at REAL NOT NULL,
    expires_at REAL,
    reason     TEXT NOT NULL
) STRICT;
"""


class IdentityError(ValueError):
    """A change the store refuses (a duplicate, an unknown member...); the message says why."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as stored; ``disabled_at`` is set once the user is disabled."""

    username: str
    member: str
    role: Role
    password_hash: str = field(repr=False)
    created_at: float
    disabled_at: float | None = None


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A registered source; ``key_hash`` is ``None`` when its key was revoked."""

    member: str
    name: str
    kind: str
    release: str
    key_hash: str | None = field(repr=False)
    key_set_at: float | None
    created_at: float


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A token signing key (HS256 secret); a retired key verifies nothing."""

    kid: str
    secret: bytes = field(repr=False)
    created_at: float
    retired_at: float | None = None


def _user(row: tuple[Any, ...]) -> UserRecord:
    return UserRecord(row[0], row[1], Role(row[2]), row[3], row[4], row[5])


class IdentityStore:
    """The identity store in ``db``: a path is a SQLite file (created with its tables, readable
    by the owner only); safe from any thread and beside another process."""

    def __init__(self, db: Path | str | SmallDb, *, clock: Callable[[], float] = time.time) -> None:
        if isinstance(db, Path | str):
            file = SqliteFile(db, private=True)
            file.script(_SCHEMA)  # IF NOT EXISTS: safe beside another process
            db = file
        self.db: SmallDb = db
        self._clock = clock
        self._read = db.read
        self._write = db.write

    @classmethod
    def open(
        cls,
        data_dir: Path,
        database_url: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> IdentityStore:
        """``<data_dir>/identity.db``, or the tables at ``database_url`` when given."""
        if database_url is None:
            return cls(data_dir / IDENTITY_FILE, clock=clock)
        from lookout.storage.pg_small import PostgresDb

        return cls(PostgresDb(database_url, store="identity"), clock=clock)

    def close(self) -> None:
        self.db.close()

    def _change(self, sql: str, args: tuple[Any, ...], error: str) -> None:
        """Run one change; ``error`` (the store's refusal) when it touches no row or breaks a
        constraint."""
        try:
            with self._write() as conn:
                changed = conn.execute(sql, args).rowcount
        except self.db.integrity_errors as exc:
            raise IdentityError(error) from exc
        if changed == 0:
            raise IdentityError(error)

    # -- members -------------------------------------------------------------------------

    def add_member(self, member: Member) -> None:
        self._change(
            "INSERT INTO members (code, name, country, created_at) VALUES (?, ?, ?, ?)",
            (member.code, member.name, member.country, self._clock()),
            f"member {member.code} exists already",
        )

    def members(self) -> list[Member]:
        rows = self._read("SELECT code, name, country FROM members ORDER BY code")
        return [Member(*row) for row in rows]

    def member(self, code: str) -> Member | None:
        rows = self._read("SELECT code, name, country FROM members WHERE code = ?", (code,))
        return Member(*rows[0]) if rows else None

    # -- users -----------------------------------------------------------------------------

    def add_user(self, username: str, member: str, role: Role, password_hash: str) -> None:
        if self.member(member) is None:
            raise IdentityError(f"no member {member} (lookout members add)")
        self._change(
            "INSERT INTO users (username, member, role, password_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (username, member, role.value, password_hash, self._clock()),
            f"user {username} exists already",
        )

    def users(self, member: str | None = None) -> list[UserRecord]:
        sql = "SELECT username, member, role, password_hash, created_at, disabled_at FROM users"
        rows = (
            self._read(sql + " ORDER BY username")
            if member is None
            else self._read(sql + " WHERE member = ? ORDER BY username", (member,))
        )
        return [_user(r) for r in rows]

    def user(self, username: str) -> UserRecord | None:
        rows = self._read(
            "SELECT username, member, role, password_hash, created_at, disabled_at FROM users "
            "WHERE username = ?",
            (username,),
        )
        return _user(rows[0]) if rows else None

    def set_password_hash(self, username: str, password_hash: str) -> None:
        self._change(
            "UPDATE users SET password_hash = ? WHERE username = ?",
            (password_hash, username),
            f"no user {username}",
        )

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._change(
            "UPDATE users SET disabled_at = ? WHERE username = ?",
            (self._clock() if disabled else None, username),
            f"no user {username}",
        )

    # -- sources ---------------------------------------------------------------------------

    def add_source(
        self, member: str, name: str, *, release: str, key_hash: str | None, kind: str = "push"
    ) -> None:
        if self.member(member) is None:
            raise IdentityError(f"no member {member} (lookout members add)")
        now = self._clock()
        self._change(
            "INSERT INTO sources (member, name, kind, release, key_hash, key_set_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (member, name, kind, release, key_hash, now if key_hash else None, now),
            f"source {member}/{name} exists already",
        )

    def sources(self, member: str | None = None) -> list[SourceRecord]:
        sql = "SELECT member, name, kind, release, key_hash, key_set_at, created_at FROM sources"
        if member is None:
            return [SourceRecord(*r) for r in self._read(sql + " ORDER BY member, name")]
        rows = self._read(sql + " WHERE member = ? ORDER BY name", (member,))
        return [SourceRecord(*r) for r in rows]

    def source_by_key_hash(self, key_hash: str) -> SourceRecord | None:
        rows = self._read(
            "SELECT member, name, kind, release, key_hash, key_set_at, created_at FROM sources "
            "WHERE key_hash = ?",
            (key_hash,),
        )
        return SourceRecord(*rows[0]) if rows else None

    def set_source_release(self, member: str, name: str, release: str) -> None:
        """Change who receives a source's data (its release text)."""
        self._change(
            "UPDATE sources SET release = ? WHERE member = ? AND name = ?",
            (release, member, name),
            f"no source {member}/{name}",
        )

    def set_source_key(self, member: str, name: str, key_hash: str | None) -> None:
        """Replace (or with ``None`` revoke) a source's ingest key."""
        self._change(
            "UPDATE sources SET key_hash = ?, key_set_at = ? WHERE member = ? AND name = ?",
            (key_hash, self._clock(), member, name),
            f"no source {member}/{name}",
        )

    # -- signing keys and revocation ----------------------------------------------------------

    def add_signing_key(self, kid: str, secret: bytes) -> None:
        self._change(
            "INSERT INTO signing_keys (kid, secret, created_at) VALUES (?, ?, ?)",
            (kid, secret, self._clock()),
            f"signing key {kid} exists already",
        )

    def signing_keys(self) -> list[SigningKey]:
        """Every key, oldest first (the newest unretired one signs)."""
        rows = self._read(
            "SELECT kid, secret, created_at, retired_at FROM signing_keys ORDER BY created_at, kid"
        )
        return [SigningKey(*r) for r in rows]

    def signing_key(self, kid: str) -> SigningKey | None:
        rows = self._read(
            "SELECT kid, secret, created_at, retired_at FROM signing_keys WHERE kid = ?", (kid,)
        )
        return SigningKey(*rows[0]) if rows else None

    def retire_signing_key(self, kid: str) -> None:
        self._change(
            "UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL",
            (self._clock(), kid),
            f"no active signing key {kid}",
        )

    def revoke_token(self, jti: str, *, expires_at: float | None, reason: str) -> None:
        """Revoke a token by its jti. Revocations of tokens expired a day ago are dropped
        (an expired token is refused anyway), so the table stays small."""
        now = self._clock()
        with self._write() as conn:
            conn.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (now - 86_400,))
            added = conn.execute(
                "INSERT INTO revoked_tokens (jti, revoked_at, expires_at, reason) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (jti, now, expires_at, reason),
            ).rowcount
        if not added:
            raise IdentityError(f"token {jti} was revoked already")

    def is_revoked(self, jti: str) -> bool:
        return bool(self._read("SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)))
