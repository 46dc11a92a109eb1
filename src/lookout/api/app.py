"""The FastAPI application: ``create_app(runtime)`` wires the routes to a running service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
from lookout.web import mount_web

__all__ = ["create_app"]

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
