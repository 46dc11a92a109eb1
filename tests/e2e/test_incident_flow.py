"""Respond together, end to end (issue 7): an exercise shadowing at Second Thomas Shoal becomes
an alert; PHL-PCG opens an incident from it with a photo and requests assistance; VNM-VCG and
JPN-JCG receive the request on their live streams and answer; the nearest member assets come
with ETAs along sea lanes; the evidence bundle exports and verifies with the real CLI, and a
one-byte change makes verification fail.

A real Runtime (writer-process SQLite store, in-process bus) behind uvicorn on 127.0.0.1; the
exercise from ``lookout scenario`` and the evidence from ``lookout evidence``, as subprocesses.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyais
import pytest
import uvicorn

from lookout.api.app import create_app
from lookout.model.members import Member, Role
from lookout.service.runtime import AUDIT_FILE, Runtime
from lookout.service.settings import Settings, SourceConfig
from lookout.sources.sim_nmea import tag_block
from lookout.storage.audit import AuditLog

LOOKOUT = str(Path(sys.executable).parent / "lookout")
PHL, VNM, JPN = "PHL-PCG", "VNM-VCG", "JPN-JCG"
T0 = 1_748_736_000  # 2025-06-01T00:00:00Z, the exercise's start
HOURS_FED = 4  # the shadowing runs 00:35..02:35 (labels.jsonl)
VNM_ASSET, JPN_ASSET = 574_000_811, 431_000_222
PHOTO = b"\xff\xd8\xff\xe0" + b"EXERCISE water cannon photo " * 40


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LOOKOUT, *args], capture_output=True, text=True, check=False)


def position(mmsi: int, ts: int, lat: float, lon: float, speed: float) -> str:
    msg = {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": speed, "course": 90.0}
    (sentence,) = pyais.encode_dict(msg, talker_id="AI", radio_channel="A")
    return tag_block(ts, "rx-1") + sentence


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Runtime, dict[str, dict[str, str]]]]:
    keys = {PHL: "k-phl", VNM: "k-vnm", JPN: "k-jpn"}
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=tuple(
            SourceConfig(name="ais", member=m, key=k, release="network") for m, k in keys.items()
        ),
        batch_max_wait_ms=5.0,
        detectors="shadowing,close_approach",
        shore="none",
    )
    runtime = Runtime(settings)
    runtime.start()
    assert runtime.access is not None
    auth: dict[str, dict[str, str]] = {}
    for code in (PHL, VNM, JPN):
        runtime.access.add_member(Member(code, f"{code} coast guard"))
        token = runtime.access.issue(
            subject=f"{code.lower()}-officer", member=code, role=Role.WATCH_OFFICER, ttl_s=900
        ).token
        auth[code] = {"Authorization": f"Bearer {token}"}
        auth[f"push:{code}"] = {"Authorization": f"Bearer {keys[code]}"}
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
    try:
        yield f"http://127.0.0.1:{port}", runtime, auth
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        runtime.stop()


class Listener(threading.Thread):
    """One member's ``GET /api/v1/stream?kinds=alert``, read until an alert of ``until``."""

    def __init__(self, url: str, auth: dict[str, str], until: str) -> None:
        super().__init__(daemon=True)
        self.url, self.auth, self.until = url, auth, until
        self.alerts: list[dict[str, Any]] = []
        self.ready = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 120
        url = f"{self.url}/api/v1/stream?kinds=alert"
        with httpx.stream("GET", url, headers=self.auth, timeout=30.0) as response:
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("data: "):
                    self.alerts.append(json.loads(line[6:]))
                    if self.alerts[-1]["kind"] == self.until:
                        return
                if time.monotonic() > deadline:
                    return


def exercise_lines(folder: Path) -> list[str]:
    done = run("scenario", "second-thomas-resupply", "--seed", "7", "--out", str(folder),
               "--hours", "20")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = (folder / "exercise.nmea").read_text().splitlines()
    end = T0 + HOURS_FED * 3600
    return [line for line in lines if int(re.search(r"c:(\d+)", line)[1]) <= end]  # type: ignore[index]


def push(url: str, auth: dict[str, str], lines: list[str]) -> None:
    headers = {**auth, "Content-Type": "text/plain"}
    for i in range(0, len(lines), 5000):
        r = httpx.post(f"{url}/api/v1/ingest/nmea", content="\n".join(lines[i : i + 5000]) + "\n",
                       headers=headers, timeout=60)  # fmt: skip
        assert r.status_code == 200, r.text


def shadowing_event(url: str, auth: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/api/v1/events?kind=shadowing", headers=auth)
        events = r.json()["events"]
        if events:
            return dict(events[0])
        time.sleep(0.2)
    raise AssertionError("no shadowing event")


def test_an_exercise_shadowing_becomes_an_incident_answered_by_two_members_with_evidence(
    server: tuple[str, Runtime, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    url, runtime, auth = server
    data_dir = str(runtime.settings.data_dir)
    for member, mmsi, name in ((VNM, VNM_ASSET, "CSB 8001"), (JPN, JPN_ASSET, "PLH Akitsushima")):
        done = run("assets", "add", "--member", member, "--mmsi", str(mmsi), "--name", name,
                   "--data-dir", data_dir)  # fmt: skip
        assert done.returncode == 0, done.stderr
    phl = Listener(url, auth[PHL], "shadowing")
    others = [Listener(url, auth[m], "assistance_request") for m in (VNM, JPN)]
    for listener in (phl, *others):
        listener.start()
        assert listener.ready.wait(10)

    # The exercise, and where the other members' assets are, go in through the push API.
    push(url, auth[f"push:{PHL}"], exercise_lines(tmp_path / "exercise"))
    push(url, auth[f"push:{VNM}"], [position(VNM_ASSET, T0 + 3 * 3600, 10.38, 114.36, 0.0)])
    push(url, auth[f"push:{JPN}"], [position(JPN_ASSET, T0 + 3 * 3600, 11.0, 117.0, 18.0)])
    event = shadowing_event(url, auth[PHL])
    phl.join(30)
    assert any(a["kind"] == "shadowing" and a["event_id"] == event["id"] for a in phl.alerts)

    # PHL-PCG opens an incident from the alert, attaches a photo, asks for help.
    r = httpx.post(f"{url}/api/v1/incidents", headers=auth[PHL], json={
        "event_id": event["id"], "category": "dangerous_manoeuvre", "severity": "high",
        "description": "EXERCISE: coast guard vessel shadowing our resupply boat"})  # fmt: skip
    assert r.status_code == 200, r.text
    incident = r.json()
    assert incident["events"] == [event["id"]] and set(incident["vessels"]) == set(event["mmsis"])
    base = f"{url}/api/v1/incidents/{incident['id']}"
    r = httpx.post(f"{base}/attachments?filename=cannon.jpg", content=PHOTO,
                   headers={**auth[PHL], "Content-Type": "image/jpeg"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = httpx.post(f"{base}/assistance", json={"text": "escort needed"}, headers=auth[PHL])
    assert r.status_code == 200, r.text

    # Both other members receive it live and answer.
    for listener in others:
        listener.join(30)
        (request,) = [a for a in listener.alerts if a["kind"] == "assistance_request"]
        assert request["incident"] == incident["id"] and request["member"] == "network"
    answers = {VNM: ("en_route", VNM_ASSET), JPN: ("can_assist", JPN_ASSET)}
    for member, (answer, mmsi) in answers.items():
        r = httpx.post(f"{base}/assistance/responses", headers=auth[member],
                       json={"response": answer, "asset_mmsi": mmsi})  # fmt: skip
        assert r.status_code == 200, r.text
    timeline = httpx.get(base, headers=auth[PHL]).json()["timeline"]
    recorded = {e["member"]: e["data"]["response"] for e in timeline
                if e["kind"] == "assistance_response"}  # fmt: skip
    assert recorded == {VNM: "en_route", JPN: "can_assist"}

    # The nearest assets, with ETAs along sea lanes.
    assets = httpx.get(f"{base}/assets", headers=auth[PHL]).json()["assets"]
    assert {a["mmsi"] for a in assets} == {VNM_ASSET, JPN_ASSET}
    for a in assets:
        assert a["sea_distance_m"] >= a["distance_m"] > 50_000 and a["eta_s"] > 0
    assert [a["eta_s"] for a in assets] == sorted(a["eta_s"] for a in assets)
    assert {a["mmsi"]: a["speed_kn"] for a in assets} == {VNM_ASSET: 15.0, JPN_ASSET: 18.0}
    routes = {a["mmsi"]: a["route"] for a in assets}
    assert routes == {JPN_ASSET: "searoute", VNM_ASSET: "great_circle"}  # no lane through the
    # Dangerous Ground: the great circle stands in

    # The evidence, signed, checked with the CLI after the server stopped.
    runtime.stop()
    bundle = tmp_path / "bundle.zip"
    done = run("evidence", "export", incident["id"], "--member", PHL, "--out", str(bundle),
               "--data-dir", data_dir)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = run("evidence", "verify", str(bundle))
    assert done.returncode == 0, done.stderr
    assert PHL in done.stdout and "verified" in done.stdout
    audit = AuditLog(runtime.settings.data_dir / AUDIT_FILE)
    actions = {(r.action, r.resource) for r in audit.records()}
    audit.close()
    assert {
        ("evidence", f"incident:{incident['id']}"),
        ("incident", f"incident:{incident['id']}"),
    } <= actions
    keys = run("evidence", "keys", "--data-dir", data_dir, "--json")
    (key,) = json.loads(keys.stdout)
    assert key["fingerprint"] in done.stdout
    with zipfile.ZipFile(bundle) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    tracks = json.loads(files["tracks.geojson"])["features"]
    assert {f["properties"]["mmsi"] for f in tracks if "mmsi" in f["properties"]} == set(
        event["mmsis"]
    )
    (stored,) = json.loads(files["events.json"])
    assert stored["id"] == event["id"] and stored["details"] == event["details"]
    assert any(n.endswith("cannon.jpg") and d == PHOTO for n, d in files.items())
    assert all(p["member"] == PHL for p in json.loads(files["provenance.json"]))

    changed = bytearray(files["tracks.kml"])
    changed[100] ^= 0x01
    tampered = tmp_path / "tampered.zip"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in {**files, "tracks.kml": bytes(changed)}.items():
            archive.writestr(name, data)
    tampered.write_bytes(out.getvalue())
    done = run("evidence", "verify", str(tampered))
    assert done.returncode == 1
    assert "changed file: tracks.kml" in done.stderr
