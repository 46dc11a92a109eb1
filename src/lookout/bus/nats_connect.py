"""Connecting to NATS for :class:`~lookout.bus.nats.NatsBus`: the event-loop thread the
synchronous bus runs nats-py on, the connection with its JetStream check, and ``probe`` for
``lookout doctor``. Errors are :class:`NatsBusError` with the URL (password redacted)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent import futures
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext

from lookout.bus.nats_streams import STREAMS, check_prefix, stream_name

__all__ = [
    "LoopThread",
    "NatsBusError",
    "NatsProbe",
    "connect",
    "delete_streams",
    "probe",
    "redact",
    "version",
]

log = logging.getLogger("lookout.bus.nats")

T = TypeVar("T")


class NatsBusError(RuntimeError):
    """The NATS server is unreachable, has no JetStream, or refused an operation."""


def redact(url: str) -> str:
    """``url`` without a password or token (``nats://user:***@host``)."""
    scheme, sep, rest = url.rpartition("://")
    if "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
    return f"{scheme}{sep}{user + ':' if user else ''}***@{host}"


class LoopThread:
    """A private asyncio event loop on a daemon thread; ``call`` runs a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._pending: set[futures.Future[Any]] = set()
        self._stopped = False
        self._thread = threading.Thread(target=self.loop.run_forever, name="nats", daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        """The thread the loop runs on."""
        return self._thread

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        with self._lock:
            if self._stopped:
                coro.close()
                raise RuntimeError("the bus is closed")
            fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
            self._pending.add(fut)
        try:
            done, _ = futures.wait([fut], timeout_s)
            if not done:
                fut.cancel()
                raise NatsBusError(f"no answer from the NATS server within {timeout_s:g} s")
            return fut.result()
        except futures.CancelledError:
            raise RuntimeError("the bus is closed") from None
        finally:
            with self._lock:
                self._pending.discard(fut)

    def post(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` on the loop without waiting; failures are logged."""
        with self._lock:
            if self._stopped:
                coro.close()
                raise RuntimeError("the bus is closed")
            fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        fut.add_done_callback(_log_failure)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            pending, self._pending = self._pending, set()
        for fut in pending:
            fut.cancel()
        if self._thread is threading.current_thread():
            self.loop.stop()
            return
        shutdown = asyncio.run_coroutine_threadsafe(_cancel_tasks(), self.loop)
        with contextlib.suppress(Exception):
            shutdown.result(2.0)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(2.0)
        if not self._thread.is_alive():
            self.loop.close()


def _log_failure(fut: futures.Future[Any]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.warning("NATS: %s", fut.exception())


async def _cancel_tasks() -> None:
    """Cancel every other task of the loop (the client's reader, flusher, pingers)."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def connect(
    url: str, timeout_s: float, closing: Callable[[], bool] = lambda: False
) -> tuple[Client, JetStreamContext]:
    """A connection that reconnects by itself, to a server with JetStream."""

    failures: list[Exception] = []  # while connecting: the reason, reported once
    connected = False

    async def on_error(exc: Exception) -> None:
        if not connected:
            failures.append(exc)
        else:
            log.warning("NATS: %s", exc)

    async def on_disconnect() -> None:
        if closing():
            return
        log.warning("NATS: disconnected from %s, reconnecting", redact(url))

    try:
        nc = await nats.connect(
            [u.strip() for u in url.split(",") if u.strip()],
            connect_timeout=timeout_s,
            max_reconnect_attempts=1,  # a first connect: two tries, then an error
            reconnect_time_wait=0.2,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
        )
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        reason = failures[-1] if failures else exc
        raise NatsBusError(f"cannot connect to NATS at {redact(url)}: {reason}") from exc
    connected = True
    # Once connected, a lost connection is retried for ever (nats-py reads these options
    # whenever the connection drops).
    nc.options["max_reconnect_attempts"] = -1
    nc.options["reconnect_time_wait"] = 2.0
    js = nc.jetstream(timeout=timeout_s)
    try:
        await js.account_info()
    except (TimeoutError, nats.errors.Error) as exc:
        await nc.close()
        raise NatsBusError(
            f"NATS at {redact(url)} has no JetStream ({exc}); start nats-server with -js"
        ) from exc
    return nc, js


def version(nc: Client) -> str:
    """The connected server's version, ``2.9.10``."""
    v = nc.connected_server_version
    return f"{v.major}.{v.minor}.{v.patch}"


@dataclass(frozen=True, slots=True)
class NatsProbe:
    """What ``lookout doctor`` reports about the server."""

    server_version: str
    streams: tuple[str, ...]
    """This deployment's streams that exist already."""


def probe(url: str, prefix: str = "", timeout_s: float = 3.0) -> NatsProbe:
    """Connect, check JetStream and list the deployment's streams; raise NatsBusError."""

    async def run() -> NatsProbe:
        nc, js = await connect(url, timeout_s, closing=lambda: True)
        try:
            found = []
            for spec in STREAMS:
                name = stream_name(prefix, spec)
                try:
                    await js.stream_info(name)
                    found.append(name)
                except nats.js.errors.NotFoundError:
                    pass
            return NatsProbe(version(nc), tuple(found))
        finally:
            await nc.close()

    check_prefix(prefix)
    return asyncio.run(asyncio.wait_for(run(), timeout_s * 3))


def delete_streams(url: str, prefix: str, timeout_s: float = 3.0) -> list[str]:
    """Delete a deployment's streams and everything in them (tests, decommissioning);
    returns the names of those that existed."""

    async def run() -> list[str]:
        nc, js = await connect(url, timeout_s, closing=lambda: True)
        try:
            deleted = []
            for spec in STREAMS:
                name = stream_name(prefix, spec)
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await js.delete_stream(name)
                    deleted.append(name)
            return deleted
        finally:
            await nc.close()

    check_prefix(prefix)
    return asyncio.run(asyncio.wait_for(run(), timeout_s * 3))
