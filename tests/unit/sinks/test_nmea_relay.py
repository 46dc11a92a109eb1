"""NmeaRelaySink: a TCP listener and a UDP socket on 127.0.0.1 receive tagged AIVDM lines that
pyais decodes back to the vessel as the member may see it, and nothing the member may not see."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyais import encode_dict
from pyais.messages import NMEASentence, NMEASentenceFactory
from pyais.stream import IterMessages

from lookout.ais.framing import Framer
from lookout.ais.types import AisMessage
from lookout.bus.inprocess import InProcessBus
from lookout.model import Lines
from lookout.pipeline import subjects
from lookout.pipeline.engine import Pipeline
from lookout.sharing import Policy, Release, coarsen
from lookout.sinks import NmeaRelaySink, OutputsFileError, build_sink, read_outputs
from lookout.sinks.config import OutputConfig

AAA, BBB = "AAA-CG", "BBB-CG"
NOW = 1_780_000_000.0
OTHER, HIDDEN, SMALL = 412_000_002, 412_000_003, 412_000_004
PLANE = 111_412_005  # a SAR aircraft: MID 412 in the form 111MIDXXX (ITU-R M.585)
GRID_M = 5_000.0
AIS_LATLON_DEG = 1 / 600_000  # 1/10,000 minute: the resolution of an AIS position report


def policy() -> Policy:
    return Policy(
        {
            (AAA, "ais"): Release(scope="network"),
            (AAA, "radar"): Release(scope="owner"),
            (AAA, "coarse"): Release(scope="network", precision_m={BBB: GRID_M}),
        }
    )


def vessel(mmsi: int, feed: str = f"{AAA}/ais", **extra: Any) -> dict[str, Any]:
    return {
        "mmsi": mmsi, "segment": 0, "observed_ts": NOW - 10, "lat": 10.123456,
        "lon": 116.654321, "speed_kn": 10.4, "course_deg": 45.3, "heading_deg": 44,
        "status": 0, "flag": "CN", "name": f"Ship {mmsi}", "callsign": "BX123",
        "imo": 9_123_456, "ship_type": 70, "destination": "Manila", "length_m": 120,
        "members": [feed.split("/")[0]], "sources": [feed], "positions": 3, "feed": feed,
        "simulated": False, **extra,
    }  # fmt: skip


def output(port: int, member: str, protocol: str = "tcp", **extra: Any) -> OutputConfig:
    settings: dict[str, Any] = {"min_interval_s": 0.0, "backoff_s": 0.05, **extra}
    return OutputConfig(
        name=f"relay-{member}", kind="nmea", member=member, host="127.0.0.1", port=port,
        protocol=protocol, **settings,
    )  # fmt: skip


# -- receivers -------------------------------------------------------------------------------


class Listener:
    """Accepts TCP connections on 127.0.0.1 (one at a time) and collects the lines received."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.data = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(0.1)
            with conn:
                while not self.stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    self.data += chunk

    def lines(self, n: int, timeout_s: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout_s
        while len(self.data.split(b"\r\n")[:-1]) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.data.split(b"\r\n")[:-1]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        yield sock


def relayed(out: OutputConfig, *updates: dict[str, Any], clock: float = NOW) -> NmeaRelaySink:
    """A started relay on its own bus that has been handed ``updates``."""
    bus = InProcessBus()
    sink = NmeaRelaySink(out, policy, clock=lambda: clock)
    sink.start(bus)
    for update in updates:
        bus.publish(subjects.vessel(update["mmsi"]), update)
    bus.flush(5)
    bus.close()
    return sink


def checked(line: bytes, station: str) -> NMEASentence:
    """One received line: NMEA checksum and tag block checksum valid, ``c:`` and ``s:`` set."""
    sentence = NMEASentenceFactory.produce(line)
    assert sentence.is_valid, line
    tag = sentence.tag_block
    assert tag is not None, line
    tag.init()
    assert tag.is_valid, line
    assert tag.source_station == station
    assert tag.receiver_timestamp == str(int(NOW - 10))
    return sentence


def decoded(lines: list[bytes]) -> list[dict[str, Any]]:
    return [m.decode().asdict() for m in IterMessages(lines)]


# -- tests -----------------------------------------------------------------------------------


def test_tcp_relay_lines_decode_to_the_vessel_with_valid_checksums(listener: Listener) -> None:
    sink = relayed(output(listener.port, AAA), vessel(OTHER))
    try:
        lines = listener.lines(1)
    finally:
        sink.close()
    assert len(lines) == 1
    checked(lines[0], "lookout-AAA-CG")
    [report] = decoded(lines)
    assert (report["msg_type"], report["mmsi"], report["status"]) == (1, OTHER, 0)
    assert report["lat"] == pytest.approx(10.123456, abs=AIS_LATLON_DEG)
    assert report["lon"] == pytest.approx(116.654321, abs=AIS_LATLON_DEG)
    assert (report["speed"], report["course"], report["heading"]) == (10.4, 45.3, 44)
    assert sink.stats.connects == 1 and sink.stats.sent == 1


def test_udp_relay_sends_one_datagram_per_message_with_the_station_named(
    udp: socket.socket,
) -> None:
    port = udp.getsockname()[1]
    sink = relayed(output(port, AAA, "udp", station="pcg.relay_1"), vessel(OTHER))
    try:
        datagram, _ = udp.recvfrom(65536)
    finally:
        sink.close()
    lines = datagram.split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == 2
    checked(lines[0], "pcg.relay_1")
    assert [(m["mmsi"], m["msg_type"]) for m in decoded(lines[:1])] == [(OTHER, 1)]


def test_a_member_never_gets_a_source_not_released_to_it(udp: socket.socket) -> None:
    port = udp.getsockname()[1]
    hidden = vessel(HIDDEN, feed=f"{AAA}/radar")  # owner-only source of another member
    sink = relayed(output(port, BBB, "udp"), hidden, vessel(OTHER))
    try:
        datagram, _ = udp.recvfrom(65536)  # in order: the hidden one would have come first
        udp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            udp.recvfrom(65536)
    finally:
        sink.close()
    assert [m["mmsi"] for m in decoded(datagram.split(b"\r\n")[:-1])] == [OTHER]
    jobs: list[Any] = []
    own = NmeaRelaySink(output(port, AAA, "udp"), policy, clock=lambda: NOW)
    own._offer = jobs.append  # type: ignore[method-assign,assignment]
    own._on_vessel("", hidden)
    assert len(jobs) == 1  # its owner's relay does carry it


def test_a_reduced_precision_release_is_relayed_coarsened_without_identity(
    udp: socket.socket,
) -> None:
    port = udp.getsockname()[1]
    update = vessel(OTHER, feed=f"{AAA}/coarse")
    sink = relayed(output(port, BBB, "udp", static_data=True), update)
    try:
        datagram, _ = udp.recvfrom(65536)
        udp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            udp.recvfrom(65536)  # no static data for a partial update
    finally:
        sink.close()
    [report] = decoded(datagram.split(b"\r\n")[:-1])
    lat, lon = coarsen(update["lat"], update["lon"], GRID_M)
    assert report["lat"] == pytest.approx(lat, abs=AIS_LATLON_DEG)
    assert report["lon"] == pytest.approx(lon, abs=AIS_LATLON_DEG)
    assert abs(report["lat"] - update["lat"]) > 0.001  # not the exact position
    assert sink.stats.statics == 0


def test_the_relay_reconnects_after_the_listener_restarts(listener: Listener) -> None:
    bus = InProcessBus()
    sink = NmeaRelaySink(output(listener.port, AAA), policy, clock=lambda: NOW)
    sink.start(bus)
    try:
        bus.publish(subjects.vessel(OTHER), vessel(OTHER))
        assert len(listener.lines(1)) == 1
        listener.close()
        again = Listener(listener.port)
        try:
            deadline = time.monotonic() + 10
            while not again.lines(1, timeout_s=0.1) and time.monotonic() < deadline:
                bus.publish(subjects.vessel(SMALL), vessel(SMALL))
            got = again.lines(1)
        finally:
            again.close()
    finally:
        sink.close()
        bus.close()
    assert got and decoded(got[:1])[0]["mmsi"] == SMALL
    assert sink.stats.connects == 2


def test_static_data_follows_a_whole_update_by_class(udp: socket.socket) -> None:
    port = udp.getsockname()[1]
    class_b = vessel(SMALL, ais_class="B")
    sink = relayed(output(port, AAA, "udp", static_data=True), vessel(OTHER), class_b)
    try:
        datagrams = [udp.recvfrom(65536)[0] for _ in range(5)]  # 1, 5; 18, 24A, 24B
    finally:
        sink.close()
    lines = [line for d in datagrams for line in d.split(b"\r\n")[:-1]]
    for line in lines:
        checked(line, "lookout-AAA-CG")
    messages = decoded(lines)
    kinds = [(m["mmsi"], m["msg_type"], m.get("partno")) for m in messages]
    assert kinds == [(OTHER, 1, None), (OTHER, 5, None), (SMALL, 18, None),
                     (SMALL, 24, 0), (SMALL, 24, 1)]  # fmt: skip
    static = messages[1]
    assert (static["shipname"], static["callsign"], static["imo"]) == (
        f"SHIP {OTHER}", "BX123", 9_123_456
    )  # fmt: skip
    assert (static["destination"], static["to_bow"] + static["to_stern"]) == ("MANILA", 120)
    assert messages[3]["shipname"] == f"SHIP {SMALL}" and messages[4]["ship_type"] == 70


def test_updates_are_rate_limited_per_vessel() -> None:
    clock = [NOW]
    jobs: list[Any] = []
    sink = NmeaRelaySink(output(1, AAA, min_interval_s=10.0), policy, clock=lambda: clock[0])
    sink._offer = jobs.append  # type: ignore[method-assign,assignment]
    for _ in range(5):
        sink._on_vessel("", vessel(OTHER))
        sink._on_vessel("", vessel(SMALL))
        clock[0] += 3.0  # 5 updates over 12 s: the first and the one at +12 s pass
    assert len(jobs) == 4 and sink.stats.throttled == 6


def test_simulated_tracks_are_withheld_unless_asked_for_and_then_marked(
    udp: socket.socket,
) -> None:
    port = udp.getsockname()[1]
    demo = vessel(OTHER, simulated=True)
    withheld = relayed(output(port, AAA, "udp"), demo)
    withheld.close()
    assert withheld.stats.simulated == 1 and withheld.stats.positions == 0
    sink = relayed(output(port, AAA, "udp", relay_simulated=True), demo)
    try:
        datagram, _ = udp.recvfrom(65536)
    finally:
        sink.close()
    tag = checked(datagram.split(b"\r\n")[0], "lookout-AAA-CG").tag_block
    assert tag is not None and tag.text == "simulated"


def test_lookouts_own_ingest_reads_the_relay_back() -> None:
    sink = NmeaRelaySink(output(1, AAA, static_data=True), policy)
    blocks = sink._encode(vessel(OTHER), True)
    framer = Framer(member=BBB, source="relay")
    got = [m for b in blocks for line in b.decode().splitlines() for m in framer.feed(line)]
    messages = [m for m in got if isinstance(m, AisMessage)]
    assert len(messages) == len(got) == 2  # the position report and the type 5, no rejects
    assert {(m.received_ts, m.receiver) for m in messages} == {(NOW - 10, "lookout-AAA-CG")}


def test_the_outputs_file_reads_an_nmea_relay(tmp_path: Path) -> None:
    path = tmp_path / "outputs.toml"
    path.write_text(
        '[[outputs]]\nname = "up"\nkind = "nmea"\nmember = "PHL-PCG"\nhost = "ais.example"\n'
        "static_data = true\n"
    )
    [relay] = read_outputs(path)
    assert (relay.port, relay.protocol, relay.static_data, relay.relay_simulated) == (
        10110, "tcp", True, False
    )  # fmt: skip
    sink = build_sink(relay, policy)  # what lookout serve starts for it
    assert isinstance(sink, NmeaRelaySink) and sink.station == "lookout-PHL-PCG"
    path.write_text(path.read_text() + 'station = "a,b*c"\n')
    with pytest.raises(OutputsFileError, match="station"):
        read_outputs(path)


def test_each_class_is_relayed_in_its_own_message_types_and_decodes_back(
    udp: socket.socket,
) -> None:
    port = udp.getsockname()[1]
    class_a, class_b = vessel(OTHER, ais_class="A"), vessel(SMALL, ais_class="B", ship_type=37)
    plane = vessel(PLANE, ais_class="SAR", speed_kn=140.4, heading_deg=None)
    sink = relayed(output(port, AAA, "udp", static_data=True), class_a, class_b, plane)
    try:
        datagrams = [udp.recvfrom(65536)[0] for _ in range(6)]  # 1, 5; 18, 24A, 24B; 9
    finally:
        sink.close()
    messages = decoded([line for d in datagrams for line in d.split(b"\r\n")[:-1]])
    by_type = {(m["mmsi"], m["msg_type"], m.get("partno")): m for m in messages}
    assert list(by_type) == [(OTHER, 1, None), (OTHER, 5, None), (SMALL, 18, None),
                             (SMALL, 24, 0), (SMALL, 24, 1), (PLANE, 9, None)]  # fmt: skip
    for mmsi, msg_type, update in ((OTHER, 1, class_a), (SMALL, 18, class_b)):
        report = by_type[(mmsi, msg_type, None)]
        assert report["lat"] == pytest.approx(update["lat"], abs=AIS_LATLON_DEG)
        assert report["lon"] == pytest.approx(update["lon"], abs=AIS_LATLON_DEG)
        assert (report["speed"], report["course"], report["heading"]) == (10.4, 45.3, 44)
    assert "status" not in by_type[(SMALL, 18, None)]  # type 18 has no navigational status
    assert by_type[(OTHER, 1, None)]["turn"] == -128  # rate of turn: not available
    assert (by_type[(OTHER, 5, None)]["shipname"], by_type[(OTHER, 5, None)]["ship_type"]) == (
        f"SHIP {OTHER}", 70
    )  # fmt: skip
    assert by_type[(SMALL, 24, 0)]["shipname"] == f"SHIP {SMALL}"
    assert by_type[(SMALL, 24, 1)]["ship_type"] == 37
    sar = by_type[(PLANE, 9, None)]
    assert (sar["speed"], sar["course"], sar["alt"]) == (140, 45.3, 4095)
    assert sar["lat"] == pytest.approx(plane["lat"], abs=AIS_LATLON_DEG)
    assert sink.stats.positions == 3 and sink.stats.statics == 3


def test_the_pipelines_vessel_updates_bring_the_class_to_the_relay(udp: socket.socket) -> None:
    heard = [
        str(encode_dict(
            {"type": t, "mmsi": m, "lat": 10.5, "lon": 116.5, "speed": 8.2, "course": 91.0,
             "heading": 90}, talker_id="AI")[0])
        for t, m in ((3, OTHER), (19, SMALL))
    ]  # fmt: skip
    result = Pipeline().process([Lines(heard, AAA, "ais")], now_ts=NOW)
    updates = [p for s, p in result.messages if s == subjects.vessel(int(p.get("mmsi", 0)))]
    port = udp.getsockname()[1]
    sink = relayed(output(port, AAA, "udp"), *updates, clock=updates[0]["observed_ts"] + 1)
    try:
        datagrams = [udp.recvfrom(65536)[0] for _ in range(2)]
    finally:
        sink.close()
    messages = decoded([line for d in datagrams for line in d.split(b"\r\n")[:-1]])
    assert sorted((m["mmsi"], m["msg_type"]) for m in messages) == [(OTHER, 1), (SMALL, 18)]
    assert {(m["speed"], m["course"], m["heading"]) for m in messages} == {(8.2, 91.0, 90)}
