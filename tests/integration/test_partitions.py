"""Process nodes partitioned by vessel over real NATS JetStream and PostGIS.

Nodes run as subprocesses (``lookout serve --role process --log-level debug``) on a database
and stream prefix of the test's own; a lease lasts :data:`TTL_S`. Each node's log is its
journal: ``took p<N> ... at=<time>`` when it starts work on a lease, ``released p<N> ...
at=<time>`` when it stops, ``committed <receipt key> on p<N> at=<time>`` per raw message it
stored. From the journals the tests check that no lease was worked on by two nodes at once,
that every commit happened under its node's lease, that no raw message was committed twice,
and that the store holds every acknowledged line exactly once (the pipeline run alone over the
same batches gives the expected tracks). A last test shows two vessels of different partitions
still raising an encounter (the pairwise lease holder sees both).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
from role_processes import Node
from test_roles import (  # noqa: F401 - fixtures
    ACK_WAIT_S,
    NATS_URL,
    batches,
    database_url,
    duplicate_event_versions,
    expected_tracks,
    node_env,
    prefix,
    push,
    settle,
    stored,
    stored_tracks,
)

from conftest import import_or_missing
from lookout.service.settings import DEFAULT_PROCESS_PARTITIONS

pytestmark = pytest.mark.slow

psycopg = import_or_missing("psycopg", reason="psycopg is not installed")

TTL_S = 3.0
PARTITIONS = [f"p{n}" for n in range(DEFAULT_PROCESS_PARTITIONS)]
_TOOK = re.compile(r"took (\S+) from .* at=([\d.]+)")
_RELEASED = re.compile(r"released (\S+) \(.*\) at=([\d.]+)")
_COMMITTED = re.compile(r"committed (\S+) on (\S+) at=([\d.]+)")


def process_node(make: Any, prefix: str, name: str) -> Node:  # noqa: F811
    node: Node = make("process", NATS_URL, prefix)
    node.env["LOOKOUT_PROCESS_LEASE_TTL_S"] = str(TTL_S)
    node.env["LOOKOUT_PROCESS_NODE_ID"] = name
    node.args = ("--log-level", "debug")
    return node.start()


class Journal:
    """What the nodes' logs say: lease intervals per (node, lease) and commits."""

    def __init__(self, nodes: dict[str, Node], ended: dict[str, float] | None = None) -> None:
        self.intervals: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        self.commits: list[tuple[str, str, float, str]] = []
        for name, node in nodes.items():
            opened: dict[str, float] = {}
            for line in list(node.log):
                if m := _TOOK.search(line):
                    opened[m[1]] = float(m[2])
                elif m := _RELEASED.search(line):
                    self.intervals[m[1]].append((opened.pop(m[1]), float(m[2]), name))
                elif m := _COMMITTED.search(line):
                    self.commits.append((m[1], m[2], float(m[3]), name))
            end = (ended or {}).get(name, math.inf)
            for lease, start in opened.items():
                self.intervals[lease].append((start, end, name))

    def owners_now(self) -> dict[str, list[str]]:
        """Per lease, the nodes whose interval on it is open."""
        return {
            lease: [n for _, end, n in spans if end == math.inf]
            for lease, spans in self.intervals.items()
        }

    def overlaps(self) -> list[str]:
        """Leases that two nodes worked on at the same time."""
        bad = []
        for lease, spans in self.intervals.items():
            spans = sorted(spans)
            bad += [lease for a, b in itertools.pairwise(spans) if b[0] < a[1]]
        return bad

    def commits_outside_a_lease(self) -> list[tuple[str, str, float, str]]:
        return [
            c
            for c in self.commits
            if not any(s <= c[2] <= e and n == c[3] for s, e, n in self.intervals[c[1]])
        ]


def wait_for(check: Any, timeout_s: float) -> float:
    """Poll ``check()`` until true; the seconds it took (fails after ``timeout_s``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"not within {timeout_s} s")
        time.sleep(0.1)
    return time.monotonic() - started


def split_evenly(nodes: dict[str, Node], names: list[str]) -> bool:
    owners = Journal(nodes).owners_now()
    held = [owners.get(p, []) for p in PARTITIONS]
    per_node = Counter(n for h in held for n in h)
    return all(len(h) == 1 for h in held) and all(per_node[n] > 0 for n in names)


def test_two_nodes_split_the_partitions_and_a_third_takes_its_share(
    node_env: Any,  # noqa: F811
    prefix: str,  # noqa: F811
    database_url: str,  # noqa: F811
    batches: list[list[str]],  # noqa: F811
) -> None:
    expected = expected_tracks(batches)
    ingest = node_env("ingest", NATS_URL, prefix).start()
    api = node_env("api", NATS_URL, prefix).start()
    nodes = {"a": process_node(node_env, prefix, "a"), "b": process_node(node_env, prefix, "b")}
    wait_for(lambda: split_evenly(nodes, ["a", "b"]), 20)
    owners = Journal(nodes).owners_now()
    assert {n for p in PARTITIONS for n in owners[p]} == {"a", "b"}  # each on one node

    half = len(batches) // 2
    for i, batch in enumerate(batches[:half]):
        push(ingest.url, i, batch)
    nodes["c"] = process_node(node_env, prefix, "c")  # joins while batches keep coming
    for i, batch in enumerate(batches[half:], start=half):
        push(ingest.url, i, batch)
        time.sleep(0.2)
    wait_for(lambda: split_evenly(nodes, ["a", "b", "c"]), 20)

    total = sum(expected.values())
    assert settle(database_url, total) == total
    assert stored_tracks(api.url) == expected
    assert duplicate_event_versions(database_url) == 0
    journal = Journal(nodes)
    assert journal.overlaps() == []
    assert journal.commits_outside_a_lease() == []
    keys = Counter(key for key, *_ in journal.commits)
    assert keys and max(keys.values()) == 1  # no raw message committed twice
    moved = [s for p in PARTITIONS for s in journal.intervals[p] if s[2] == "c"]
    assert moved and all(s[0] > 0 for s in moved)
    assert any("hand-over snapshot" in line for line in nodes["c"].log)  # state handed over


def test_a_killed_nodes_partitions_move_within_the_lease_ttl(
    node_env: Any,  # noqa: F811
    prefix: str,  # noqa: F811
    database_url: str,  # noqa: F811
    batches: list[list[str]],  # noqa: F811
) -> None:
    expected = expected_tracks(batches)
    ingest = node_env("ingest", NATS_URL, prefix).start()
    api = node_env("api", NATS_URL, prefix).start()
    nodes = {"a": process_node(node_env, prefix, "a"), "b": process_node(node_env, prefix, "b")}
    wait_for(lambda: split_evenly(nodes, ["a", "b"]), 20)
    pushed: list[int] = []

    def sender() -> None:
        for i, batch in enumerate(batches):
            push(ingest.url, i, batch)
            pushed.append(i)
            time.sleep(0.1)

    thread = threading.Thread(target=sender)
    thread.start()
    wait_for(lambda: stored(database_url) > 0, 30)
    nodes["a"].kill()  # SIGKILL: no hand-over, its leases lapse
    killed_at = time.time()
    moved_s = wait_for(
        lambda: all(Journal({"b": nodes["b"]}).owners_now().get(p) == ["b"] for p in PARTITIONS),
        TTL_S + 15,
    )
    thread.join(60)

    assert len(pushed) == len(batches)
    # a lapsed lease is taken at the survivor's next round: the TTL plus a round, and slack
    # for the server's expiry timer (about 1 s) and a loaded machine
    assert moved_s <= TTL_S + TTL_S / 3 + 3.0, moved_s
    total = sum(expected.values())
    assert settle(database_url, total) == total
    assert stored_tracks(api.url) == expected
    assert duplicate_event_versions(database_url) == 0
    journal = Journal(nodes, ended={"a": killed_at})
    assert journal.overlaps() == []
    assert journal.commits_outside_a_lease() == []
    keys = Counter(key for key, *_ in journal.commits)
    assert max(keys.values()) == 1
    assert ACK_WAIT_S < TTL_S + 1  # the dead node's unacknowledged batches came back meanwhile


def test_vessels_in_different_partitions_still_raise_an_encounter(
    prefix: str,  # noqa: F811
    database_url: str,  # noqa: F811
) -> None:
    from lookout.bus.nats import NatsBus
    from lookout.detectors.encounter import EncounterConfig, EncounterDetector
    from lookout.detectors.loitering import LoiteringDetector
    from lookout.model import ReportRecord
    from lookout.service.roles.process import ProcessNode
    from lookout.service.roles.raw import raw_batches
    from lookout.service.roles.routing import PartitionRouter, partition_of
    from lookout.service.settings import Settings
    from lookout.storage.postgis import PostgisStore

    one, two = 219_000_001, 219_000_002
    parts = DEFAULT_PROCESS_PARTITIONS  # the node below runs with the default
    assert partition_of(one, parts) != partition_of(two, parts)
    config = EncounterConfig(tick_s=60, max_gap_s=600, min_duration_s=900, max_silence_s=600)

    def suite() -> list[Any]:
        return [EncounterDetector(config), LoiteringDetector()]

    def report(mmsi: int, ts: float, lat: float) -> ReportRecord:
        return ReportRecord(
            mmsi=mmsi, observed_ts=ts, lat=lat, lon=10.5, member="dk", source="csv", speed_kn=0.5
        )

    start = 1.7e9
    records = [
        report(m, start + 60 * k, 56.0 + (0.0005 if m == two else 0.0))  # about 55 m apart
        for k in range(40)
        for m in (one, two)
    ]
    settings = Settings(
        bus="nats",
        store="postgis",
        nats_url=NATS_URL,
        nats_stream_prefix=prefix,
        process_lease_ttl_s=TTL_S,
    )
    bus = NatsBus(NATS_URL, prefix=prefix)
    router = PartitionRouter(settings.process_partitions)
    with ProcessNode(settings, suite, store=PostgisStore(database_url), bus=bus) as node:
        assert "pairwise" in node.owned
        for i in range(0, len(records), 10):
            chunk = records[i : i + 10]
            raws = raw_batches(router.split(chunk), chunk, f"csv:{i}", start + i)
            assert len(raws) == 2  # each push is split over the two vessels' partitions
            bus.publish_many(
                [(r.subject, r.payload) for r in raws], msg_ids=[r.msg_id for r in raws]
            )
        assert bus.flush(30.0)
    with psycopg.connect(database_url) as conn:
        payloads = [json.loads(r[0]) for r in conn.execute("SELECT payload FROM event_versions")]
        rows = [p for p in payloads if p["kind"] == "encounter"]
        points = conn.execute("SELECT count(*) FROM track").fetchone()
    assert rows, "no encounter stored"
    assert all(sorted(r["mmsis"]) == [one, two] for r in rows)
    assert points is not None and points[0] == len(records)
