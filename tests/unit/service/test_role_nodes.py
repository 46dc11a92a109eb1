"""Roles without servers: the raw batch format, which settings fit a role, and the ingest
node's answer to a push (after the bus took the batch, never before)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from lookout.model import Detection, Frame, Lines, Rejection, RejectReason, ReportRecord
from lookout.service.roles import NotServedHere, role_problem
from lookout.service.roles.ingest import IngestNode
from lookout.service.roles.raw import decode_items, raw_batch, receipt_key
from lookout.service.settings import Settings

LINE = "\\c:1565218798*53\\!BSVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"


def test_every_kind_of_item_survives_the_raw_message() -> None:
    items = [
        Lines([LINE, LINE], "no", "kyst", 1.5e9, "rx-1"),
        Frame(LINE, "no", "kyst", None, None),
        ReportRecord(
            mmsi=257_000_000, observed_ts=1.5e9, lat=60.1, lon=5.2, member="no", source="csv"
        ),
        Detection("S1-1", 1.5e9, 9.7, 115.8, "sar", member="ph", feed="ph/sat"),
        Rejection(RejectReason.BAD_CHECKSUM, "kyst", "!AIVDM,bad", "checksum"),
    ]
    batch = raw_batch(items, None, 1.6e9, partition=3)
    assert decode_items(batch.payload["items"]) == items
    assert batch.subject == "lookout.raw.3.no.kyst"


def test_a_keyed_push_keeps_its_id_and_receipt_key_when_re_sent_later() -> None:
    first = raw_batch([Lines([LINE], "no", "kyst", 1.0)], "source:no/kyst:b-1", 1.0)
    again = raw_batch([Lines([LINE], "no", "kyst", 9.0)], "source:no/kyst:b-1", 9.0)
    assert first.msg_id == again.msg_id
    assert receipt_key(first.payload) == "source:no/kyst:b-1@p0"


def test_unkeyed_batches_sent_at_different_times_are_different_messages() -> None:
    one = raw_batch([Lines([LINE], "no", "kyst", 1.0)], None, 1.0)
    two = raw_batch([Lines([LINE], "no", "kyst", 1.0)], None, 2.0)
    assert one.msg_id != two.msg_id
    assert receipt_key(one.payload) == f"raw:{one.msg_id}"


def test_an_unknown_item_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown raw item type"):
        decode_items([{"t": "telegram", "text": "hello"}])


@pytest.mark.parametrize(
    ("role", "bus", "store", "problem"),
    [
        ("all", "inprocess", "sqlite", None),
        ("ingest", "nats", "sqlite", None),
        ("ingest", "inprocess", "sqlite", "needs bus = nats"),
        ("process", "nats", "postgis", None),
        ("process", "nats", "sqlite", "store = postgis"),
        ("api", "nats", "sqlite", "store = postgis"),
        ("edge", "nats", "postgis", "role must be one of"),
    ],
)
def test_a_role_states_what_its_settings_lack(
    role: str, bus: str, store: str, problem: str | None
) -> None:
    found = role_problem(Settings(role=role, bus=bus, store=store))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


class FakeJetStream:
    """Takes ``publish_many`` like NatsBus; ``fail`` makes the next calls raise."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Mapping[str, Any], str | None]] = []
        self.fail = 0
        self.gate = threading.Event()
        self.gate.set()

    def publish_many(
        self, messages: Iterable[tuple[str, Mapping[str, Any]]], *, msg_ids: Iterable[str | None]
    ) -> None:
        self.gate.wait(10)
        if self.fail:
            self.fail -= 1
            raise TimeoutError("no acknowledgement from JetStream")
        self.published += [(s, p, i) for (s, p), i in zip(messages, msg_ids, strict=True)]

    def publish(self, subject: str, payload: Mapping[str, Any]) -> None:
        self.publish_many([(subject, payload)], msg_ids=[None])

    def subscribe(self, pattern: str, handler: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


@pytest.fixture
def node(tmp_path: Path) -> Any:
    bus = FakeJetStream()
    settings = Settings(data_dir=tmp_path, role="ingest", bus="nats", batch_max_wait_ms=5)
    ingest = IngestNode(settings, bus=bus, detectors=[])
    ingest.start()
    yield ingest, bus
    ingest.stop()


def test_a_push_is_answered_only_after_the_bus_took_it(node: Any) -> None:
    ingest, bus = node
    bus.gate.clear()  # JetStream has not acknowledged yet
    future = ingest.submit([Lines([LINE] * 3, "no", "kyst", 1.0)], key="source:no/kyst:b-1")
    assert not future.done() and not bus.published
    bus.gate.set()
    assert future.result(10).lines == 3
    (subject, payload, msg_id), *_ = bus.published
    part = payload["partition"]
    assert subject == f"lookout.raw.{part}.no.kyst"
    assert payload["key"] == f"source:no/kyst:b-1@p{part}"
    assert msg_id == payload["id"]


def test_a_refused_publish_fails_the_push_and_the_next_one_goes_through(node: Any) -> None:
    ingest, bus = node
    bus.fail = 1
    refused = ingest.submit([Lines([LINE], "no", "kyst", 1.0)], key="k-1")
    with pytest.raises(TimeoutError):
        refused.result(10)
    assert ingest.submit([Lines([LINE], "no", "kyst", 2.0)], key="k-1").result(10).lines == 1
    assert len(bus.published) == 1


def test_an_ingest_node_has_no_store_to_read(node: Any) -> None:
    ingest, _ = node
    with pytest.raises(NotServedHere, match="api node"):
        ingest.store.vessels()


PGHP = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"


def _lines_sent(bus: FakeJetStream) -> list[str]:
    return [
        line
        for _, payload, _ in bus.published
        for item in decode_items(payload["items"])
        if isinstance(item, Lines)
        for line in item.lines
    ]


def test_a_pghp_line_ending_a_push_goes_with_the_next_pushs_first_line(node: Any) -> None:
    ingest, bus = node
    assert ingest.submit([Lines([LINE, PGHP], "no", "kyst", 1.0)]).result(10).lines == 2
    assert _lines_sent(bus) == [LINE]  # acknowledged; the $PGHP waits for its line
    assert ingest.submit([Lines([LINE], "no", "kyst", 2.0)]).result(10).lines == 1
    (_, payload, _) = bus.published[-1]
    assert decode_items(payload["items"]) == [Lines([PGHP, LINE], "no", "kyst", 2.0)]


def test_a_pghp_line_ending_a_quiet_sources_push_goes_out_alone(node: Any) -> None:
    ingest, bus = node
    ingest.submit([Lines([LINE, PGHP], "no", "kyst", 1.0)]).result(10)
    for _ in range(100):  # one batch wait (5 ms) after the push; a second at the most
        if PGHP in _lines_sent(bus):
            break
        time.sleep(0.01)
    assert _lines_sent(bus) == [LINE, PGHP]
    assert bus.published[-1][1]["partition"] == 0  # the no-vessel partition


def test_a_quiet_sources_pghp_line_goes_out_while_other_sources_keep_the_node_busy(
    tmp_path: Path,
) -> None:
    bus = FakeJetStream()
    settings = Settings(data_dir=tmp_path, role="ingest", bus="nats", batch_max_wait_ms=100)
    ingest = IngestNode(settings, bus=bus, detectors=[])
    ingest.start()
    ingest.submit([Lines([LINE, PGHP], "no", "kyst", 1.0)]).result(10)
    stop = threading.Event()

    def other_source() -> None:  # pushes 1 ms apart, batches 100 ms long: never idle
        while not stop.is_set():
            ingest.submit([Lines([LINE], "no", "other", 2.0)])
            time.sleep(0.001)

    pusher = threading.Thread(target=other_source, daemon=True)
    pusher.start()
    try:
        for _ in range(100):  # the second batch after it is due to send it
            if PGHP in _lines_sent(bus):
                break
            time.sleep(0.02)
        sent = [(p["partition"], i) for _, p, _ in bus.published for i in decode_items(p["items"])]
    finally:
        stop.set()
        pusher.join(5)
        ingest.stop()
    assert (0, Lines([PGHP], "no", "kyst", None)) in sent
