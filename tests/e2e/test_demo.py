"""``lookout demo`` as a new user runs it: vessels through the API within 10 s of the URL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyais
import pytest

from lookout.service.demo_network import DEMO_MEMBERS

LOOKOUT = [sys.executable, "-m", "lookout.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        args = [*LOOKOUT, "demo", "--data-dir", str(data_dir), "--port", str(self.port), *extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.output: list[str] = []

    def wait_for_url(self, timeout_s: float = 60.0) -> float:
        """Read the demo's banner; when it printed the URL (monotonic)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        printed_at = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if printed_at is None and f"http://127.0.0.1:{self.port}" in line:
                printed_at = time.monotonic()
            if printed_at is not None and "credentials:" in line:
                return printed_at
        raise AssertionError("demo printed no URL and credentials:\n" + "".join(self.output))

    def token(self) -> str:
        creds = json.loads((self.data_dir / "demo-credentials.json").read_text())
        printed = "".join(self.output)
        assert creds["api_token"] in printed, "the printed credentials are the ones that work"
        return str(creds["api_token"])

    def vessels_when(self, predicate, deadline: float) -> list[dict]:
        headers = {"Authorization": f"Bearer {self.token()}"}
        url = f"http://127.0.0.1:{self.port}/api/v1/vessels"
        vessels: list[dict] = []
        while time.monotonic() < deadline:
            try:
                vessels = httpx.get(url, headers=headers, timeout=2).json()["vessels"]
            except httpx.HTTPError:
                vessels = []
            if predicate(vessels):
                return vessels
            time.sleep(0.25)
        return vessels

    def wait_until_serving(self, timeout_s: float = 30.0) -> None:
        """The banner comes before the HTTP server listens: wait for its health route."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v1/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the demo's API did not answer")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.mark.slow
def test_demo_shows_simulated_vessels_within_10_s_of_printing_the_url(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "demo")
    try:
        printed_at = demo.wait_for_url()
        vessels = demo.vessels_when(lambda v: len(v) >= 5, printed_at + 10.0)
        assert len(vessels) >= 5, f"only {len(vessels)} vessels 10 s after the URL"
        assert all(v["simulated"] for v in vessels)
        members = {m for v in vessels for m in v["members"]}
        assert members <= {"PHL-PCG", "VNM-VCG", "MYS-MMEA", "IDN-BAKAMLA", "JPN-JCG", "USA-USCG"}
        # In the South China Sea and its approaches.
        assert all(-2 <= v["lat"] <= 25 and 100 <= v["lon"] <= 125 for v in vessels)
        sources = httpx.get(
            f"http://127.0.0.1:{demo.port}/api/v1/sources",
            headers={"Authorization": f"Bearer {demo.token()}"},
            timeout=5,
        ).json()["sources"]
        listeners = [s for s in sources if s["kind"] in ("udp", "tcp-server")]
        receivers = sum(len(m.receivers) for m in DEMO_MEMBERS)
        assert len(listeners) == receivers, "one listener per demo receiver"
        for source in listeners:  # configured with port 0: the port it got is shown
            host, port = source["listen"].rsplit(":", 1)
            assert host == "127.0.0.1" and int(port) > 0
    finally:
        assert demo.stop() == 0


@pytest.mark.slow
def test_demo_replay_shows_the_real_norwegian_vessels(tmp_path: Path, nmea_dir: Path) -> None:
    recording = nmea_dir / "kystverket" / "Ais1000Lines.nm4"
    expected: set[int] = set()
    for line in recording.read_text().splitlines():
        try:
            msg = pyais.decode(line.split("\\")[-1]).asdict()
        except Exception:  # multi-part or bad lines: pyais cannot take them one by one
            continue
        if msg["msg_type"] in (1, 2, 3, 18, 19) and msg.get("lat") not in (None, 91.0):
            expected.add(msg["mmsi"])
    demo = Demo(tmp_path / "demo", "--replay", str(recording), "--speed", "10")
    try:
        printed_at = demo.wait_for_url()
        vessels = demo.vessels_when(lambda v: {x["mmsi"] for x in v} >= expected, printed_at + 30.0)
        seen = {v["mmsi"] for v in vessels}
        assert expected <= seen, f"{len(expected - seen)} of {len(expected)} vessels missing"
        assert not any(v["simulated"] for v in vessels)
        assert all(56 <= v["lat"] <= 81 for v in vessels), "Norwegian waters and beyond"
    finally:
        assert demo.stop() == 0


def _probe(mmsi: int, ts: float, lon: float) -> str:
    message = {"type": 1, "mmsi": mmsi, "lat": 15.5, "lon": lon, "speed": 11.0, "course": 90.0}
    (sentence,) = pyais.encode_dict(message, talker_id="AI", radio_channel="A")
    body = f"c:{int(ts)},s:test-probe"
    check = 0
    for char in body:
        check ^= ord(char)
    return f"\\{body}*{check:02X}\\{sentence}"


@pytest.mark.slow
def test_a_vessel_entering_a_members_territorial_sea_is_alerted_on_the_stream(
    tmp_path: Path,
) -> None:
    """The demo watches the South China Sea region pack: a foreign vessel sailing from the
    Philippine EEZ into the Philippine territorial sea off Zambales raises a high alert to
    PHL-PCG on the live stream, and the event is listed by the API."""
    demo = Demo(tmp_path / "demo")
    try:
        demo.wait_for_url()
        assert "South China Sea region pack" in "".join(demo.output)
        demo.wait_until_serving()
        creds = json.loads((demo.data_dir / "demo-credentials.json").read_text())
        base = f"http://127.0.0.1:{demo.port}/api/v1"
        read = {"Authorization": f"Bearer {demo.token()}"}
        push = {"Authorization": f"Bearer {creds['push_key']}", "Content-Type": "text/plain"}
        mmsi, now = 412_999_001, time.time()
        outside = "\n".join(_probe(mmsi, now + 60 * i, 119.30 + 0.04 * i) for i in range(4))
        assert httpx.post(f"{base}/ingest/nmea", content=outside, headers=push).status_code == 200
        alerts: list[dict] = []
        with httpx.stream(
            "GET", f"{base}/stream", params={"kinds": "alert"}, headers=read, timeout=30
        ) as stream:
            inside = _probe(mmsi, now + 300, 119.80)
            sent = httpx.post(f"{base}/ingest/nmea", content=inside, headers=push)
            assert sent.status_code == 200
            deadline = time.monotonic() + 20
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    alert = json.loads(line[6:])
                    if alert.get("mmsi") == mmsi:
                        alerts.append(alert)
                        break
                if time.monotonic() > deadline:
                    break
        assert alerts, "no alert for the probe vessel on the stream"
        alert = alerts[0]
        assert (alert["kind"], alert["member"], alert["severity"]) == (
            "zone_entry", "PHL-PCG", "high",
        )  # fmt: skip
        assert alert["event"]["details"]["regime"] == "territorial_sea"
        listed = httpx.get(
            f"{base}/events", params={"mmsi": mmsi, "kind": "zone_entry"}, headers=read
        ).json()
        assert [e["zone"] for e in listed["events"]] == [alert["zone"]]
    finally:
        assert demo.stop() == 0


@pytest.mark.slow
def test_demo_members_see_only_what_is_released_to_them(tmp_path: Path) -> None:
    """The demo's sharing setup: Viet Nam's officer is not shown the Philippines' owner-only
    Pag-asa station, nor the Japanese patrol released to PHL-PCG and USA-USCG; the
    Philippines' officer is shown both, and Da Nang, released to it alone."""
    demo = Demo(tmp_path / "demo")
    try:
        demo.wait_for_url()
        demo.wait_until_serving()
        base = f"http://127.0.0.1:{demo.port}/api/v1"
        users = json.loads((demo.data_dir / "demo-credentials.json").read_text())["users"]

        def picture(username: str) -> tuple[set[str], set[str]]:
            login = {"username": username, "password": users[username]["password"]}
            token = httpx.post(f"{base}/auth/login", json=login, timeout=5).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            sources = httpx.get(f"{base}/sources", headers=auth, timeout=5).json()["sources"]
            vessels = httpx.get(f"{base}/vessels", headers=auth, timeout=5).json()["vessels"]
            return (
                {f"{s['member']}/{s['name']}" for s in sources},
                {feed for v in vessels for feed in v["sources"]},
            )

        time.sleep(5)  # let every receiver deliver a few batches
        phl_sources, _ = picture("phl-officer")
        vnm_sources, vnm_feeds = picture("vnm-officer")
        restricted = {"PHL-PCG/PCG-PAGASA", "JPN-JCG/JCG-PATROL"}
        assert restricted | {"VNM-VCG/VCG-DANANG"} <= phl_sources
        assert not restricted & vnm_sources
        assert not restricted & vnm_feeds, "a vessel shown to VNM-VCG names a withheld source"
        assert "VNM-VCG/VCG-DANANG" in vnm_sources  # its own
    finally:
        assert demo.stop() == 0
