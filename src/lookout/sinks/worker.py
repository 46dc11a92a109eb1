"""QueuedSink: the plumbing every stream output shares (CoT, NMEA relay).

Bus handlers run on the bus's threads and must never block the pipeline: they only filter a
message through the output member's view, rate-limit it per vessel and put a job in a
bounded queue (``queue_size``; a full queue drops and counts, ``dropped``). One worker
thread takes the jobs and hands them to :meth:`QueuedSink.deliver`, which sends through a
:class:`~lookout.sinks.sender.Sender`. Subclasses name their bus subscriptions and implement
the handlers and ``deliver``.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Generic, Protocol, TypeVar

from lookout.pipeline.ports import Bus, Handler, Subscription
from lookout.sharing import Policy
from lookout.sinks.config import OutputConfig
from lookout.sinks.sender import Sender, SenderStats

__all__ = ["QueuedSink", "SinkStats"]

Job = TypeVar("Job")


class SinkStats(SenderStats, Protocol):
    """The counters a queued sink adds to, besides its sender's."""

    throttled: int
    dropped: int


class QueuedSink(ABC, Generic[Job]):
    """A bounded queue and one worker thread between the bus and a :class:`Sender`."""

    kind = "output"
    """Names the worker thread (``<kind>-<output name>``)."""

    def __init__(
        self,
        config: OutputConfig,
        policy: Callable[[], Policy],
        stats: SinkStats,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._policy = policy
        self._clock = clock
        self._stats = stats
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max(config.queue_size, 1))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_sent: dict[int, float] = {}
        self._subs: list[Subscription] = []
        self._sender = Sender(config, stats, clock)
        self._thread = threading.Thread(
            target=self._run, name=f"{self.kind}-{config.name}", daemon=True
        )

    def queue_depth(self) -> int:
        """Jobs waiting in the queue now."""
        return self._queue.qsize()

    @abstractmethod
    def subscriptions(self) -> Mapping[str, Handler]:
        """Bus pattern -> handler, subscribed by :meth:`start`."""

    @abstractmethod
    def deliver(self, job: Job) -> None:
        """Send one job (on the worker thread)."""

    def start(self, bus: Bus) -> None:
        self._thread.start()
        for pattern, handler in self.subscriptions().items():
            self._subs.append(bus.subscribe(pattern, handler))

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._sender.disconnect()

    def _throttled(self, mmsi: int, now: float) -> bool:
        """Whether a vessel was sent less than ``min_interval_s`` ago (counted); else it is
        marked sent now. Call with ``self._lock`` held."""
        last = self._last_sent.get(mmsi)
        if last is not None and now - last < self.config.min_interval_s:
            self._stats.throttled += 1
            return True
        self._last_sent[mmsi] = now
        return False

    def _offer(self, job: Job) -> None:
        if self._stop.is_set():
            return
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._stats.dropped += 1

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._stop.is_set():
                return
            self.deliver(job)
