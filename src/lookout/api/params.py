"""Query parameters shared by several routes, validated strictly and described exactly in the
OpenAPI schema: a ``bbox`` and ISO 8601 times.

What the schema declares is what the server accepts: a ``bbox`` has a ``pattern`` that admits
four numbers in range (``west,south,east,north``, longitudes -180..180, latitudes -90..90, at
most 12 decimals); the one rule a pattern cannot say (``south <= north``) is a 422 with
``loc: ["query", "bbox"]``. Times are ``date-time`` strings; a number (which pydantic would
read as Unix seconds) is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import HTTPException, Query, Request
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from lookout.api.deps import parse_bbox
from lookout.api.limits import invalid
from lookout.model import BBox

__all__ = ["BBOX_PATTERN", "BBoxQuery", "TimeQuery", "bbox_of", "known_query"]

_LON = r"-?(?:180(?:\.0{1,12})?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]{1,12})?)"
_LAT = r"-?(?:90(?:\.0{1,12})?|[1-8]?[0-9](?:\.[0-9]{1,12})?)"
BBOX_PATTERN = rf"^{_LON},{_LAT},{_LON},{_LAT}$"
"""``west,south,east,north`` in degrees: four plain decimal numbers in range."""
_BBOX = re.compile(BBOX_PATTERN)
_ISO_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

BBoxQuery = Annotated[
    str | None,
    Query(
        json_schema_extra={"pattern": BBOX_PATTERN},
        max_length=120,
        description="west,south,east,north in degrees (WGS84); south <= north; west > east "
        "crosses the antimeridian",
    ),
]


def _iso_only(value: object) -> object:
    """Refuse what is not an ISO 8601 string (pydantic would take ``0.5`` as Unix seconds)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_START.match(value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2024-05-01T10:00:00Z")
    return value


TimeQuery = Annotated[
    datetime | None,
    BeforeValidator(_iso_only),
    Query(description="ISO 8601 date-time; no offset = UTC"),
]


def bbox_of(text: str | None) -> BBox | None:
    """The box of a ``bbox`` query; 422 naming what is wrong unless it matches
    :data:`BBOX_PATTERN` with ``south <= north``."""
    if text is None:
        return None
    try:
        box = parse_bbox(text)
    except HTTPException as exc:  # its detail says which rule the text breaks
        raise invalid(("query", "bbox"), str(exc.detail)) from None
    if box is None or not _BBOX.match(text):
        why = "expected plain decimal numbers (at most 12 decimals, no exponent or spaces)"
        raise invalid(("query", "bbox"), f"invalid bbox {text!r}: {why}")
    return box


def _query_names(request: Request, route: APIRoute) -> frozenset[str]:
    """The query parameters the OpenAPI schema declares for this route and method."""
    key = (route.path_format, request.method.lower())
    cache: dict[tuple[str, str], frozenset[str]] | None = getattr(
        request.app.state, "query_names", None
    )
    if cache is None:
        cache = request.app.state.query_names = {}
    if key not in cache:
        operation = request.app.openapi().get("paths", {}).get(key[0], {}).get(key[1], {})
        params = operation.get("parameters", [])
        cache[key] = frozenset(p["name"] for p in params if p.get("in") == "query")
    return cache[key]


def known_query(request: Request) -> None:
    """App-wide dependency: 422 for a query parameter the route does not take, so a typo
    (``?bbx=...``) is an error instead of a silently unfiltered answer."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(request, route))
    if unknown:
        raise HTTPException(
            status_code=422,
            detail=[
                {"loc": ["query", n], "msg": "unknown query parameter", "type": "extra_forbidden"}
                for n in unknown
            ],
        )
