"""PostgreSQL restarting under ingest: back-pressure or 503s, never an acknowledgement followed
by a loss.

A private PostgreSQL server (``initdb`` in a temp dir, stopped and removed after) holds the
test database, so the test can stop it without disturbing anyone else. A sender pushes real
lines (the DMA network stream, cut into small batches) with an ``Idempotency-Key`` each and
re-sends a batch with the same key until it is acknowledged (200); midway, the server stops
as in a crash (``pg_ctl stop -m immediate``), stays down, and starts again (it replays its
write-ahead log). At the end every batch is acknowledged, the store holds the track points
that one pipeline run over the same batches yields, per vessel, each exactly once, the
acknowledged receipts account for every stored point, and the server takes new pushes:

- ``lookout serve`` (role ``all``, store ``postgis``, in-process bus): pushes are refused
  (503, or 500 for the batch whose commit broke) while the server is down, and ingest resumes
  once it answers;
- ingest + process + api nodes on NATS JetStream: the ingest node acknowledges from JetStream
  throughout; the process node holds the raw batches while the store does not answer and
  commits them once it does (redelivered ones are found committed by their receipt).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from role_processes import PrivatePostgres
from test_roles import (
    NATS_URL,
    PUSH,
    expected_tracks,
    node_env,  # noqa: F401 - a fixture, used by name
    prefix,  # noqa: F401 - a fixture, used by name
    settle,
    stored_tracks,
)

from conftest import import_or_missing

pytestmark = pytest.mark.slow

psycopg = import_or_missing("psycopg", reason="psycopg is not installed")

BATCH_LINES = 100
DOWN_S = 2.0
LONG_DOWN_S = 7.0
"""Longer than a raw batch's five tries a second apart (then it would be dead-lettered)."""


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    started = PrivatePostgres()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def database_url(server: PrivatePostgres) -> str:
    """A database with PostGIS on the private server (removed with the server)."""
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE lookout")
    url = server.url.rsplit("/", 1)[0] + "/lookout"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


@pytest.fixture
def small_batches(nmea_dir: Path) -> list[list[str]]:
    """The DMA stream in batches of about BATCH_LINES, cut before a ``$PGHP`` line."""
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    cut: list[list[str]] = [[]]
    for line in lines:
        if len(cut[-1]) >= BATCH_LINES and line.startswith("$PGHP"):
            cut.append([])
        cut[-1].append(line)
    return cut


@dataclass
class Sender:
    """Pushes each batch until it is acknowledged, re-sending with the same key on 5xx or a
    broken connection; what it was told is recorded."""

    url: str
    batches: list[list[str]]
    pause_s: float = 0.05
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)

    def run(self) -> None:
        for i, batch in enumerate(self.batches):
            self.acknowledged[f"batch-{i}"] = self.push(f"batch-{i}", batch)
            time.sleep(self.pause_s)

    def push(self, key: str, batch: list[str], timeout_s: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                r = httpx.post(
                    f"{self.url}/api/v1/ingest/nmea",
                    content="\n".join(batch) + "\n",
                    headers={**PUSH, "Idempotency-Key": key},
                    timeout=30,
                )
            except httpx.TransportError as exc:
                self.refused[type(exc).__name__] += 1
            else:
                if r.status_code == 200:
                    receipt: dict[str, Any] = r.json()
                    return receipt
                assert r.status_code >= 500, r.text  # never a 4xx: the push itself is fine
                self.refused[str(r.status_code)] += 1
            time.sleep(0.2)
        raise AssertionError(f"{key} not acknowledged within {timeout_s} s")


def stored_points(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM track").fetchone()
    return int(row[0]) if row else 0


def test_an_embedded_server_refuses_while_postgres_restarts_and_loses_nothing(
    node_env: Any,  # noqa: F811 - the fixture imported above
    server: PrivatePostgres,
    database_url: str,
    small_batches: list[list[str]],
) -> None:
    expected = expected_tracks(small_batches)
    node = node_env("all", "nats://unused", "unused")
    node.env.update(LOOKOUT_BUS="inprocess", LOOKOUT_BATCH_MAX_WAIT_MS="20")
    node.start()
    sender = Sender(node.url, small_batches)
    thread = threading.Thread(target=sender.run)
    thread.start()
    while len(sender.acknowledged) < len(small_batches) // 4:
        time.sleep(0.02)
    server.restart(DOWN_S, mode="immediate")
    thread.join(300)

    assert len(sender.acknowledged) == len(small_batches)
    assert sum(sender.refused.values()) > 0, "no push met the outage"
    total = sum(expected.values())
    assert stored_points(database_url) == total
    assert stored_tracks(node.url) == expected  # reads work again after the restart
    observations = sum(r["observations"] for r in sender.acknowledged.values())
    assert observations == total  # each acknowledged point stored once, none unacknowledged
    again = sender.push("after-restart", small_batches[0], timeout_s=10)  # a new key: taken
    assert again["lines"] == len(small_batches[0])


def test_process_nodes_hold_raw_batches_while_postgres_restarts_and_lose_nothing(
    node_env: Any,  # noqa: F811 - the fixture imported above
    prefix: str,  # noqa: F811 - the fixture imported above
    server: PrivatePostgres,
    database_url: str,
    small_batches: list[list[str]],
) -> None:
    expected = expected_tracks(small_batches)
    ingest = node_env("ingest", NATS_URL, prefix).start()
    process = node_env("process", NATS_URL, prefix).start()
    api = node_env("api", NATS_URL, prefix).start()
    sender = Sender(ingest.url, small_batches, pause_s=0.15)
    thread = threading.Thread(target=sender.run)
    thread.start()
    while stored_points(database_url) == 0:
        time.sleep(0.02)
    before = len(sender.acknowledged)
    server.restart(LONG_DOWN_S, mode="immediate")
    during = len(sender.acknowledged) - before
    thread.join(300)

    total = sum(expected.values())
    assert len(sender.acknowledged) == len(small_batches)
    assert during > 0 and not sender.refused  # the ingest node acknowledged throughout
    assert settle(database_url, total, timeout_s=120) == total
    assert stored_tracks(api.url) == expected
    held = "".join(process.log)
    assert "does not answer" in held and "answers again" in held  # it met the outage
    assert "gave up on" not in held  # no raw batch dead-lettered
    assert process.terminate() == 0
