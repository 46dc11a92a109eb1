"""The HTTP API end to end: a real Runtime (SQLite store, in-process bus) behind the app,
spoken to over real HTTP (uvicorn on an ephemeral port) and through httpx's ASGI transport.

Oracle for pushed data: pyais decodes the same Kystverket lines; every single-sentence
position report (types 1, 2, 3, 18, 19, 27) with an available position names a vessel that
must appear in ``/vessels``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyais
import pytest
import uvicorn
from fastapi import FastAPI

from lookout.api.app import create_app
from lookout.pipeline import subjects
from lookout.service.runtime import Overloaded, Runtime, Stopping
from lookout.service.settings import Settings, SourceConfig

READ = {"Authorization": "Bearer t-analyst"}
PUSH = {"Authorization": "Bearer k-kyst", "Content-Type": "text/plain"}
POSITION_TYPES = {1, 2, 3, 18, 19, 27}
MAX_BODY = 200_000


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        api_tokens={"t-analyst": "analyst"},
        sources=(SourceConfig(name="kyst", member="no", key="k-kyst", release="network"),),
        max_body_bytes=MAX_BODY,
        batch_max_wait_ms=5.0,
    )


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(_settings(tmp_path / "data"))
    rt.start()
    yield rt
    rt.stop()


class _Server:
    """uvicorn in a thread on 127.0.0.1, ephemeral port."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture()
def base_url(runtime: Runtime) -> Iterator[str]:
    with _Server(create_app(runtime, keepalive_s=0.5)) as url:
        yield url


def _kystverket(nmea_dir: Path) -> list[str]:
    return (nmea_dir / "kystverket" / "Ais1000Lines.nm4").read_text().splitlines()


def _pyais_positions(lines: list[str]) -> Counter[int]:
    """Position reports per MMSI as pyais decodes them (lat 91 / lon 181 = not available)."""
    found: Counter[int] = Counter()
    for line in lines:
        try:
            msg = pyais.NMEAMessage.from_string(line).decode()
        except Exception:  # multi-sentence lines: pyais needs them joined; not positions here
            continue
        if msg.msg_type in POSITION_TYPES and abs(msg.lat) <= 90 and abs(msg.lon) <= 180:
            found[msg.mmsi] += 1
    return found


def _push(url: str, lines: list[str], **headers: str) -> httpx.Response:
    body = "\n".join(lines) + "\n"
    return httpx.post(
        f"{url}/api/v1/ingest/nmea", content=body, headers={**PUSH, **headers}, timeout=30
    )


# -- authentication --------------------------------------------------------------------------


def _concrete(path: str) -> str:
    return path.replace("{mmsi}", "257000000")


def test_every_route_but_health_and_docs_needs_a_bearer_token(runtime: Runtime) -> None:
    app = create_app(runtime)
    routes = [
        (path, method.upper()) for path, ops in app.openapi()["paths"].items() for method in ops
    ]
    assert {path for path, _ in routes} >= {
        "/api/v1/vessels",
        "/api/v1/ingest/nmea",
        "/api/v1/stream",
    }

    async def probe() -> list[tuple[str, int, int, str]]:
        transport = httpx.ASGITransport(app=app)
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path, method in routes:
                bare = await client.request(method, _concrete(path))
                bad = await client.request(
                    method, _concrete(path), headers={"Authorization": "Bearer wrong"}
                )
                out.append(
                    (
                        path,
                        bare.status_code,
                        bad.status_code,
                        bare.headers.get("www-authenticate", ""),
                    )
                )
            for public in ("/openapi.json", "/docs"):
                assert (await client.get(public)).status_code == 200
        return out

    for path, bare, bad, challenge in asyncio.run(probe()):
        if path == "/api/v1/health":
            assert bare == bad == 200
        elif path == "/api/v1/auth/login":  # public: it takes a password, not a token
            assert bare == bad == 422  # no JSON body
        else:
            assert (bare, bad) == (401, 401), path
            assert challenge.startswith("Bearer"), path


def test_a_read_token_cannot_push_and_a_wrong_scheme_is_401(base_url: str) -> None:
    r = httpx.post(
        f"{base_url}/api/v1/ingest/nmea",
        content="x\n",
        headers={**READ, "Content-Type": "text/plain"},
    )
    assert r.status_code == 403
    r = httpx.get(f"{base_url}/api/v1/vessels", headers={"Authorization": "Basic dTpw"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_source_key_pushes_but_reads_nothing(base_url: str) -> None:
    key = {"Authorization": PUSH["Authorization"]}
    for path in ("/api/v1/vessels", "/api/v1/sources", "/api/v1/status", "/api/v1/stream"):
        r = httpx.get(f"{base_url}{path}", headers=key, timeout=5)
        assert r.status_code == 403, path


def test_bbox_is_validated_with_a_clear_message(base_url: str) -> None:
    for bbox, why in [
        ("1,2,3", "four numbers"),
        ("0,-95,1,1", "latitudes"),
        ("x,1,2,3", "four numbers"),
    ]:
        r = httpx.get(f"{base_url}/api/v1/vessels", params={"bbox": bbox}, headers=READ)
        assert r.status_code == 422
        (issue,) = r.json()["detail"]
        assert issue["loc"] == ["query", "bbox"]
        assert why in issue["msg"]


# -- push, then read back ----------------------------------------------------------------------


def test_push_gives_a_committed_receipt_and_the_vessels_appear(
    base_url: str, nmea_dir: Path
) -> None:
    lines = _kystverket(nmea_dir)
    r = _push(base_url, lines)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["lines"] == len(lines) == 1000
    assert receipt["accepted"] + sum(receipt["rejected"].values()) == receipt["lines"]
    expected = _pyais_positions(lines)
    assert receipt["observations"] == sum(expected.values())

    r = httpx.get(f"{base_url}/api/v1/vessels", headers=READ, params={"limit": 100_000})
    vessels = {v["mmsi"]: v for v in r.json()["vessels"]}
    assert set(expected) <= set(vessels)
    some = next(iter(expected))
    assert vessels[some]["observed_at"].startswith("2019-08-0")
    assert vessels[some]["simulated"] is False

    pushed_at = datetime.now(UTC)
    r = httpx.get(f"{base_url}/api/v1/vessels/{some}/track", headers=READ)
    assert r.status_code == 200
    assert r.json()["count"] == expected[some]
    for p in r.json()["points"]:  # observed in 2019 (tag blocks), received today
        assert p["observed_at"].startswith("2019-08-0")
        received = datetime.fromisoformat(p["received_at"].replace("Z", "+00:00"))
        assert abs((pushed_at - received).total_seconds()) < 60
    detail = httpx.get(f"{base_url}/api/v1/vessels/{some}", headers=READ).json()
    assert detail["mmsi"] == some
    assert isinstance(detail["statics"], list)


def test_bbox_filters_the_picture(base_url: str, nmea_dir: Path) -> None:
    assert _push(base_url, _kystverket(nmea_dir)).status_code == 200
    every = httpx.get(f"{base_url}/api/v1/vessels", headers=READ).json()["vessels"]
    box = (5.0, 58.0, 12.0, 64.0)
    inside = httpx.get(
        f"{base_url}/api/v1/vessels", headers=READ, params={"bbox": ",".join(map(str, box))}
    ).json()["vessels"]
    expected = {
        v["mmsi"] for v in every if box[1] <= v["lat"] <= box[3] and box[0] <= v["lon"] <= box[2]
    }
    assert expected  # the Norwegian coast is in the box
    assert {v["mmsi"] for v in inside} == expected


def test_the_same_idempotency_key_is_answered_once(base_url: str, nmea_dir: Path) -> None:
    lines = _kystverket(nmea_dir)[:200]
    first = _push(base_url, lines, **{"Idempotency-Key": "batch-1"}).json()
    again = _push(base_url, lines, **{"Idempotency-Key": "batch-1"}).json()
    assert again == first
    stats = httpx.get(f"{base_url}/api/v1/sources", headers=READ).json()["sources"]
    kyst = next(s for s in stats if s["name"] == "kyst")
    assert kyst["lines"] == 200  # counted once
    assert kyst["member"] == "no" and kyst["kind"] == "push"
    assert kyst["last_received_at"] is not None


def test_track_as_geojson_and_time_window(base_url: str, nmea_dir: Path) -> None:
    lines = _kystverket(nmea_dir)
    assert _push(base_url, lines).status_code == 200
    mmsi = _pyais_positions(lines).most_common(1)[0][0]
    r = httpx.get(
        f"{base_url}/api/v1/vessels/{mmsi}/track", headers=READ, params={"format": "geojson"}
    )
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["features"]
    assert fc["features"][0]["geometry"]["type"] in {"Point", "LineString", "MultiLineString"}
    # the file ends at 2019-08-07 23:00:27 UTC: nothing after it
    later = httpx.get(
        f"{base_url}/api/v1/vessels/{mmsi}/track",
        headers=READ,
        params={"start": "2019-08-07T23:00:28Z"},
    ).json()
    assert later["count"] == 0
    assert httpx.get(f"{base_url}/api/v1/vessels/111111111", headers=READ).status_code == 404


# -- limits --------------------------------------------------------------------------------------


def test_oversized_body_is_413_by_length_and_by_stream(base_url: str, nmea_dir: Path) -> None:
    lines = _kystverket(nmea_dir) * 4  # ~280 kB > MAX_BODY
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) > MAX_BODY
    r = httpx.post(f"{base_url}/api/v1/ingest/nmea", content=body, headers=PUSH)
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for i in range(0, len(body), 16_384):
            yield body[i : i + 16_384]

    r = httpx.post(f"{base_url}/api/v1/ingest/nmea", content=chunks(), headers=PUSH)
    assert r.status_code == 413


def test_wrong_content_type_is_415(base_url: str) -> None:
    r = httpx.post(
        f"{base_url}/api/v1/ingest/nmea", json={"a": 1}, headers={"Authorization": "Bearer k-kyst"}
    )
    assert r.status_code == 415


class _Refusing:
    """A runtime whose queue refuses input (Overloaded), then is stopping."""

    def __init__(self, real: Runtime, error: Exception) -> None:
        self._real, self._error = real, error
        self.settings, self.bus = real.settings, real.bus

    @property
    def store(self) -> Any:
        return self._real.store

    def submit(self, items: Any, *, key: str | None = None) -> Any:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.mark.parametrize("error", [Overloaded("queue full"), Stopping("stopping")])
def test_back_pressure_and_stopping_are_503(runtime: Runtime, error: Exception) -> None:
    app = create_app(_Refusing(runtime, error))  # type: ignore[arg-type]

    async def push() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/api/v1/ingest/nmea", content="x\n", headers=PUSH)

    r = asyncio.run(push())
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"


def test_status_and_health(base_url: str) -> None:
    assert httpx.get(f"{base_url}/api/v1/health").json()["status"] == "ok"
    status = httpx.get(f"{base_url}/api/v1/status", headers=READ).json()
    assert "queued_lines" in status["counters"]
    assert status["stream_clients"] == 0


# -- server-sent events -----------------------------------------------------------------------


def _read_events(response: httpx.Response, want: int, timeout_s: float) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    kind = ""
    deadline = time.monotonic() + timeout_s
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
            if sum(k == "vessel" for k, _ in events) >= want:
                break
        if time.monotonic() > deadline:
            break
    return events


def test_stream_delivers_vessel_updates_after_a_push(base_url: str, nmea_dir: Path) -> None:
    lines = _kystverket(nmea_dir)
    expected = _pyais_positions(lines)
    got: list[tuple[str, Any]] = []

    def listen() -> None:
        with httpx.stream(
            "GET", f"{base_url}/api/v1/stream", headers=READ, timeout=httpx.Timeout(10.0)
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            got.extend(_read_events(response, want=5, timeout_s=10))

    listener = threading.Thread(target=listen)
    listener.start()
    deadline = time.monotonic() + 5
    status_url = f"{base_url}/api/v1/status"
    while httpx.get(status_url, headers=READ).json()["stream_clients"] < 1:
        assert time.monotonic() < deadline, "stream client never connected"
        time.sleep(0.02)
    assert _push(base_url, lines).status_code == 200
    listener.join(timeout=15)
    vessels = [payload for kind, payload in got if kind == "vessel"]
    assert len(vessels) >= 5
    assert all(v["mmsi"] in expected for v in vessels)
    assert all("observed_at" in v and "lat" in v for v in vessels)


def test_a_slow_stream_client_gets_a_dropped_count_and_keepalives(runtime: Runtime) -> None:
    app = create_app(runtime, keepalive_s=0.3, stream_queue_size=2)
    burst = 500
    with (
        _Server(app) as url,
        httpx.stream("GET", f"{url}/api/v1/stream", headers=READ, timeout=10) as response,
    ):
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith(":")) == ": connected"
        assert next(line for line in lines if line.startswith(":")) == ": keepalive"
        runtime.bus.publish_many(  # type: ignore[attr-defined]
            [
                (
                    subjects.vessel(200_000_000 + i),
                    {
                        "mmsi": i,
                        "lat": 1.0,
                        "lon": 1.0,
                        "observed_ts": 1.7e9,
                        "sources": ["no/kyst"],
                        "feed": "no/kyst",
                    },
                )
                for i in range(burst)
            ]
        )
        vessels = dropped = 0
        kind = ""
        for line in lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                if kind == "vessel":
                    vessels += 1
                elif kind == "dropped":
                    dropped += json.loads(line[6:])["dropped"]
                if vessels + dropped >= burst:
                    break
    assert dropped > 0
    assert vessels + dropped == burst  # nothing lost without being counted
