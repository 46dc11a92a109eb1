"""The FastAPI application: ``create_app(runtime)`` wires the routes to a running service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import lookout
from lookout.api import routes_events, routes_ingest, routes_sources, routes_vessels, stream
from lookout.api.audit import AuditDenials
from lookout.api.deps import ApiRuntime
from lookout.api.stream import StreamHub

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
    )
    app.state.runtime = runtime
    app.state.hub = hub
    app.add_middleware(AuditDenials)
    for module in (routes_vessels, routes_events, routes_sources, routes_ingest, stream):
        app.include_router(module.router)
    return app
