"""Detectors live: a vessel entering a member's territorial sea becomes an event, stored with
its versions, and an alert to the zone's owner on the SSE stream, through a real Runtime
(writer-process SQLite store, in-process bus) behind uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pyais
import pytest
import uvicorn

from lookout.api.app import create_app
from lookout.detectors.base import detector_types
from lookout.model import Lines
from lookout.pipeline.ports import EventQuery
from lookout.service import detection as _registers_the_built_in_detectors  # noqa: F401
from lookout.service.runtime import STATE_FILE, Runtime
from lookout.service.settings import Settings, SourceConfig
from lookout.sources.sim_nmea import tag_block

BUILT_IN = [k for k, cls in detector_types().items() if cls.__module__.startswith("lookout.")]
"""Every detector Lookout ships (other tests register doubles in the same registry)."""
READ = {"Authorization": "Bearer t-watch"}
PUSH = {"Authorization": "Bearer k-patrol", "Content-Type": "text/plain"}
T0 = 1_750_000_000
MMSI = 412_000_777

# A square "territorial sea" owned by PHL-PCG, west of Luzon (lon 119..120, lat 15..16).
ZONE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "id": "ts-test",
                "name": "Test territorial sea",
                "regime": "territorial_sea",
                "owners": "PHL-PCG",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[119, 15], [120, 15], [120, 16], [119, 16], [119, 15]]],
            },
        }
    ],
}


def nmea(ts: int, lat: float, lon: float, mmsi: int = MMSI) -> str:
    msg = {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": 10.0, "course": 90.0}
    (sentence,) = pyais.encode_dict(msg, talker_id="AI", radio_channel="A")
    return tag_block(ts, "patrol-1") + sentence


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps(ZONE))
    settings = Settings(
        data_dir=tmp_path / "data",
        api_tokens={"t-watch": "watch-officer"},
        sources=(SourceConfig(name="patrol", member="PHL-PCG", key="k-patrol", release="network"),),
        batch_max_wait_ms=5.0,
        zones=(zones,),
        shore="none",
        detectors=",".join(BUILT_IN),
    )
    runtime = Runtime(settings)
    runtime.start()
    config = uvicorn.Config(
        create_app(runtime, keepalive_s=0.5), host="127.0.0.1", port=0, log_level="warning",
        lifespan="off",
    )  # fmt: skip
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", runtime
    uv.should_exit = True
    thread.join(timeout=10)
    runtime.stop()


def _listen(url: str, got: list[tuple[str, Any]], until: set[str], ready: threading.Event) -> None:
    """Read the stream until a message of every kind in ``until`` came (each streamed
    pattern has its own bus subscription, so an alert may overtake its event)."""
    with httpx.stream("GET", f"{url}/api/v1/stream", headers=READ, timeout=10.0) as response:
        kind = ""
        deadline = time.monotonic() + 10
        for line in response.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                got.append((kind, json.loads(line[6:])))
                if until <= {k for k, _ in got}:
                    return
            if time.monotonic() > deadline:
                return


def test_entering_a_territorial_sea_alerts_its_owner_and_is_stored(
    server: tuple[str, Runtime],
) -> None:
    url, runtime = server
    assert {"zone_entry", "zone_exit", "encounter", "ais_gap"} <= set(runtime.detector_kinds)
    got: list[tuple[str, Any]] = []
    ready = threading.Event()
    listener = threading.Thread(target=_listen, args=(url, got, {"alert", "event"}, ready))
    listener.start()
    assert ready.wait(10)
    outside = [nmea(T0 + 60 * i, 15.5, 118.90 + 0.02 * i) for i in range(5)]  # 118.90..118.98
    r = httpx.post(f"{url}/api/v1/ingest/nmea", content="\n".join(outside) + "\n", headers=PUSH)
    assert r.status_code == 200 and r.json()["accepted"] == 5
    sent = time.monotonic()
    inside = nmea(T0 + 300, 15.5, 119.02)
    r = httpx.post(f"{url}/api/v1/ingest/nmea", content=inside + "\n", headers=PUSH)
    assert r.status_code == 200
    listener.join(10)
    took = time.monotonic() - sent
    alerts = [p for k, p in got if k == "alert"]
    assert len(alerts) == 1, got
    alert = alerts[0]
    assert (alert["member"], alert["severity"], alert["kind"]) == ("PHL-PCG", "high", "zone_entry")
    assert alert["mmsi"] == MMSI and alert["zone"] == "ts-test"
    assert "Test territorial sea" in alert["title"]
    assert alert["event"]["start"] == "2025-06-15T15:11:40Z"  # the first position inside
    assert alert["event"]["details"]["previous_lon"] == pytest.approx(118.98, abs=1e-4)
    assert took < 5.0  # the latency itself is measured by bench/bench_alert_latency.py
    events = [p for k, p in got if k == "event"]
    assert [e["kind"] for e in events] == ["zone_entry"], [k for k, _ in got]

    listed = httpx.get(f"{url}/api/v1/events", headers=READ, params={"kind": "zone_entry"}).json()
    assert listed["count"] == 1
    stored = listed["events"][0]
    assert (stored["id"], stored["version"], stored["status"]) == (
        alert["event_id"], 1, "confirmed",
    )  # fmt: skip
    assert stored["members"] == ["PHL-PCG"] and stored["mmsis"] == [MMSI]
    one = httpx.get(f"{url}/api/v1/events/{stored['id']}", headers=READ).json()
    assert [v["version"] for v in one["versions"]] == [1]
    assert httpx.get(f"{url}/api/v1/events/nope", headers=READ).status_code == 404
    assert (
        httpx.get(f"{url}/api/v1/events", params={"status": "x"}, headers=READ).status_code == 422
    )
    by_vessel = httpx.get(f"{url}/api/v1/events", headers=READ, params={"mmsi": MMSI + 1}).json()
    assert by_vessel["count"] == 0


def test_a_satellite_detection_no_ais_vessel_explains_is_a_dark_vessel_alert(
    server: tuple[str, Runtime],
) -> None:
    url, _ = server
    # an AIS vessel sailing east along 10 N for three hours, a report every 10 minutes
    reports = [nmea(T0 + 600 * i, 10.0, 115.0 + 0.03 * i, mmsi=MMSI + 1) for i in range(19)]
    r = httpx.post(f"{url}/api/v1/ingest/nmea", content="\n".join(reports[:3]), headers=PUSH)
    assert r.status_code == 200
    at = T0 + 600  # where the vessel was then: (10.0, 115.03)
    csv = (
        "id,timestamp,lat,lon,source\n"
        f"S1-near,{at},10.0,115.035,sar\n"  # about 550 m from the vessel: explained
        f"S1-dark,{at},10.05,115.03,sar\n"  # 5.5 km north of it, nobody there: dark
        f"S1-bad,{at},95,115.0,sar\n"  # latitude out of range: refused, counted
    )
    csv_headers = {**PUSH, "Content-Type": "text/csv"}
    r = httpx.post(f"{url}/api/v1/ingest/detections", content=csv, headers=csv_headers)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert (receipt["detections"], receipt["rejected"]) == (2, 1)
    assert "line 4" in receipt["errors"][0] and "lat" in receipt["errors"][0]
    # the decision waits until every position that can explain the detection is in (1 h)
    r = httpx.post(f"{url}/api/v1/ingest/nmea", content="\n".join(reports[3:]), headers=PUSH)
    assert r.status_code == 200
    deadline = time.monotonic() + 10
    found: list[dict[str, Any]] = []
    while not found and time.monotonic() < deadline:
        listed = httpx.get(f"{url}/api/v1/events", params={"kind": "dark_vessel"}, headers=READ)
        found = listed.json()["events"]
        time.sleep(0.1)
    assert [e["details"]["detection_id"] for e in found] == ["S1-dark"]
    assert found[0]["severity"] == "high" and found[0]["members"] == ["PHL-PCG"]
    stored = httpx.get(f"{url}/api/v1/detections", headers=READ).json()
    assert sorted(d["id"] for d in stored["detections"]) == ["S1-dark", "S1-near"]
    # wrong type, not a detections CSV, a read token pushing
    as_json = {**PUSH, "Content-Type": "application/json"}
    assert (
        httpx.post(f"{url}/api/v1/ingest/detections", content=csv, headers=as_json).status_code
        == 415
    )
    bad = httpx.post(f"{url}/api/v1/ingest/detections", content="a,b\n1,2\n", headers=csv_headers)
    assert bad.status_code == 422 and "timestamp" in bad.json()["detail"][0]["msg"]
    as_reader = {**READ, "Content-Type": "text/csv"}
    assert (
        httpx.post(f"{url}/api/v1/ingest/detections", content=csv, headers=as_reader).status_code
        == 403
    )


def test_a_clean_restart_resumes_the_detectors(tmp_path: Path) -> None:
    """A vessel seen outside the zone before a restart raises its entry after it: the
    stopped runtime left its pipeline state in the data dir, the next one resumed from it."""
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps(ZONE))
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=(
            SourceConfig(name="patrol", member="PHL-PCG", key="k-patrol", release="network"),
        ),
        batch_max_wait_ms=5.0, zones=(zones,), shore="none", detectors=",".join(BUILT_IN),
    )  # fmt: skip

    def push(runtime: Runtime, *lines: str) -> list[dict[str, Any]]:
        block = Lines(list(lines), "PHL-PCG", "patrol", time.time())
        runtime.submit([block]).result(timeout=10)
        return runtime.store.events(EventQuery(kind="zone_entry"))

    first = Runtime(settings)
    first.start()
    assert push(first, nmea(T0, 15.5, 118.95)) == []  # outside
    first.stop()
    assert (settings.data_dir / STATE_FILE).is_file()
    second = Runtime(settings)
    second.start()
    try:
        assert not (settings.data_dir / STATE_FILE).exists()  # consumed
        entries = push(second, nmea(T0 + 60, 15.5, 119.05))  # inside
        assert [(e["mmsi"], e["zone"]) for e in entries] == [(MMSI, "ts-test")]
    finally:
        second.stop()
    # without the state file the same sequence raises nothing: first seen inside
    (settings.data_dir / STATE_FILE).unlink()
    fresh = Runtime(replace(settings, data_dir=tmp_path / "other"))
    fresh.start()
    try:
        assert push(fresh, nmea(T0 + 60, 15.5, 119.05)) == []
    finally:
        fresh.stop()
