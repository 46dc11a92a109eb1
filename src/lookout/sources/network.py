"""Live NMEA feeds over the network: a UDP listener, a TCP listener and a TCP client.

The lines of each read become one ``Lines(lines, member, source, received_ts=<wall clock at
receipt>, receiver=<configured receiver, else the peer's "host:port">)`` block (the same as one
``Frame`` per line, cheaper). Blocks are submitted to the sink in chunks (``chunk_lines`` lines
or ``chunk_wait_s`` after the first waiting line) so the per-call overhead is paid once per
chunk.

What these feeds guarantee: **at most once**. Neither UDP nor a raw NMEA TCP stream carries
acknowledgements, so the sender is never told whether a line was stored. A line is lost when
the kernel drops a UDP datagram (receive buffer full), when a connection breaks in the middle of
a line (the partial line is counted in ``partial_lines``), or when the process dies after a line
was received but before its chunk was committed. Senders that need at-least-once delivery use
the HTTP push endpoint, whose acknowledgement follows the commit.

Limits, each counted in :class:`FeedStats` rather than silently absorbed:

- A line longer than ``max_line_bytes`` (default 1 KiB; a valid NMEA sentence with a tag block
  is under 250 bytes) is discarded up to its end-of-line and counted in ``oversize_lines``:
  a stream without newlines cannot grow a buffer without bound.
- The TCP listener serves at most ``max_clients`` connections at once (default 64); a further
  client is accepted and closed at once, counted in ``refused_clients``.
- When the sink refuses a chunk (the ingest queue is full) the source retries with backoff and
  stops reading meanwhile, so TCP flow control slows the sender down; UDP datagrams arriving
  meanwhile may be dropped by the kernel. A chunk still refused when the source is stopped is
  counted in ``lost_lines``.

Lines are decoded as Latin-1 (every byte maps to one character), so a corrupt byte reaches the
decoder and is rejected there with a reason instead of breaking the feed. Empty lines
(keep-alives) are counted in ``empty_lines`` and not submitted.
"""

from __future__ import annotations

import logging
import random
import selectors
import socket
from dataclasses import dataclass, field
from typing import ClassVar, cast

from lookout.pipeline.ports import FrameSink, StopSignal
from lookout.sources.framing import FeedStats, FrameChunk, LineSplitter, split_lines

__all__ = [
    "FeedStats",
    "LineSplitter",
    "TcpClientSource",
    "TcpServerSource",
    "UdpSource",
]

log = logging.getLogger(__name__)

RECV_BYTES = 65_536
UDP_RCVBUF_BYTES = 4 * 1024 * 1024
"""Requested UDP receive buffer (the kernel may cap it at ``net.core.rmem_max``)."""


def _peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


@dataclass(kw_only=True, eq=False)
class _Feed:
    """Settings every network source shares (keyword-only); ``stats`` are its counters."""

    name: str
    member: str
    host: str = "127.0.0.1"
    port: int = 0
    receiver: str | None = None
    max_line_bytes: int = 1024
    chunk_lines: int = 500
    chunk_wait_s: float = 0.05
    stats: FeedStats = field(default_factory=FeedStats, init=False, repr=False)

    def _chunk(self, sink: FrameSink, stop: StopSignal) -> FrameChunk:
        label = f"{self.member}/{self.name}"
        return FrameChunk(sink, stop, self.stats, self.chunk_lines, self.chunk_wait_s, label)


@dataclass(kw_only=True, eq=False)
class _Listener(_Feed):
    """A source that binds ``host:port`` and waits for senders."""

    kind: ClassVar[int] = socket.SOCK_STREAM
    _sock: socket.socket | None = field(default=None, init=False, repr=False)

    def bind(self) -> tuple[str, int]:
        """Open the socket now (the service does so at start to fail early on a busy port)."""
        if self._sock is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, self.kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._configure(sock)
            sock.bind((self.host, self.port))
            sock.setblocking(False)
            self._sock = sock
        return self.address

    def _configure(self, sock: socket.socket) -> None:
        pass

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; with port 0 the port the kernel chose."""
        if self._sock is None:
            raise RuntimeError(f"{self!r} is not bound")
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass(kw_only=True, eq=False)
class UdpSource(_Listener):
    """Listens for UDP datagrams; each may hold several lines (a final ``\\n`` is optional)."""

    kind: ClassVar[int] = socket.SOCK_DGRAM

    def _configure(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF_BYTES)
        except OSError:  # pragma: no cover - platform dependent
            log.debug("could not enlarge the UDP receive buffer")

    def run(self, sink: FrameSink, stop: StopSignal) -> None:
        self.bind()
        sock = self._sock
        assert sock is not None
        chunk = self._chunk(sink, stop)
        stats = self.stats
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            try:
                while not stop.is_set():
                    if sel.select(chunk.timeout()):
                        self._drain(sock, chunk, stats)
                    chunk.flush_if_due()
            finally:
                chunk.flush()
                self.close()

    def _drain(self, sock: socket.socket, chunk: FrameChunk, stats: FeedStats) -> None:
        """Read every datagram waiting (bounded, so a flood cannot starve the stop check)."""
        for _ in range(chunk.max_lines):
            try:
                data, address = sock.recvfrom(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP errors surfaced on some platforms
                log.debug("udp %s: %s", self.name, exc)
                return
            stats.datagrams += 1
            stats.bytes += len(data)
            parts = data.decode("latin-1").split("\n")
            if len(parts) > 1 and not parts[-1]:
                parts.pop()  # the datagram's final newline, not an empty line
            lines = split_lines(parts, self.max_line_bytes, stats)
            chunk.add(lines, self.member, self.name, self.receiver or _peer(address))


@dataclass(slots=True)
class _Client:
    splitter: LineSplitter
    receiver: str


@dataclass(kw_only=True, eq=False)
class TcpServerSource(_Listener):
    """Listens for TCP connections from receivers or forwarders; serves many at once.

    One thread multiplexes every connection with ``selectors``; at most ``max_clients`` are
    served at a time (see the module docstring).
    """

    max_clients: int = 64

    def bind(self) -> tuple[str, int]:
        fresh = self._sock is None
        address = super().bind()
        if fresh and self._sock is not None:
            self._sock.listen(min(self.max_clients, socket.SOMAXCONN))
        return address

    def run(self, sink: FrameSink, stop: StopSignal) -> None:
        self.bind()
        listener = self._sock
        assert listener is not None
        chunk = self._chunk(sink, stop)
        with selectors.DefaultSelector() as sel:
            sel.register(listener, selectors.EVENT_READ, None)
            try:
                while not stop.is_set():
                    for key, _ in sel.select(chunk.timeout()):
                        if key.data is None:
                            self._accept(listener, sel)
                        else:
                            self._read(cast(socket.socket, key.fileobj), key.data, sel, chunk)
                    chunk.flush_if_due()
            finally:
                chunk.flush()
                for key in list(sel.get_map().values()):
                    if key.data is not None:
                        self._drop(cast(socket.socket, key.fileobj), key.data, sel)
                self.close()

    def _accept(self, listener: socket.socket, sel: selectors.BaseSelector) -> None:
        try:
            conn, address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if self.stats.clients >= self.max_clients:
            self.stats.refused_clients += 1
            log.warning(
                "%s: refusing %s, %d clients already", self.name, _peer(address), self.stats.clients
            )
            conn.close()
            return
        conn.setblocking(False)
        self.stats.connections += 1
        self.stats.clients += 1
        client = _Client(
            LineSplitter(self.stats, self.max_line_bytes), self.receiver or _peer(address)
        )
        sel.register(conn, selectors.EVENT_READ, client)
        log.info("%s: client %s connected", self.name, _peer(address))

    def _read(
        self, conn: socket.socket, client: _Client, sel: selectors.BaseSelector, chunk: FrameChunk
    ) -> None:
        try:
            data = conn.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.info("%s: client %s failed: %s", self.name, client.receiver, exc)
            data = b""
        if not data:
            self._drop(conn, client, sel)
            return
        self.stats.bytes += len(data)
        chunk.add(client.splitter.feed(data), self.member, self.name, client.receiver)

    def _drop(self, conn: socket.socket, client: _Client, sel: selectors.BaseSelector) -> None:
        sel.unregister(conn)
        conn.close()
        client.splitter.close()
        self.stats.clients -= 1


@dataclass(kw_only=True, eq=False)
class TcpClientSource(_Feed):
    """Connects to a forwarder (``host:port``) and reads its NMEA stream; reconnects forever.

    After a failed connect or a dropped connection it waits ``backoff_initial_s``, doubling up
    to ``backoff_max_s`` (with +-20 % jitter so many clients do not reconnect in step); the
    wait is reset once data arrives. ``receiver`` defaults to ``"host:port"``.
    """

    connect_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    _jitter: random.Random = field(default_factory=random.Random, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.receiver is None:
            self.receiver = f"{self.host}:{self.port}"

    def run(self, sink: FrameSink, stop: StopSignal) -> None:
        chunk = self._chunk(sink, stop)
        delay_s = self.backoff_initial_s
        try:
            while not stop.is_set():
                got_data = self._session(chunk, stop)
                if got_data:
                    delay_s = self.backoff_initial_s
                if stop.is_set():
                    break
                stop.wait(delay_s * self._jitter.uniform(0.8, 1.2))
                if not got_data:
                    delay_s = min(delay_s * 2.0, self.backoff_max_s)
        finally:
            chunk.flush()

    def _session(self, chunk: FrameChunk, stop: StopSignal) -> bool:
        """One connection, from connect to close; True if any data arrived."""
        try:
            conn = socket.create_connection((self.host, self.port), self.connect_timeout_s)
        except OSError as exc:
            self.stats.connect_failures += 1
            log.info("%s: cannot connect to %s:%d: %s", self.name, self.host, self.port, exc)
            return False
        self.stats.connections += 1
        self.stats.clients = 1
        log.info("%s: connected to %s:%d", self.name, self.host, self.port)
        splitter = LineSplitter(self.stats, self.max_line_bytes)
        got_data = False
        with conn, selectors.DefaultSelector() as sel:
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            while not stop.is_set():
                if sel.select(chunk.timeout()):
                    data = self._recv(conn)
                    if data is None:
                        continue
                    if not data:
                        break
                    got_data = True
                    self.stats.bytes += len(data)
                    chunk.add(splitter.feed(data), self.member, self.name, self.receiver)
                chunk.flush_if_due()
        splitter.close()
        self.stats.clients = 0
        return got_data

    def _recv(self, conn: socket.socket) -> bytes | None:
        """Bytes read; ``b""`` at end of stream or on error; ``None`` if nothing after all."""
        try:
            return conn.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            log.info("%s: connection to %s:%d failed: %s", self.name, self.host, self.port, exc)
            return b""
