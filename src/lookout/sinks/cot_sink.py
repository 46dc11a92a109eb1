"""CotSink: vessel tracks and alerts as Cursor-on-Target XML to a TAK server (TCP or UDP).

The output acts for one member: each vessel update and alert passes that member's sharing
view (:mod:`lookout.sharing.messages`), then becomes one CoT event (:mod:`lookout.sinks.cot`).
Vessel updates are rate-limited per vessel: at most one every ``min_interval_s`` seconds
(the rest are counted as ``throttled``); alerts are never rate-limited. A vessel named by an
alert the member received is *suspect* for ``suspect_s`` seconds.

Like every sink it never blocks the pipeline: the bus handlers only filter, build the XML
and put it in a bounded queue (``queue_size``; a full queue drops and counts, ``dropped``).
One worker thread sends (:class:`~lookout.sinks.sender.Sender`: one TCP connection,
reconnected with backoff, or a UDP datagram per event).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lookout.pipeline import subjects
from lookout.pipeline.ports import Bus, Subscription
from lookout.sharing import Policy
from lookout.sharing.messages import alert_view
from lookout.sharing.messages import vessel_update_view as vessel_view
from lookout.sinks.config import OutputConfig
from lookout.sinks.cot import affiliation, alert_event, track_event
from lookout.sinks.sender import Sender

__all__ = ["CotSink", "CotStats"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CotStats:
    """Counters of one CoT output."""

    sent: int = 0
    tracks: int = 0
    alerts: int = 0
    throttled: int = 0
    dropped: int = 0
    failed: int = 0
    connects: int = 0


class CotSink:
    """Sends what ``config.member`` may see to a TAK server; see the module docstring."""

    def __init__(
        self,
        config: OutputConfig,
        policy: Callable[[], Policy],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.stats = CotStats()
        self._policy = policy
        self._clock = clock
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max(config.queue_size, 1))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_sent: dict[int, float] = {}
        self._suspects: dict[int, float] = {}
        self._subs: list[Subscription] = []
        self._sender = Sender(config, self.stats)
        self._thread = threading.Thread(target=self._run, name=f"cot-{config.name}", daemon=True)

    def start(self, bus: Bus) -> None:
        self._thread.start()
        self._subs.append(bus.subscribe(subjects.ALERTS, self._on_alert))
        self._subs.append(bus.subscribe(subjects.VESSELS, self._on_vessel))

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._sender.disconnect()

    # -- bus side --------------------------------------------------------------------------

    def _on_vessel(self, subject: str, payload: Mapping[str, Any]) -> None:
        now = self._clock()
        shown = vessel_view(self._policy(), self.config.member, payload, now)
        if shown is None:
            return
        mmsi = int(shown["mmsi"])
        with self._lock:
            last = self._last_sent.get(mmsi)
            if last is not None and now - last < self.config.min_interval_s:
                self.stats.throttled += 1
                return
            self._last_sent[mmsi] = now
            suspect = self._suspects.get(mmsi, 0.0) > now
        aff = affiliation(
            mmsi,
            shown.get("flag"),
            assets=self.config.assets,
            hostile=self.config.hostile,
            suspects=(mmsi,) if suspect else (),
            neutral_flags=self.config.neutral_flags,
        )
        self.stats.tracks += 1
        self._offer(track_event(shown, aff, now, self.config.stale_s))

    def _on_alert(self, subject: str, payload: Mapping[str, Any]) -> None:
        now = self._clock()
        shown = alert_view(self._policy(), self.config.member, payload, now)
        if shown is None:
            return
        named = shown.get("mmsis") or ([shown["mmsi"]] if shown.get("mmsi") else [])
        with self._lock:
            for mmsi in named:
                self._suspects[int(mmsi)] = now + self.config.suspect_s
        xml = alert_event(shown, now)
        if xml is not None:
            self.stats.alerts += 1
            self._offer(xml)

    def _offer(self, xml: bytes) -> None:
        if self._stop.is_set():
            return
        try:
            self._queue.put_nowait(xml)
        except queue.Full:
            self.stats.dropped += 1

    # -- worker side -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            xml = self._queue.get()
            if xml is None or self._stop.is_set():
                return
            self._sender.send(xml)
