"""CotSink: a TAK-style listener on 127.0.0.1 receives CoT events for tracks and alerts that
parse and pass the CoT 2.0 event schema's rules, with affiliations per the member's view."""

from __future__ import annotations

import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from lookout.bus.inprocess import InProcessBus
from lookout.pipeline import subjects
from lookout.pipeline.alerts import alert_messages
from lookout.sharing import Agreement, Policy, Release, ZoneInfo
from lookout.sinks.config import OutputConfig
from lookout.sinks.cot import KNOT_M_S, affiliation, alert_event, track_event
from lookout.sinks.cot_sink import CotSink

AAA, BBB = "AAA-CG", "BBB-CG"
NOW = 1_780_000_000.0
OWN, OTHER, HIDDEN = 548_000_001, 412_000_002, 412_000_003

# -- a validator for the CoT 2.0 event schema (MITRE Event-PUBLIC.xsd) -----------------------

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TYPE = re.compile(r"^[a-z](-[A-Za-z0-9]+)*$")  # dash-separated atoms: a-f-S, b-m-p-s-m
HOW = re.compile(r"^[a-z](-[a-z0-9]+)*$")  # m-g, h-e, ...
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def validate(xml: bytes) -> ET.Element:
    """Parse one CoT event and check the schema's required attributes and their formats."""
    event = ET.fromstring(xml)
    assert event.tag == "event"
    for name in ("version", "uid", "type", "time", "start", "stale", "how"):
        assert event.get(name), f"event lacks required {name!r}"
    assert float(event.get("version", "0")) >= 2.0
    assert TYPE.match(event.get("type", "")), event.get("type")
    assert HOW.match(event.get("how", "")), event.get("how")
    for name in ("time", "start", "stale"):
        assert TIME.match(event.get(name, "")), (name, event.get(name))
    assert _when(event.get("stale", "")) >= _when(event.get("start", ""))
    points = event.findall("point")
    assert len(points) == 1, "exactly one point"
    point = points[0]
    for name in ("lat", "lon", "hae", "ce", "le"):
        assert DECIMAL.match(point.get(name, "")), (name, point.get(name))
    assert -90 <= float(point.get("lat", "")) <= 90
    assert -180 <= float(point.get("lon", "")) <= 180
    assert float(point.get("ce", "")) >= 0 and float(point.get("le", "")) >= 0
    assert len(event.findall("detail")) <= 1
    return event


def test_the_validator_refuses_what_the_schema_refuses() -> None:
    good = track_event(vessel(OTHER), "u", NOW, 300)
    validate(good)
    for broken in (
        good.replace(b' how="m-g"', b""),
        good.replace(b'type="a-u-S"', b'type="A U S"'),
        good.replace(b"Z", b"", 1),
        good.replace(b"<point", b"<pt").replace(b"</point>", b"</pt>"),
    ):
        with pytest.raises(AssertionError):
            validate(broken)


# -- a TAK-style listener --------------------------------------------------------------------


class TakListener:
    """Accepts TCP connections on 127.0.0.1 and collects every CoT event received."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
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
            conn.settimeout(0.2)
            with conn:
                while not self.stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    self.data += chunk

    def events(self, n: int, timeout_s: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [p + b"</event>" for p in self.data.split(b"</event>")[:-1]]
            if len(found) >= n:
                return found
            time.sleep(0.01)
        return [p + b"</event>" for p in self.data.split(b"</event>")[:-1]]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def tak() -> Iterator[TakListener]:
    listener = TakListener()
    yield listener
    listener.close()


def policy() -> Policy:
    releases = {
        (AAA, "ais"): Release(scope="network"),
        (AAA, "radar"): Release(scope="owner"),
        (BBB, "radar"): Release(scope="owner"),
    }
    zones = {"aaa-ts": ZoneInfo(owners=frozenset({AAA}), regime="territorial_sea")}
    return Policy(releases, Agreement(), zones)


def vessel(mmsi: int, feed: str = f"{AAA}/ais", **extra: Any) -> dict[str, Any]:
    return {
        "mmsi": mmsi, "segment": 0, "observed_ts": NOW - 10, "lat": 10.25, "lon": 116.75,
        "speed_kn": 10.0, "course_deg": 45.0, "heading_deg": 44, "flag": "CN",
        "name": f"SHIP {mmsi}", "members": [feed.split("/")[0]], "sources": [feed],
        "positions": 3, "feed": feed, **extra,
    }  # fmt: skip


def output(port: int, member: str, protocol: str = "tcp", **extra: Any) -> OutputConfig:
    settings: dict[str, Any] = {"min_interval_s": 60.0, **extra}
    return OutputConfig(
        name=f"tak-{member}", kind="cot", member=member, host="127.0.0.1", port=port,
        protocol=protocol, assets=frozenset({OWN}), **settings,
    )  # fmt: skip


def shadowing(mmsi: int) -> dict[str, Any]:
    return {
        "id": "shadow-1", "kind": "shadowing", "status": "confirmed", "ts": NOW - 5,
        "start_ts": NOW - 600, "mmsi": mmsi, "mmsis": [mmsi, OWN], "lat": 10.3, "lon": 116.8,
        "members": [AAA], "sources": [f"{AAA}/ais"], "observations": [], "details": {},
    }  # fmt: skip


def test_tracks_and_alerts_reach_a_tak_listener_as_valid_cot(tak: TakListener) -> None:
    bus = InProcessBus()
    out = CotSink(output(tak.port, AAA), policy, clock=lambda: NOW)
    out.start(bus)
    try:
        bus.publish(subjects.vessel(OWN), vessel(OWN))
        bus.publish(subjects.vessel(OTHER), vessel(OTHER))
        bus.flush(5)
        for subject, payload in alert_messages(shadowing(OTHER)):
            bus.publish(subject, payload)
        bus.flush(5)
        got = tak.events(3)
    finally:
        out.close()
        bus.close()
    events = [validate(x) for x in got]
    by_uid = {e.get("uid"): e for e in events}
    own, other = by_uid[f"lookout-vessel-{OWN}"], by_uid[f"lookout-vessel-{OTHER}"]
    assert own.get("type") == "a-f-S" and other.get("type") == "a-u-S"
    track = other.find("detail/track")
    assert track is not None
    assert float(track.get("speed", "")) == pytest.approx(10.0 * KNOT_M_S, abs=0.01)
    assert float(track.get("course", "")) == 45.0
    contact = other.find("detail/contact")
    assert contact is not None and contact.get("callsign") == f"SHIP {OTHER}"
    alert = by_uid["lookout-alert-shadow-1"]
    assert alert.get("type") == "b-m-p-s-m"
    links = {link.get("uid") for link in alert.findall("detail/link")}
    assert f"lookout-vessel-{OTHER}" in links


def test_affiliation_follows_the_members_view_and_alerts_make_a_vessel_suspect() -> None:
    clock = [NOW]
    sent: list[bytes] = []
    out = CotSink(output(1, AAA, min_interval_s=0.0), policy, clock=lambda: clock[0])
    out._offer = sent.append  # type: ignore[method-assign,assignment]
    out._on_vessel("", vessel(OTHER))
    out._on_alert("", alert_messages(shadowing(OTHER))[0][1])
    out._on_vessel("", vessel(OTHER))
    clock[0] += 7 * 3600  # past suspect_s (6 h)
    out._on_vessel("", vessel(OTHER, observed_ts=clock[0] - 10))
    types = [validate(x).get("type") for x in sent]
    assert types == ["a-u-S", "b-m-p-s-m", "a-s-S", "a-u-S"]


def test_a_member_gets_no_track_of_a_vessel_only_another_member_sees() -> None:
    sent: list[bytes] = []
    out = CotSink(output(1, BBB), policy, clock=lambda: NOW)
    out._offer = sent.append  # type: ignore[method-assign,assignment]
    out._on_vessel("", vessel(HIDDEN, feed=f"{AAA}/radar"))
    out._on_vessel("", vessel(OTHER))
    assert [validate(x).get("uid") for x in sent] == [f"lookout-vessel-{OTHER}"]


def test_vessel_updates_are_rate_limited_per_vessel() -> None:
    clock = [NOW]
    sent: list[bytes] = []
    out = CotSink(output(1, AAA, min_interval_s=10.0), policy, clock=lambda: clock[0])
    out._offer = sent.append  # type: ignore[method-assign,assignment]
    for _ in range(5):
        out._on_vessel("", vessel(OTHER))
        out._on_vessel("", vessel(OWN))
        clock[0] += 3.0  # 5 updates over 12 s: the first and the one at +12 s pass
    assert len(sent) == 4 and out.stats.throttled == 6


def test_cot_over_udp_is_one_datagram_per_event() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(5)
        bus = InProcessBus()
        out = CotSink(output(udp.getsockname()[1], AAA, "udp"), policy, clock=lambda: NOW)
        out.start(bus)
        try:
            bus.publish(subjects.vessel(OTHER), vessel(OTHER))
            datagram, _ = udp.recvfrom(65536)
        finally:
            out.close()
            bus.close()
    assert validate(datagram).get("uid") == f"lookout-vessel-{OTHER}"


def test_a_retracted_alert_is_sent_already_stale() -> None:
    alert = alert_messages({**shadowing(OTHER), "status": "retracted"})[0][1]
    event = validate(alert_event(alert, NOW) or b"")
    assert event.get("stale") == event.get("time")


def test_affiliation_mapping() -> None:
    assert affiliation(1, "CN", assets={1}, hostile={1}) == "f"
    assert affiliation(2, "CN", hostile={2}, suspects={2}) == "h"
    assert affiliation(3, "CN", suspects={3}, neutral_flags={"CN"}) == "s"
    assert affiliation(4, "cn", neutral_flags={"CN"}) == "n"
    assert affiliation(5, None, neutral_flags={"CN"}) == "u"
