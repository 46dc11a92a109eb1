"""``POST /api/v1/ingest/nmea`` and ``/ingest/detections``: a source pushes NMEA lines or
non-AIS detections (a detections CSV); the receipt means "committed".

The bearer token is the source's ingest key. The response comes only after the runtime has
durably committed the batch; a re-send with the same ``Idempotency-Key`` (scoped to the source)
is answered with the first receipt and stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request

from lookout.api.auth import Actor, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.limits import RateLimits, invalid, limited_actor, member_of
from lookout.api.schemas import DetectionsReceiptOut, ErrorOut, ReceiptOut
from lookout.api.sharing import policy_route
from lookout.model import IngestReceipt, Lines
from lookout.service.runtime import Overloaded, Stopping
from lookout.sources.detections import parse_detections
from lookout.sources.files import FileFormatError

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["ingest"])

ActorDep = Annotated[Actor, Depends(limited_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
MAX_KEY_CHARS = 200
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_CHARS,
        pattern=r"^[!-~]([ -~]*[!-~])?$",
        description="printable ASCII, no leading or trailing space; unique per batch",
    ),
]
TEXT_TYPES = ("text/plain", "application/x-nmea")
MAX_ERRORS_SHOWN = 20
"""Rows not read that a detections receipt lists (all are counted)."""


def _check_content_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in TEXT_TYPES:
        raise HTTPException(
            status_code=415,
            detail=f"expected Content-Type text/plain (NMEA lines), got {media or 'none'!r}",
        )


async def _read_lines(request: Request, actor: Actor) -> list[str]:
    """The body's lines, after taking them from the member's push-line bucket (429 when
    empty). The body is at most ``max_body_bytes``: :class:`~lookout.api.limits.RequestLimits`
    answers 413 to a larger one before it is read."""
    body = await request.body()
    lines = body.decode("utf-8", errors="replace").splitlines()
    limits: RateLimits = request.app.state.rate_limits
    limits.check(member_of(actor), "lines", len(lines))
    return lines


def _scoped_key(actor: Actor, key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        msg = f"Idempotency-Key must be 1..{MAX_KEY_CHARS} printable characters"
        raise invalid(("header", "Idempotency-Key"), msg)
    return f"{actor.name}:{key}"


_BODY = {
    "required": True,
    "content": {
        "text/plain": {
            "schema": {"type": "string"},
            "example": "\\c:1565218798*53\\!BSVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D\n",
        }
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing or unknown bearer token"},
    403: {"model": ErrorOut, "description": "the token is not this source's ingest key"},
    413: {"model": ErrorOut, "description": "body larger than max_body_bytes"},
    415: {"model": ErrorOut, "description": "Content-Type is not text/plain"},
    500: {"model": ErrorOut, "description": "the commit failed; nothing acknowledged, retry"},
    503: {
        "model": ErrorOut,
        "description": "queue full or server stopping; retry with the same Idempotency-Key",
    },
}


@router.post(
    "/ingest/nmea",
    response_model=ReceiptOut,
    responses=_ERRORS,
    openapi_extra={"requestBody": _BODY, **policy_route("write")},
)
async def ingest_nmea(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> ReceiptOut:
    """Ingest a text/plain body of NMEA lines as the authenticated source."""
    source = actor.source
    if source is None:
        raise HTTPException(status_code=403, detail="pushing needs a source's ingest key")
    require(actor, "ingest", f"source:{source.member}/{source.name}")
    _check_content_type(request)
    key = _scoped_key(actor, idempotency_key)
    lines = await _read_lines(request, actor)
    received_ts = time.time()
    block = Lines(lines, source.member, source.name, received_ts, source.receiver)
    receipt = await _committed(runtime, [block], key, f"{len(lines)} lines from {actor.name}")
    return ReceiptOut.of(receipt)


async def _committed(
    runtime: ApiRuntime, items: list[Any], key: str | None, what: str
) -> IngestReceipt:
    """Submit ``items`` and wait for their durable commit (503 / 500 as documented)."""
    try:
        future = runtime.submit(items, key=key)
    except (Overloaded, Stopping) as exc:
        raise HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": "1"}) from exc
    try:
        return await asyncio.wrap_future(future)
    except Exception as exc:
        log.exception("ingest of %s failed", what)
        raise HTTPException(
            status_code=500, detail="ingest failed; nothing acknowledged, retry"
        ) from exc


_DETECTIONS_BODY = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": (
                "id,timestamp,lat,lon,source\nS1A-0042,2026-11-26T09:30:00Z,9.73,115.87,sar\n"
            ),
        }
    },
}
CSV_TYPES = ("text/csv", "text/plain")


@router.post(
    "/ingest/detections",
    response_model=DetectionsReceiptOut,
    responses={
        **_ERRORS,
        415: {"model": ErrorOut, "description": "Content-Type is not text/csv or text/plain"},
    },
    openapi_extra={"requestBody": _DETECTIONS_BODY, **policy_route("write")},
)
async def ingest_detections(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> DetectionsReceiptOut:
    """Ingest non-AIS detections (satellite, radar, patrol) as the authenticated source: a CSV
    with the columns ``id, timestamp, lat, lon, source``; answered after the commit."""
    source = actor.source
    if source is None:
        raise HTTPException(status_code=403, detail="pushing needs a source's ingest key")
    require(actor, "ingest", f"source:{source.member}/{source.name}")
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in CSV_TYPES:
        raise HTTPException(
            status_code=415,
            detail=f"expected Content-Type text/csv (a detections CSV), got {media or 'none'!r}",
        )
    key = _scoped_key(actor, idempotency_key)
    lines = await _read_lines(request, actor)
    try:
        read = parse_detections(
            lines, member=source.member, name="body", feed=f"{source.member}/{source.name}"
        )
    except FileFormatError as exc:
        raise invalid(("body",), str(exc)) from exc
    if not read.detections:
        problems = "; ".join(str(e) for e in read.errors[:5]) or "the body has no rows"
        raise invalid(("body",), f"no detection read: {problems}")
    what = f"{len(read.detections)} detections from {actor.name}"
    await _committed(runtime, list(read.detections), key, what)
    return DetectionsReceiptOut(
        detections=len(read.detections),
        rejected=len(read.errors),
        errors=[str(e) for e in read.errors[:MAX_ERRORS_SHOWN]],
    )
