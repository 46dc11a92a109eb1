"""Distance from the coastline: the :class:`Shore` interface and a polygon implementation.

``distance_to_shore_m(lat, lon)`` is *signed*: positive at sea (metres to the nearest
coastline), negative inland (metres to the nearest coastline, negated), zero on the coast.
Detectors ask it "how far from shore" (``loitering``: >= 20 nm; ``ais_gap``: > 50 nm for
suspected disabling) and "how far inland" (``position_on_land``: > 2 km).

Where the data comes from is the caller's business: :class:`PolygonShore` measures against
land polygons passed in (tests, a bundled region pack); the adapter
:class:`lookout.sources.land_mask.LandMaskShore` wraps the global 1 km land mask of the
``global-land-mask`` package.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import cos, radians
from typing import Protocol, runtime_checkable

import shapely
from shapely.geometry.base import BaseGeometry

from lookout.geo.distance import distance_m

__all__ = ["PolygonShore", "Shore"]


@runtime_checkable
class Shore(Protocol):
    """Signed distance to the coastline: positive at sea, negative inland, metres."""

    def distance_to_shore_m(self, lat: float, lon: float) -> float:
        """Metres from (lat, lon) to the nearest coastline; negative on land."""
        ...


class PolygonShore:
    """:class:`Shore` from land polygons in lon/lat degrees (shapely geometries).

    The nearest coastline point is found in degrees (longitudes scaled by the cosine of the
    query's latitude, so the nearest point is right for the local distances that matter) and
    the distance to it is the great-circle distance. Far from any land the answer is the
    distance to the nearest polygon, however far. Polygons do not cross the antimeridian.
    """

    def __init__(self, land: Iterable[BaseGeometry]) -> None:
        self._land = shapely.union_all(list(land))
        self._coast = self._land.boundary
        shapely.prepare(self._land)

    def distance_to_shore_m(self, lat: float, lon: float) -> float:
        if self._coast.is_empty:
            return float("inf")
        scale = max(0.01, cos(radians(lat)))
        point = shapely.Point(lon * scale, lat)
        coast = shapely.transform(self._coast, lambda xy: xy * [scale, 1.0])
        nearest = shapely.get_point(shapely.shortest_line(point, coast), 1)
        near_lon, near_lat = shapely.get_x(nearest) / scale, shapely.get_y(nearest)
        metres = distance_m(lat, lon, near_lat, near_lon)
        inland = self._land.contains(shapely.Point(lon, lat)) and metres > 0.0
        return -metres if inland else metres
