"""``POST /api/v1/ingest/nmea``: a source pushes NMEA lines; the receipt means "committed".

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
from lookout.api.schemas import ReceiptOut
from lookout.model import Lines
from lookout.service.runtime import Overloaded, Stopping

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["ingest"])

ActorDep = Annotated[Actor, Depends(current_actor)]
RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]
MAX_KEY_CHARS = 200
TEXT_TYPES = ("text/plain", "application/x-nmea")


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
    try:
        future = runtime.submit([block], key=key)
    except (Overloaded, Stopping) as exc:
        raise HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": "1"}) from exc
    try:
        receipt = await asyncio.wrap_future(future)
    except Exception as exc:
        log.exception("ingest of %d lines from %s failed", len(lines), actor.name)
        raise HTTPException(
            status_code=500, detail="ingest failed; nothing acknowledged, retry"
        ) from exc
    return ReceiptOut.of(receipt)
