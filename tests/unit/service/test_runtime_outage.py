"""A store outage under the runtime (PostgreSQL restarting, as a store that says whether it
answers): senders are refused while it lasts, ingest resumes by itself once the store answers,
and every acknowledged batch is stored once. The real server restart is in
tests/integration/test_postgres_restart.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lookout.model import IngestReceipt, Lines
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Runtime, StoreUnavailable
from lookout.service.settings import Settings
from lookout.storage.memory import MemoryStore


class RestartingStore(MemoryStore):
    """A memory store whose server can be down: then writes and reads raise."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def ping(self) -> bool:
        return not self.down

    def write(self, batch: StoreBatch) -> None:
        if self.down:
            raise ConnectionError("the server is down")
        super().write(batch)

    def receipt(self, idempotency_key: str) -> IngestReceipt | None:
        if self.down:
            raise ConnectionError("the server is down")
        return super().receipt(idempotency_key)


def resend_until_taken(runtime: Runtime, lines: list[str], key: str) -> IngestReceipt:
    deadline = time.monotonic() + 10
    while True:
        try:
            return runtime.submit([Lines(lines, "dk", "dma")], key=key).result(timeout=10)
        except StoreUnavailable:
            assert time.monotonic() < deadline, "ingest did not resume"
            time.sleep(0.05)


def test_an_outage_refuses_senders_then_ingest_resumes_and_stores_each_batch_once(
    nmea_dir: Path, tmp_path: Path
) -> None:
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    first, second = lines[:400], lines[400:800]
    store = RestartingStore()
    settings = Settings(data_dir=tmp_path / "data", batch_max_lines=500, batch_max_wait_ms=5)
    with Runtime(settings, store=store, detectors=[]) as runtime:
        taken = runtime.submit([Lines(first, "dk", "dma")], key="a").result(timeout=10)
        store.down = True
        met = runtime.submit([Lines(second, "dk", "dma")], key="b")
        with pytest.raises(ConnectionError):
            met.result(timeout=10)  # not acknowledged (the API answers 500)
        with pytest.raises(StoreUnavailable, match="retry later"):
            runtime.submit([Lines(second, "dk", "dma")], key="b")  # the API answers 503
        store.down = False
        resent = resend_until_taken(runtime, second, "b")
        assert resend_until_taken(runtime, second, "b") == resent  # a re-send: stored once
        stored = sum(len(store.track(v.mmsi, limit=100_000)) for v in store.vessels())
    assert resent.observations > 0
    assert stored == taken.observations + resent.observations
