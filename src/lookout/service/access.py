"""Access to the network: passwords, ingest keys and signed access tokens over the identity
store (:mod:`lookout.storage.identity`), each change recorded in the audit log.

Access tokens are JWTs signed with HS256 under a named key (``kid`` in the header), carrying
``sub`` (the user, or ``script:<member>`` for ``lookout token``), ``member``, ``role``,
``jti`` (the token's id, what revocation names), ``iat`` and ``exp``. :meth:`Access.verify`
accepts only HS256 under a known, unretired key, with a valid signature, not expired, not
revoked, whose user (if a user) is not disabled; anything else raises :class:`TokenError`
naming why. Every check reads the store, so a key retired or a token revoked by the CLI is
refused by a running server at its next request.

Passwords are hashed with argon2id (argon2-cffi's defaults); a login of an unknown user still
pays one hash, so its time does not tell whether the user exists. Source ingest keys are 256
random bits (``lks_`` + URL-safe base64); the store keeps their SHA-256 only.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lookout.model.members import Member, Role, check_member_code
from lookout.sharing.labels import Release
from lookout.storage.audit import AuditLog
from lookout.storage.identity import (
    IdentityError,
    IdentityStore,
    SigningKey,
    SourceRecord,
    UserRecord,
)

if TYPE_CHECKING:
    from lookout.service.settings import Settings

__all__ = [
    "ALGORITHM",
    "KEY_PREFIX",
    "Access",
    "Claims",
    "IdentityError",
    "IssuedToken",
    "TokenError",
    "check_username",
    "cli_actor",
    "shared_database",
]

ALGORITHM = "HS256"
"""The only algorithm tokens are signed and accepted with."""
KEY_PREFIX = "lks_"
"""How a source ingest key issued by Lookout starts."""
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")

log = logging.getLogger(__name__)


class TokenError(Exception):
    """A bearer token that is refused; ``str(exc)`` says why (the API's 401 ``detail``)."""


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified access token says."""

    subject: str
    member: str
    role: Role
    jti: str
    kid: str
    issued_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token and its claims."""

    token: str = field(repr=False)
    claims: Claims


def check_username(name: str) -> str:
    if not USERNAME.fullmatch(name):
        raise IdentityError(
            f"username {name!r}: 2..63 characters, lower-case letters, digits, '.', '_', '-'"
        )
    return name


def shared_database(settings: Settings) -> str | None:
    """Where identity, audit log, incidents and alert states live: the PostGIS store's
    database when the settings name it (shared by every node), else ``None`` (files in the
    data dir)."""
    if settings.store != "postgis":
        return None
    if not settings.database_url:
        raise ValueError("store = postgis needs database_url (LOOKOUT_DATABASE_URL)")
    return settings.database_url


def cli_actor() -> str:
    """The audit log's actor for changes made with the CLI: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Access:
    """Members, users, sources, keys and tokens of one data dir; see the module docstring.

    ``actor`` is who changes are recorded as in ``audit`` (when given).
    """

    def __init__(
        self,
        store: IdentityStore,
        *,
        audit: AuditLog | None = None,
        actor: str = "lookout",
        clock: Callable[[], float] = time.time,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.actor = actor
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    @classmethod
    def open(cls, data_dir: Path, database_url: str | None = None, **kwargs: Any) -> Access:
        """The access control over ``<data_dir>/identity.db`` (created if missing), or over
        the identity tables of the database at ``database_url`` (see :func:`shared_database`)."""
        return cls(IdentityStore.open(data_dir, database_url), **kwargs)

    def close(self) -> None:
        self.store.close()

    def record(self, action: str, resource: str, detail: Mapping[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append(self.actor, action, resource, detail)

    # -- members and users ------------------------------------------------------------------

    def add_member(self, member: Member) -> None:
        self.store.add_member(member)
        self.record("configuration", f"member:{member.code}", {"added": member.name})

    def _hash(self, password: str) -> str:
        if len(password) < 12:
            raise IdentityError("a password needs at least 12 characters")
        return self._hasher.hash(password)

    def add_user(self, username: str, member: str, role: Role, password: str) -> None:
        self.store.add_user(check_username(username), member, role, self._hash(password))
        detail = {"added": username, "role": role.value}
        self.record("configuration", f"member:{member}/users", detail)

    def set_password(self, username: str, password: str) -> None:
        self.store.set_password_hash(username, self._hash(password))
        self.record("configuration", f"user:{username}", {"password": "changed"})

    def disable_user(self, username: str) -> None:
        self.store.set_disabled(username, True)
        self.record("configuration", f"user:{username}", {"disabled": True})

    def login(self, username: str, password: str) -> UserRecord | None:
        """The user when the password is right and the user enabled; audited either way."""
        user = self.store.user(username)
        why = "ok"
        if user is None:
            self._verify_password(self._dummy(), password)  # the same work as a real check
            why = "unknown user"
        elif not self._verify_password(user.password_hash, password):
            why = "wrong password"
        elif user.disabled_at is not None:
            why = "user disabled"
        if self.audit is not None:
            shown = username if user is not None else "anonymous"
            self.audit.append(shown, "login", f"user:{username[:64]}", {"result": why})
        return user if why == "ok" else None

    def _verify_password(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # -- sources ------------------------------------------------------------------------------

    def add_source(self, member: str, name: str, release: str, kind: str = "push") -> str:
        """Register a source; its new ingest key (shown once, stored hashed). ``release`` is
        read as :meth:`lookout.sharing.labels.Release.parse` reads it."""
        release = Release.parse(release).text
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.store.add_source(member, name, release=release, key_hash=_key_hash(key), kind=kind)
        self.record("configuration", f"source:{member}/{name}", {"added": kind, "release": release})
        return key

    def rotate_source_key(self, member: str, name: str) -> str:
        """A new ingest key for the source; the old one stops working at once."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.store.set_source_key(member, name, _key_hash(key))
        self.record("configuration", f"source:{member}/{name}", {"key": "rotated"})
        return key

    def set_release(self, member: str, name: str, release: str) -> str:
        """Change a source's release; a running server applies it within a second, to new
        requests, history queries and open streams alike. Returns the release as stored."""
        text = Release.parse(release).text
        self.store.set_source_release(member, name, text)
        self.record("release", f"source:{member}/{name}", {"release": text})
        return text

    def revoke_source_key(self, member: str, name: str) -> None:
        self.store.set_source_key(member, name, None)
        self.record("configuration", f"source:{member}/{name}", {"key": "revoked"})

    def releases(self) -> list[tuple[str, str, str]]:
        """``(member, name, release)`` of every registered source."""
        return [(s.member, s.name, s.release) for s in self.store.sources()]

    def source_for_key(self, key: str) -> SourceRecord | None:
        if not key.startswith(KEY_PREFIX):
            return None
        return self.store.source_by_key_hash(_key_hash(key))

    # -- signing keys -------------------------------------------------------------------------

    def rotate_key(self) -> SigningKey:
        """A new signing key, which signs from now on (older keys still verify until
        retired)."""
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%d")
        kid = f"{stamp}-{secrets.token_hex(4)}"
        self.store.add_signing_key(kid, secrets.token_bytes(32))
        self.record("configuration", f"signing-key:{kid}", {"created": True})
        key = self.store.signing_key(kid)
        assert key is not None
        return key

    def retire_key(self, kid: str) -> None:
        """Retire a signing key: every token it signed is refused from now on."""
        self.store.retire_signing_key(kid)
        self.record("configuration", f"signing-key:{kid}", {"retired": True})

    def current_key(self) -> SigningKey:
        """The newest unretired key; one is made on first use."""
        active = [k for k in self.store.signing_keys() if k.retired_at is None]
        return active[-1] if active else self.rotate_key()

    # -- tokens -------------------------------------------------------------------------------

    def issue(self, *, subject: str, member: str, role: Role, ttl_s: float) -> IssuedToken:
        """A token for ``subject`` acting for ``member`` in ``role``, valid ``ttl_s`` seconds."""
        check_member_code(member)
        if self.store.member(member) is None:
            raise IdentityError(f"no member {member} (lookout members add)")
        if not ttl_s > 0:
            raise IdentityError(f"token lifetime must be > 0 s, not {ttl_s}")
        key = self.current_key()
        now = self._clock()
        # hex, so a jti never starts with '-' and `lookout keys revoke JTI` never reads it
        # as an option
        jti = secrets.token_hex(16)
        claims = Claims(subject, member, role, jti, key.kid, now, now + ttl_s)
        payload = {
            "sub": subject,
            "member": member,
            "role": role.value,
            "jti": claims.jti,
            "iat": int(now),
            "exp": int(claims.expires_at),
        }
        token = jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})
        return IssuedToken(token, claims)

    def verify(self, token: str) -> Claims:
        """The token's claims, or :class:`TokenError` naming why it is refused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenError(f"token algorithm {header.get('alg')!r} not accepted ({ALGORITHM})")
        kid = header.get("kid")
        key = self.store.signing_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenError("token signed with an unknown key")
        if key.retired_at is not None:
            raise TokenError(f"token signed with retired key {kid}")
        claims = self._decode(token, key)
        self.check(claims)
        return claims

    def _decode(self, token: str, key: SigningKey) -> Claims:
        options = {"verify_exp": False, "verify_iat": False, "require": ["exp", "iat", "jti"]}
        try:
            raw = jwt.decode(token, key.secret, algorithms=[ALGORITHM], options=options)  # type: ignore[arg-type]
        except jwt.InvalidSignatureError as exc:
            raise TokenError("bad token signature") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        try:
            return Claims(
                str(raw["sub"]),
                str(raw["member"]),
                Role.parse(str(raw["role"])),
                str(raw["jti"]),
                key.kid,
                float(raw["iat"]),
                float(raw["exp"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise TokenError(f"token claims incomplete: {exc}") from exc

    def check(self, claims: Claims) -> None:
        """Whether verified ``claims`` still hold now: not expired, not revoked, key not
        retired, user not disabled (an open stream asks this again and again)."""
        if self._clock() >= claims.expires_at:
            raise TokenError("token expired")
        if self.store.is_revoked(claims.jti):
            raise TokenError("token revoked")
        key = self.store.signing_key(claims.kid)
        if key is None or key.retired_at is not None:
            raise TokenError(f"token signed with retired key {claims.kid}")
        user = self.store.user(claims.subject)
        if user is not None and (user.disabled_at is not None or user.member != claims.member):
            raise TokenError("user disabled")

    def revoke(self, token_or_jti: str, reason: str = "revoked") -> str:
        """Revoke a token, given whole or by its ``jti``; the jti."""
        jti, expires_at = token_or_jti.strip(), None
        if jti.count(".") == 2:  # a whole token: read its jti and expiry (signature not needed)
            try:
                raw = jwt.decode(jti, options={"verify_signature": False})
            except jwt.PyJWTError as exc:
                raise IdentityError(f"not a token: {exc}") from exc
            jti, expires_at = str(raw.get("jti", "")), raw.get("exp")
        if not jti:
            raise IdentityError("the token has no jti")
        self.store.revoke_token(jti, expires_at=expires_at, reason=reason)
        self.record("configuration", f"token:{jti}", {"revoked": reason})
        return jti
