"""Crash safety of HTTP push: what was acknowledged survives SIGKILL, and re-sending with the
same Idempotency-Key stores nothing twice.

A sender pushes batches of real lines (the DMA network stream, repeated with its ``$PGHP``
times shifted by whole hours so that no copy duplicates another) from several threads, each
batch with its own key, and records the receipts it got. The server is SIGKILLed mid-ingest and
restarted on the same data dir; the sender re-sends every batch it has no receipt for, with the
same key. Then, exactly:

- the source counted every line once (``lines`` = lines of all batches);
- the store holds exactly the observations the receipts announced (sum over all batches), and
  no track point twice for one (mmsi, observed_ts);
- right after the restart, before any re-send, the store already held at least what the
  acknowledged receipts announced.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from serve_process import ServeProcess, write_config

from lookout.storage.sqlite import SqliteStore

pytestmark = pytest.mark.slow

KEY = "k-dma"
READ = {"Authorization": "Bearer t-1"}
PUSH = {"Authorization": f"Bearer {KEY}", "Content-Type": "text/plain"}
COPIES = 4
BATCH_LINES = 250
SENDERS = 4
KILL_AFTER = 0.3  # fraction of batches acknowledged before SIGKILL


def _checksum(body: str) -> str:
    xor = 0
    for ch in body.encode():
        xor ^= ch
    return f"{xor:02X}"


def _shift_hours(line: str, hours: int) -> str:
    """A ``$PGHP`` line with its hour field moved by ``hours``, checksum recomputed."""
    if not line.startswith("$PGHP,") or hours == 0:
        return line
    body = line[1 : line.rindex("*")]
    fields = body.split(",")
    fields[5] = str(int(fields[5]) + hours)
    body = ",".join(fields)
    return f"${body}*{_checksum(body)}"


def _batches(path: Path) -> list[list[str]]:
    """Copies of the stream, cut before a ``$PGHP`` line (never inside a message)."""
    source = path.read_text().splitlines()
    lines = [_shift_hours(line, copy) for copy in range(COPIES) for line in source]
    batches: list[list[str]] = [[]]
    for line in lines:
        if len(batches[-1]) >= BATCH_LINES and line.startswith("$PGHP"):
            batches.append([])
        batches[-1].append(line)
    return batches


def _send(url: str, index: int, batch: list[str]) -> dict[str, object]:
    r = httpx.post(
        f"{url}/api/v1/ingest/nmea",
        content="\n".join(batch) + "\n",
        headers={**PUSH, "Idempotency-Key": f"batch-{index}"},
        timeout=60,
    )
    r.raise_for_status()
    receipt: dict[str, object] = r.json()
    return receipt


def _push_until_killed(
    server: ServeProcess, batches: list[list[str]], receipts: dict[int, dict[str, object]]
) -> None:
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(batches)):
        todo.put(i)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                receipt = _send(server.url, i, batches[i])
            except httpx.HTTPError:
                return  # the server is gone: this batch stays unacknowledged
            with lock:
                receipts[i] = receipt

    threads = [threading.Thread(target=worker) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(receipts) < KILL_AFTER * len(batches):
        assert time.monotonic() < deadline, "push too slow"
        time.sleep(0.005)
    server.kill()
    for t in threads:
        t.join(60)


def _source_stats(url: str) -> dict[str, object]:
    r = httpx.get(f"{url}/api/v1/sources", headers=READ)
    return next(s for s in r.json()["sources"] if s["name"] == "dma")


def test_acknowledged_batches_survive_sigkill_and_resends_store_nothing_twice(
    tmp_path: Path, nmea_dir: Path
) -> None:
    batches = _batches(nmea_dir / "dma-aislib" / "stream_example.txt")
    data_dir = tmp_path / "data"
    sources, tokens = write_config(
        tmp_path / "cfg",
        sources=[{"name": "dma", "member": "dk", "key": KEY, "release": "network"}],
        tokens={"t-1": "analyst"},
    )
    first = ServeProcess(data_dir, sources, tokens)
    first.start()
    receipts: dict[int, dict[str, object]] = {}
    _push_until_killed(first, batches, receipts)
    acked = dict(receipts)
    unacked = [i for i in range(len(batches)) if i not in acked]
    assert acked and unacked, "the kill must fall mid-ingest"

    second = ServeProcess(data_dir, sources, tokens)
    url = second.start()
    try:
        second.wait_healthy()
        survived = _source_stats(url)
        assert survived["observations"] >= sum(int(r["observations"]) for r in acked.values())
        assert survived["lines"] >= sum(len(batches[i]) for i in acked)
        for i in unacked:
            receipts[i] = _send(url, i, batches[i])
        for i in list(acked)[:5]:  # a re-send of an acknowledged batch changes nothing
            assert _send(url, i, batches[i]) == acked[i]
        final = _source_stats(url)
    finally:
        assert second.terminate() == 0, "".join(second.log)

    assert final["lines"] == sum(len(b) for b in batches)
    announced = sum(int(r["observations"]) for r in receipts.values())
    assert final["observations"] == announced
    points: Counter[tuple[int, float]] = Counter()
    with SqliteStore(data_dir / "lookout.db") as store:
        for vessel in store.vessels(limit=1_000_000):
            for p in store.track(vessel.mmsi, limit=1_000_000):
                points[(p.mmsi, p.observed_ts)] += 1
    assert sum(points.values()) == announced
    twice = [key for key, n in points.items() if n > 1]
    assert not twice, f"stored twice: {twice[:5]}"
