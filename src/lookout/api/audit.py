"""Refused requests in the audit log: an ASGI middleware that records every 401 and 403.

It reads only the status line of each response (``http.response.start``), so streamed
responses (the SSE stream) pass through untouched. The actor is the one the request
authenticated as (``request.state.actor``), else ``anonymous``; the resource is the method
and path. Nothing is recorded when the runtime has no audit log (a runtime that does not own
its store: tests, embedding).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AuditDenials"]

DENIED = frozenset({401, 403})

log = logging.getLogger(__name__)


class AuditDenials:
    """ASGI middleware: append an ``denied`` record for each 401 / 403 response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] in DENIED:
            await self._record(scope, status[0])

    async def _record(self, scope: Scope, status: int) -> None:
        app: Any = scope.get("app")
        runtime = getattr(getattr(app, "state", None), "runtime", None)
        audit = getattr(runtime, "audit", None)
        if audit is None:
            return
        actor = getattr(scope.get("state", {}).get("actor"), "name", None) or "anonymous"
        resource = f"{scope.get('method', '')} {scope.get('path', '')}"
        try:
            await run_in_threadpool(audit.append, actor, "denied", resource, {"status": status})
        except (sqlite3.Error, OSError):  # the response is sent; do not fail the request
            log.exception("audit record of a refused %s not written", resource)
