"""``/api/v1/vessels``: the latest picture, one vessel with its identity history, its track."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from lookout.api.auth import Actor, authorize, current_actor, require
from lookout.api.deps import ApiRuntime, get_runtime, parse_bbox, query_ts
from lookout.api.geojson import track_feature_collection
from lookout.api.schemas import (
    StaticOut,
    TrackOut,
    TrackPointOut,
    VesselDetailOut,
    VesselOut,
    VesselsOut,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["vessels"])

ActorDep = Annotated[Actor, Depends(current_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
Mmsi = Annotated[int, Path(ge=1, le=999_999_999, description="Nine-digit MMSI")]
MAX_LIMIT = 100_000


@router.get("/vessels", response_model=VesselsOut)
def list_vessels(
    actor: ActorDep,
    runtime: RuntimeDep,
    bbox: Annotated[
        str | None, Query(description="west,south,east,north in degrees (WGS84)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10_000,
) -> VesselsOut:
    """Latest state of every vessel whose latest position lies in ``bbox``."""
    box = parse_bbox(bbox)
    require(actor, "read", "vessels")
    states = runtime.store.vessels(box, limit)
    shown = [VesselOut.of(v) for v in states if authorize(actor, "read", f"vessel:{v.mmsi}")]
    return VesselsOut(count=len(shown), limit=limit, vessels=shown)


@router.get("/vessels/{mmsi}", response_model=VesselDetailOut)
def get_vessel(actor: ActorDep, runtime: RuntimeDep, mmsi: Mmsi) -> VesselDetailOut:
    """One vessel's latest state with its identity history (oldest first)."""
    require(actor, "read", f"vessel:{mmsi}")
    state = runtime.store.vessel(mmsi)
    if state is None:
        raise HTTPException(status_code=404, detail=f"no vessel with MMSI {mmsi}")
    statics = [StaticOut.of(s) for s in runtime.store.statics(mmsi)]
    return VesselDetailOut.of(state, statics=statics)


@router.get("/vessels/{mmsi}/track", response_model=None)
def get_track(
    actor: ActorDep,
    runtime: RuntimeDep,
    mmsi: Mmsi,
    start: Annotated[datetime | None, Query(description="ISO 8601; no offset = UTC")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601; no offset = UTC")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10_000,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> TrackOut | JSONResponse:
    """Track points in time order (``start <= t <= end``); ``format=geojson`` gives one
    Feature per segment."""
    require(actor, "read", f"vessel:{mmsi}")
    start_ts, end_ts = query_ts(start), query_ts(end)
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise HTTPException(status_code=422, detail="start must not be after end")
    if runtime.store.vessel(mmsi) is None:
        raise HTTPException(status_code=404, detail=f"no vessel with MMSI {mmsi}")
    points = runtime.store.track(mmsi, start_ts, end_ts, limit)
    if format == "geojson":
        body = track_feature_collection(mmsi, points)
        return JSONResponse(body, media_type="application/geo+json")
    return TrackOut(
        mmsi=mmsi, count=len(points), limit=limit, points=[TrackPointOut.of(p) for p in points]
    )
