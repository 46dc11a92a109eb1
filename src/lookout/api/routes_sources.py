"""``/api/v1/sources``, ``/api/v1/status`` and the unauthenticated ``/api/v1/health``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

import lookout
from lookout.api.auth import Actor, authorize, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.limits import RateLimits, limited_actor
from lookout.api.schemas import HealthOut, OutputStatusOut, SourceOut, SourcesOut, StatusOut
from lookout.api.sharing import View, policy_route

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["service"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]


@router.get("/sources", response_model=SourcesOut, openapi_extra=policy_route("filtered"))
def list_sources(actor: ActorDep, runtime: RuntimeDep) -> SourcesOut:
    """Configured sources and every source seen in the store, with ingest statistics."""
    require(actor, "read", "sources")
    stats = {(s.member, s.source): s for s in runtime.store.ingest_stats()}
    configs = {(c.member, c.name): c for c in runtime.sources()}
    out = []
    view = View(runtime, actor)
    for member, name in sorted(stats.keys() | configs.keys()):
        if not authorize(actor, "read", f"source:{member}/{name}") or not view.source(member, name):
            continue
        cfg = configs.get((member, name))
        kind = cfg.kind if cfg else None
        simulated = cfg.simulated if cfg else False
        stat = stats.get((member, name))
        row = SourceOut.of(stat, member=member, name=name, kind=kind, simulated=simulated)
        bound = runtime.bound_address(member, name)
        row.listen = f"{bound[0]}:{bound[1]}" if bound else None
        row.transport = runtime.transport_stats(member, name)
        out.append(row)
    return SourcesOut(sources=out)


@router.get("/status", response_model=StatusOut, openapi_extra=policy_route("aggregate"))
def status(actor: ActorDep, runtime: RuntimeDep, request: Request) -> StatusOut:
    """Live counters of the running service (queue depth, batches, lines), and of the outputs
    the caller administers (its member's, or all for a network admin)."""
    require(actor, "read", "status")
    hub = request.app.state.hub
    limits: RateLimits = request.app.state.rate_limits
    counters = {**runtime.counters(), "rate_limited": sum(limits.refused.values())}
    running = getattr(runtime, "outputs", None)  # lookout.sinks.Outputs, while started
    outputs = [
        OutputStatusOut.of(entry)
        for entry in (running.status() if running is not None else ())
        if authorize(actor, "administer", f"member:{entry['member']}")
    ]
    return StatusOut(
        version=lookout.__version__, stream_clients=hub.clients, counters=counters, outputs=outputs
    )


@router.get("/health", response_model=HealthOut, openapi_extra=policy_route("public"))
def health() -> HealthOut:
    """Liveness probe; needs no token."""
    return HealthOut(status="ok", version=lookout.__version__)
