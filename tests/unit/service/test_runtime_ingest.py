"""The runtime's ingest: acknowledgements after the commit, back-pressure counted in lines,
and what a failing store does to senders. With the default store (SQLite written by a child
process, commits pipelined) and with a plain one (committed by the writer thread)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from lookout.model import Lines
from lookout.pipeline import subjects
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Overloaded, Runtime, Stopping
from lookout.service.settings import Settings
from lookout.storage.memory import MemoryStore
from lookout.storage.sqlite import SqliteStore
from lookout.storage.sqlite_process import SqliteProcessStore


def dma(nmea_dir: Path) -> list[str]:
    return (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", batch_max_lines=500, batch_max_wait_ms=5)


def test_every_acknowledged_block_is_in_the_store(nmea_dir: Path, tmp_path: Path) -> None:
    lines = dma(nmea_dir)
    with Runtime(settings(tmp_path)) as runtime:
        assert isinstance(runtime.store, SqliteProcessStore)
        futures = [
            runtime.submit([Lines(lines[i : i + 300], "dk", "dma")], key=f"k{i}")
            for i in range(0, len(lines), 300)
        ]
        receipts = [f.result(timeout=60) for f in futures]
        assert sum(r.lines for r in receipts) == len(lines)
        assert runtime.counters()["lines"] == len(lines)
        observations = sum(r.observations for r in receipts)
        stored = sum(len(runtime.store.track(v.mmsi)) for v in runtime.store.vessels())
        assert stored == observations > 2800
    with SqliteStore(tmp_path / "data" / "lookout.db") as reopened:
        assert reopened.receipt("k0") == receipts[0]


class _HeldStore(MemoryStore):
    """Commits only once ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, batch: StoreBatch) -> None:
        self.release.wait(10)
        super().write(batch)


def test_back_pressure_counts_the_lines_of_a_block(tmp_path: Path) -> None:
    store = _HeldStore()
    with Runtime(settings(tmp_path), store=store, max_queued_lines=100) as runtime:
        first = runtime.submit([Lines(["!AIVDM"] * 80, "dk", "s")])  # waits for the commit
        with pytest.raises(Overloaded):
            runtime.submit([Lines(["!AIVDM"] * 30, "dk", "s")])
        assert runtime.counters()["queued_lines"] == 80
        store.release.set()
        assert first.result(timeout=10).lines == 80
        assert runtime.submit([Lines(["!AIVDM"] * 30, "dk", "s")]).result(timeout=10).lines == 30


def test_a_dead_writer_fails_its_senders_and_stops_the_intake(
    nmea_dir: Path, tmp_path: Path
) -> None:
    lines = dma(nmea_dir)
    with Runtime(settings(tmp_path)) as runtime:
        runtime.submit([Lines(lines[:100], "dk", "dma")]).result(timeout=30)
        store = runtime.store
        assert isinstance(store, SqliteProcessStore)
        os.kill(store._child.pid, signal.SIGKILL)
        store._child.wait(10)
        failed = runtime.submit([Lines(lines[100:200], "dk", "dma")])
        with pytest.raises(Exception, match="ended"):
            failed.result(timeout=30)
        with pytest.raises(Stopping, match="store failed"):
            runtime.submit([Lines(lines[200:300], "dk", "dma")])


def test_vessel_updates_reach_a_subscriber(nmea_dir: Path, tmp_path: Path) -> None:
    got: list[str] = []
    with Runtime(settings(tmp_path)) as runtime:
        runtime.bus.subscribe(subjects.VESSELS, lambda subject, payload: got.append(subject))
        receipt = runtime.submit([Lines(dma(nmea_dir)[:400], "dk", "dma")]).result(timeout=30)
        assert runtime.bus.flush(5.0)  # type: ignore[attr-defined]
    assert receipt.observations > 0 and len(got) >= len(set(got)) > 10
