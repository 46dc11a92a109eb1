"""Who is calling, and may they do this: bearer tokens to actors, one ``authorize`` question.

Two kinds of bearer token exist. An API read token (``Settings.api_tokens``) names an actor
such as ``analyst-1``. A source's ingest key authenticates the push endpoint as that source;
its actor is ``source:<member>/<name>``.

Every route asks :func:`authorize` whether its actor may perform its action on its resource.
Today any authenticated actor may read and only source keys may ingest (into their own source);
member-level sharing will change only this function.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

if TYPE_CHECKING:
    from lookout.api.deps import ApiRuntime
    from lookout.service.settings import SourceConfig

__all__ = ["Action", "Actor", "authorize", "current_actor", "require", "resolve_actor"]

log = logging.getLogger("lookout.api.access")

Action = Literal["read", "ingest"]
"""What an actor wants to do. Resources are strings: ``vessels``, ``vessel:<mmsi>``,
``sources``, ``status``, ``stream``, ``events``, ``detections``, ``event:<kind>``,
``alert:<member>``, ``stats``, ``source:<member>/<name>``."""


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller. ``source`` is set when it authenticated with an ingest key."""

    name: str
    kind: Literal["token", "source"]
    member: str | None = None
    source: SourceConfig | None = None

    @property
    def source_resource(self) -> str | None:
        """``source:<member>/<name>`` for a source actor, else ``None``."""
        if self.source is None:
            return None
        return f"source:{self.source.member}/{self.source.name}"


def authorize(actor: Actor, action: Action, resource: str) -> bool:
    """May ``actor`` do ``action`` on ``resource``? The single permission question.

    Deny by default: reads need an API token (a source's ingest key only writes, so a key
    leaked from a receiver site reads nothing); ingest needs the key of that very source.
    """
    if action == "read":
        return actor.kind == "token"
    if action == "ingest":
        return actor.kind == "source" and resource == actor.source_resource
    return False


def resolve_actor(runtime: ApiRuntime, token: str) -> Actor | None:
    """The actor a bearer token stands for, or ``None`` when it is unknown."""
    name = runtime.actor_for_token(token)
    if name is not None:
        return Actor(name=name, kind="token")
    source = runtime.source_for_key(token)
    if source is not None:
        return Actor(
            name=f"source:{source.member}/{source.name}",
            kind="source",
            member=source.member,
            source=source,
        )
    return None


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = f'Bearer realm="lookout", error="{error}"' if error else 'Bearer realm="lookout"'
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


_bearer = HTTPBearer(auto_error=False, description="API read token or a source's ingest key")


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """FastAPI dependency: the request's actor from its bearer token, else 401."""
    if credentials is None:
        if "authorization" in request.headers:
            raise _unauthorized("expected 'Authorization: Bearer <token>'", "invalid_request")
        raise _unauthorized("missing bearer token")
    actor = resolve_actor(request.app.state.runtime, credentials.credentials)
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
