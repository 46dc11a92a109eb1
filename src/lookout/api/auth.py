"""Who is calling, and may they do this: bearer tokens to actors, one ``authorize`` question.

Three kinds of bearer token exist:

- an access token (a JWT from ``POST /api/v1/auth/login`` or ``lookout token``), verified by
  :meth:`lookout.service.access.Access.verify`; its actor is its subject, acting for its
  member in its role;
- a static API token (``Settings.api_tokens``): an actor of member
  ``Settings.api_tokens_member`` in role ``viewer``;
- a source's ingest key (``lookout sources add``, or ``Settings.sources``): the actor
  ``source:<member>/<name>``, which may only push into that source.

Every route asks :func:`authorize` whether its actor may perform its action on its resource.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lookout.model.members import Role
from lookout.service.settings import SourceConfig

if TYPE_CHECKING:
    from lookout.api.deps import ApiRuntime
    from lookout.service.access import Access, Claims

__all__ = [
    "Action",
    "Actor",
    "authorize",
    "current_actor",
    "recheck",
    "require",
    "resolve_actor",
]

log = logging.getLogger("lookout.api.access")

Action = Literal["read", "ingest", "administer"]
"""What an actor wants to do. Resources are strings: ``vessels``, ``vessel:<mmsi>``,
``sources``, ``status``, ``stream``, ``events``, ``detections``, ``event:<kind>``,
``alert:<member>``, ``stats``, ``source:<member>/<name>``; to administer: ``member:<code>``
(its users and sources) and ``network`` (members, signing keys)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller. ``source`` is set when it authenticated with an ingest key,
    ``claims`` when with an access token; ``role`` is ``None`` for a source."""

    name: str
    kind: Literal["token", "source"]
    member: str | None = None
    role: Role | None = None
    source: SourceConfig | None = None
    claims: Claims | None = None

    @property
    def source_resource(self) -> str | None:
        """``source:<member>/<name>`` for a source actor, else ``None``."""
        if self.source is None:
            return None
        return f"source:{self.source.member}/{self.source.name}"


def authorize(actor: Actor, action: Action, resource: str) -> bool:
    """May ``actor`` do ``action`` on ``resource``? The single permission question.

    Deny by default: reads need a token with a role (a source's ingest key only writes, so a
    key leaked from a receiver site reads nothing); ingest needs the key of that very source;
    a member's users and sources are administered by its ``member_admin`` or a
    ``network_admin``, the network (members, keys) by a ``network_admin`` only.
    """
    if action == "read":
        return actor.kind == "token" and actor.role is not None
    if action == "ingest":
        return actor.kind == "source" and resource == actor.source_resource
    if action == "administer" and actor.kind == "token" and actor.role is not None:
        if actor.role.includes(Role.NETWORK_ADMIN):
            return True
        kind, _, code = resource.partition(":")
        return kind == "member" and actor.member == code and actor.role.includes(Role.MEMBER_ADMIN)
    return False


def _access(runtime: ApiRuntime) -> Access | None:
    access: Access | None = getattr(runtime, "access", None)
    return access


def _legacy_member(runtime: ApiRuntime) -> str:
    return str(getattr(runtime.settings, "api_tokens_member", "LOCAL"))


def resolve_actor(runtime: ApiRuntime, token: str) -> Actor | None:
    """The actor a static token or an ingest key stands for, or ``None`` when it is neither
    (access tokens are verified by :func:`current_actor`)."""
    name = runtime.actor_for_token(token)
    if name is not None:
        return Actor(name=name, kind="token", member=_legacy_member(runtime), role=Role.VIEWER)
    source = runtime.source_for_key(token)
    access = _access(runtime)
    if source is None and access is not None:
        record = access.source_for_key(token)
        if record is not None:
            source = SourceConfig(
                name=record.name, member=record.member, kind=record.kind, release=record.release
            )
    if source is not None:
        return Actor(
            name=f"source:{source.member}/{source.name}",
            kind="source",
            member=source.member,
            source=source,
        )
    return None


def _token_actor(access: Access, token: str) -> Actor:
    from lookout.service.access import TokenError

    try:
        claims = access.verify(token)
    except TokenError as exc:
        raise _unauthorized(str(exc), "invalid_token") from exc
    return Actor(
        name=claims.subject, kind="token", member=claims.member, role=claims.role, claims=claims
    )


def recheck(runtime: ApiRuntime, actor: Actor) -> str | None:
    """Why ``actor``'s token no longer holds (revoked, expired, key retired, user disabled),
    or ``None`` while it does. Static tokens and ingest keys always hold."""
    access = _access(runtime)
    if actor.claims is None or access is None:
        return None
    from lookout.service.access import TokenError

    try:
        access.check(actor.claims)
    except TokenError as exc:
        return str(exc)
    return None


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = f'Bearer realm="lookout", error="{error}"' if error else 'Bearer realm="lookout"'
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


_bearer = HTTPBearer(
    auto_error=False, description="An access token, a static API token or a source's ingest key"
)


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """FastAPI dependency: the request's actor from its bearer token, else 401."""
    if credentials is None:
        if "authorization" in request.headers:
            raise _unauthorized("expected 'Authorization: Bearer <token>'", "invalid_request")
        raise _unauthorized("missing bearer token")
    runtime: ApiRuntime = request.app.state.runtime
    token = credentials.credentials
    access = _access(runtime)
    actor = resolve_actor(runtime, token)
    if actor is None and access is not None and token.count(".") == 2:  # a JWT
        actor = _token_actor(access, token)
    if actor is None:
        raise _unauthorized("invalid bearer token", "invalid_token")
    request.state.actor = actor
    log.info("%s %s actor=%s", request.method, request.url.path, actor.name)
    return actor


def require(actor: Actor, action: Action, resource: str) -> None:
    """Raise 403 unless :func:`authorize` allows it."""
    if not authorize(actor, action, resource):
        log.warning("denied actor=%s action=%s resource=%s", actor.name, action, resource)
        raise HTTPException(status_code=403, detail=f"{actor.name} may not {action} {resource}")
