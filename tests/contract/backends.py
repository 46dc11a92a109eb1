"""The backends the contract suites run against: one entry per implementation.

Adding a backend (PostGIS, NATS) is one line in ``STORE_BACKENDS`` or ``BUS_BACKENDS``. Its
factory should call ``conftest.missing(...)`` when its server is unreachable, so it skips on
a laptop and fails in CI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lookout.bus.inprocess import InProcessBus
from lookout.pipeline.ports import Bus, Handler, Store
from lookout.storage.memory import MemoryStore
from lookout.storage.sqlite import SqliteStore
from lookout.storage.sqlite_process import SqliteProcessStore


class CountingSubscription(Protocol):
    """What the bus suite reads from a subscription besides ``close()``."""

    dropped: int
    errors: int

    def close(self) -> None: ...


class FlushableBus(Bus, Protocol):
    """A bus the suite can wait on: ``flush`` returns once everything published is handled."""

    def subscribe(self, pattern: str, handler: Handler) -> CountingSubscription: ...

    def flush(self, timeout_s: float = 5.0) -> bool: ...


@dataclass(frozen=True)
class StoreBackend:
    name: str
    open: Callable[[Path], Store]
    """Open the store kept under a test's folder; the same folder gives the same data."""
    durable: bool = True
    """Whether data survives ``close()`` and opening the same folder again."""


@dataclass(frozen=True)
class BusBackend:
    name: str
    open: Callable[[int], FlushableBus]
    """Open a bus whose subscriptions queue at most the given number of messages."""


STORE_BACKENDS = [
    StoreBackend("memory", lambda folder: MemoryStore(), durable=False),
    StoreBackend("sqlite-memory", lambda folder: SqliteStore(":memory:"), durable=False),
    StoreBackend("sqlite-file", lambda folder: SqliteStore(folder / "lookout.db")),
    StoreBackend("sqlite-process", lambda folder: SqliteProcessStore(folder / "lookout.db")),
]

BUS_BACKENDS = [
    BusBackend("inprocess", lambda queue_size: InProcessBus(queue_size=queue_size)),
]
