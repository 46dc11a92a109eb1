"""Sender: how a sink delivers bytes to a stream receiver (a TAK server, an NMEA consumer).

Over TCP it keeps one connection, drops it when the receiver closed it or a send fails, and
reconnects on the next send once ``backoff_s`` (doubling up to ``max_backoff_s``) has passed;
what cannot be sent meanwhile is counted as ``failed``. Over UDP each message is one datagram.
Every connection attempt after the first is counted as ``retried``; the sender also keeps the
``last_error`` (empty until one) and the wall-clock time of the ``last_success_ts``.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import time
from collections.abc import Callable
from typing import Protocol

from lookout.sinks.config import OutputConfig

__all__ = ["Sender", "SenderStats"]

log = logging.getLogger(__name__)


class SenderStats(Protocol):
    """The counters a sender adds to."""

    sent: int
    failed: int
    connects: int
    retried: int
    last_error: str
    last_success_ts: float | None


class Sender:
    """TCP (one connection, reconnected with backoff) or UDP (one datagram per message)."""

    def __init__(
        self, config: OutputConfig, stats: SenderStats, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.stats = stats
        self._clock = clock
        self._attempted = False
        self._sock: socket.socket | None = None
        self._retry_at = 0.0
        self._backoff_s = config.backoff_s

    def send(self, data: bytes) -> None:
        try:
            if self.config.protocol == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.sendto(data, (self.config.host, self.config.port))
            else:
                sock = self._connected()
                if sock is None:
                    self.stats.failed += 1
                    return
                sock.sendall(data)
        except OSError as exc:
            log.warning("%s output %s: %s", self.config.kind, self.config.name, exc)
            self.disconnect()
            self.stats.failed += 1
            self.stats.last_error = f"send failed: {exc.strerror or exc}"
            return
        self.stats.sent += 1
        self.stats.last_success_ts = self._clock()

    def _connected(self) -> socket.socket | None:
        """The open connection (dropped first if the peer closed it), or a new one unless a
        reconnect is not due yet."""
        if self._sock is not None and _peer_closed(self._sock):
            log.warning("%s output %s: the receiver closed the connection", self.config.kind,
                        self.config.name)  # fmt: skip
            self.disconnect()
            self.stats.last_error = "the receiver closed the connection"
        if self._sock is not None:
            return self._sock
        if time.monotonic() < self._retry_at:
            return None
        address = (self.config.host, self.config.port)
        if self._attempted:
            self.stats.retried += 1
        self._attempted = True
        try:
            self._sock = socket.create_connection(address, timeout=self.config.timeout_s)
        except OSError as exc:
            log.warning("%s output %s: cannot connect to %s:%d: %s", self.config.kind,
                        self.config.name, *address, exc)  # fmt: skip
            reason = exc.strerror or str(exc) or type(exc).__name__
            self.stats.last_error = f"cannot connect to {address[0]}:{address[1]}: {reason}"
            self._retry_at = time.monotonic() + self._backoff_s
            self._backoff_s = min(self._backoff_s * 2, self.config.max_backoff_s)
            return None
        self.stats.connects += 1
        self._backoff_s = self.config.backoff_s
        return self._sock

    def disconnect(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def _peer_closed(sock: socket.socket) -> bool:
    """Whether the receiver closed the connection (our receivers do not write to it;
    anything one does write is read and ignored)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(4096) == b""
    except OSError:
        return True
