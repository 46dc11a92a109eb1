"""WebhookSink: a receiver on 127.0.0.1 gets signed alerts, after retries, and only what its
member may see."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lookout.bus.inprocess import InProcessBus
from lookout.pipeline import subjects
from lookout.pipeline.alerts import alert_messages
from lookout.sharing import Agreement, Policy, Release, ZoneInfo
from lookout.sinks.config import OutputConfig
from lookout.sinks.webhook import WebhookSink, sign, verify

AAA, BBB = "AAA-CG", "BBB-CG"
SECRET = b"s3cret-for-tests"
NOW = 1_780_000_000.0


class Receiver:
    """An HTTP receiver that answers ``fail_first`` requests with 500, then 204."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n: int, timeout_s: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.01)
        return list(self.requests)


@pytest.fixture
def receiver_factory() -> Iterator[Callable[[int], Receiver]]:
    made: list[Receiver] = []

    def make(fail_first: int = 0) -> Receiver:
        made.append(Receiver(fail_first))
        return made[-1]

    yield make
    for r in made:
        r.close()


def policy() -> Policy:
    releases = {(AAA, "radar"): Release(scope="owner"), (AAA, "ais"): Release(scope="network")}
    zones = {"aaa-ts": ZoneInfo(owners=frozenset({AAA}), regime="territorial_sea")}
    return Policy(releases, Agreement(), zones)


def event(eid: str, kind: str, source: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": eid, "kind": kind, "status": "confirmed", "ts": NOW - 30, "start_ts": NOW - 60,
        "mmsi": 412_000_001, "lat": 10.5, "lon": 116.5, "members": [AAA],
        "sources": [f"{AAA}/{source}"], "observations": [f"obs-{eid}"],
        "details": {"duration_s": 30}, **extra,
    }  # fmt: skip


def sink(url: str, member: str, **extra: Any) -> WebhookSink:
    config = OutputConfig(
        name=f"hook-{member}", kind="webhook", member=member, url=url, secret=SECRET,
        backoff_s=0.01, max_backoff_s=0.05, timeout_s=2.0, **extra,
    )  # fmt: skip
    return WebhookSink(config, policy, clock=lambda: NOW)


def publish_alerts(bus: InProcessBus, *events: dict[str, Any]) -> None:
    for e in events:
        for subject, payload in alert_messages(e):
            bus.publish(subject, payload)


def test_a_receiver_that_fails_twice_gets_the_alert_on_the_third_try_signed(
    receiver_factory: Callable[[int], Receiver],
) -> None:
    receiver = receiver_factory(2)
    bus = InProcessBus()
    out = sink(receiver.url, AAA)
    out.start(bus)
    try:
        publish_alerts(bus, event("loiter-1", "shadowing", "ais"))
        got = receiver.wait_for(3)
        deadline = time.monotonic() + 5
        while out.stats.delivered < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        out.close()
        bus.close()
    assert len(got) == 3
    assert (out.stats.delivered, out.stats.retries, out.stats.failed) == (1, 2, 0)
    headers, body = got[-1]
    assert verify(SECRET, headers, body, now=NOW)
    assert not verify(b"another secret", headers, body, now=NOW)
    assert not verify(SECRET, headers, body + b" ", now=NOW)
    assert not verify(SECRET, headers, body, now=NOW + 3600)  # a replay an hour later
    ids = {h["X-Lookout-Delivery"] for h, _ in got}
    assert len(ids) == 1  # every retry is the same delivery
    message = json.loads(body)
    assert message["kind"] == "alert" and message["data"]["event_id"] == "loiter-1"


def test_the_signature_is_over_the_timestamp_and_the_body() -> None:
    body = b'{"a":1}'
    assert sign(SECRET, "100", body) != sign(SECRET, "101", body)
    assert sign(SECRET, "100", body).startswith("sha256=")
    headers = {"x-lookout-timestamp": "100", "x-lookout-signature": sign(SECRET, "100", body)}
    assert verify(SECRET, headers, body, now=150)


def test_a_member_never_receives_another_members_owner_only_data(
    receiver_factory: Callable[[int], Receiver],
) -> None:
    to_a, to_b = receiver_factory(0), receiver_factory(0)
    bus = InProcessBus()
    sinks = [sink(to_a.url, AAA, events=True), sink(to_b.url, BBB, events=True)]
    for s in sinks:
        s.start(bus)
    secret = event("radar-only", "shadowing", "radar")
    mutual = event(
        "incursion-1", "zone_entry", "radar", zone="aaa-ts",
        details={"regime": "territorial_sea", "owners": [AAA]},
    )  # fmt: skip
    try:
        publish_alerts(bus, secret, mutual)
        for e in (secret, mutual):
            bus.publish(subjects.event(e["kind"]), e)
        bus.flush(5.0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            s.stats.delivered + s.stats.failed < s.stats.queued for s in sinks
        ):
            time.sleep(0.01)  # until every queued delivery is done
        for_a, for_b = list(to_a.requests), list(to_b.requests)
    finally:
        for s in sinks:
            s.close()
        bus.close()
    assert len(for_a) == 4  # AAA: both alerts and both events
    assert all(verify(SECRET, h, b, now=NOW) for h, b in for_a + for_b)
    texts_b = [b.decode() for _, b in for_b]
    assert len(texts_b) == 2  # BBB: the mutual alert and its event, nothing of radar-only
    assert all("incursion-1" in t for t in texts_b)
    assert not any("radar-only" in t or f"{AAA}/radar" in t or "obs-" in t for t in texts_b)
    assert all(json.loads(t)["data"].get("redacted") or json.loads(t)["data"]["event"]["redacted"]
               for t in texts_b)  # fmt: skip


def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    out = sink("http://127.0.0.1:9/never", AAA, queue_size=1)  # not started: nothing drains
    for n in range(5):
        out.offer("alert", {"n": n})
    assert (out.stats.queued, out.stats.dropped) == (1, 4)
    out.close()
    assert out.stats.dropped == 5


def test_an_unreachable_url_is_given_up_after_max_attempts() -> None:
    bus = InProcessBus()
    out = sink("http://127.0.0.1:9/closed-port", AAA, max_attempts=3)
    out.start(bus)
    try:
        publish_alerts(bus, event("e-1", "shadowing", "ais"))
        deadline = time.monotonic() + 5
        while out.stats.failed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        out.close()
        bus.close()
    assert (out.stats.attempts, out.stats.failed, out.stats.delivered) == (3, 1, 0)
