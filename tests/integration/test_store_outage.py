"""Reads while PostgreSQL does not answer: 503 with ``Retry-After`` and a JSON ``detail``, at
once, and served again as soon as it answers.

The store reaches the machine's PostgreSQL (a database of the test's own) through a TCP relay
in the test; closing the relay drops every connection and refuses new ones, as a server that
went down does, without disturbing the real server; opening it again on the same port is the
server coming back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_postgis_specific import dsn  # noqa: F401 - a fixture, used by name

from conftest import import_or_missing
from lookout.api.app import STORE_OUTAGE, create_app
from lookout.model import BBox, IngestReceipt, TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig
from lookout.storage import StoreOutage
from lookout.storage.memory import MemoryStore

psycopg = import_or_missing("psycopg", reason="psycopg is not installed")
from lookout.storage.postgis import PostgisStore  # noqa: E402 - needs psycopg

MEMBER = "DNK"
MMSI = 219_000_001
T0 = 1_700_000_000.0
READS = (
    "/api/v1/vessels",
    f"/api/v1/vessels/{MMSI}",
    f"/api/v1/vessels/{MMSI}/track",
    "/api/v1/events",
    "/api/v1/sources",
)


class Relay:
    """A TCP relay from a local port to ``target``; ``close()`` drops every connection and
    refuses new ones, ``open()`` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.open()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        assert self._listener is not None
        with contextlib.suppress(OSError):  # wakes the thread in accept() (Linux)
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def relay(dsn: str) -> Iterator[Relay]:  # noqa: F811 - the fixture imported above
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    started = Relay((str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)))
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def store(dsn: str, relay: Relay) -> Iterator[PostgisStore]:  # noqa: F811
    via_relay = psycopg.conninfo.make_conninfo(dsn, host="127.0.0.1", port=relay.port)
    opened = PostgisStore(via_relay, connect_timeout_s=5)
    track = [TrackPoint(MMSI, 0, T0, 55.5, 11.5, 12.5, 181.0, 180, MEMBER, "ais", ("rx",))]
    state = VesselState(
        MMSI, 0, T0, 55.5, 11.5, 12.5, 181.0, 180, 0, "DK",
        members=(MEMBER,), sources=(f"{MEMBER}/ais",),
    )  # fmt: skip
    opened.write(StoreBatch(track=track, vessels=[state]))
    try:
        yield opened
    finally:
        opened.close()  # a no-op once the runtime closed it


@pytest.fixture
def client(store: PostgisStore, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path, detectors="none", shore="none", store="postgis",
        api_tokens={"tok": "ops"}, api_tokens_member=MEMBER,
        sources=(SourceConfig(name="ais", member=MEMBER, release="network"),),
    )  # fmt: skip
    runtime = Runtime(settings, store=store)
    runtime.start()
    try:
        with TestClient(create_app(runtime)) as test_client:
            test_client.headers["Authorization"] = "Bearer tok"
            yield test_client
    finally:
        runtime.stop()


def test_reads_answer_503_at_once_while_postgres_does_not_answer_and_recover(
    client: TestClient, relay: Relay
) -> None:
    healthy = {path: client.get(path) for path in READS}
    assert {path: r.status_code for path, r in healthy.items()} == dict.fromkeys(READS, 200)
    assert [v["mmsi"] for v in healthy["/api/v1/vessels"].json()["vessels"]] == [MMSI]

    relay.close()
    for path in READS:
        started = time.monotonic()
        r = client.get(path)
        assert time.monotonic() - started < 5.0, f"{path} waited for the dead server"
        assert r.status_code == 503, (path, r.text)
        assert r.headers["Retry-After"] == "1"
        assert r.json() == {"detail": STORE_OUTAGE}
    assert client.get("/api/v1/health").status_code == 200  # the node itself is up
    declared = client.get("/openapi.json").json()["paths"]["/api/v1/vessels"]["get"]
    assert "503" in declared["responses"]

    relay.open()  # the server answers again: reads reconnect
    again = {path: client.get(path) for path in READS}
    assert {path: r.status_code for path, r in again.items()} == dict.fromkeys(READS, 200)
    assert again["/api/v1/vessels"].json() == healthy["/api/v1/vessels"].json()


def test_the_store_raises_an_outage_naming_its_server_then_recovers(
    store: PostgisStore, relay: Relay
) -> None:
    relay.close()
    with pytest.raises(StoreOutage, match=f"PostgreSQL at .*:{relay.port}/.* does not answer"):
        store.vessels()
    with pytest.raises(StoreOutage):
        store.write(StoreBatch(receipts={"k": IngestReceipt(lines=1, accepted=1)}))
    assert store.ping() is False
    relay.open()
    assert store.ping() is True
    assert [v.mmsi for v in store.vessels()] == [MMSI]
    assert store.receipt("k") is None  # the write that met the outage stored nothing


class _SharedStateDown(MemoryStore):
    """A store whose reads meet a PostgreSQL that went away, as psycopg reports it (what the
    identity, audit and incident stores shared in PostgreSQL raise)."""

    def vessels(self, bbox: BBox | None = None, limit: int = 10_000) -> list[VesselState]:
        raise psycopg.OperationalError("consuming input failed: server closed the connection")


def test_a_postgresql_error_from_any_store_is_a_503_too(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, detectors="none", shore="none", api_tokens={"t": "o"})
    runtime = Runtime(settings, store=_SharedStateDown())
    runtime.start()
    try:
        with TestClient(create_app(runtime)) as test_client:
            r = test_client.get("/api/v1/vessels", headers={"Authorization": "Bearer t"})
        assert (r.status_code, r.headers["Retry-After"]) == (503, "1")
        assert r.json() == {"detail": STORE_OUTAGE}
    finally:
        runtime.stop()
