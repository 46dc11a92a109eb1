"""The backends the contract suites run against: one entry per implementation.

Adding a backend (PostGIS, NATS) is one line in ``STORE_BACKENDS`` or ``BUS_BACKENDS``. Its
factory should call ``conftest.missing(...)`` when its server is unreachable, so it skips on
a laptop and fails in CI. A factory that creates something on a server (a database, a
stream) registers its removal with :func:`at_test_end`; the suites import the autouse fixture
:func:`backend_teardown`, which runs those removals when the test ends, failed or not.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from conftest import missing
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


_TEARDOWNS: list[Callable[[], None]] = []


def at_test_end(teardown: Callable[[], None]) -> None:
    """Run ``teardown`` when the current test ends (see :func:`backend_teardown`)."""
    _TEARDOWNS.append(teardown)


@pytest.fixture(autouse=True)
def backend_teardown() -> Iterator[None]:
    """Removes what backend factories created on servers for this test, even if it failed."""
    yield
    errors: list[BaseException] = []
    while _TEARDOWNS:
        try:
            _TEARDOWNS.pop()()
        except Exception as exc:  # run every teardown, then report the first failure
            errors.append(exc)
    if errors:
        raise errors[0]


# -- PostGIS: one database per test folder, created with the extension, dropped at test end --

POSTGRES_ADMIN_URL = os.environ.get(
    "LOOKOUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A role that may create databases (and the postgis extension); CI and ``make test`` use
the local server's ``postgres`` role."""
_PG_DATABASES: set[str] = set()


def _open_postgis(folder: Path) -> Store:
    """A store on the test database of ``folder``: the same folder reaches the same database."""
    try:
        from psycopg import conninfo

        from lookout.storage.postgis import PostgisStore
    except ImportError:
        missing("psycopg is not installed: pip install 'lookout[postgres]'")
    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    name = f"lookout_test_{digest}"
    if name not in _PG_DATABASES:
        _create_database(name)
    return PostgisStore(conninfo.make_conninfo(POSTGRES_ADMIN_URL, dbname=name))


def _create_database(name: str) -> None:
    import psycopg
    from psycopg import conninfo

    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({exc})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    _PG_DATABASES.add(name)
    at_test_end(lambda: _drop_database(name))
    try:
        with psycopg.connect(conninfo.make_conninfo(POSTGRES_ADMIN_URL, dbname=name)) as conn:
            conn.execute("CREATE EXTENSION postgis")
            conn.commit()
    except psycopg.errors.FeatureNotSupported as exc:  # the extension's files are missing
        missing(f"PostGIS is not installed on the server: {exc} (make test installs it)")


def _drop_database(name: str) -> None:
    import psycopg

    _PG_DATABASES.discard(name)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


STORE_BACKENDS = [
    StoreBackend("memory", lambda folder: MemoryStore(), durable=False),
    StoreBackend("sqlite-memory", lambda folder: SqliteStore(":memory:"), durable=False),
    StoreBackend("sqlite-file", lambda folder: SqliteStore(folder / "lookout.db")),
    StoreBackend("sqlite-process", lambda folder: SqliteProcessStore(folder / "lookout.db")),
    StoreBackend("postgis", _open_postgis),
]

NATS_URL = os.environ.get("LOOKOUT_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _open_nats(queue_size: int) -> FlushableBus:
    """A NatsBus on the local server under a prefix (streams, subjects) of its own, whose
    streams are deleted at test end. Skips (fails in CI) without NATS and JetStream."""
    try:
        from lookout.bus.nats import NatsBus, NatsBusError, delete_streams
    except ImportError as exc:
        missing(str(exc))
    prefix = f"lktest_{uuid.uuid4().hex[:12]}"
    try:
        bus = NatsBus(NATS_URL, prefix=prefix, queue_size=queue_size, timeout_s=3.0)
    except NatsBusError as exc:
        missing(f"NATS with JetStream not reachable: {exc}")
    at_test_end(lambda: delete_streams(NATS_URL, prefix))
    at_test_end(bus.close)  # runs first
    return bus


BUS_BACKENDS = [
    BusBackend("inprocess", lambda queue_size: InProcessBus(queue_size=queue_size)),
    BusBackend("nats", _open_nats),
]
