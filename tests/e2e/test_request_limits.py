"""Request limits of the real app: 413 for bodies over a route's limit, 422 for JSON nested too
deep (both within 1 s, before the body is read or parsed), 429 for the member that floods while
another member goes on, 422 for unknown query parameters; and the error bodies the OpenAPI
schema declares.

A real Runtime (SQLite store, in-process bus) behind the app; requests in-process (httpx's
ASGI transport) and, for a body that only claims to be 100 MB, over a real socket to uvicorn
on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from lookout.api.app import create_app
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig

READ = {"Authorization": "Bearer t-read"}
MAX_PUSH = 64_000
MAX_OTHER = 16_000
LINE = "!AIVDM,1,1,,B,13u?etPv2;0n:dDPwUM1U1Cb069D,0*23"


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(
        Settings(
            data_dir=tmp_path / "data",
            api_tokens={"t-read": "analyst"},
            sources=(
                SourceConfig(name="flood", member="PHL-PCG", key="k-phl"),
                SourceConfig(name="quiet", member="VNM-VCG", key="k-vnm"),
            ),
            detectors="none",
            shore="none",
            batch_max_wait_ms=5.0,
            max_body_bytes=MAX_PUSH,
            max_request_body_bytes=MAX_OTHER,
            max_json_depth=32,
            rate_requests_per_s=0.5,
            rate_requests_burst=5,
            push_lines_per_s=1.0,
            push_lines_burst=300,
        )
    )
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture()
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


def _call(app: FastAPI, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    """One request in-process; the response and the seconds it took."""

    async def go() -> tuple[httpx.Response, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            started = time.perf_counter()
            response = await client.request(method, path, **kwargs)
            return response, time.perf_counter() - started

    return asyncio.run(go())


def _push(app: FastAPI, key: str, lines: int) -> httpx.Response:
    body = "\n".join([LINE] * lines) + "\n"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/plain"}
    return _call(app, "POST", "/api/v1/ingest/nmea", content=body, headers=headers)[0]


# -- body size ---------------------------------------------------------------------------------


class _Server:
    """uvicorn in a thread on 127.0.0.1, ephemeral port; stops at exit."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/v1/ingest/nmea", "text/plain"), ("/api/v1/vessels", "application/json")],
)
def test_a_body_claiming_100_mb_is_refused_within_a_second(
    app: FastAPI, path: str, content_type: str
) -> None:
    with _Server(app) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        started = time.perf_counter()
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k-phl\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 100000000\r\n\r\n".encode()
            + LINE.encode() * 10
        )
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
        elapsed = time.perf_counter() - started
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"detail":"request body larger than' in reply
    assert elapsed < 1.0


def test_a_chunked_body_is_refused_once_it_streams_past_the_limit(app: FastAPI) -> None:
    sent = []

    async def chunks() -> Any:  # no Content-Length: chunked, 1 MB offered in 8 kB chunks
        for _ in range(128):
            sent.append(1)
            yield (LINE + "\n").encode() * 150

    headers = {"Authorization": "Bearer k-phl", "Content-Type": "text/plain"}
    r, elapsed = _call(app, "POST", "/api/v1/ingest/nmea", content=chunks(), headers=headers)
    assert r.status_code == 413
    assert r.json() == {"detail": f"request body larger than {MAX_PUSH} bytes"}
    assert len(sent) < 20  # the rest was never read
    assert elapsed < 1.0


def test_json_routes_take_the_smaller_limit(app: FastAPI) -> None:
    body = b'{"username": "' + b"x" * MAX_OTHER + b'", "password": "p"}'
    r, _ = _call(app, "POST", "/api/v1/auth/login", content=body)
    assert r.status_code == 413
    pushed = _push(app, "k-phl", (MAX_OTHER * 2) // (len(LINE) + 1))  # larger, yet accepted
    assert pushed.status_code == 200


# -- JSON depth --------------------------------------------------------------------------------


def _json_routes(app: FastAPI) -> list[str]:
    return [
        path
        for path, ops in app.openapi()["paths"].items()
        for op in ops.values()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]


def test_json_nested_too_deep_is_422_within_a_second_on_every_json_route(app: FastAPI) -> None:
    routes = _json_routes(app)
    assert routes, "the API takes JSON bodies (POST /api/v1/auth/login)"
    deep = b"[" * 5_000 + b"]" * 5_000  # 10 kB, under the size limit
    for path in routes:
        r, elapsed = _call(app, "POST", path, content=deep, headers=READ)
        assert r.status_code == 422, path
        (issue,) = r.json()["detail"]
        assert (issue["loc"], issue["type"]) == (["body"], "json_too_deep")
        assert "deeper than 32 levels" in issue["msg"]
        assert elapsed < 1.0
    shallow = b'{"username": [[["x"]]], "password": "p"}'
    r, _ = _call(app, "POST", "/api/v1/auth/login", content=shallow)
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] != "json_too_deep"  # validated as usual


# -- per-member rates --------------------------------------------------------------------------


def test_a_member_that_floods_gets_429_while_another_member_goes_on(app: FastAPI) -> None:
    codes = [_push(app, "k-phl", 1).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5  # the burst
    assert set(codes[5:]) == {429}
    refused = _push(app, "k-phl", 1)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too many requests" in refused.json()["detail"]
    assert _push(app, "k-vnm", 1).status_code == 200  # another member is not slowed
    status, _ = _call(app, "GET", "/api/v1/status", headers=READ)
    assert status.status_code == 200  # nor the readers of a third
    assert status.json()["counters"]["rate_limited"] == 4  # the refusals are counted


def test_pushed_lines_are_limited_per_member(app: FastAPI) -> None:
    assert _push(app, "k-phl", 400).status_code == 200  # from a full bucket: allowed, owed
    refused = _push(app, "k-phl", 10)
    assert refused.status_code == 429
    assert "too many lines" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 100  # 100 lines owed at 1 line a second
    assert _push(app, "k-vnm", 250).status_code == 200


# -- strict parameters and error bodies --------------------------------------------------------


def test_an_unknown_query_parameter_is_a_422_naming_it(app: FastAPI) -> None:
    r, _ = _call(app, "GET", "/api/v1/vessels", params={"bbx": "0,0,1,1"}, headers=READ)
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"loc": ["query", "bbx"], "msg": "unknown query parameter", "type": "extra_forbidden"}
    ]


def test_errors_have_the_declared_bodies(app: FastAPI) -> None:
    schema = app.openapi()
    vessels = schema["paths"]["/api/v1/vessels/{mmsi}"]["get"]["responses"]
    assert {"401", "403", "404", "413", "422", "429"} <= set(vessels)
    r, _ = _call(app, "GET", "/api/v1/vessels/257000000", headers=READ)
    assert r.status_code == 404
    assert r.json() == {"detail": "no vessel with MMSI 257000000"}
    r, _ = _call(
        app,
        "GET",
        "/api/v1/events?since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z",
        headers=READ,
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "since"]
    r, _ = _call(app, "GET", "/api/v1/detections", params={"since": "0.5"}, headers=READ)
    assert r.status_code == 422  # not read as Unix seconds
