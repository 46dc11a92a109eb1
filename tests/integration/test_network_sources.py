"""Network sources on loopback: UDP and TCP listeners, the TCP client, the simulator sender.

Every test binds 127.0.0.1 on an ephemeral port and stops its own servers with timeouts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from lookout.model import Frame, Lines
from lookout.sources.network import TcpClientSource, TcpServerSource, UdpSource
from lookout.sources.simulator import (
    SimReceiver,
    SimTarget,
    Simulation,
    SimulationConfig,
    SimulatorSender,
)

VDM = "!AIVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"
TIMEOUT_S = 5.0


class Sink:
    """Collects frames; optionally refuses the first ``refusals`` submissions (queue full)."""

    def __init__(self, refusals: int = 0) -> None:
        self.frames: list[Frame] = []
        self.refusals = refusals
        self.calls = 0
        self._lock = threading.Lock()

    def submit(self, items: Sequence[Frame | Lines], *, key: str | None = None) -> None:
        with self._lock:
            self.calls += 1
            if self.refusals:
                self.refusals -= 1
                raise RuntimeError("ingest queue full")
            for item in items:  # a network source submits one Lines block per read
                self.frames.extend(item.frames() if isinstance(item, Lines) else [item])

    def lines(self) -> list[str]:
        with self._lock:
            return [f.line for f in self.frames]

    def wait_for(self, n: int, timeout_s: float = TIMEOUT_S) -> list[Frame]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.frames) >= n:
                    return list(self.frames)
            time.sleep(0.01)
        raise AssertionError(f"expected {n} frames, got {len(self.frames)}")


@contextlib.contextmanager
def running(source: object, sink: Sink) -> Iterator[threading.Event]:
    """Run a source in a thread; on exit stop it and check it stopped within half a second."""
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(sink, stop), daemon=True)  # type: ignore[attr-defined]
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        started = time.monotonic()
        thread.join(TIMEOUT_S)
        assert not thread.is_alive(), "source did not stop"
        assert time.monotonic() - started < 0.6


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=TIMEOUT_S)


def _eventually(check: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# -- UDP -------------------------------------------------------------------------------------


def test_udp_datagrams_with_several_lines_become_frames_from_the_peer() -> None:
    source = UdpSource(name="udp1", member="PHL-PCG", chunk_wait_s=0.01)
    address = source.bind()
    sink = Sink()
    with running(source, sink), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.bind(("127.0.0.1", 0))
        tx.sendto(f"{VDM}\r\n{VDM}1\r\n".encode(), address)
        tx.sendto(f"{VDM}2".encode(), address)  # no final newline: still a whole line
        frames = sink.wait_for(3)
        peer = "{}:{}".format(*tx.getsockname())
    assert [f.line for f in frames] == [VDM, f"{VDM}1", f"{VDM}2"]
    assert {(f.member, f.source, f.receiver) for f in frames} == {("PHL-PCG", "udp1", peer)}
    assert all(f.received_ts and abs(f.received_ts - time.time()) < 10 for f in frames)
    assert source.stats.datagrams == 2 and source.stats.empty_lines == 0


def test_udp_uses_the_configured_receiver_and_counts_oversize_lines() -> None:
    source = UdpSource(
        name="u", member="m", receiver="PCG-SUBIC", max_line_bytes=100, chunk_wait_s=0.01
    )
    address = source.bind()
    sink = Sink()
    with running(source, sink), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.sendto(f"{'x' * 101}\n{VDM}\n".encode(), address)
        [frame] = sink.wait_for(1)
    assert (frame.line, frame.receiver) == (VDM, "PCG-SUBIC")
    assert source.stats.oversize_lines == 1


# -- TCP server ------------------------------------------------------------------------------


def test_tcp_server_joins_lines_split_across_packets_from_many_clients() -> None:
    source = TcpServerSource(name="tcp1", member="VNM-VCG", chunk_wait_s=0.01)
    address = source.bind()
    sink = Sink()
    with running(source, sink):
        clients = [_connect(address) for _ in range(3)]
        for i, client in enumerate(clients):
            client.sendall(f"{VDM}{i}\r\n{VDM[:10]}".encode())
        for i, client in enumerate(clients):
            time.sleep(0.02)
            client.sendall(f"{VDM[10:]}{i}\n".encode())
        frames = sink.wait_for(6)
        peers = {"{}:{}".format(*c.getsockname()) for c in clients}
        for client in clients:
            client.close()
        _eventually(lambda: source.stats.clients == 0)
    assert sorted(f.line for f in frames) == sorted([f"{VDM}{i}" for i in range(3)] * 2)
    assert {f.receiver for f in frames} == peers
    assert source.stats.connections == 3 and source.stats.partial_lines == 0


def test_tcp_server_drops_an_endless_line_and_keeps_the_connection() -> None:
    source = TcpServerSource(name="t", member="m", max_line_bytes=1024, chunk_wait_s=0.01)
    address = source.bind()
    sink = Sink()
    with running(source, sink), _connect(address) as client:
        for _ in range(64):  # 64 KiB without a newline
            client.sendall(b"A" * 1024)
        client.sendall(f"\n{VDM}\n".encode())
        [frame] = sink.wait_for(1)
    assert frame.line == VDM
    assert source.stats.oversize_lines == 1


def test_tcp_server_refuses_clients_beyond_its_limit() -> None:
    source = TcpServerSource(name="t", member="m", max_clients=2, chunk_wait_s=0.01)
    address = source.bind()
    sink = Sink()
    with running(source, sink):
        first, second = _connect(address), _connect(address)
        _eventually(lambda: source.stats.clients == 2)
        third = _connect(address)
        third.settimeout(TIMEOUT_S)
        assert third.recv(1) == b""  # closed by the server
        _eventually(lambda: source.stats.refused_clients == 1)
        first.sendall(f"{VDM}\n".encode())
        sink.wait_for(1)
        for client in (first, second, third):
            client.close()


def test_tcp_server_retries_while_the_sink_is_full_and_loses_nothing() -> None:
    source = TcpServerSource(name="t", member="m", chunk_lines=10, chunk_wait_s=0.01)
    address = source.bind()
    sink = Sink(refusals=3)
    with running(source, sink), _connect(address) as client:
        client.sendall("".join(f"{VDM}{i}\n" for i in range(100)).encode())
        frames = sink.wait_for(100)
    assert [f.line for f in frames] == [f"{VDM}{i}" for i in range(100)]
    assert sink.calls > 3 and source.stats.lost_lines == 0


def test_a_busy_port_fails_at_bind() -> None:
    first = TcpServerSource(name="a", member="m")
    host, port = first.bind()
    try:
        with pytest.raises(OSError):
            TcpServerSource(name="b", member="m", host=host, port=port).bind()
    finally:
        first.close()


# -- TCP client ------------------------------------------------------------------------------


class Forwarder:
    """A tiny TCP forwarder: accepts one client at a time and sends it what it is given."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(TIMEOUT_S)
        self.address: tuple[str, int] = self.server.getsockname()[:2]

    def serve_once(self, payload: bytes, *, linger_s: float = 0.0) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.sendall(payload)
            time.sleep(linger_s)

    def close(self) -> None:
        self.server.close()


def test_tcp_client_reads_a_forwarder_and_reconnects_after_it_drops() -> None:
    forwarder = Forwarder()
    source = TcpClientSource(
        name="fwd",
        member="IDN-BAKAMLA",
        host=forwarder.address[0],
        port=forwarder.address[1],
        backoff_initial_s=0.05,
        chunk_wait_s=0.01,
    )
    sink = Sink()
    try:
        with running(source, sink):
            forwarder.serve_once(f"{VDM}1\n{VDM}2\n{VDM[:9]}".encode())  # then drops mid-line
            forwarder.serve_once(f"{VDM}3\n".encode(), linger_s=0.2)
            frames = sink.wait_for(3)
    finally:
        forwarder.close()
    assert [f.line for f in frames] == [f"{VDM}1", f"{VDM}2", f"{VDM}3"]
    assert {f.receiver for f in frames} == {"{}:{}".format(*forwarder.address)}
    assert source.stats.connections == 2
    assert source.stats.partial_lines == 1


def test_tcp_client_backs_off_while_nobody_listens_and_stops_promptly() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # a port that is closed once we leave this block
    source = TcpClientSource(
        name="c", member="m", host="127.0.0.1", port=port, backoff_initial_s=0.05, backoff_max_s=0.4
    )
    with running(source, Sink()):
        time.sleep(1.0)
    # 0.05 + 0.1 + 0.2 + 0.4 + 0.4 ... (+-20 %): a handful of tries in a second, not hundreds
    assert 3 <= source.stats.connect_failures <= 8


# -- simulator sender ------------------------------------------------------------------------


def test_simulator_sends_each_receivers_lines_over_its_transport() -> None:
    receivers = [
        SimReceiver("PCG-SUBIC", "PHL-PCG", 14.82, 120.28, 900.0),
        SimReceiver("USCG-SAT", "USA-USCG", 0.0, 0.0, None),
    ]
    config = SimulationConfig(vessels=60, seed=5, satellite_latency_s=(0.0, 0.0))
    sim = Simulation(receivers, config, start_ts=time.time())
    udp = UdpSource(name="PCG-SUBIC", member="PHL-PCG", chunk_wait_s=0.01)
    tcp = TcpServerSource(name="USCG-SAT", member="USA-USCG", chunk_wait_s=0.01)
    targets = {
        "PCG-SUBIC": SimTarget("udp", *udp.bind()),
        "USCG-SAT": SimTarget("tcp", *tcp.bind()),
    }
    sender = SimulatorSender(sim, targets, time_scale=30.0, tick_s=0.05)
    udp_sink, tcp_sink = Sink(), Sink()
    with running(udp, udp_sink), running(tcp, tcp_sink):
        sender.start()
        try:
            udp_sink.wait_for(20)
            tcp_sink.wait_for(20)
        finally:
            sender.stop()
    assert all(line.startswith("\\c:") and ",s:PCG-SUBIC*" in line for line in udp_sink.lines())
    assert all(",s:USCG-SAT*" in line for line in tcp_sink.lines())
    assert sender.stats.lines_dropped == 0 and sender.stats.connections == 1
    assert sender.stats.lines_unrouted == 0
