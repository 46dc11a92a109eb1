"""Request limits, so that one member cannot degrade the service for the others.

- **Body size** (:class:`RequestLimits`, ASGI middleware): a body larger than its route's limit
  (``Settings.max_body_bytes`` for the push endpoints, ``Settings.max_request_body_bytes`` for
  every other route) gets 413 at once from its ``Content-Length``, or as soon as a chunked body
  has streamed past the limit; the rest is never read.
- **JSON depth**: a JSON body nested deeper than ``Settings.max_json_depth`` gets 422 while it
  streams in. :class:`JsonDepthScanner` counts brackets outside strings chunk by chunk; nothing
  is parsed or recursed into before the depth is known to be safe.
- **Rate** (:class:`RateLimits`): each member (``actor.member``, else the actor's name) has a
  token bucket of requests and one of pushed lines; an empty bucket gets 429 with
  ``Retry-After`` (whole seconds). Buckets are per member, so a member that floods waits while
  the others go on.
- **Error bodies** (:func:`install_limits`): every error is ``{"detail": "<message>"}``
  (:class:`~lookout.api.schemas.ErrorOut`) except 422, whose ``detail`` is a list of
  ``{"loc", "msg", "type"}`` issues (:class:`~lookout.api.schemas.ValidationErrorOut`), as
  FastAPI writes its own. The OpenAPI schema declares both for every route.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lookout.api.auth import Actor, current_actor
from lookout.api.schemas import ErrorOut, ValidationErrorOut
from lookout.service.settings import Settings

__all__ = [
    "ERROR_RESPONSES",
    "PUSH_PREFIX",
    "JsonDepthScanner",
    "RateLimits",
    "RequestLimits",
    "TokenBucket",
    "install_limits",
    "invalid",
    "limited_actor",
]

PUSH_PREFIX = "/api/v1/ingest/"
"""Routes under this prefix take ``Settings.max_body_bytes``; all others the smaller
``Settings.max_request_body_bytes``."""

ATTACHMENT_PATH = re.compile(r"/api/v1/incidents/[^/]+/attachments")
"""The upload route, which takes ``Settings.max_attachment_bytes`` (plus
:data:`ATTACHMENT_SLACK_BYTES` of multipart framing); the route itself refuses a larger file."""
ATTACHMENT_SLACK_BYTES = 64 * 1024

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body could not be read (not UTF-8 JSON)"},
    413: {"model": ErrorOut, "description": "request body larger than the route's limit"},
    422: {"model": ValidationErrorOut, "description": "invalid parameters or body"},
}
"""Declared for every route (the app's ``responses=``)."""

_AUTH_ERRORS = {
    "401": "missing, malformed or unknown bearer token",
    "403": "the token may not do this",
    "429": "this member's request or push-line rate is used up; retry after Retry-After s",
}
"""Declared for every route that needs a bearer token."""


def invalid(loc: tuple[str, ...], msg: str) -> HTTPException:
    """A 422 whose body has the shape of FastAPI's own validation errors."""
    return HTTPException(
        status_code=422, detail=[{"loc": list(loc), "msg": msg, "type": "value_error"}]
    )


# -- body size and JSON depth ----------------------------------------------------------------

_STRUCTURE = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


class JsonDepthScanner:
    """Tracks the bracket depth of a JSON text fed in chunks; looks only at ``[]{}"\\``."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self._in_string = False
        self._escape_next = False

    def feed(self, chunk: bytes) -> bool:
        """Scan one more chunk; ``False`` once the depth has gone past ``max_depth``."""
        skip = 0 if self._escape_next else -1
        self._escape_next = False
        for match in _STRUCTURE.finditer(chunk):
            pos = match.start()
            if pos == skip:
                continue
            byte = chunk[pos]
            if self._in_string:
                if byte == _BACKSLASH:
                    skip = pos + 1
                    self._escape_next = skip == len(chunk)
                elif byte == _QUOTE:
                    self._in_string = False
            elif byte == _QUOTE:
                self._in_string = True
            elif byte in _OPEN:
                self.depth += 1
                if self.depth > self.max_depth:
                    return False
            elif byte in _CLOSE:
                self.depth -= 1
        return True


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


class _TooDeep(HTTPException):
    def __init__(self, limit: int) -> None:
        msg = f"JSON nested deeper than {limit} levels"
        super().__init__(
            status_code=422, detail=[{"loc": ["body"], "msg": msg, "type": "json_too_deep"}]
        )


def _is_json(content_type: str) -> bool:
    """FastAPI reads a body without Content-Type as JSON, so such bodies are scanned too."""
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json")


class RequestLimits:
    """ASGI middleware: 413 for oversized bodies, 422 for too-deep JSON, before parsing."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        push_bytes: int,
        other_bytes: int,
        json_depth: int,
        attachment_bytes: int = 0,
    ):
        self.app = app
        self.attachment_bytes = attachment_bytes
        self.push_bytes = push_bytes
        self.other_bytes = other_bytes
        self.json_depth = json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.push_bytes if path.startswith(PUSH_PREFIX) else self.other_bytes
        if ATTACHMENT_PATH.fullmatch(path):
            limit = max(limit, self.attachment_bytes + ATTACHMENT_SLACK_BYTES)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _send_error(send, _TooLarge(limit))
            return
        is_json = _is_json(headers.get("content-type", ""))
        scanner = JsonDepthScanner(self.json_depth) if is_json else None
        counted = _CountedBody(receive, limit, scanner)
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except (_TooLarge, _TooDeep) as exc:  # raised outside FastAPI's own handling
            if started:
                raise
            await _send_error(send, exc)


@dataclass(slots=True)
class _CountedBody:
    """A ``receive`` that counts body bytes and scans JSON depth as the body streams."""

    receive: Receive
    limit: int
    scanner: JsonDepthScanner | None
    size: int = 0

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            body: bytes = message.get("body", b"")
            self.size += len(body)
            if self.size > self.limit:
                raise _TooLarge(self.limit)
            if self.scanner is not None and not self.scanner.feed(body):
                raise _TooDeep(self.scanner.max_depth)
        return message


async def _send_error(send: Send, exc: HTTPException) -> None:
    body = JSONResponse({"detail": exc.detail}, status_code=exc.status_code).body
    await send(
        {
            "type": "http.response.start",
            "status": exc.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- per-member rates ------------------------------------------------------------------------


@dataclass(slots=True)
class TokenBucket:
    """``rate_per_s`` tokens a second up to ``burst``. A cost above ``burst`` is allowed from
    a full bucket (the bucket then owes it), so a large request is slowed, never refused."""

    rate_per_s: float
    burst: float
    tokens: float
    updated: float

    def take(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens; 0 when taken, else the seconds to wait before it would be."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        needed = min(cost, self.burst)
        if self.tokens >= needed:
            self.tokens -= cost
            return 0.0
        return (needed - self.tokens) / self.rate_per_s


@dataclass(slots=True)
class RateLimits:
    """The request and push-line buckets of every member, created on first use."""

    requests_per_s: float
    requests_burst: int
    lines_per_s: float
    lines_burst: int
    clock: Callable[[], float] = time.monotonic
    refused: dict[str, int] = field(default_factory=dict)
    """429s answered per member (for ``/status`` and tests)."""
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, settings: Settings) -> RateLimits:
        return cls(
            requests_per_s=settings.rate_requests_per_s,
            requests_burst=settings.rate_requests_burst,
            lines_per_s=settings.push_lines_per_s,
            lines_burst=settings.push_lines_burst,
        )

    def check(self, who: str, what: str, cost: float = 1.0) -> None:
        """Take ``cost`` from ``who``'s ``what`` bucket (``requests`` or ``lines``), or 429."""
        rate, burst = (
            (self.requests_per_s, self.requests_burst)
            if what == "requests"
            else (self.lines_per_s, self.lines_burst)
        )
        if rate <= 0:
            return
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get((who, what))
            if bucket is None:
                bucket = self._buckets[(who, what)] = TokenBucket(rate, burst, burst, now)
            wait_s = bucket.take(cost, now)
            if wait_s:
                self.refused[who] = self.refused.get(who, 0) + 1
        if wait_s:
            raise HTTPException(
                status_code=429,
                detail=f"{who}: too many {what}; retry in {math.ceil(wait_s)} s",
                headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
            )


def member_of(actor: Actor) -> str:
    """Whose buckets a request draws on: the actor's member, else its name."""
    return actor.member or actor.name


def limited_actor(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    """FastAPI dependency: :func:`~lookout.api.auth.current_actor`, after taking one request
    from its member's bucket (429 when empty)."""
    limits: RateLimits = request.app.state.rate_limits
    limits.check(member_of(actor), "requests")
    return actor


# -- wiring ----------------------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Our own 422s with a string detail get FastAPI's list shape, so every 422 has one."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 422 and isinstance(exc.detail, str):
        exc = invalid((), exc.detail)
    response = await http_exception_handler(request, exc)
    assert isinstance(response, JSONResponse)
    return response


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def _declare_auth_errors(app: FastAPI) -> None:
    """Declare 401/403/429 (and 404 where a path names a resource) on every operation that
    needs a token, whichever module added it."""
    build = app.openapi
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            for op in operations.values():
                codes = dict(_AUTH_ERRORS) if op.get("security") else {}
                if "{" in path:
                    codes["404"] = "no such resource"
                for code, text in codes.items():
                    op["responses"].setdefault(code, {"description": text, "content": ref})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Add the body and depth middleware, the rate buckets and the error handlers to ``app``
    (created with ``responses=ERROR_RESPONSES``)."""
    app.state.rate_limits = RateLimits.of(settings)
    app.add_middleware(
        RequestLimits,
        push_bytes=settings.max_body_bytes,
        other_bytes=settings.max_request_body_bytes,
        json_depth=settings.max_json_depth,
        attachment_bytes=settings.max_attachment_bytes,
    )
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    _declare_auth_errors(app)
