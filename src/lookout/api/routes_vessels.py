"""``/api/v1/vessels``: the latest picture, one vessel with its identity history, its track."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from lookout.ais.tables import flag_of
from lookout.api.auth import Actor, authorize, require
from lookout.api.deps import ApiRuntime, get_runtime, query_ts
from lookout.api.geojson import track_feature_collection
from lookout.api.limits import invalid, limited_actor
from lookout.api.params import BBoxQuery, TimeQuery, bbox_of
from lookout.api.schemas import (
    StaticOut,
    TrackOut,
    TrackPointOut,
    VesselDetailOut,
    VesselOut,
    VesselsOut,
)
from lookout.api.sharing import View, policy_route
from lookout.model import TrackPoint, VesselState
from lookout.sharing.policy import feed_of

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["vessels"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
Mmsi = Annotated[int, Path(ge=1, le=999_999_999, description="Nine-digit MMSI")]
MAX_LIMIT = 100_000


AT_LOOKBACK_S = 3600.0
"""``GET /vessels?at=``: how far before ``at`` a vessel's last position may lie for it to
be in the picture, seconds."""

SearchQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=60,
        description="only vessels whose MMSI starts with it, or whose name or call sign "
        "contains it (case-insensitive)",
    ),
]


@router.get("/vessels", response_model=VesselsOut, openapi_extra=policy_route("filtered"))
def list_vessels(
    actor: ActorDep,
    runtime: RuntimeDep,
    bbox: BBoxQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10_000,
    at: TimeQuery = None,
    q: SearchQuery = None,
) -> VesselsOut:
    """Latest state of every vessel whose latest position lies in ``bbox``; with ``at``, each
    vessel's latest position at or before ``at`` (within an hour); with ``q``, only the
    vessels it finds."""
    box = bbox_of(bbox)
    require(actor, "read", "vessels")
    view = View(runtime, actor)
    at_ts = query_ts(at)
    if at_ts is None:
        states = view.vessels(
            s
            for s in runtime.store.vessels(box, MAX_LIMIT if q else limit)
            if authorize(actor, "read", f"vessel:{s.mmsi}")
        )
    else:
        states = _picture_at(view, actor, at_ts)
    shown = [
        VesselOut.of(v, label=view.vessel_label(v))
        for v in states
        if (box is None or box.contains(v.lat, v.lon)) and (q is None or _found(v, q))
    ][:limit]
    return VesselsOut(count=len(shown), limit=limit, vessels=shown)


def _found(state: VesselState, q: str) -> bool:
    """Whether a search finds the vessel as shown: MMSI prefix, or name or call sign."""
    text = q.strip().upper()
    return str(state.mmsi).startswith(text) or any(
        text in (value or "").upper() for value in (state.name, state.callsign)
    )


def _picture_at(view: View, actor: Actor, at_ts: float) -> list[VesselState]:
    """Each vessel as it was at ``at_ts``: its latest point the caller may see within
    :data:`AT_LOOKBACK_S` (coarsened as agreed), from the sources it may see, with the
    identity it may see now."""
    store = view.runtime.store
    by_mmsi: dict[int, list[TrackPoint]] = {}
    for p in view.points(store.vessels_at(at_ts, AT_LOOKBACK_S, MAX_LIMIT)):
        by_mmsi.setdefault(p.mmsi, []).append(p)
    now = {s.mmsi: s for s in store.vessels(None, MAX_LIMIT) if s.mmsi in by_mmsi}
    shown: list[VesselState] = []
    for mmsi, points in by_mmsi.items():
        if not authorize(actor, "read", f"vessel:{mmsi}"):
            continue
        current = now.get(mmsi)
        known = view.vessel(current) if current is not None else None
        last = max(points, key=lambda p: p.observed_ts)
        base = known or VesselState(mmsi, 0, 0.0, 0.0, 0.0, None, None, None, None, flag_of(mmsi))
        shown.append(
            replace(
                base,
                segment=last.segment, observed_ts=last.observed_ts, lat=last.lat, lon=last.lon,
                speed_kn=last.speed_kn, course_deg=last.course_deg, heading_deg=last.heading_deg,
                status=None, members=tuple(sorted({p.member for p in points})),
                sources=tuple(sorted({feed_of(p.member, p.source) for p in points})),
                positions=len(points),
            )
        )  # fmt: skip
    return shown


@router.get(
    "/vessels/{mmsi}", response_model=VesselDetailOut, openapi_extra=policy_route("filtered")
)
def get_vessel(actor: ActorDep, runtime: RuntimeDep, mmsi: Mmsi) -> VesselDetailOut:
    """One vessel's latest state with its identity history (oldest first)."""
    require(actor, "read", f"vessel:{mmsi}")
    view = View(runtime, actor)
    state = _visible_vessel(view, mmsi)
    statics = [StaticOut.of(s) for s in view.statics(runtime.store.statics(mmsi))]
    return VesselDetailOut.of(state, statics=statics, label=view.vessel_label(state))


def _visible_vessel(view: View, mmsi: int) -> VesselState:
    """The vessel as the caller may see it; 404 alike whether it is unknown or withheld, so
    the answer does not tell that a withheld vessel exists."""
    state = view.runtime.store.vessel(mmsi)
    shown = view.vessel(state) if state is not None else None
    if shown is None:
        raise HTTPException(status_code=404, detail=f"no vessel with MMSI {mmsi}")
    return shown


_TRACK_200 = {
    "model": TrackOut,
    "description": "the track points (format=json) or a GeoJSON FeatureCollection (geojson)",
    "content": {
        "application/geo+json": {
            "schema": {"type": "object", "description": "RFC 7946 FeatureCollection"}
        }
    },
}


@router.get(
    "/vessels/{mmsi}/track",
    response_model=None,
    responses={200: _TRACK_200},
    openapi_extra=policy_route("filtered"),
)
def get_track(
    actor: ActorDep,
    runtime: RuntimeDep,
    mmsi: Mmsi,
    start: TimeQuery = None,
    end: TimeQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10_000,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> TrackOut | JSONResponse:
    """Track points in time order (``start <= t <= end``); ``format=geojson`` gives one
    Feature per segment."""
    require(actor, "read", f"vessel:{mmsi}")
    start_ts, end_ts = query_ts(start), query_ts(end)
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise invalid(("query", "start"), "start must not be after end")
    view = View(runtime, actor)
    _visible_vessel(view, mmsi)
    points = view.points(runtime.store.track(mmsi, start_ts, end_ts, limit))
    if format == "geojson":
        body = track_feature_collection(mmsi, points)
        return JSONResponse(body, media_type="application/geo+json")
    shown = [TrackPointOut.of(p, label=view.label_of(p.member, p.source)) for p in points]
    return TrackOut(mmsi=mmsi, count=len(shown), limit=limit, points=shown)
