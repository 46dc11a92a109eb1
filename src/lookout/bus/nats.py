"""NatsBus: the :class:`~lookout.pipeline.ports.Bus` on a NATS JetStream server.

The rest of Lookout is synchronous; this adapter runs nats-py's asyncio client on a private
event-loop thread and every method hands its work to that loop and waits for it.

Publishing. A message whose subject belongs to a durable stream (raw input, observations,
events, alerts; see :mod:`lookout.bus.nats_streams`) is published to JetStream with a
``Nats-Msg-Id`` header and ``publish`` returns once the server acknowledged it; the server
drops a message whose id it has already stored within the stream's duplicate window
(``dedupe_window_s``, 120 s by default), so a re-sent batch is stored once. The id is the
caller's ``msg_id`` or, by default, a hash of the subject and the payload (so an identical
re-send is a duplicate). Other subjects (vessel updates, ingest counters) are plain NATS
messages. ``publish_many`` sends a batch in order and waits for all acknowledgements at once.

Live subscriptions (``subscribe``, the port). Each one is a plain NATS subscription feeding a
bounded queue and a delivery thread with exactly the in-process bus's guarantees (they share
:class:`~lookout.bus.inprocess.InProcessSubscription`): publish order per publisher, the oldest
waiting message dropped and counted when the queue is full, a handler that raises logged and
counted. A live subscription gets what is published while it exists, and a re-sent message
twice: it is a view, the durable consumers below are the record.

Durable consumers (``consume``, not part of the port): at-least-once processing of a stream,
acknowledged only after the handler returned, resumed after a restart; see
:class:`~lookout.bus.nats_consumer.DurableConsumer`.

``flush(timeout_s)`` waits until every message published before the call has been handled by
the live subscriptions (and every durable consumer has nothing left to do). ``close()`` stops
delivery, closes the connection and makes ``publish`` raise ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

try:
    import nats
    import nats.errors
    import nats.js.errors
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription as CoreSubscription
    from nats.js import api
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the NATS bus needs nats-py: pip install 'lookout[nats]'") from exc

from lookout.bus.inprocess import DEFAULT_QUEUE_SIZE, InProcessSubscription
from lookout.bus.nats_connect import (
    LoopThread,
    NatsBusError,
    NatsProbe,
    connect,
    delete_streams,
    probe,
    version,
)
from lookout.bus.nats_consumer import BatchHandler, DurableConsumer, ServerCalls
from lookout.bus.nats_interest import InterestBoard
from lookout.bus.nats_streams import (
    STREAMS,
    check_pattern,
    check_prefix,
    check_subject,
    stream_for,
    stream_name,
    unwire,
    wire,
)
from lookout.pipeline.ports import Handler

__all__ = ["SOON_MAX_PENDING", "NatsBus", "NatsBusError", "NatsProbe", "delete_streams", "probe"]

SOON_MAX_PENDING = 20_000
"""The default bound of :meth:`NatsBus.publish_soon`: messages on their way at once (a
process node's events and alerts of a few batches; thousands only in a storm of events)."""

log = logging.getLogger(__name__)

T = TypeVar("T")
MSG_ID = "Nats-Msg-Id"
DEFAULT_URL = "nats://127.0.0.1:4222"


@dataclass
class _Live:
    """A live subscription's NATS side: how many messages it passed to its queue."""

    core: CoreSubscription
    offered: int = 0


def _encode(payload: Mapping[str, Any]) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def content_id(subject: str, data: bytes) -> str:
    """The default message id: the same subject and payload give the same id."""
    return hashlib.blake2b(subject.encode() + b"\0" + data, digest_size=16).hexdigest()


def _prepare(
    messages: Iterable[tuple[str, Mapping[str, Any]]], ids: list[str | None]
) -> list[tuple[str, bytes, str | None]]:
    """Subject, encoded payload and message id of each message (``ids`` for the first ones,
    else content hashes; none for a subject no stream stores: those are not deduplicated)."""
    prepared: list[tuple[str, bytes, str | None]] = []
    for i, (subject, payload) in enumerate(messages):
        check_subject(subject)
        data = _encode(payload)
        msg_id = None
        if stream_for(subject) is not None:
            msg_id = (ids[i] if i < len(ids) else None) or content_id(subject, data)
        prepared.append((subject, data, msg_id))
    return prepared


class NatsBus:
    """The bus on NATS JetStream; see the module docstring for the guarantees.

    ``prefix`` names this deployment on the server (its streams and subjects, docs/nats.md);
    ``replicas`` is the streams' replication factor (3 on a three-node cluster).
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        prefix: str = "",
        queue_size: int = DEFAULT_QUEUE_SIZE,
        replicas: int = 1,
        dedupe_window_s: float = 120.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.prefix = check_prefix(prefix)
        self._queue_size = queue_size
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._live: dict[InProcessSubscription, _Live] = {}
        self._consumers: list[DurableConsumer] = []
        self._closed = False
        self._sending = asyncio.Lock()
        self._soon = threading.Condition()
        self._soon_pending = 0
        self.soon_max_pending = SOON_MAX_PENDING
        """Most messages :meth:`publish_soon` keeps on their way at once (its bound)."""
        self.duplicates = 0
        """Publishes the server recognised as duplicates (stored once)."""
        self._loop = LoopThread()
        try:
            self._nc, self._js = self._call(connect(url, timeout_s, lambda: self._closed))
            self.server_version = version(self._nc)
            self._call(self._ensure_streams(replicas, dedupe_window_s))
            self._interest = InterestBoard(self._nc, self.prefix)
        except BaseException:
            if hasattr(self, "_nc"):
                with contextlib.suppress(Exception):
                    self._call(self._nc.close())
            self._loop.stop()
            raise
        self.streams = [stream_name(self.prefix, s) for s in STREAMS]
        """The names of this deployment's streams."""

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        return self._loop.call(coro, self._timeout_s if timeout_s is None else timeout_s)

    async def _ensure_streams(self, replicas: int, dedupe_window_s: float) -> None:
        """Create the deployment's streams, or check that existing ones store our subjects."""
        for spec in STREAMS:
            name = stream_name(self.prefix, spec)
            wanted = [wire(self.prefix, spec.pattern)]
            try:
                info = await self._js.stream_info(name)
            except nats.js.errors.NotFoundError:
                await self._js.add_stream(
                    name=name,
                    subjects=wanted,
                    storage=api.StorageType.FILE,
                    retention=api.RetentionPolicy.LIMITS,
                    max_age=spec.max_age_s,
                    num_replicas=replicas,
                    duplicate_window=dedupe_window_s,
                )
                continue
            if info.config.subjects != wanted:
                raise NatsBusError(
                    f"stream {name} exists with subjects {info.config.subjects}, "
                    f"expected {wanted}: another deployment uses this prefix"
                )

    # -- publishing ---------------------------------------------------------------------

    def publish(
        self, subject: str, payload: Mapping[str, Any], *, msg_id: str | None = None
    ) -> None:
        """Publish one message; a stream's message returns once the server stored it."""
        self.publish_many(((subject, payload),), msg_ids=(msg_id,))

    def publish_many(
        self,
        messages: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        msg_ids: Iterable[str | None] = (),
    ) -> None:
        """Publish in order, then wait for every stream acknowledgement; raise on the first
        refusal. ``msg_ids`` gives ids for the first messages (default: content hashes)."""
        if self._closed:
            raise RuntimeError("the bus is closed")
        prepared = _prepare(messages, list(msg_ids))
        if prepared:
            self._call(self._publish(prepared), 2 * self._timeout_s + len(prepared) / 5_000)

    def publish_soon(self, messages: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Publish in order without waiting for the server: the messages go out in the order
        of the calls, and a refusal or a missing acknowledgement is only logged. For what is
        already stored elsewhere (a process node's committed events), so that the next batch
        need not wait for the acknowledgements of this one.

        Bounded: while ``soon_max_pending`` messages of earlier calls are still on their way
        (sent and not yet acknowledged, or waiting to be sent), the call waits until this
        batch fits, so a publisher faster than the server slows down instead of queueing
        without end in memory. A batch larger than the bound goes once nothing else waits."""
        if self._closed:
            raise RuntimeError("the bus is closed")
        prepared = _prepare(messages, [])
        if not prepared:
            return
        size = len(prepared)
        on_loop = threading.current_thread() is self._loop.thread  # it must never wait here
        with self._soon:
            while (
                not on_loop
                and self._soon_pending
                and self._soon_pending + size > self.soon_max_pending
            ):
                if self._closed:
                    raise RuntimeError("the bus is closed")
                self._soon.wait(0.1)
            self._soon_pending += size
        try:
            self._loop.post(self._publish_counted(prepared))
        except BaseException:
            self._sent_soon(size)
            raise

    @property
    def soon_pending(self) -> int:
        """Messages of :meth:`publish_soon` still on their way."""
        with self._soon:
            return self._soon_pending

    async def _publish_counted(self, prepared: list[tuple[str, bytes, str | None]]) -> None:
        try:
            await self._publish(prepared)
        finally:
            self._sent_soon(len(prepared))

    def _sent_soon(self, size: int) -> None:
        with self._soon:
            self._soon_pending -= size
            self._soon.notify_all()

    async def _publish(self, prepared: list[tuple[str, bytes, str | None]]) -> None:
        acks: list[asyncio.Future[api.PubAck]] = []
        async with self._sending:  # the batches of concurrent calls do not interleave
            for subject, data, msg_id in prepared:
                wired = wire(self.prefix, subject)
                if msg_id is None:
                    await self._nc.publish(wired, data)
                else:
                    ack = await self._js.publish_async(wired, data, headers={MSG_ID: msg_id})
                    acks.append(ack)
        if not acks:
            return
        done = await asyncio.wait_for(asyncio.gather(*acks), self._timeout_s)
        self.duplicates += sum(1 for ack in done if ack.duplicate)

    # -- live subscriptions -------------------------------------------------------------

    def subscribe(
        self, pattern: str, handler: Handler, *, queue_size: int | None = None
    ) -> InProcessSubscription:
        """Deliver messages on subjects matching ``pattern`` published from now on."""
        check_pattern(pattern)
        if self._closed:
            raise RuntimeError("the bus is closed")
        size = self._queue_size if queue_size is None else queue_size
        local = InProcessSubscription(pattern, handler, size, on_close=self._forget)
        try:
            live = self._call(self._subscribe(pattern, local))
        except BaseException:
            local.close()
            raise
        with self._lock:
            self._live[local] = live
        return local

    async def _subscribe(self, pattern: str, local: InProcessSubscription) -> _Live:
        live: _Live | None = None

        async def on_message(msg: Msg) -> None:
            assert live is not None
            live.offered += 1
            if msg.subject.startswith(("_INBOX.", "$")):
                return  # the server's own traffic, seen by a ">" without a prefix
            try:
                payload = orjson.loads(msg.data)
            except orjson.JSONDecodeError:
                log.warning("not a JSON message on %s, skipped", msg.subject)
                return
            local.offer(((unwire(self.prefix, msg.subject), payload),))

        core = await self._nc.subscribe(
            wire(self.prefix, pattern), cb=on_message, pending_msgs_limit=0, pending_bytes_limit=0
        )
        live = _Live(core)
        await self._nc.flush(max(1, int(self._timeout_s)))  # the server knows it before we return
        await self._interest.listen(pattern)
        return live

    def _forget(self, local: InProcessSubscription) -> None:
        with self._lock:
            live = self._live.pop(local, None)
        if live is not None and not self._closed:
            try:
                self._call(live.core.unsubscribe())
                self._call(self._interest.unlisten(local.pattern))
            except (RuntimeError, nats.errors.Error) as exc:
                log.warning("unsubscribing %r failed: %s", local.pattern, exc)

    def has_subscribers(self, pattern: str) -> bool:
        """Whether a live subscription on exactly ``pattern`` exists on this deployment, in
        any process (:mod:`lookout.bus.nats_interest`): asked once, then kept fresh in the
        background, so a publisher may call it per batch. Yes when the server does not
        answer. Not part of the ``Bus`` port (the in-process bus has it too)."""
        if self._closed:
            return False
        known = self._interest.known(pattern)
        if known is not None:
            return known
        try:
            return self._call(self._interest.ask_first(pattern))
        except (RuntimeError, NatsBusError, nats.errors.Error) as exc:
            log.warning("asking who listens to %s failed (%s); assuming someone does", pattern, exc)
            return True

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def subscriptions(self) -> tuple[InProcessSubscription, ...]:
        with self._lock:
            return tuple(self._live)

    # -- durable consumers --------------------------------------------------------------

    def consume(
        self,
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
    ) -> DurableConsumer:
        """Process every stored message on ``pattern`` at least once under the durable name
        ``name``, acknowledging each after ``handler`` returned (see DurableConsumer)."""
        if self._closed:
            raise RuntimeError("the bus is closed")
        calls = ServerCalls(self._nc, self._js, self.prefix, self._call, self._loop.post)
        consumer = DurableConsumer(
            calls,
            name,
            pattern,
            handler,
            max_deliver=max_deliver,
            ack_wait_s=ack_wait_s,
            retry_delay_s=retry_delay_s,
            batch=batch,
            deliver=deliver,
            batch_handler=batch_handler,
        )
        with self._lock:
            self._consumers.append(consumer)
        return consumer

    # -- flush and close ----------------------------------------------------------------

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything published before the call is handled; False on timeout."""
        if self._closed:
            return True
        deadline = time.monotonic() + timeout_s
        with self._lock:
            lives = list(self._live.items())
            consumers = [c for c in self._consumers if not c.stopping.is_set()]
        try:
            if not self._call(self._settle([v for _, v in lives], deadline), timeout_s + 1.0):
                return False
        except NatsBusError:
            return False
        subs_done = all(local.flush(max(deadline - time.monotonic(), 0.0)) for local, _ in lives)
        return subs_done and all(c.flush(max(deadline - time.monotonic(), 0.0)) for c in consumers)

    async def _settle(self, lives: list[_Live], deadline: float) -> bool:
        """After a round trip to the server, wait until each live subscription has passed on
        every message the client received for it."""
        await self._nc.flush(max(1, int(deadline - time.monotonic())))
        for live in lives:
            while live.offered < live.core.delivered:
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(0.001)
        return True

    def close(self) -> None:
        """Stop all delivery and disconnect; later ``publish`` and ``subscribe`` raise."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            locals_, consumers = list(self._live), list(self._consumers)
        for consumer in consumers:
            consumer.close()
        for local in locals_:
            local.close()
        try:
            self._call(self._interest.close())
            self._call(self._nc.close())
        except (RuntimeError, nats.errors.Error) as exc:
            log.warning("closing the NATS connection failed: %s", exc)
        self._loop.stop()
