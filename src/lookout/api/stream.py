"""``GET /api/v1/stream``: Server-Sent Events of vessel updates, events, alerts and stats.

The :class:`StreamHub` holds one bus subscription per streamed pattern, shared by all clients.
Its handler runs on the bus's thread and hands each message to every client's bounded
``asyncio.Queue`` through ``loop.call_soon_threadsafe``, so the bus never waits for a client.
When a client falls behind, its oldest messages are dropped and it gets a ``dropped`` event with
the count before the next message. Every message passes :func:`~lookout.api.auth.authorize`
for the client's actor. A comment line every ``keepalive_s`` seconds keeps proxies from closing
an idle stream; the stream ends when the client disconnects or the server shuts down. Every
message then passes the client's sharing view (:class:`~lookout.api.sharing.StreamView`):
what its member may not see is not sent. Every
``recheck_s`` seconds the client's access token is checked again
(:func:`~lookout.api.auth.recheck`): once it is revoked, expired, its key retired or its user
disabled, the stream ends with a ``closed`` message saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from lookout.api.auth import Actor, authorize, recheck, require
from lookout.api.deps import ApiRuntime, get_runtime, parse_bbox
from lookout.api.geojson import iso_utc
from lookout.api.limits import limited_actor
from lookout.api.routes_events import event_out
from lookout.api.sharing import StreamView, policy_route
from lookout.model import BBox
from lookout.pipeline import subjects
from lookout.pipeline.ports import Bus, Subscription

__all__ = ["ClientQueue", "StreamHub", "format_event", "router", "to_api"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["stream"])

STREAMED = (
    subjects.VESSELS,
    subjects.EVENTS,
    subjects.ALERTS,
    subjects.ALERT_STATES,
    subjects.INGEST_STATS,
)
_CLOSE: tuple[str, Mapping[str, Any]] = ("", {})
_URGENT = frozenset({"event", "alert", "alert_state"})
"""SSE message kinds a slow client loses last."""
KINDS = ("vessel", "event", "alert", "alert_state", "stats")
"""What ``GET /api/v1/stream?kinds=`` may name."""


class ClientQueue:
    """One client's bounded queue; lives on the event loop, fed from any thread.

    Two lanes: detector ``event`` and ``alert`` messages, and the rest (vessel updates,
    stats). When the queue is full the oldest message of the second lane is dropped first: a
    client that falls behind loses map updates, which the next update repairs, before it
    loses an alert (only a queue full of events and alerts drops one of those).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        maxsize: int,
        kinds: frozenset[str] | None = None,
    ) -> None:
        self._kinds = kinds  # what the client asked for; the rest never takes queue room
        self._loop = loop
        self._maxsize = maxsize
        self._urgent: deque[tuple[str, Mapping[str, Any]]] = deque()
        self._other: deque[tuple[str, Mapping[str, Any]]] = deque()
        self._order: deque[bool] = deque()  # per queued message: urgent lane?
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def wants(self, kind: str) -> bool:
        """Did the client ask for messages of ``kind`` (all kinds without ``kinds=``)?"""
        return self._kinds is None or kind in self._kinds

    def offer(self, subject: str, payload: Mapping[str, Any]) -> None:
        """Thread-safe: enqueue on the loop; never blocks the caller."""
        if self._kinds is not None and _kind(subject) not in self._kinds:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed: the client is gone
            self._loop.call_soon_threadsafe(self._put, subject, payload)

    def _put(self, subject: str, payload: Mapping[str, Any]) -> None:
        urgent = _kind(subject) in _URGENT
        if len(self._order) >= self._maxsize:
            self._drop(prefer_other=True)
        (self._urgent if urgent else self._other).append((subject, payload))
        self._order.append(urgent)
        self._ready.set()

    def _drop(self, *, prefer_other: bool) -> None:
        lane_is_urgent = not (prefer_other and self._other)
        (self._urgent if lane_is_urgent else self._other).popleft()
        self._order.remove(lane_is_urgent)  # the oldest entry of that lane
        self.dropped += 1

    def close(self) -> None:
        """Thread-safe: end this client's stream after what is queued."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._put_close)

    def _put_close(self) -> None:
        self._closed = True
        self._ready.set()

    async def get(self, timeout_s: float) -> tuple[str, Mapping[str, Any]] | None:
        """The next message, ``None`` after ``timeout_s`` idle, ``("", {})`` when closed."""
        if not self._order and not self._closed:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout_s)
            except TimeoutError:
                return None
        if self._order:
            urgent = self._order.popleft()
            return (self._urgent if urgent else self._other).popleft()
        return _CLOSE

    def take_dropped(self) -> int:
        n, self.dropped = self.dropped, 0
        return n


class StreamHub:
    """The open SSE clients, fed by one bus subscription per streamed pattern (shared by all
    clients, so a client costs a queue, not a bus thread).

    A pattern is subscribed to only while some client wants its kind: an alert console
    (``kinds=alert``) does not pull every vessel update off the bus, and where the bus can
    tell (in-process), the pipeline does not even build vessel updates nobody reads.
    """

    def __init__(
        self, *, keepalive_s: float = 15.0, queue_size: int = 1000, recheck_s: float = 10.0
    ) -> None:
        self.keepalive_s = keepalive_s
        self.recheck_s = recheck_s
        self.queue_size = queue_size
        self._clients: tuple[ClientQueue, ...] = ()  # replaced, never mutated: read lock-free
        self._lock = threading.Lock()
        self._subs: dict[str, Subscription] = {}

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def subscribed(self) -> list[str]:
        """The patterns subscribed to now (for inspection and tests)."""
        with self._lock:
            return sorted(self._subs)

    def open(self, bus: Bus, kinds: frozenset[str] | None = None) -> ClientQueue:
        """A new client on the running loop; subscribes to the patterns of its kinds that
        no client wanted yet."""
        client = ClientQueue(asyncio.get_running_loop(), self.queue_size, kinds)
        with self._lock:
            for pattern in STREAMED:
                if pattern not in self._subs and client.wants(_kind(pattern)):
                    self._subs[pattern] = bus.subscribe(pattern, self._fan_out)
            self._clients = (*self._clients, client)
        return client

    def _fan_out(self, subject: str, payload: Mapping[str, Any]) -> None:
        for client in self._clients:
            client.offer(subject, payload)

    def discard(self, client: ClientQueue) -> None:
        """Forget a client; leave the patterns no remaining client wants."""
        with self._lock:
            self._clients = tuple(c for c in self._clients if c is not client)
            unwanted = [
                pattern
                for pattern in self._subs
                if not any(c.wants(_kind(pattern)) for c in self._clients)
            ]
            subs = [self._subs.pop(pattern) for pattern in unwanted]
        for sub in subs:
            sub.close()

    def close_all(self) -> None:
        """End every open stream (server shutdown). Safe from any thread."""
        for client in self._clients:
            client.close()

    def close(self) -> None:
        """End every stream and leave the bus."""
        self.close_all()
        with self._lock:
            subs, self._subs = list(self._subs.values()), {}
        for sub in subs:
            sub.close()


def _kind(subject: str) -> str:
    """SSE event name of a bus subject: vessel, event, alert, alert_state or stats."""
    parts = subject.split(".")
    kinds = {"vessel": "vessel", "event": "event", "alert": "alert", "alertstate": "alert_state"}
    return kinds.get(parts[1], "stats")


def _resource(subject: str) -> str:
    parts = subject.split(".", 2)
    kind = _kind(subject)
    return "stats" if kind == "stats" else f"{kind}:{parts[2]}"


def to_api(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A bus payload as the API writes it: ``*_ts`` epoch seconds become ``*_at`` ISO UTC."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key.endswith("_ts") and isinstance(value, int | float) and not isinstance(value, bool):
            out[key[:-3] + "_at"] = iso_utc(float(value))
        else:
            out[key] = value
    return out


def format_event(kind: str, payload: Mapping[str, Any], event_id: int | None = None) -> bytes:
    """One SSE message: ``event:``, optional ``id:`` and a single-line JSON ``data:``."""
    data = orjson.dumps(to_api(payload), default=str)
    head = f"event: {kind}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + data + b"\n\n"


def _shown(kind: str, payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """Events and alerts in the shape of ``GET /api/v1/events``; other payloads as they are."""
    if kind == "event":
        return event_out(payload).model_dump()
    if kind == "alert":
        shown = {k: v for k, v in payload.items() if k not in ("ts", "event")}
        shown["at"] = iso_utc(float(payload["ts"]))
        shown["event"] = event_out(payload["event"]).model_dump()
        return shown
    return payload


def _wanted(subject: str, payload: Mapping[str, Any], bbox: BBox | None) -> bool:
    if bbox is None or _kind(subject) != "vessel":
        return True
    lat, lon = payload.get("lat"), payload.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return False
    return bbox.contains(float(lat), float(lon))


class _Watch:
    """When an open stream next sends a keepalive and re-checks its actor's token."""

    def __init__(self, hub: StreamHub, runtime: ApiRuntime | None, actor: Actor) -> None:
        self._loop = asyncio.get_running_loop()
        self._hub, self._runtime, self._actor = hub, runtime, actor
        self.keepalive_at = self._loop.time() + hub.keepalive_s
        checked = runtime is not None and actor.claims is not None
        self.check_at = self._loop.time() + hub.recheck_s if checked else float("inf")

    def wait_s(self) -> float:
        return max(0.0, min(self.keepalive_at, self.check_at) - self._loop.time())

    def keepalive_due(self) -> bool:
        due = self._loop.time() >= self.keepalive_at
        if due:
            self.sent()
        return due

    def sent(self) -> None:
        self.keepalive_at = self._loop.time() + self._hub.keepalive_s

    def refused(self) -> str | None:
        """Why the token no longer holds, when a re-check is due and finds that."""
        if self._runtime is None or self._loop.time() < self.check_at:
            return None
        self.check_at = self._loop.time() + self._hub.recheck_s
        return recheck(self._runtime, self._actor)


async def _events(
    hub: StreamHub,
    client: ClientQueue,
    actor: Actor,
    bbox: BBox | None,
    kinds: frozenset[str] = frozenset(KINDS),
    runtime: ApiRuntime | None = None,
) -> AsyncIterator[bytes]:
    sent = 0
    watch = _Watch(hub, runtime, actor)
    view = StreamView(runtime, actor) if runtime is not None else None
    try:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            why = watch.refused()
            if why is not None:
                log.info("stream of %s ended: %s", actor.name, why)
                yield format_event("closed", {"reason": why})
                return
            item = await client.get(watch.wait_s())
            if item is None:
                if watch.keepalive_due():
                    yield b": keepalive\n\n"
                continue
            if item is _CLOSE:
                return
            dropped = client.take_dropped()
            if dropped:
                yield format_event("dropped", {"dropped": dropped})
            subject, payload = item
            kind = _kind(subject)
            if kind not in kinds or not authorize(actor, "read", _resource(subject)):
                continue
            shown = view.message(kind, payload) if view is not None else None
            if shown is None or not _wanted(subject, shown, bbox):
                continue  # nothing released to this client; the box is tested on what it sees
            sent += 1
            watch.sent()
            yield format_event(kind, _shown(kind, shown), sent)
    finally:
        hub.discard(client)
        log.info("stream closed actor=%s sent=%d", actor.name, sent)


@router.get("/stream", response_class=StreamingResponse, openapi_extra=policy_route("stream"))
async def stream(
    request: Request,
    actor: Annotated[Actor, Depends(limited_actor)],
    runtime: Annotated[ApiRuntime, Depends(get_runtime)],
    bbox: Annotated[
        str | None, Query(description="only vessel updates inside west,south,east,north")
    ] = None,
    kinds: Annotated[
        str | None,
        Query(description="comma-separated: vessel, event, alert, alert_state, stats (all)"),
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``vessel``, ``event``, ``alert``, ``alert_state``, ``stats``,
    ``dropped`` and a last
    ``closed`` when the access token is revoked or expires."""
    box = parse_bbox(bbox)
    wanted = frozenset(KINDS)
    if kinds is not None:
        wanted = frozenset(k.strip() for k in kinds.split(",") if k.strip())
        unknown = sorted(wanted - set(KINDS))
        if unknown or not wanted:
            raise HTTPException(
                status_code=422,
                detail=f"kinds: unknown {unknown[0]!r}" if unknown else "kinds: name one",
            )
    require(actor, "read", "stream")
    hub: StreamHub = request.app.state.hub
    client = hub.open(runtime.bus, wanted)
    return StreamingResponse(
        _events(hub, client, actor, box, wanted, runtime),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
