"""``/ogc``: OGC API - Features (Part 1: Core, read-only) over vessels, events and zones.

Conformance classes: Core and GeoJSON of OGC 17-069r4 (OGC API - Features - Part 1: Core,
version 1.0). Every route needs a token like the rest of the API, and every feature passes
the caller's sharing view (:class:`~lookout.api.sharing.View`) exactly as the REST routes do:
a vessel or event the caller may not see is absent from the items and a 404 by id, and what
it may see in part is shown as the REST routes show it (docs/outputs.md, docs/sharing.md).

Items are paged with ``limit`` and ``offset``; a ``next`` link is given while more features
follow. The policy is applied before paging, so a page holds ``limit`` features whenever
that many are visible (scanning at most :data:`MAX_SCAN` stored objects).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

import shapely
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from lookout.api.auth import Actor, authorize, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.geojson import iso_utc
from lookout.api.limits import limited_actor
from lookout.api.params import BBoxQuery, bbox_of
from lookout.api.routes_events import event_out
from lookout.api.routes_zones import zone_feature
from lookout.api.schemas import VesselOut
from lookout.api.sharing import View, policy_route
from lookout.model import BBox, VesselState
from lookout.pipeline.ports import EventQuery

__all__ = [
    "COLLECTIONS",
    "CONFORMANCE",
    "event_features",
    "router",
    "vessel_features",
]


def output_format(
    f: Annotated[
        Literal["json", "geojson", "application/json", "application/geo+json"] | None,
        Query(description="output format; JSON (GeoJSON for features) is the only one"),
    ] = None,
) -> None:
    """Accept the ``f`` parameter OGC clients send (other encodings are refused, 422)."""


router = APIRouter(prefix="/ogc", tags=["ogc"], dependencies=[Depends(output_format)])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
CollectionId = Annotated[str, Path(max_length=64, description="vessels, events or zones")]
FeatureId = Annotated[str, Path(max_length=512, description="the feature's id")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="most features in the page")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="features to skip")]

GEOJSON = "application/geo+json"
SPEC = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
CONFORMANCE = (f"{SPEC}/core", f"{SPEC}/geojson")
"""The conformance classes Lookout declares (OGC 17-069r4, sections 7 and 8)."""
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MAX_SCAN = 100_000
"""Most stored objects one page scans to fill itself with visible features."""
COLLECTIONS = {
    "vessels": ("Vessels", "the latest fused state of every vessel the caller may see"),
    "events": ("Events", "detector events (latest version of each) the caller may see"),
    "zones": ("Zones", "the maritime zones the service watches (shared reference data)"),
}
"""Collection id -> (title, description)."""

T = TypeVar("T")
U = TypeVar("U")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _link(href: str, rel: str, kind: str = "application/json", title: str = "") -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": kind}
    return {**out, "title": title} if title else out


def _json(body: dict[str, Any], media_type: str = "application/json") -> JSONResponse:
    return JSONResponse(body, media_type=media_type)


@router.get("", response_model=None, openapi_extra=policy_route("public"))
def landing_page(request: Request, actor: ActorDep) -> JSONResponse:
    """The landing page: links to the API definition, conformance and the collections."""
    require(actor, "read", "ogc")
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return _json(
        {
            "title": "Lookout OGC API - Features",
            "description": "Vessels, events and zones of the Lookout network, as the caller's "
            "member may see them.",
            "links": [
                _link(base, "self", title="this document"),
                _link(f"{root}/openapi.json", "service-desc",
                      "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
                _link(f"{root}/docs", "service-doc", "text/html", "the API documentation"),
                _link(f"{base}/conformance", "conformance", title="conformance classes"),
                _link(f"{base}/collections", "data", title="the collections"),
            ],
        }
    )  # fmt: skip


@router.get("/conformance", response_model=None, openapi_extra=policy_route("public"))
def conformance(actor: ActorDep) -> JSONResponse:
    """The conformance classes this API implements."""
    require(actor, "read", "ogc")
    return _json({"conformsTo": list(CONFORMANCE)})


def _collection(base: str, cid: str) -> dict[str, Any]:
    title, description = COLLECTIONS[cid]
    here = f"{base}/collections/{cid}"
    return {
        "id": cid,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}},
        "links": [
            _link(here, "self"),
            _link(f"{here}/items", "items", GEOJSON, f"{title} as GeoJSON"),
        ],
    }


@router.get("/collections", response_model=None, openapi_extra=policy_route("reference"))
def collections(request: Request, actor: ActorDep) -> JSONResponse:
    """The collections: ``vessels``, ``events``, ``zones``."""
    require(actor, "read", "ogc")
    base = _base(request)
    return _json(
        {
            "links": [_link(f"{base}/collections", "self")],
            "collections": [_collection(base, cid) for cid in COLLECTIONS],
        }
    )


def _known(cid: str) -> str:
    if cid not in COLLECTIONS:
        raise HTTPException(status_code=404, detail=f"no collection {cid!r}")
    return cid


@router.get(
    "/collections/{collection_id}", response_model=None, openapi_extra=policy_route("reference")
)
def collection(request: Request, actor: ActorDep, collection_id: CollectionId) -> JSONResponse:
    """One collection's description and links."""
    require(actor, "read", "ogc")
    return _json(_collection(_base(request), _known(collection_id)))


# -- features --------------------------------------------------------------------------------


def _page(
    fetch: Callable[[int], Sequence[T]],
    show: Callable[[T], U | None],
    offset: int,
    limit: int,
) -> tuple[list[U], bool]:
    """Features ``offset .. offset+limit`` of those the caller may see, and whether more
    follow: fetches ever more stored objects until the page is full or the store is done."""
    want = offset + limit + 1
    n = min(want, MAX_SCAN)
    while True:
        raw = fetch(n)
        shown = [v for r in raw if (v := show(r)) is not None]
        if len(shown) >= want or len(raw) < n or n >= MAX_SCAN:
            return shown[offset : offset + limit], len(shown) > offset + limit
        n = min(n * 4, MAX_SCAN)


def _point(lat: float | None, lon: float | None) -> dict[str, Any] | None:
    if lat is None or lon is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def vessel_feature(view: View, state: VesselState) -> dict[str, Any]:
    props = VesselOut.of(state, label=view.vessel_label(state)).model_dump(mode="json")
    return {"type": "Feature", "id": state.mmsi, "geometry": _point(state.lat, state.lon),
            "properties": props}  # fmt: skip


def vessel_features(
    view: View, actor: Actor, box: BBox | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """The vessels the caller may see (in ``box`` as shown), lowest MMSI first."""

    def show(state: VesselState) -> dict[str, Any] | None:
        if not authorize(actor, "read", f"vessel:{state.mmsi}"):
            return None
        shown = view.vessel(state)
        if shown is None or (box is not None and not box.contains(shown.lat, shown.lon)):
            return None
        return vessel_feature(view, shown)

    return _page(lambda n: view.runtime.store.vessels(box, n), show, offset, limit)


def event_feature(event: dict[str, Any]) -> dict[str, Any]:
    props = event_out(event).model_dump(mode="json")
    return {"type": "Feature", "id": props["id"], "geometry": _point(props["lat"], props["lon"]),
            "properties": props}  # fmt: skip


def event_features(
    view: View, actor: Actor, query: EventQuery, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """The events the caller may see matching ``query`` (in its box as shown), newest first."""
    box = query.bbox

    def show(event: dict[str, Any]) -> dict[str, Any] | None:
        if not authorize(actor, "read", f"event:{event['kind']}"):
            return None
        shown = view.event(event)
        if shown is None:
            return None
        lat, lon = shown.get("lat"), shown.get("lon")
        if box is not None and (lat is None or lon is None or not box.contains(lat, lon)):
            return None
        return event_feature(shown)

    def fetch(n: int) -> Sequence[dict[str, Any]]:
        return view.runtime.store.events(
            EventQuery(kind=query.kind, since_ts=query.since_ts, until_ts=query.until_ts,
                       bbox=box, limit=n)
        )  # fmt: skip

    return _page(fetch, show, offset, limit)


def _boxes(box: BBox) -> list[shapely.Geometry]:
    """The box as one or two shapely boxes (split at the antimeridian)."""
    if box.west <= box.east:
        return [shapely.box(box.west, box.south, box.east, box.north)]
    return [shapely.box(box.west, box.south, 180, box.north),
            shapely.box(-180, box.south, box.east, box.north)]  # fmt: skip


def zone_features(
    runtime: ApiRuntime, box: BBox | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    index = runtime.zone_index()
    zones = list(index.zones) if index is not None else []
    if box is not None:
        boxes = _boxes(box)
        zones = [z for z in zones if any(z.geometry.intersects(b) for b in boxes)]
    page = zones[offset : offset + limit]
    return [zone_feature(z) for z in page], len(zones) > offset + limit


@router.get(
    "/collections/{collection_id}/items",
    response_model=None,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection"}},
    openapi_extra=policy_route("filtered"),
)
def items(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    collection_id: CollectionId,
    bbox: BBoxQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> JSONResponse:
    """The features of a collection the caller may see, in ``bbox``, paged."""
    cid = _known(collection_id)
    box = bbox_of(bbox)
    require(actor, "read", "zones" if cid == "zones" else cid)
    if cid == "vessels":
        features, more = vessel_features(View(runtime, actor), actor, box, offset, limit)
    elif cid == "events":
        query = EventQuery(bbox=box)
        features, more = event_features(View(runtime, actor), actor, query, offset, limit)
    else:
        features, more = zone_features(runtime, box, offset, limit)
    return _json(_collection_body(request, features, more, offset, limit), GEOJSON)


def _collection_body(
    request: Request, features: list[dict[str, Any]], more: bool, offset: int, limit: int
) -> dict[str, Any]:
    url = request.url
    links = [_link(str(url), "self", GEOJSON)]
    if more:
        links.append(_link(str(url.include_query_params(offset=offset + limit)), "next", GEOJSON))
    return {
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "numberReturned": len(features),
        "timeStamp": iso_utc(time.time()),
    }


# -- one feature: one route per collection, so each path has a single parameter ------------


def _feature(request: Request, cid: str, feature: dict[str, Any] | None, fid: str) -> JSONResponse:
    """One feature with its links; 404 alike for an unknown and a withheld feature."""
    if feature is None:
        raise HTTPException(status_code=404, detail=f"no feature {fid!r} in {cid}")
    here = f"{_base(request)}/collections/{cid}"
    feature["links"] = [
        _link(str(request.url), "self", GEOJSON),
        _link(here, "collection", title=COLLECTIONS[cid][0]),
    ]
    return _json(feature, GEOJSON)


_FEATURE_200: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}}, "description": "a GeoJSON Feature"}
}


@router.get(
    "/collections/vessels/items/{feature_id}",
    response_model=None,
    responses=_FEATURE_200,
    openapi_extra=policy_route("filtered"),
)
def vessel_item(
    request: Request, actor: ActorDep, runtime: RuntimeDep, feature_id: FeatureId
) -> JSONResponse:
    """One vessel (``feature_id``: its MMSI) as the caller may see it."""
    require(actor, "read", "vessels")
    view = View(runtime, actor)
    mmsi = int(feature_id) if feature_id.isdigit() and len(feature_id) <= 9 else None
    state = runtime.store.vessel(mmsi) if mmsi else None
    shown = None
    if state is not None and authorize(actor, "read", f"vessel:{state.mmsi}"):
        shown = view.vessel(state)
    found = vessel_feature(view, shown) if shown is not None else None
    return _feature(request, "vessels", found, feature_id)


@router.get(
    "/collections/events/items/{feature_id}",
    response_model=None,
    responses=_FEATURE_200,
    openapi_extra=policy_route("filtered"),
)
def event_item(
    request: Request, actor: ActorDep, runtime: RuntimeDep, feature_id: FeatureId
) -> JSONResponse:
    """One event (latest version; ``feature_id``: its id) as the caller may see it."""
    require(actor, "read", "events")
    versions = runtime.store.event_history(feature_id)
    latest = versions[-1] if versions else None
    shown = None
    if latest is not None and authorize(actor, "read", f"event:{latest['kind']}"):
        shown = View(runtime, actor).event(latest)
    found = event_feature(shown) if shown is not None else None
    return _feature(request, "events", found, feature_id)


@router.get(
    "/collections/zones/items/{feature_id}",
    response_model=None,
    responses=_FEATURE_200,
    openapi_extra=policy_route("reference"),
)
def zone_item(
    request: Request, actor: ActorDep, runtime: RuntimeDep, feature_id: FeatureId
) -> JSONResponse:
    """One watched zone (``feature_id``: its id)."""
    require(actor, "read", "zones")
    index = runtime.zone_index()
    zone = next((z for z in (index.zones if index else ()) if z.id == feature_id), None)
    return _feature(request, "zones", zone_feature(zone) if zone else None, feature_id)
