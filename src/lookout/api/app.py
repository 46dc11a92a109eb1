"""The FastAPI application: ``create_app(runtime)`` wires the routes to a running service."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import lookout
from lookout.api import (
    routes_alerts,
    routes_auth,
    routes_events,
    routes_export,
    routes_incidents,
    routes_ingest,
    routes_ogc,
    routes_sources,
    routes_vessels,
    routes_zones,
    stream,
)
from lookout.api.audit import AuditDenials
from lookout.api.deps import ApiRuntime
from lookout.api.limits import ERROR_RESPONSES, install_limits
from lookout.api.params import known_query
from lookout.api.stream import StreamHub
from lookout.service.roles import NotServedHere
from lookout.storage import StoreOutage
from lookout.web import mount_web

__all__ = ["STORE_OUTAGE", "create_app"]

log = logging.getLogger(__name__)

STORE_OUTAGE = "the store does not answer (its database is down or restarting); retry later"
"""The ``detail`` of a 503 answered while the store's database does not answer."""

_OUTAGE_LOG_EVERY_S = 10.0
_outage_logged_at = [float("-inf")]

DESCRIPTION = """\
Lookout's HTTP API. Every route except `/api/v1/health` and the docs needs
`Authorization: Bearer <token>`: an API token for reads, a source's ingest key for
`POST /api/v1/ingest/nmea`. Times are ISO 8601 UTC (`*_at`); units are in field names.
"""


def create_app(
    runtime: ApiRuntime,
    *,
    manage_runtime: bool = False,
    keepalive_s: float = 15.0,
    stream_queue_size: int = 1000,
) -> FastAPI:
    """The API over ``runtime``.

    With ``manage_runtime`` the app starts the runtime on startup and stops it (draining every
    submitted batch to the store) on shutdown; otherwise the caller owns its lifecycle.
    ``keepalive_s`` spaces SSE keepalive comments; ``stream_queue_size`` bounds each SSE
    client's queue (oldest dropped beyond it).
    """
    hub = StreamHub(keepalive_s=keepalive_s, queue_size=stream_queue_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_runtime:
            await run_in_threadpool(runtime.start)
        try:
            yield
        finally:
            hub.close()
            if manage_runtime:
                await run_in_threadpool(runtime.stop)

    app = FastAPI(
        title="Lookout",
        version=lookout.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        dependencies=[Depends(known_query)],
    )
    app.state.runtime = runtime
    app.state.hub = hub
    app.add_middleware(AuditDenials)
    install_limits(app, runtime.settings)
    app.add_exception_handler(NotServedHere, _not_served_here)
    app.add_exception_handler(StoreOutage, _store_outage)
    for error in _database_outages():
        app.add_exception_handler(error, _store_outage)
    _declare_store_outage(app)
    for module in (
        routes_auth,
        routes_vessels,
        routes_events,
        routes_alerts,
        routes_sources,
        routes_ingest,
        routes_zones,
        routes_incidents,
        routes_export,
        routes_ogc,
        stream,
    ):
        app.include_router(module.router)
    mount_web(app)
    return app


async def _not_served_here(request: Request, exc: Exception) -> JSONResponse:
    """A route this node's role does not serve (``lookout serve --role``): 503, which to ask."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})


def _database_outages() -> list[type[Exception]]:
    """psycopg's "the server does not answer" error, when psycopg is installed: stores other
    than PostGIS's (identity, audit, incidents shared in PostgreSQL) raise it as it is."""
    try:
        import psycopg
    except ImportError:
        return []
    return [psycopg.OperationalError]


async def _store_outage(request: Request, exc: Exception) -> JSONResponse:
    """A request that met a store outage (PostgreSQL down or restarting): 503, retry soon.
    The reason (which server, what it said) goes to the log, at most every 10 s."""
    now = time.monotonic()
    if now - _outage_logged_at[0] >= _OUTAGE_LOG_EVERY_S:
        _outage_logged_at[0] = now
        log.warning("%s %s answered 503: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": STORE_OUTAGE}, status_code=503, headers={"Retry-After": "1"})


def _declare_store_outage(app: FastAPI) -> None:
    """Declare the outage 503 on every authenticated read (a GET) in the OpenAPI schema."""
    build = app.openapi
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    text = "the store's database does not answer; retry after Retry-After s"

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for method, op in operations.items():
                if method == "get" and op.get("security"):
                    op["responses"].setdefault("503", {"description": text, "content": ref})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
