"""InProcessBus: the embedded :class:`~lookout.pipeline.ports.Bus`, NATS-style subjects.

Delivery model. Every subscription owns a bounded queue (``queue_size``, default 10,000)
and one daemon thread that calls its handler, one message at a time, in publish order.
``publish`` only appends to the queues of the matching subscriptions and returns: a slow or
stuck handler never blocks a publisher or another subscription. When a queue is full the
*oldest* waiting message is dropped and the subscription's ``dropped`` counter goes up (the
newest picture matters more than an old one; a handler that must see everything must keep
up or ask for a larger queue).

A handler that raises is logged with its traceback and counted in ``errors``; the exception
never reaches the publisher and delivery goes on with the next message.

``flush(timeout_s)`` waits until everything published before the call has been handled (or
dropped): tests use it instead of sleeping. ``close()`` stops every subscription: messages
still queued are discarded, no handler is called afterwards, and ``publish`` raises
``RuntimeError``. A subscription's own ``close()`` does the same for that subscription.

``publish_many(messages)`` publishes a batch in order and wakes each subscriber once, which
is much cheaper than one ``publish`` per message when there are many subscribers (every
wake-up is a thread switch). Which subscriptions a subject reaches is remembered per subject
until a subscription is added or closed.

``has_subscribers(pattern)`` says whether any subscription could receive a message on a subject
matching ``pattern``, so a publisher can skip building messages nobody would get.

Payloads are passed by reference, not copied: a publisher must not change a payload after
publishing it (NATS would have serialised it; here every handler sees the same object).
Subjects are dotted tokens without wildcards; patterns use ``*`` (one token) and ``>`` (the
rest), matched by :func:`lookout.pipeline.subjects.matches`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lookout.pipeline.ports import Handler
from lookout.pipeline.subjects import matches

__all__ = ["InProcessBus", "InProcessSubscription"]

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 10_000
_JOIN_TIMEOUT_S = 1.0
_MAX_ROUTES = 100_000  # remembered subject -> subscriptions lookups (one per vessel MMSI)


def _check_subject(subject: str) -> None:
    tokens = subject.split(".")
    if any(t in ("", "*", ">") or " " in t for t in tokens):
        raise ValueError(f"not a valid subject to publish on: {subject!r}")


def _check_pattern(pattern: str) -> None:
    tokens = pattern.split(".")
    if any(t == "" or " " in t for t in tokens) or ">" in tokens[:-1]:
        raise ValueError(f"not a valid subscription pattern: {pattern!r}")


def _overlap(a: list[str], b: list[str]) -> bool:
    """Whether some subject matches both patterns (tokens; ``*`` one, ``>`` one or more)."""
    for x, y in zip(a, b, strict=False):
        if x == ">" or y == ">":
            return True
        if x != y and x != "*" and y != "*":
            return False
    return len(a) == len(b)


class InProcessSubscription:
    """One subscriber: its pattern, bounded queue, delivery thread and counters.

    ``delivered`` counts handler calls that returned, ``errors`` calls that raised,
    ``dropped`` messages discarded because the queue was full.
    """

    def __init__(
        self,
        pattern: str,
        handler: Handler,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        on_close: Callable[[InProcessSubscription], None] | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, not {queue_size}")
        self.pattern = pattern
        self._handler = handler
        self._on_close = on_close
        self._queue: deque[tuple[str, Mapping[str, Any]]] = deque()
        self._queue_size = queue_size
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._accepted = 0  # messages ever queued
        self._finished = 0  # messages handled, failed or dropped
        self._flushing = 0  # threads waiting in flush()
        self.delivered = 0
        self.errors = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"bus:{pattern}", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Messages waiting in the queue."""
        with self._cond:
            return len(self._queue)

    def offer(self, messages: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Queue messages in order; for each one that finds the queue full, the oldest
        waiting message is dropped."""
        with self._cond:
            if self._closed:
                return
            was_empty = not self._queue
            for message in messages:
                if len(self._queue) >= self._queue_size:
                    self._queue.popleft()
                    self.dropped += 1
                    self._finished += 1
                self._queue.append(message)
                self._accepted += 1
            if was_empty and self._queue:  # the delivery thread may be waiting for work
                self._cond.notify_all()

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until all messages queued before this call are finished; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            target = self._accepted
            self._flushing += 1
            try:
                while self._finished < target and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._flushing -= 1

    def close(self) -> None:
        """Stop delivery: queued messages are discarded, the handler is not called again.

        Waits up to a second for a handler call in progress to return.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        if self._on_close is not None:
            self._on_close(self)
        if self._thread is not threading.current_thread():
            self._thread.join(_JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                subject, payload = self._queue.popleft()
            self._deliver(subject, payload)

    def _deliver(self, subject: str, payload: Mapping[str, Any]) -> None:
        ok = False
        try:
            self._handler(subject, payload)
            ok = True
        except Exception:
            log.exception("bus handler for %r failed on %r", self.pattern, subject)
        with self._cond:
            if ok:
                self.delivered += 1
            else:
                self.errors += 1
            self._finished += 1
            if self._flushing:
                self._cond.notify_all()


class InProcessBus:
    """Publish/subscribe inside one process; see the module docstring for the guarantees."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._subscriptions: tuple[InProcessSubscription, ...] = ()
        self._routes: dict[str, tuple[InProcessSubscription, ...]] = {}
        self._closed = False

    def publish(self, subject: str, payload: Mapping[str, Any]) -> None:
        """Hand ``payload`` to every matching subscription's queue; never waits on handlers."""
        route = self._routes.get(subject)
        if route is None:
            route = self._route(subject)
        for sub in route:
            sub.offer(((subject, payload),))

    def publish_many(self, messages: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """``publish`` each ``(subject, payload)`` in order, waking each subscriber once.

        With many subscriptions this costs a fraction of publishing one by one (every
        wake-up of a delivery thread is a thread switch). Not part of the ``Bus`` port.
        """
        queued: dict[InProcessSubscription, list[tuple[str, Mapping[str, Any]]]] = {}
        for subject, payload in messages:
            route = self._routes.get(subject)
            if route is None:
                route = self._route(subject)
            for sub in route:
                queued.setdefault(sub, []).append((subject, payload))
        for sub, items in queued.items():
            sub.offer(items)

    def subscribe(
        self, pattern: str, handler: Handler, *, queue_size: int | None = None
    ) -> InProcessSubscription:
        """Deliver messages on subjects matching ``pattern`` to ``handler`` from now on."""
        _check_pattern(pattern)
        size = self._queue_size if queue_size is None else queue_size
        with self._lock:
            if self._closed:
                raise RuntimeError("the bus is closed")
            sub = InProcessSubscription(pattern, handler, size, on_close=self._forget)
            self._subscriptions = (*self._subscriptions, sub)
            self._routes = {}
        return sub

    def _route(self, subject: str) -> tuple[InProcessSubscription, ...]:
        """The subscriptions matching ``subject``, remembered until subscriptions change."""
        _check_subject(subject)
        with self._lock:
            if self._closed:
                raise RuntimeError("the bus is closed")
            if len(self._routes) >= _MAX_ROUTES:
                self._routes = {}
            route = tuple(s for s in self._subscriptions if matches(s.pattern, subject))
            self._routes[subject] = route
            return route

    def has_subscribers(self, pattern: str) -> bool:
        """Whether some subscription could receive a message on a subject matching
        ``pattern`` (so a publisher may skip building messages nobody would get). A
        subscription added later gets only what is published after it. Not part of the
        ``Bus`` port: a bus without it is assumed to have subscribers."""
        return any(_overlap(s.pattern.split("."), pattern.split(".")) for s in self._subscriptions)

    @property
    def subscriptions(self) -> tuple[InProcessSubscription, ...]:
        return self._subscriptions

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every subscription handled what was published before; False on timeout."""
        deadline = time.monotonic() + timeout_s
        return all(sub.flush(max(deadline - time.monotonic(), 0.0)) for sub in self._subscriptions)

    def close(self) -> None:
        """Stop all delivery; later ``publish`` and ``subscribe`` calls raise."""
        with self._lock:
            self._closed = True
            subs, self._subscriptions = self._subscriptions, ()
            self._routes = {}
        for sub in subs:
            sub.close()

    def _forget(self, sub: InProcessSubscription) -> None:
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not sub)
            self._routes = {}
