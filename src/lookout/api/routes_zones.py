"""``GET /api/v1/zones``: the zones the running service watches, as GeoJSON for a map.

The zones are those of the runtime's zone index (the ``zone_entry``/``zone_exit`` detectors'),
so the map shows exactly the boundaries alerts are raised on. Coordinates are rounded to 5
decimals (about 1 m), which keeps the South China Sea pack near 1 MB.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from shapely.geometry import mapping

from lookout.api.auth import Actor, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.limits import limited_actor
from lookout.api.sharing import policy_route
from lookout.geo.zones import Zone

__all__ = ["router", "zone_feature"]

router = APIRouter(prefix="/api/v1", tags=["zones"])

DECIMALS = 5


def zone_feature(zone: Zone) -> dict[str, Any]:
    """One zone as a GeoJSON Feature: ``id``, ``name``, ``regime``, ``owners``,
    ``approximate`` and ``source`` in its properties."""
    rounded = shapely.transform(zone.geometry, lambda xy: np.round(xy, DECIMALS))
    return {
        "type": "Feature",
        "id": zone.id,
        "geometry": mapping(rounded),
        "properties": {
            "id": zone.id,
            "name": zone.name,
            "regime": str(zone.regime),
            "owners": list(zone.owners),
            "approximate": zone.approximate,
            "source": zone.source,
        },
    }


_ZONES_200 = {
    "description": "the watched zones as an RFC 7946 FeatureCollection",
    "content": {"application/geo+json": {"schema": {"type": "object"}}},
}


@router.get(
    "/zones",
    response_model=None,
    responses={200: _ZONES_200},
    openapi_extra=policy_route("reference"),
)
def list_zones(
    actor: Annotated[Actor, Depends(limited_actor)],
    runtime: Annotated[ApiRuntime, Depends(get_runtime)],
) -> JSONResponse:
    """The watched zones as a GeoJSON FeatureCollection (empty when no zone detector runs)."""
    require(actor, "read", "zones")
    index = runtime.zone_index()
    zones = index.zones if index is not None else ()
    body = {"type": "FeatureCollection", "features": [zone_feature(z) for z in zones]}
    return JSONResponse(body, media_type="application/geo+json")
