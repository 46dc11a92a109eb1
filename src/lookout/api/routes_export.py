"""``/api/v1/export``: vessels and events as files: GeoJSON, KML or CSV.

Every row passes the caller's sharing view exactly as ``GET /api/v1/vessels`` and
``GET /api/v1/events`` do (docs/sharing.md); an export holds what those routes would show,
in another format. KML is OGC KML 2.2 (one Placemark per vessel or positioned event, every
property as ``ExtendedData``). CSV has one header row; lists are joined with ``;``, objects
written as JSON, and a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is prefixed with ``'`` so a spreadsheet never runs it as a formula (vessel names come
from AIS: anyone can transmit one).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from lookout.api.auth import Actor, require
from lookout.api.deps import ApiRuntime, get_runtime, query_ts
from lookout.api.limits import invalid, limited_actor
from lookout.api.params import BBoxQuery, TimeQuery, bbox_of
from lookout.api.routes_ogc import event_features, vessel_features
from lookout.api.sharing import View, policy_route
from lookout.pipeline.ports import EventQuery

__all__ = ["FORMATS", "router", "to_csv", "to_kml"]

router = APIRouter(prefix="/api/v1/export", tags=["export"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
Limit = Annotated[int, Query(ge=1, le=100_000, description="most rows in the file")]
KindQuery = Annotated[str | None, Query(description="event kind, e.g. zone_entry")]

FORMATS = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
}
"""File format -> media type."""
KML_NS = "http://www.opengis.net/kml/2.2"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(features: Sequence[dict[str, Any]]) -> str:
    """One header row (the properties of the first feature) and one row per feature."""
    out = io.StringIO()
    if not features:
        return ""
    columns = list(features[0]["properties"])
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for feature in features:
        props = feature["properties"]
        writer.writerow([_cell(props.get(c)) for c in columns])
    return out.getvalue()


def to_kml(features: Sequence[dict[str, Any]], title: str, name_of: str) -> bytes:
    """A KML 2.2 document: one Placemark per feature with a point geometry."""
    ET.register_namespace("", KML_NS)
    kml = ET.Element(f"{{{KML_NS}}}kml")
    doc = ET.SubElement(kml, f"{{{KML_NS}}}Document")
    ET.SubElement(doc, f"{{{KML_NS}}}name").text = title
    for feature in features:
        geometry = feature.get("geometry")
        if not geometry or geometry.get("type") != "Point":
            continue
        props = feature["properties"]
        mark = ET.SubElement(doc, f"{{{KML_NS}}}Placemark", {"id": f"f-{feature['id']}"})
        ET.SubElement(mark, f"{{{KML_NS}}}name").text = str(props.get(name_of) or feature["id"])
        data = ET.SubElement(mark, f"{{{KML_NS}}}ExtendedData")
        for key, value in props.items():
            item = ET.SubElement(data, f"{{{KML_NS}}}Data", {"name": key})
            ET.SubElement(item, f"{{{KML_NS}}}value").text = _cell(value)
        point = ET.SubElement(mark, f"{{{KML_NS}}}Point")
        lon, lat = geometry["coordinates"][:2]
        ET.SubElement(point, f"{{{KML_NS}}}coordinates").text = f"{lon},{lat}"
    text: bytes = ET.tostring(kml, encoding="utf-8", xml_declaration=True)
    return text


def _file(features: list[dict[str, Any]], fmt: str, stem: str, name_of: str) -> Response:
    if fmt == "geojson":
        body: bytes | str = json.dumps({"type": "FeatureCollection", "features": features})
    elif fmt == "kml":
        body = to_kml(features, f"Lookout {stem}", name_of)
    else:
        body = to_csv(features)
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="lookout-{stem}.{fmt}"'},
    )


def _vessels(actor: Actor, runtime: ApiRuntime, bbox: str | None, limit: int, fmt: str) -> Response:
    box = bbox_of(bbox)
    require(actor, "read", "vessels")
    features, _ = vessel_features(View(runtime, actor), actor, box, 0, limit)
    return _file(features, fmt, "vessels", "name")


def _events(
    actor: Actor,
    runtime: ApiRuntime,
    query: tuple[str | None, Any, Any, str | None],
    limit: int,
    fmt: str,
) -> Response:
    kind, since, until, bbox = query
    box = bbox_of(bbox)
    low, high = query_ts(since), query_ts(until)
    if low is not None and high is not None and low > high:
        raise invalid(("query", "since"), "since must not be after until")
    require(actor, "read", "events")
    wanted = EventQuery(kind=kind, since_ts=low, until_ts=high, bbox=box)
    features, _ = event_features(View(runtime, actor), actor, wanted, 0, limit)
    return _file(features, fmt, "events", "kind")


def _responses(fmt: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {FORMATS[fmt].split(";")[0]: {}}, "description": f"a {fmt} file"}}


_POLICY = policy_route("filtered")


@router.get("/vessels.geojson", response_class=Response, responses=_responses("geojson"),
            openapi_extra=_POLICY)  # fmt: skip
def vessels_geojson(
    actor: ActorDep, runtime: RuntimeDep, bbox: BBoxQuery = None, limit: Limit = 10_000
) -> Response:
    """Vessels the caller may see as a GeoJSON FeatureCollection."""
    return _vessels(actor, runtime, bbox, limit, "geojson")


@router.get("/vessels.kml", response_class=Response, responses=_responses("kml"),
            openapi_extra=_POLICY)  # fmt: skip
def vessels_kml(
    actor: ActorDep, runtime: RuntimeDep, bbox: BBoxQuery = None, limit: Limit = 10_000
) -> Response:
    """Vessels the caller may see as KML Placemarks."""
    return _vessels(actor, runtime, bbox, limit, "kml")


@router.get("/vessels.csv", response_class=Response, responses=_responses("csv"),
            openapi_extra=_POLICY)  # fmt: skip
def vessels_csv(
    actor: ActorDep, runtime: RuntimeDep, bbox: BBoxQuery = None, limit: Limit = 10_000
) -> Response:
    """Vessels the caller may see as CSV rows."""
    return _vessels(actor, runtime, bbox, limit, "csv")


@router.get("/events.geojson", response_class=Response, responses=_responses("geojson"),
            openapi_extra=_POLICY)  # fmt: skip
def events_geojson(
    actor: ActorDep, runtime: RuntimeDep, kind: KindQuery = None, since: TimeQuery = None,
    until: TimeQuery = None, bbox: BBoxQuery = None, limit: Limit = 10_000,
) -> Response:  # fmt: skip
    """Events the caller may see as a GeoJSON FeatureCollection (newest first)."""
    return _events(actor, runtime, (kind, since, until, bbox), limit, "geojson")


@router.get("/events.kml", response_class=Response, responses=_responses("kml"),
            openapi_extra=_POLICY)  # fmt: skip
def events_kml(
    actor: ActorDep, runtime: RuntimeDep, kind: KindQuery = None, since: TimeQuery = None,
    until: TimeQuery = None, bbox: BBoxQuery = None, limit: Limit = 10_000,
) -> Response:  # fmt: skip
    """Events the caller may see (with a position) as KML Placemarks."""
    return _events(actor, runtime, (kind, since, until, bbox), limit, "kml")


@router.get("/events.csv", response_class=Response, responses=_responses("csv"),
            openapi_extra=_POLICY)  # fmt: skip
def events_csv(
    actor: ActorDep, runtime: RuntimeDep, kind: KindQuery = None, since: TimeQuery = None,
    until: TimeQuery = None, bbox: BBoxQuery = None, limit: Limit = 10_000,
) -> Response:  # fmt: skip
    """Events the caller may see as CSV rows (newest first)."""
    return _events(actor, runtime, (kind, since, until, bbox), limit, "csv")
