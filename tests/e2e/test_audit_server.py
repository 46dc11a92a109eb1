"""The audit log of a running server: its configuration at start and every refused request
are recorded; ``lookout audit verify`` finds the chain intact, and a tampered record is
named."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from serve_process import LOOKOUT

from lookout.api.app import create_app
from lookout.service.runtime import AUDIT_FILE, Runtime
from lookout.service.settings import Settings, SourceConfig


def lookout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOOKOUT, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_refusals_and_configuration_are_audited_and_verify(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(
        data_dir=data,
        api_tokens={"t-read": "analyst"},
        sources=(SourceConfig(name="coast", member="PHL-PCG", key="k-coast"),),
        detectors="none",
        shore="none",
    )
    runtime = Runtime(settings)
    runtime.start()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/api/v1"
    try:
        assert (
            httpx.get(f"{url}/vessels", headers={"Authorization": "Bearer nope"}).status_code == 401
        )
        as_source = {"Authorization": "Bearer k-coast"}
        assert httpx.get(f"{url}/vessels", headers=as_source).status_code == 403
        assert (
            httpx.get(f"{url}/vessels", headers={"Authorization": "Bearer t-read"}).status_code
            == 200
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.stop()

    listed = lookout("audit", "list", "--data-dir", str(data), "--json")
    assert listed.returncode == 0, listed.stderr
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert records[0]["action"] == "configuration"
    assert records[0]["detail"]["sources"] == ["PHL-PCG/coast (push)"]
    assert "k-coast" not in listed.stdout and "t-read" not in listed.stdout  # no secrets
    denied = [(r["actor"], r["resource"], r["detail"]["status"]) for r in records[1:]]
    assert denied == [
        ("anonymous", "GET /api/v1/vessels", 401),
        ("source:PHL-PCG/coast", "GET /api/v1/vessels", 403),
    ]
    ok = lookout("audit", "verify", "--data-dir", str(data))
    assert ok.returncode == 0 and "3 records, chain intact" in ok.stdout

    conn = sqlite3.connect(data / AUDIT_FILE, isolation_level=None)
    conn.execute("UPDATE audit SET actor = 'someone' WHERE seq = 2")
    conn.close()
    bad = lookout("audit", "verify", "--data-dir", str(data))
    assert bad.returncode == 1
    assert "record 2: altered" in bad.stdout
