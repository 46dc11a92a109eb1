"""The Bus contract: every backend in ``backends.BUS_BACKENDS`` delivers the same way."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from backends import BUS_BACKENDS, BusBackend, FlushableBus, backend_teardown  # noqa: F401 (autouse)

from lookout.pipeline import subjects

Received = list[tuple[str, Mapping[str, Any]]]


@pytest.fixture(params=BUS_BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> BusBackend:
    chosen: BusBackend = request.param
    return chosen


@pytest.fixture
def bus(backend: BusBackend) -> Iterator[FlushableBus]:
    opened = backend.open(10_000)
    yield opened
    opened.close()


def recorder() -> tuple[Received, Callable[[str, Mapping[str, Any]], None]]:
    got: Received = []
    return got, lambda subject, payload: got.append((subject, payload))


def test_wildcards_match_as_in_nats(bus: FlushableBus) -> None:
    published = [
        "lookout.vessel.219000001",
        "lookout.obs.dk.tcp-1",
        "lookout.obs.dk.tcp-1.extra",
        "lookout.obs.no.feed",
        "lookout.stats.ingest",
        "lookout",
        "other.obs.dk.tcp-1",
    ]
    expected = {
        "lookout.vessel.*": ["lookout.vessel.219000001"],
        "lookout.obs.*.tcp-1": ["lookout.obs.dk.tcp-1"],
        "lookout.obs.dk.>": ["lookout.obs.dk.tcp-1", "lookout.obs.dk.tcp-1.extra"],
        "*.obs.*.*": ["lookout.obs.dk.tcp-1", "lookout.obs.no.feed", "other.obs.dk.tcp-1"],
        "lookout.>": published[:5],
        "lookout.stats.ingest": ["lookout.stats.ingest"],
        "lookout.*": [],
        ">": published,
    }
    received = {}
    for pattern in expected:
        got, handler = recorder()
        bus.subscribe(pattern, handler)
        received[pattern] = got
    for subject in published:
        bus.publish(subject, {"subject": subject})
    assert bus.flush(5.0)
    assert {p: [s for s, _ in got] for p, got in received.items()} == expected


def test_subject_helpers_reach_their_patterns(bus: FlushableBus) -> None:
    got, handler = recorder()
    for pattern in (subjects.OBSERVATIONS, subjects.VESSELS, subjects.ALERTS):
        bus.subscribe(pattern, handler)
    bus.publish(subjects.observation("dk", "tcp 1"), {})
    bus.publish(subjects.vessel(219000001), {})
    bus.publish(subjects.alert("dk.navy"), {})
    bus.publish(subjects.event("zone_entry"), {})
    assert bus.flush(5.0)
    assert sorted(s for s, _ in got) == [
        "lookout.alert.dk_navy",
        "lookout.obs.dk.tcp_1",
        "lookout.vessel.219000001",
    ]


def test_a_later_subscription_gets_later_messages_on_a_used_subject(bus: FlushableBus) -> None:
    first_got, first = recorder()
    later_got, later = recorder()
    bus.publish("lookout.vessel.1", {"seq": 1})  # nobody listens yet
    bus.subscribe("lookout.vessel.*", first)
    bus.publish("lookout.vessel.1", {"seq": 2})
    bus.subscribe("lookout.>", later)
    bus.publish("lookout.vessel.1", {"seq": 3})
    assert bus.flush(5.0)
    assert [p["seq"] for _, p in first_got] == [2, 3]
    assert [p["seq"] for _, p in later_got] == [3]


def test_publish_many_is_publish_in_order(bus: FlushableBus) -> None:
    publish_many = getattr(bus, "publish_many", None)
    if publish_many is None:
        pytest.skip("this bus has no publish_many")
    vessels_got, vessels = recorder()
    all_got, everything = recorder()
    bus.subscribe("lookout.vessel.*", vessels)
    bus.subscribe("lookout.>", everything)
    messages = [
        (f"lookout.{kind}.{n}", {"n": n}) for n in range(50) for kind in ("vessel", "event")
    ]
    publish_many(messages)
    publish_many([])
    assert bus.flush(5.0)
    assert all_got == messages
    assert vessels_got == [m for m in messages if m[0].startswith("lookout.vessel.")]


def test_payloads_arrive_whole(bus: FlushableBus) -> None:
    got, handler = recorder()
    bus.subscribe("lookout.event.>", handler)
    payload = {"kind": "ais_gap", "mmsi": 219000001, "gap_s": 3600.5, "members": ["dk", "no"]}
    bus.publish("lookout.event.ais_gap", payload)
    assert bus.flush(5.0)
    assert got == [("lookout.event.ais_gap", payload)]


def test_each_subscription_gets_messages_in_publish_order(bus: FlushableBus) -> None:
    orders = []
    for pattern in ("lookout.vessel.*", "lookout.>"):
        got, handler = recorder()
        bus.subscribe(pattern, handler)
        orders.append(got)
    for seq in range(2_000):
        bus.publish(f"lookout.vessel.{seq % 7}", {"seq": seq})
    assert bus.flush(10.0)
    for got in orders:
        assert [p["seq"] for _, p in got] == list(range(2_000))


def test_a_slow_subscriber_blocks_neither_publisher_nor_others(backend: BusBackend) -> None:
    bus = backend.open(10)
    entered, release = threading.Event(), threading.Event()
    slow_got: list[int] = []
    fast_got: list[int] = []
    fast_done = threading.Semaphore(0)

    def slow(subject: str, payload: Mapping[str, Any]) -> None:
        slow_got.append(payload["seq"])
        entered.set()
        release.wait(10.0)

    def fast(subject: str, payload: Mapping[str, Any]) -> None:
        fast_got.append(payload["seq"])
        fast_done.release()

    slow_sub = bus.subscribe("lookout.>", slow)
    fast_sub = bus.subscribe("lookout.>", fast)
    try:
        bus.publish("lookout.x", {"seq": 0})
        assert entered.wait(5.0) and fast_done.acquire(timeout=5.0)
        for seq in range(1, 101):  # the slow handler is stuck on message 0 meanwhile
            bus.publish("lookout.x", {"seq": seq})
            assert fast_done.acquire(timeout=5.0), f"fast subscriber stalled at {seq}"
        assert fast_got == list(range(101))
        release.set()
        assert bus.flush(5.0)
        # The slow queue kept the newest 10 and dropped the 90 oldest waiting messages.
        assert slow_got == [0, *range(91, 101)]
        assert (slow_sub.dropped, fast_sub.dropped) == (90, 0)
    finally:
        release.set()
        bus.close()


def test_handler_errors_are_logged_and_counted_not_raised(
    bus: FlushableBus, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[int] = []

    def picky(subject: str, payload: Mapping[str, Any]) -> None:
        if payload["seq"] % 2:
            raise ValueError(f"odd {payload['seq']}")
        got.append(payload["seq"])

    sub = bus.subscribe("lookout.>", picky)
    with caplog.at_level(logging.ERROR):
        for seq in range(10):
            bus.publish("lookout.x", {"seq": seq})
        assert bus.flush(5.0)
    assert got == [0, 2, 4, 6, 8]
    assert sub.errors == 5
    assert sum("odd 3" in (r.exc_text or "") for r in caplog.records) == 1


def test_flush_times_out_while_a_handler_is_stuck(bus: FlushableBus) -> None:
    release = threading.Event()
    bus.subscribe("lookout.>", lambda s, p: release.wait(10.0))
    bus.publish("lookout.x", {})
    assert bus.flush(0.1) is False
    release.set()
    assert bus.flush(5.0) is True


def test_a_closed_subscription_gets_nothing_more(bus: FlushableBus) -> None:
    kept_got, kept = recorder()
    gone_got, gone = recorder()
    bus.subscribe("lookout.>", kept)
    sub = bus.subscribe("lookout.>", gone)
    bus.publish("lookout.x", {"seq": 1})
    assert bus.flush(5.0)
    sub.close()
    bus.publish("lookout.x", {"seq": 2})
    assert bus.flush(5.0)
    assert [p["seq"] for _, p in kept_got] == [1, 2]
    assert [p["seq"] for _, p in gone_got] == [1]


def test_close_stops_delivery_and_publishing(backend: BusBackend) -> None:
    bus = backend.open(100)
    published = threading.Event()
    got: list[int] = []

    def handler(subject: str, payload: Mapping[str, Any]) -> None:
        got.append(payload["seq"])
        if payload["seq"] == 0:
            published.wait(5.0)
            bus.close()  # 1..4 are queued behind this call

    bus.subscribe("lookout.>", handler)
    for seq in range(5):
        bus.publish("lookout.x", {"seq": seq})
    published.set()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            bus.publish("lookout.x", {"seq": 99})
        except RuntimeError as exc:
            assert "closed" in str(exc)
            break
        time.sleep(0.01)
    else:
        pytest.fail("publish kept working after close()")
    time.sleep(0.1)  # time for wrongly kept messages to show up
    assert got == [0]
    bus.close()


def test_subjects_with_wildcards_cannot_be_published(bus: FlushableBus) -> None:
    for subject in ("lookout.*", "lookout.>", "lookout..x", ""):
        with pytest.raises(ValueError, match="subject"):
            bus.publish(subject, {})
