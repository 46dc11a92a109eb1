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

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lookout.pipeline import subjects
from lookout.pipeline.ports import Handler
from lookout.sharing import Policy
from lookout.sharing.messages import alert_view
from lookout.sharing.messages import vessel_update_view as vessel_view
from lookout.sinks.config import OutputConfig
from lookout.sinks.cot import affiliation, alert_event, track_event
from lookout.sinks.worker import QueuedSink

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
    retried: int = 0
    last_error: str = ""
    last_success_ts: float | None = None


class CotSink(QueuedSink[bytes]):
    """Sends what ``config.member`` may see to a TAK server; see the module docstring."""

    kind = "cot"

    def __init__(
        self,
        config: OutputConfig,
        policy: Callable[[], Policy],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stats = CotStats()
        super().__init__(config, policy, self.stats, clock=clock)
        self._suspects: dict[int, float] = {}

    def subscriptions(self) -> Mapping[str, Handler]:
        return {subjects.ALERTS: self._on_alert, subjects.VESSELS: self._on_vessel}

    def deliver(self, job: bytes) -> None:
        self._sender.send(job)

    # -- bus side --------------------------------------------------------------------------

    def _on_vessel(self, subject: str, payload: Mapping[str, Any]) -> None:
        now = self._clock()
        shown = vessel_view(self._policy(), self.config.member, payload, now)
        if shown is None:
            return
        mmsi = int(shown["mmsi"])
        with self._lock:
            if self._throttled(mmsi, now):
                return
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
