"""``POST /api/v1/auth/login``, ``POST /api/v1/auth/refresh``, ``GET /api/v1/auth/me`` and
``GET /api/v1/members/{code}/users``: logging in, who am I, a member's users.

A login answers a short-lived access token (``token_ttl_s``); a wrong username or password is
401 with one message for both, and every attempt is in the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from lookout.api.auth import Actor, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.geojson import iso_utc
from lookout.api.limits import limited_actor
from lookout.api.sharing import policy_route
from lookout.service.access import Access

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["auth"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    member: str
    role: str


class MeOut(BaseModel):
    actor: str
    kind: str
    member: str | None
    role: str | None
    expires_at: str | None = Field(description="when the access token expires (ISO 8601 UTC)")


class UserOut(BaseModel):
    username: str
    member: str
    role: str
    disabled: bool


class UsersOut(BaseModel):
    users: list[UserOut]


def _access(runtime: ApiRuntime) -> Access:
    access: Access | None = getattr(runtime, "access", None)
    if access is None:
        raise HTTPException(status_code=503, detail="this server has no identity store")
    return access


@router.post(
    "/auth/login",
    response_model=TokenOut,
    responses={
        401: {"description": "unknown user, wrong password or disabled user"},
        429: {"description": "too many logins for this username; retry after Retry-After"},
        503: {"description": "the server has no identity store"},
    },
    openapi_extra=policy_route("public"),
)
async def login(body: LoginIn, runtime: RuntimeDep, request: Request) -> TokenOut:
    """Exchange a username and password for a bearer access token."""
    access = _access(runtime)
    request.app.state.rate_limits.check(f"login:{body.username}", "requests")
    user = await run_in_threadpool(access.login, body.username, body.password)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="invalid username or password",
            headers={"WWW-Authenticate": 'Bearer realm="lookout"'},
        )
    ttl = float(runtime.settings.token_ttl_s)
    issued = access.issue(subject=user.username, member=user.member, role=user.role, ttl_s=ttl)
    return TokenOut(
        access_token=issued.token,
        expires_in=int(ttl),
        member=user.member,
        role=user.role.value,
    )


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    responses={
        503: {"description": "the server has no identity store"},
    },
    openapi_extra=policy_route("own"),
)
def refresh(actor: ActorDep, runtime: RuntimeDep) -> TokenOut:
    """A new access token for the same user, member and role, for a still-valid one (a
    revoked, expired or disabled user's token is refused with 401 before it gets here)."""
    access = _access(runtime)
    claims = actor.claims
    if claims is None:
        raise HTTPException(
            status_code=403,
            detail="only an access token can be refreshed; this one does not expire",
        )
    ttl = float(runtime.settings.token_ttl_s)
    issued = access.issue(subject=claims.subject, member=claims.member, role=claims.role, ttl_s=ttl)
    if access.audit is not None:
        access.audit.append(
            claims.subject, "login", f"user:{claims.subject}", {"result": "refreshed"}
        )
    return TokenOut(
        access_token=issued.token, expires_in=int(ttl), member=claims.member,
        role=claims.role.value,
    )  # fmt: skip


@router.get("/auth/me", response_model=MeOut, openapi_extra=policy_route("own"))
def me(actor: ActorDep) -> MeOut:
    """The caller as the server sees it: actor, member, role and token expiry."""
    expires = actor.claims.expires_at if actor.claims is not None else None
    return MeOut(
        actor=actor.name,
        kind=actor.kind,
        member=actor.member,
        role=actor.role.value if actor.role is not None else None,
        expires_at=iso_utc(expires) if expires is not None else None,
    )


@router.get(
    "/members/{code}/users",
    response_model=UsersOut,
    responses={503: {"description": "the server has no identity store"}},
    openapi_extra=policy_route("own"),
)
def member_users(code: str, actor: ActorDep, runtime: RuntimeDep) -> UsersOut:
    """A member's users; for that member's ``member_admin`` or a ``network_admin``."""
    require(actor, "administer", f"member:{code}")
    users = _access(runtime).store.users(code)
    return UsersOut(
        users=[
            UserOut(
                username=u.username,
                member=u.member,
                role=u.role.value,
                disabled=u.disabled_at is not None,
            )
            for u in users
        ]
    )
