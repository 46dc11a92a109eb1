"""WebhookSink: alerts (and optionally events) POSTed as signed JSON to a member's URL.

Each message a member may see (:mod:`lookout.sharing.messages`: the same view as its live stream)
becomes one POST with a JSON body ``{"id", "kind", "data"}`` and three headers:

- ``X-Lookout-Delivery``: the delivery id, the same on every retry (deduplicate on it);
- ``X-Lookout-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Lookout-Signature``: ``sha256=<hex>``, HMAC-SHA256 with the output's secret over
  ``<timestamp>.<body>`` (the timestamp header, a dot, the raw body bytes). A receiver
  recomputes it (:func:`verify`), compares in constant time and refuses a timestamp more
  than a few minutes old, so a captured request cannot be replayed later.

Delivery never blocks the pipeline: the bus handler only filters the message and puts it in
a bounded queue (``queue_size``); when the queue is full the message is dropped and counted
(``stats.dropped``). One worker thread per output posts in order. A connection error, a
timeout, 408, 429 or 5xx is retried up to ``max_attempts`` attempts in all, waiting
``min(max_backoff_s, backoff_s * 2**(n-1))`` seconds times a random factor in [0.5, 1)
after the n-th failure (exponential backoff with jitter; a ``Retry-After`` of 429/503 is
honoured up to ``max_backoff_s``). Any other answer than 2xx is final (``stats.failed``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from lookout.pipeline import subjects
from lookout.pipeline.ports import Bus, Subscription
from lookout.sharing import Policy
from lookout.sharing.messages import alert_view, event_view
from lookout.sinks.config import OutputConfig

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookSink", "WebhookStats", "sign", "verify"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Lookout-Signature"
TIMESTAMP_HEADER = "X-Lookout-Timestamp"
DELIVERY_HEADER = "X-Lookout-Delivery"
RETRY_STATUSES = frozenset({408, 429})


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = 300.0,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), given)


@dataclass(slots=True)
class WebhookStats:
    """Counters of one webhook output; ``sent`` and ``retried`` are the names every output's
    counters share for ``delivered`` and ``retries``."""

    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    attempts: int = 0
    retries: int = 0
    last_error: str = ""
    last_success_ts: float | None = None

    @property
    def sent(self) -> int:
        return self.delivered

    @property
    def retried(self) -> int:
        return self.retries


class WebhookSink:
    """Posts what ``config.member`` may see to ``config.url``; see the module docstring."""

    def __init__(
        self,
        config: OutputConfig,
        policy: Callable[[], Policy],
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.stats = WebhookStats()
        self._policy = policy
        self._clock = clock
        self._client = httpx.Client(timeout=config.timeout_s, transport=transport)
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue(
            maxsize=max(config.queue_size, 1)
        )
        self._stop = threading.Event()
        self._subs: list[Subscription] = []
        self._thread = threading.Thread(
            target=self._run, name=f"webhook-{config.name}", daemon=True
        )

    def queue_depth(self) -> int:
        """Deliveries waiting in the queue now (not counting the one being posted)."""
        return self._queue.qsize()

    def start(self, bus: Bus) -> None:
        """Subscribe to alerts (and events when ``config.events``) and start posting."""
        self._thread.start()
        self._subs.append(bus.subscribe(subjects.ALERTS, self._on_alert))
        if self.config.events:
            self._subs.append(bus.subscribe(subjects.EVENTS, self._on_event))

    def close(self) -> None:
        """Leave the bus and stop; what is still queued is counted as dropped."""
        for sub in self._subs:
            sub.close()
        self._stop.set()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.stats.dropped += 1
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=self.config.timeout_s + 1.0)
        self._client.close()

    # -- bus side: filter and queue, never wait -------------------------------------------

    def _on_alert(self, subject: str, payload: Mapping[str, Any]) -> None:
        self.offer("alert", alert_view(self._policy(), self.config.member, payload, self._clock()))

    def _on_event(self, subject: str, payload: Mapping[str, Any]) -> None:
        self.offer("event", event_view(self._policy(), self.config.member, payload, self._clock()))

    def offer(self, kind: str, shown: dict[str, Any] | None) -> None:
        """Queue one message the member may see (``None``: nothing to send)."""
        if shown is None or self._stop.is_set():
            return
        try:
            self._queue.put_nowait((kind, shown))
            self.stats.queued += 1
        except queue.Full:
            self.stats.dropped += 1

    # -- worker side: post with retries ----------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                return
            kind, shown = item
            delivery = uuid.uuid4().hex
            body = orjson.dumps({"id": delivery, "kind": kind, "data": shown}, default=str)
            if self._deliver(delivery, body):
                self.stats.delivered += 1
            else:
                self.stats.failed += 1

    def _deliver(self, delivery: str, body: bytes) -> bool:
        """Post until accepted, refused for good, out of attempts or stopped."""
        for attempt in range(1, self.config.max_attempts + 1):
            if attempt > 1:
                self.stats.retries += 1
            self.stats.attempts += 1
            retry_after = self._post(delivery, body)
            if retry_after is None:
                return True
            if retry_after < 0 or attempt == self.config.max_attempts:
                return False
            if self._stop.wait(max(retry_after, self._backoff_s(attempt))):
                return False
        return False

    def _post(self, delivery: str, body: bytes) -> float | None:
        """One attempt: ``None`` when accepted, ``-1`` when refused for good, else the
        server's ``Retry-After`` in seconds (0 when it gave none)."""
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "lookout-webhook",
            DELIVERY_HEADER: delivery,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.config.secret, timestamp, body),
        }
        try:
            response = self._client.post(self.config.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("webhook %s: %s", self.config.name, exc)
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            return 0.0
        code = response.status_code
        if 200 <= code < 300:
            self.stats.last_success_ts = self._clock()
            return None
        if code in RETRY_STATUSES or code >= 500:
            log.warning("webhook %s answered %d", self.config.name, code)
            self.stats.last_error = f"HTTP {code}"
            return _retry_after(response, self.config.max_backoff_s)
        log.error("webhook %s refused a delivery: %d", self.config.name, code)
        self.stats.last_error = f"HTTP {code} (refused, not retried)"
        return -1.0

    def _backoff_s(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (with jitter)."""
        cap = min(self.config.max_backoff_s, self.config.backoff_s * 2.0 ** (failures - 1))
        return cap * random.uniform(0.5, 1.0)


def _retry_after(response: httpx.Response, cap_s: float) -> float:
    value = str(response.headers.get("Retry-After", ""))
    return min(float(value), cap_s) if value.isdigit() else 0.0
