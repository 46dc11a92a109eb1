"""Scale-out roles over real NATS JetStream and PostGIS: ``lookout serve --role ...``.

Three subprocesses share a test database (created with PostGIS, dropped after) and NATS
streams under a random prefix (deleted after): an ingest node takes pushes of real lines (the
DMA network stream, cut into batches before a ``$PGHP`` line), a process node consumes the raw
stream into the store, an api node serves reads. The expected picture comes from the pipeline
run in this test over the same batches into a memory store: every acknowledged line's
positions must be in the api's vessels and tracks, each exactly once, also when the process
node is SIGKILLed mid-stream and another one takes over, when a commit fails after or before
it reached the store, and when the raw stream's leader in a three-node JetStream cluster
(started by the test, ``sync_interval: always``, three replicas) is SIGKILLed mid-ingest and
later, still mid-ingest, one of two process nodes.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from role_processes import Cluster, Node, share_partitions

from conftest import import_or_missing, missing
from lookout.model import Lines
from lookout.pipeline.engine import Pipeline, Submission
from lookout.storage.memory import MemoryStore

pytestmark = pytest.mark.slow

nats_bus = import_or_missing("lookout.bus.nats", reason="nats-py is not installed")
nats_leases = import_or_missing("lookout.bus.nats_leases", reason="nats-py is not installed")
psycopg = import_or_missing("psycopg", reason="psycopg is not installed")

NATS_URL = os.environ.get("LOOKOUT_TEST_NATS_URL", "nats://127.0.0.1:4222")
KEY = "k-dma"
READ = {"Authorization": "Bearer t-1"}
PUSH = {"Authorization": f"Bearer {KEY}", "Content-Type": "text/plain"}
BATCH_LINES = 400
ACK_WAIT_S = 3.0
LEASE_TTL_S = 3.0  # the cluster test's process nodes: a killed node's leases lapse soon


# -- fixtures: a database and a stream prefix of this test's own ---------------------------


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"lkroles_{uuid.uuid4().hex[:12]}"
    try:
        nats_bus.probe(NATS_URL, name)
    except nats_bus.NatsBusError as exc:
        missing(f"NATS with JetStream not reachable at {NATS_URL}: {exc}")
    yield name
    nats_bus.delete_streams(NATS_URL, name)
    nats_leases.delete_buckets(NATS_URL, name)


@pytest.fixture
def database_url(pg_database_url: str) -> str:
    """A database of this test's own, with PostGIS (conftest; dropped after)."""
    return pg_database_url


@pytest.fixture
def batches(nmea_dir: Path) -> list[list[str]]:
    """The DMA stream cut into batches of about BATCH_LINES, before a ``$PGHP`` line."""
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    cut: list[list[str]] = [[]]
    for line in lines:
        if len(cut[-1]) >= BATCH_LINES and line.startswith("$PGHP"):
            cut.append([])
        cut[-1].append(line)
    return cut


def expected_tracks(batches: list[list[str]]) -> Counter[int]:
    """Track points per MMSI when the same batches go through one pipeline, one by one."""
    store, pipeline = MemoryStore(), Pipeline(detectors=[])
    for i, batch in enumerate(batches):
        items = [Lines(batch, "dk", "dma", 1_700_000_000.0 + i)]
        store.write(pipeline.process([Submission(items, f"b{i}")], now_ts=1.7e9 + i).store)
    return Counter({v.mmsi: len(store.track(v.mmsi, None, None, 100_000)) for v in store.vessels()})


# -- the nodes -----------------------------------------------------------------------------


@pytest.fixture
def node_env(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """``make(role, nats_url, prefix)``: a node with its own data dir on that NATS deployment
    and the test database (``replicas``: of the streams it creates); every node is stopped at
    the end."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.json").write_text(
        json.dumps([{"name": "dma", "member": "dk", "key": KEY, "release": "network"}])
    )
    (config / "tokens.json").write_text(json.dumps({"t-1": "analyst"}))
    nodes: list[Node] = []

    def make(role: str, nats_url: str, prefix: str, replicas: int = 1) -> Node:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "LOOKOUT_DATA_DIR": str(tmp_path / f"{role}-{len(nodes)}"),
            "LOOKOUT_BUS": "nats",
            "LOOKOUT_NATS_URL": nats_url,
            "LOOKOUT_NATS_STREAM_PREFIX": prefix,
            "LOOKOUT_NATS_REPLICAS": str(replicas),
            "LOOKOUT_STORE": "postgis",
            "LOOKOUT_DATABASE_URL": database_url,
            "LOOKOUT_SOURCES_FILE": str(config / "sources.json"),
            "LOOKOUT_API_TOKENS_FILE": str(config / "tokens.json"),
            "LOOKOUT_PROCESS_ACK_WAIT_S": str(ACK_WAIT_S),
            "LOOKOUT_RATE_REQUESTS_PER_S": "0",
        }
        node = Node(role, env)
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.kill()


def push(url: str, index: int, batch: list[str]) -> dict[str, Any]:
    r = httpx.post(
        f"{url}/api/v1/ingest/nmea",
        content="\n".join(batch) + "\n",
        headers={**PUSH, "Idempotency-Key": f"batch-{index}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    receipt: dict[str, Any] = r.json()
    return receipt


def stored_tracks(api_url: str) -> Counter[int]:
    """Track points per MMSI as the api node serves them."""
    with httpx.Client(base_url=api_url, headers=READ, timeout=30) as client:
        vessels = client.get("/api/v1/vessels").json()["vessels"]
        return Counter(
            {
                v["mmsi"]: client.get(f"/api/v1/vessels/{v['mmsi']}/track").json()["count"]
                for v in vessels
            }
        )


def watch_vessels(api_url: str, seen: list[int], ready: threading.Event, want: int = 50) -> None:
    """Collect the MMSIs of the api node's ``vessel`` stream messages (until ``want``)."""
    params = {"kinds": "vessel"}
    with httpx.stream(
        "GET", f"{api_url}/api/v1/stream", params=params, headers=READ, timeout=60
    ) as r:
        ready.set()
        for line in r.iter_lines():
            if line.startswith("data:") and '"mmsi"' in line:
                seen.append(int(json.loads(line[5:])["mmsi"]))
                if len(seen) >= want:
                    return


def stored(database_url: str) -> int:
    """Track points in the store."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM track").fetchone()
    return int(row[0]) if row else 0


def settle(database_url: str, total: int, timeout_s: float = 90.0) -> int:
    """Wait until the store holds ``total`` track points (or the time is up); the count."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and stored(database_url) < total:
        time.sleep(0.3)
    time.sleep(2 * ACK_WAIT_S)  # a duplicate would come from a redelivery: give it time
    return stored(database_url)


def duplicate_event_versions(database_url: str) -> int:
    """Event versions stored more than once (the same payload twice)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) - count(DISTINCT payload) FROM event_versions"
        ).fetchone()
    return int(row[0]) if row else 0


# -- the tests -----------------------------------------------------------------------------


def test_pushed_lines_reach_the_api_exactly_once_through_three_roles(
    node_env: Any, prefix: str, database_url: str, batches: list[list[str]]
) -> None:
    expected = expected_tracks(batches)
    ingest = node_env("ingest", NATS_URL, prefix).start()
    process = node_env("process", NATS_URL, prefix).start()
    api = node_env("api", NATS_URL, prefix).start()

    streamed: list[int] = []
    watching = threading.Event()
    watcher = threading.Thread(
        target=watch_vessels, args=(api.url, streamed, watching), daemon=True
    )
    watcher.start()
    assert watching.wait(10)
    receipts = [push(ingest.url, i, batch) for i, batch in enumerate(batches)]
    push(ingest.url, 3, batches[3])  # a re-send (lost acknowledgement): stored once

    assert [r["lines"] for r in receipts] == [len(b) for b in batches]
    assert settle(database_url, sum(expected.values())) == sum(expected.values())
    assert stored_tracks(api.url) == expected
    assert duplicate_event_versions(database_url) == 0
    watcher.join(30)
    assert len(streamed) == 50 and set(streamed) <= set(expected)  # live from the process node
    refused = httpx.post(f"{api.url}/api/v1/ingest/nmea", content="x\n", headers=PUSH, timeout=10)
    assert refused.status_code == 503 and "ingest node" in refused.json()["detail"]
    no_reads = httpx.get(f"{ingest.url}/api/v1/vessels", headers=READ, timeout=10)
    assert no_reads.status_code == 503 and "api node" in no_reads.json()["detail"]
    assert process.terminate() == 0  # SIGTERM: a clean stop


def test_a_killed_process_node_loses_and_duplicates_nothing(
    node_env: Any, prefix: str, database_url: str, batches: list[list[str]]
) -> None:
    expected = expected_tracks(batches)
    ingest = node_env("ingest", NATS_URL, prefix).start()
    first = node_env("process", NATS_URL, prefix).start()
    api = node_env("api", NATS_URL, prefix).start()
    pushed: list[int] = []

    def sender() -> None:  # a steady stream of pushes, acknowledged by the ingest node
        for i, batch in enumerate(batches):
            push(ingest.url, i, batch)
            pushed.append(i)
            time.sleep(0.1)

    thread = threading.Thread(target=sender)
    thread.start()
    while stored(database_url) == 0:
        time.sleep(0.02)
    first.kill()  # SIGKILL mid-stream: whatever it had fetched is unacknowledged
    at_kill = stored(database_url)
    time.sleep(1.0)
    node_env("process", NATS_URL, prefix).start()
    thread.join(60)

    assert len(pushed) == len(batches)
    assert 0 < at_kill < sum(expected.values())
    assert settle(database_url, sum(expected.values())) == sum(expected.values())
    assert stored_tracks(api.url) == expected
    assert duplicate_event_versions(database_url) == 0
    assert ingest.terminate() == 0


class FailOnce:
    """A store whose first write fails: after its commit (``committed``: as a node killed
    between its commit and its acknowledgement, the raw message comes back although its rows
    are stored) or before it (the store was down: nothing of it is stored)."""

    def __init__(self, store: Any, *, committed: bool) -> None:
        self._store = store
        self._committed = committed
        self.died = False

    def write(self, batch: Any) -> None:
        if self.died or self._committed:
            self._store.write(batch)
        if not self.died:
            self.died = True
            raise RuntimeError("killed after the commit, before the ack")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize(
    "committed",
    [
        # the first commit went through, the node "died" before the ack: those raw batches
        # came back and were skipped by their receipts, the rest stored normally
        True,
        # the first commit failed: its raw batches came back and were stored by a fresh
        # pipeline (the old one had seen their lines and would have dropped them as copies)
        False,
    ],
)
def test_a_batch_whose_first_try_failed_is_stored_exactly_once(
    prefix: str,
    database_url: str,
    batches: list[list[str]],
    committed: bool,
) -> None:
    from lookout.service.roles.process import ProcessNode
    from lookout.service.roles.raw import raw_batch
    from lookout.service.settings import Settings
    from lookout.storage.postgis import PostgisStore

    expected = expected_tracks(batches[:5])
    store = FailOnce(PostgisStore(database_url), committed=committed)
    bus = nats_bus.NatsBus(NATS_URL, prefix=prefix)
    raws = [
        raw_batch([Lines(b, "dk", "dma", 1.7e9 + i)], f"dma:batch-{i}", 1.7e9 + i)
        for i, b in enumerate(batches[:5])
    ]
    settings = Settings(
        bus="nats",
        store="postgis",
        nats_url=NATS_URL,
        nats_stream_prefix=prefix,
        process_ack_wait_s=ACK_WAIT_S,
    )
    with ProcessNode(settings, list, store=store, bus=bus) as node:
        bus.publish_many([(r.subject, r.payload) for r in raws], msg_ids=[r.msg_id for r in raws])
        assert bus.flush(30.0)
        seen = node.counters()
        tracks = Counter(
            {v.mmsi: len(store.track(v.mmsi, None, None, 10**5)) for v in store.vessels()}
        )

    assert store.died
    # the first commit held one raw batch, or several taken together from the backlog
    first = seen["failed"]
    assert 1 <= first <= 5 and seen["stored"] + seen["skipped"] == 5
    assert seen["skipped"] == (first if committed else 0)
    assert tracks == expected


# -- a three-node JetStream cluster of the test's own: the raw stream's leader dies ----------


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    (tmp_path / "nats").mkdir()
    started = Cluster(tmp_path / "nats")
    yield started
    started.close()


def push_until_acknowledged(url: str, index: int, batch: list[str], timeout_s: float = 90.0) -> int:
    """Push as a careful sender does: re-send with the same key until acknowledged; the number
    of tries it took."""
    deadline = time.monotonic() + timeout_s
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        try:
            r = httpx.post(
                f"{url}/api/v1/ingest/nmea",
                content="\n".join(batch) + "\n",
                headers={**PUSH, "Idempotency-Key": f"batch-{index}"},
                timeout=15,
            )
            if r.status_code == 200:
                return tries
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"batch {index} not acknowledged within {timeout_s} s")


def test_killing_the_raw_stream_leader_then_a_process_node_loses_and_duplicates_nothing(
    cluster: Cluster, node_env: Any, database_url: str, batches: list[list[str]]
) -> None:
    expected = expected_tracks(batches)
    prefix = "lkcluster"
    ingest = node_env("ingest", cluster.url, prefix, replicas=3).start()
    process_nodes = []
    for _ in range(2):  # the survivor takes the killed one's partitions when its leases lapse
        node = node_env("process", cluster.url, prefix, replicas=3)
        node.env["LOOKOUT_PROCESS_LEASE_TTL_S"] = str(LEASE_TTL_S)
        process_nodes.append(node.start())
    api = node_env("api", cluster.url, prefix, replicas=3).start()
    assert share_partitions(process_nodes), "the process nodes did not share the partitions"
    tries: list[int] = []

    def sender() -> None:
        for i, batch in enumerate(batches):
            tries.append(push_until_acknowledged(ingest.url, i, batch))
            time.sleep(0.1)

    thread = threading.Thread(target=sender)
    thread.start()
    while len(tries) < len(batches) // 3:
        time.sleep(0.02)
    leader = cluster.stream_leader(f"{prefix}_RAW")
    assert leader is not None
    cluster.kill(leader)  # mid-ingest
    while len(tries) < 2 * len(batches) // 3:
        time.sleep(0.02)
    at_kill = stored(database_url)
    process_nodes[0].kill()  # SIGKILL, still mid-ingest: its fetched batches are unacknowledged
    thread.join(300)

    assert len(tries) == len(batches)
    assert cluster.stream_leader(f"{prefix}_RAW") not in (None, leader)
    assert 0 < at_kill < sum(expected.values())
    assert settle(database_url, sum(expected.values())) == sum(expected.values())
    assert stored_tracks(api.url) == expected
    assert duplicate_event_versions(database_url) == 0
    assert process_nodes[1].proc is not None and process_nodes[1].proc.poll() is None
