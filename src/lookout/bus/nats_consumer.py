"""DurableConsumer: at-least-once processing of a deployment's JetStream streams.

A durable consumer has a name; JetStream remembers, per stream, which messages that name has
acknowledged, so a consumer opened again under the same name (after a restart, on another
machine) goes on where the last one stopped. Its guarantees:

- **Ack after commit.** A message is acknowledged only after the handler returned: the
  handler commits its results (to the store) before it returns. A process that dies before
  acknowledging gets the message again (after ``ack_wait_s``), so handlers are idempotent:
  the store dedupes by id and idempotency key.
- **Redelivery on failure.** A handler that raises is logged and counted in ``errors``, and
  the message comes back after ``retry_delay_s`` (later messages of the stream may be handled
  first).
- **Dead letters, counted not lost.** After ``max_deliver`` failed deliveries the message is
  copied to the dead-letter stream (``lookout.dead.<family>``, with the original subject,
  stream sequence, consumer and error in headers), counted in ``dead_lettered``, logged, and
  terminated, so it no longer holds the consumer back. If the copy fails the message is left
  for redelivery instead.
- A pattern spanning several streams gets one JetStream consumer per stream, each in stream
  order; there is no order between streams.
- **Batches (optional).** With a ``batch_handler`` the consumer waits for one message, takes
  whatever else the stream already holds (up to ``batch``, without waiting), and hands them
  to ``batch_handler`` together, in stream order: one commit for many messages when there
  is a backlog, no added wait when there is none. They are acknowledged together after it
  returned; if it raises, each message goes through ``handler`` on its own, so one bad
  message is retried and dead-lettered alone.

A new durable name starts at the beginning of what the streams still hold (``deliver="all"``)
or with messages stored from now on (``deliver="new"``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from lookout.bus.nats_streams import (
    DEAD,
    DEAD_LETTERS,
    STREAMS,
    StreamSpec,
    check_pattern,
    intersect,
    stream_name,
    unwire,
    wire,
)
from lookout.pipeline.ports import Handler

__all__ = ["BatchHandler", "DurableConsumer", "ServerCalls"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_FETCH_WAIT_S = 0.5
_TOP_UP_WAIT_S = 0.005
"""How long a batch consumer waits for more messages than the one it has (a no-wait fetch
answers at once when the stream holds some; this only bounds the wait when it holds none)."""

BatchHandler = Callable[[list[tuple[str, Any]]], None]
"""``batch_handler(messages)``: ``(subject, payload)`` pairs in stream order."""
_POLL_S = 0.02


def _pending_after(msg: Msg) -> int:
    """How many messages the consumer had not been given yet when ``msg`` was delivered (its
    metadata); a message without that metadata: as many as may be wanted."""
    try:
        return int(msg.metadata.num_pending)
    except Exception:  # not a JetStream message (a test double): ask as before
        return sys.maxsize


@dataclass(frozen=True, slots=True)
class ServerCalls:
    """What a consumer needs from its bus: the client, the deployment prefix, ``call``, which
    runs a coroutine on the bus's event loop and waits for it (timeout in seconds), and
    ``post``, which only hands it to the loop (acknowledgements: the loop sends them in order,
    and a lost one means a redelivery, which handlers take)."""

    nc: Client
    js: JetStreamContext
    prefix: str
    call: Callable[[Coroutine[Any, Any, Any], float | None], Any]
    post: Callable[[Coroutine[Any, Any, Any]], None]


def _streams_for(prefix: str, pattern: str) -> list[tuple[StreamSpec, str]]:
    """The streams holding subjects that match ``pattern``, each with the filter subject.

    Dead letters are read only by a pattern that names them (``lookout.dead...``): a consumer
    of ``lookout.>`` must not be fed its own dead letters."""
    tokens = pattern.split(".")
    wants_dead = len(tokens) > 1 and tokens[1] == DEAD.pattern.split(".")[1]
    parts = []
    for spec in STREAMS:
        if spec is DEAD and not wants_dead:
            continue
        overlap = intersect(wire(prefix, pattern), wire(prefix, spec.pattern))
        if overlap is not None:
            parts.append((spec, overlap))
    return parts


class _StreamConsumer:
    """One JetStream pull consumer of one stream, fetched and handled by one thread."""

    def __init__(self, owner: DurableConsumer, spec: StreamSpec, filter_subject: str) -> None:
        self.owner = owner
        self.spec = spec
        self.stream = stream_name(owner.calls.prefix, spec)
        self.filter_subject = filter_subject
        self.psub = owner.calls.call(self._bind(), None)
        self._thread = threading.Thread(
            target=self._run, name=f"nats-consumer:{owner.name}:{self.stream}", daemon=True
        )
        self._thread.start()

    async def _bind(self) -> JetStreamContext.PullSubscription:
        owner = self.owner
        config = api.ConsumerConfig(
            durable_name=owner.name,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=owner.ack_wait_s,
            max_deliver=owner.max_deliver,
            filter_subject=self.filter_subject,
            deliver_policy=owner.deliver_policy,
        )
        js = owner.calls.js
        await js.add_consumer(self.stream, config)
        return await js.pull_subscribe_bind(durable=owner.name, stream=self.stream)

    def _run(self) -> None:
        owner = self.owner
        batched = owner.batch_handler is not None
        while not owner.stopping.is_set():
            try:
                msgs: list[Msg] = owner.calls.call(
                    self.psub.fetch(1 if batched else owner.batch, timeout=_FETCH_WAIT_S),
                    _FETCH_WAIT_S + 5.0,
                )
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except RuntimeError:
                return  # the bus closed
            except Exception as exc:
                log.warning("fetching from %s failed: %s", self.stream, exc)
                owner.stopping.wait(1.0)
                continue
            if batched and owner.batch > len(msgs) and msgs:
                more = min(owner.batch - len(msgs), _pending_after(msgs[-1]))
                if more > 0:
                    msgs += self._top_up(more)
            if batched and len(msgs) > 1:
                if owner.stopping.is_set():
                    self._give_back(msgs)
                    return
                if owner.handle_batch(self.spec, msgs):
                    continue
            for i, msg in enumerate(msgs):
                if owner.stopping.is_set():
                    self._give_back(msgs[i:])
                    return
                try:
                    owner.handle(self.spec, msg)
                except Exception as exc:  # an ack that did not reach the server: redelivered
                    log.warning("consumer %s on %s: %s", owner.name, self.stream, exc)

    def _top_up(self, wanted: int) -> list[Msg]:
        """Up to ``wanted`` more messages the stream holds already (none: after a short wait;
        asked only when the last message fetched says more are pending, so the usual case, a
        partition with nothing else waiting, costs no second request and no wait)."""
        try:
            more: list[Msg] = self.owner.calls.call(
                self.psub.fetch(wanted, timeout=_TOP_UP_WAIT_S), _FETCH_WAIT_S + 5.0
            )
        except Exception:  # nothing waiting (a timeout), or the bus closing: go on with one
            return []
        return more

    def _give_back(self, msgs: list[Msg]) -> None:
        """Unhandled messages of a fetch go back at once rather than after ``ack_wait_s``."""
        for msg in msgs:
            try:
                self.owner.calls.call(msg.nak(), None)
            except Exception:  # the bus may be closing; ack_wait brings them back anyway
                return

    def idle(self) -> bool:
        info = self.owner.calls.call(
            self.owner.calls.js.consumer_info(self.stream, self.owner.name), None
        )
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    def join(self, timeout_s: float) -> None:
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)


class DurableConsumer:
    """A named, durable, at-least-once consumer; see the module docstring.

    Counters: ``delivered`` handler calls that returned (and were acknowledged), ``errors``
    calls that raised, ``dead_lettered`` messages given up on after ``max_deliver`` tries.
    """

    def __init__(
        self,
        calls: ServerCalls,
        name: str,
        pattern: str,
        handler: Handler,
        *,
        max_deliver: int = 5,
        ack_wait_s: float = 30.0,
        retry_delay_s: float = 1.0,
        batch: int = 100,
        deliver: str = "all",
        batch_handler: BatchHandler | None = None,
    ) -> None:
        check_pattern(pattern)
        if not name or any(c in name for c in ". *>\t\r\n"):
            raise ValueError(f"not a valid durable consumer name: {name!r}")
        if max_deliver < 1 or batch < 1:
            raise ValueError("max_deliver and batch must be at least 1")
        self.calls = calls
        self.name = name
        self.pattern = pattern
        self._handler = handler
        self.max_deliver = max_deliver
        self.ack_wait_s = ack_wait_s
        self.retry_delay_s = retry_delay_s
        self.batch = batch
        self.batch_handler = batch_handler
        self.deliver_policy = {"all": api.DeliverPolicy.ALL, "new": api.DeliverPolicy.NEW}[deliver]
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0
        self.delivered = 0
        self.errors = 0
        self.dead_lettered = 0
        parts = _streams_for(calls.prefix, pattern)
        if not parts:
            raise ValueError(f"no stream stores subjects matching {pattern!r}")
        self._parts = [_StreamConsumer(self, spec, f) for spec, f in parts]

    @property
    def streams(self) -> list[str]:
        """The streams this consumer reads."""
        return [p.stream for p in self._parts]

    def handle(self, spec: StreamSpec, msg: Msg) -> None:
        """Run the handler on one message, then acknowledge, retry or dead-letter it."""
        with self._lock:
            self._busy += 1
        try:
            self._handle(spec, msg)
        finally:
            with self._lock:
                self._busy -= 1

    def handle_batch(self, spec: StreamSpec, msgs: list[Msg]) -> bool:
        """Run the batch handler on ``msgs`` and acknowledge them all; False (nothing
        acknowledged) when it raised: the caller then handles them one by one."""
        assert self.batch_handler is not None
        with self._lock:
            self._busy += 1
        try:
            try:
                given = [(unwire(self.calls.prefix, m.subject), orjson.loads(m.data)) for m in msgs]
                self.batch_handler(given)
            except Exception as exc:
                log.warning(
                    "consumer %s: a batch of %d failed (%s); one by one", self.name, len(msgs), exc
                )
                return False
            for msg in msgs:
                self.calls.post(msg.ack())
            with self._lock:
                self.delivered += len(msgs)
            return True
        finally:
            with self._lock:
                self._busy -= 1

    def _handle(self, spec: StreamSpec, msg: Msg) -> None:
        subject = unwire(self.calls.prefix, msg.subject)
        try:
            self._handler(subject, orjson.loads(msg.data))
        except Exception as exc:
            with self._lock:
                self.errors += 1
            tries = msg.metadata.num_delivered
            log.exception("consumer %s failed on %s (try %d)", self.name, subject, tries)
            if tries >= self.max_deliver:
                self._dead_letter(spec, msg, subject, exc)
            else:
                self.calls.call(msg.nak(delay=self.retry_delay_s), None)
            return
        self.calls.post(msg.ack())
        with self._lock:
            self.delivered += 1

    def _dead_letter(self, spec: StreamSpec, msg: Msg, subject: str, exc: Exception) -> None:
        seq = msg.metadata.sequence.stream
        stream = stream_name(self.calls.prefix, spec)
        headers = {
            "Nats-Msg-Id": f"dead-{stream}-{seq}-{self.name}",
            "Lookout-Subject": subject,
            "Lookout-Stream": stream,
            "Lookout-Stream-Seq": str(seq),
            "Lookout-Consumer": self.name,
            "Lookout-Error": repr(exc)[:500],
        }
        dead_subject = wire(self.calls.prefix, DEAD_LETTERS[:-1] + spec.family.lower())
        try:
            self.calls.call(self.calls.js.publish(dead_subject, msg.data, headers=headers), None)
        except Exception:
            log.exception("dead-lettering %s seq %d failed; left for redelivery", stream, seq)
            self.calls.call(msg.nak(delay=self.retry_delay_s), None)
            return
        self.calls.call(msg.term(), None)
        with self._lock:
            self.dead_lettered += 1
        log.error(
            "consumer %s gave up on %s seq %d after %d tries",
            self.name,
            stream,
            seq,
            msg.metadata.num_delivered,
        )

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every stored message on the pattern is acknowledged or dead-lettered."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                busy = self._busy
            if busy == 0 and all(p.idle() for p in self._parts):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)

    def close(self) -> None:
        """Stop fetching; a message being handled finishes, fetched ones go back."""
        self.stopping.set()
        for part in self._parts:
            part.join(_FETCH_WAIT_S + 2.0)
