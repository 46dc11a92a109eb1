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

from lookout.api.auth import Actor, current_actor, require
from lookout.api.deps import ApiRuntime, get_runtime
from lookout.api.schemas import DetectionsReceiptOut, ReceiptOut
from lookout.model import IngestReceipt, Lines
from lookout.service.runtime import Overloaded, Stopping
from lookout.sources.detections import parse_detections
from lookout.sources.files import FileFormatError

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["ingest"])

ActorDep = Annotated[Actor, Depends(current_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
MAX_KEY_CHARS = 200
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


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"body larger than {limit} bytes; split it")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) more than ``limit`` bytes by Content-Length or as streamed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _scoped_key(actor: Actor, key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise HTTPException(
            status_code=422,
            detail=f"Idempotency-Key must be 1..{MAX_KEY_CHARS} printable characters",
        )
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
    401: {"description": "missing or unknown bearer token"},
    403: {"description": "the token is not this source's ingest key"},
    413: {"description": "body larger than max_body_bytes"},
    415: {"description": "Content-Type is not text/plain"},
    503: {"description": "queue full or server stopping; retry with the same Idempotency-Key"},
}


@router.post(
    "/ingest/nmea",
    response_model=ReceiptOut,
    responses=_ERRORS,
    openapi_extra={"requestBody": _BODY},
)
async def ingest_nmea(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> ReceiptOut:
    """Ingest a text/plain body of NMEA lines as the authenticated source."""
    source = actor.source
    if source is None:
        raise HTTPException(status_code=403, detail="pushing needs a source's ingest key")
    require(actor, "ingest", f"source:{source.member}/{source.name}")
    _check_content_type(request)
    key = _scoped_key(actor, idempotency_key)
    body = await _read_body(request, runtime.settings.max_body_bytes)
    received_ts = time.time()
    lines = body.decode("utf-8", errors="replace").splitlines()
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
    responses={**_ERRORS, 415: {"description": "Content-Type is not text/csv or text/plain"},
               422: {"description": "not a detections CSV (header), or no detection in it"}},
    openapi_extra={"requestBody": _DETECTIONS_BODY},
)  # fmt: skip
async def ingest_detections(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
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
    body = await _read_body(request, runtime.settings.max_body_bytes)
    try:
        read = parse_detections(
            body.decode("utf-8", errors="replace").splitlines(), member=source.member,
            name="body",
        )  # fmt: skip
    except FileFormatError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if not read.detections:
        problems = "; ".join(str(e) for e in read.errors[:5]) or "the body has no rows"
        raise HTTPException(status_code=422, detail=f"no detection read: {problems}")
    what = f"{len(read.detections)} detections from {actor.name}"
    await _committed(runtime, list(read.detections), key, what)
    return DetectionsReceiptOut(
        detections=len(read.detections),
        rejected=len(read.errors),
        errors=[str(e) for e in read.errors[:MAX_ERRORS_SHOWN]],
    )
