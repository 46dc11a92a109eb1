"""What the API needs from the running service: the ``ApiRuntime`` port and request helpers.

:class:`lookout.service.runtime.Runtime` implements this port; tests may pass a small fake.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import HTTPException, Request

from lookout.model import BBox, Frame, IngestReceipt, Lines, ReportRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lookout.geo.zones import ZoneIndex
    from lookout.pipeline.ports import Bus, Store
    from lookout.service.settings import Settings, SourceConfig
    from lookout.sharing import Policy

__all__ = ["ApiRuntime", "get_runtime", "parse_bbox", "query_ts"]


class ApiRuntime(Protocol):
    """The service as the API sees it (see ``lookout.service.runtime.Runtime``)."""

    settings: Settings
    bus: Bus

    @property
    def store(self) -> Store: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def submit(
        self, items: Sequence[Frame | Lines | ReportRecord], *, key: str | None = None
    ) -> Future[IngestReceipt]: ...

    def source_for_key(self, key: str) -> SourceConfig | None: ...

    def actor_for_token(self, token: str) -> str | None: ...

    def sources(self) -> list[SourceConfig]: ...

    def bound_address(self, member: str, name: str) -> tuple[str, int] | None: ...

    def transport_stats(self, member: str, name: str) -> dict[str, Any]: ...

    def counters(self) -> dict[str, Any]: ...

    def zone_index(self) -> ZoneIndex | None: ...

    def policy(self) -> Policy:
        """The sharing policy in force (lookout.sharing)."""
        ...


def get_runtime(request: Request) -> ApiRuntime:
    runtime: ApiRuntime = request.app.state.runtime
    return runtime


def query_ts(value: datetime | None) -> float | None:
    """A query's time as epoch seconds; a time without offset is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def parse_bbox(text: str | None) -> BBox | None:
    """``west,south,east,north`` in degrees to a BBox; 422 with a clear message otherwise."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or len(parts) != 4 or any(v != v for v in values):
        raise _bad_bbox(text, "expected four numbers west,south,east,north in degrees")
    west, south, east, north = values
    if not (-90.0 <= south <= 90.0 and -90.0 <= north <= 90.0):
        raise _bad_bbox(text, "latitudes must lie in -90..90")
    if south > north:
        raise _bad_bbox(text, "south must not exceed north")
    if not (-180.0 <= west <= 180.0 and -180.0 <= east <= 180.0):
        raise _bad_bbox(text, "longitudes must lie in -180..180 (west > east crosses 180)")
    return BBox(west=west, south=south, east=east, north=north)


def _bad_bbox(text: str, why: str) -> HTTPException:
    return HTTPException(status_code=422, detail=f"invalid bbox {text!r}: {why}")
