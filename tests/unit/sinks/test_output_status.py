"""Output counters as an operator sees them: GET /api/v1/status and ``lookout doctor``, for
outputs pointed at a closed port and at a working local receiver."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lookout.api.app import create_app
from lookout.bus.inprocess import InProcessBus
from lookout.cli.doctor import run_checks
from lookout.model.members import Member, Role
from lookout.pipeline import subjects
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings
from lookout.sharing import Policy
from lookout.sinks import NmeaRelaySink, Outputs, WebhookSink
from lookout.sinks.config import OutputConfig

PHL, VNM = "PHL-PCG", "VNM-VCG"
NOW = 1_780_000_000.0


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vessel(mmsi: int, member: str = PHL) -> dict[str, Any]:
    return {"mmsi": mmsi, "segment": 0, "observed_ts": NOW - 10, "lat": 10.5, "lon": 116.5,
            "speed_kn": 8.0, "course_deg": 90.0, "heading_deg": 90, "status": 0, "flag": "CN",
            "members": [member], "sources": [f"{member}/ais"], "feed": f"{member}/ais",
            "positions": 1, "simulated": False, "ais_class": "A"}  # fmt: skip


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def do_HEAD(self) -> None:
        self.send_response(405)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=abc"
    server.shutdown()
    server.server_close()
    thread.join(2)


@pytest.fixture
def tcp_receiver() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        conns = []
        while not stop.is_set():
            try:
                conns.append(server.accept()[0])
            except TimeoutError:
                continue
        for conn in conns:
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    server.close()


def policy() -> Policy:
    return Policy({})


def relay(port: int) -> NmeaRelaySink:
    config = OutputConfig(name="up", kind="nmea", member=PHL, host="127.0.0.1", port=port,
                          min_interval_s=0.0, backoff_s=0.0, timeout_s=2.0)  # fmt: skip
    return NmeaRelaySink(config, policy, clock=lambda: NOW)


def hook(url: str) -> WebhookSink:
    config = OutputConfig(name="ops", kind="webhook", member=PHL, url=url, secret=b"s",
                          max_attempts=3, backoff_s=0.01, max_backoff_s=0.01,
                          timeout_s=2.0)  # fmt: skip
    return WebhookSink(config, policy, clock=lambda: NOW)


def test_a_relay_to_a_closed_port_counts_each_failure_and_says_why() -> None:
    port = closed_port()
    sink, bus = relay(port), InProcessBus()
    sink.start(bus)
    try:
        for mmsi in (412_000_001, 412_000_002, 412_000_003):
            bus.publish(subjects.vessel(mmsi), vessel(mmsi))
        bus.flush(5)
        wait_for(lambda: sink.stats.failed == 3)
        [status] = Outputs([sink]).status()
    finally:
        sink.close()
        bus.close()
    assert (status["sent"], status["failed"], status["retried"], status["dropped"]) == (0, 3, 2, 0)
    assert status["last_error"].startswith(f"cannot connect to 127.0.0.1:{port}: ")
    assert status["last_success_ts"] is None and status["queue_depth"] == 0
    assert status["target"] == f"tcp://127.0.0.1:{port}" and status["counters"]["positions"] == 3


def test_a_relay_to_a_working_receiver_counts_what_it_sent_and_when(tcp_receiver: int) -> None:
    sink, bus = relay(tcp_receiver), InProcessBus()
    sink.start(bus)
    try:
        bus.publish(subjects.vessel(412_000_001), vessel(412_000_001))
        bus.flush(5)
        wait_for(lambda: sink.stats.sent == 1)
        [status] = Outputs([sink]).status()
    finally:
        sink.close()
        bus.close()
    assert (status["sent"], status["failed"], status["retried"], status["last_error"]) == (
        1, 0, 0, None
    )  # fmt: skip
    assert status["last_success_ts"] == NOW


def test_a_webhook_counts_retries_and_failures_then_deliveries(http_receiver: str) -> None:
    down = hook(f"http://127.0.0.1:{closed_port()}/hook")
    up = hook(http_receiver)
    down.start(InProcessBus())
    up.start(InProcessBus())
    try:
        down.offer("alert", {"id": "a-1"})
        up.offer("alert", {"id": "a-1"})
        wait_for(lambda: down.stats.failed == 1 and up.stats.sent == 1)
        failing, working = Outputs([down, up]).status()
    finally:
        down.close()
        up.close()
    assert (failing["sent"], failing["failed"], failing["retried"]) == (0, 1, 2)
    assert failing["last_error"].startswith("ConnectError") and failing["last_success_ts"] is None
    assert (working["sent"], working["failed"], working["retried"]) == (1, 0, 0)
    assert working["last_success_ts"] == NOW and working["last_error"] is None
    assert working["target"] == http_receiver.split("/hook")[0]  # no path, no token


def _outputs_file(tmp_path: Path, relay_port: int, hook_url: str) -> Path:
    path = tmp_path / "outputs.toml"
    path.write_text(
        f'[[outputs]]\nname = "phl-up"\nkind = "nmea"\nmember = "{PHL}"\nhost = "127.0.0.1"\n'
        f"port = {relay_port}\nmin_interval_s = 0\nbackoff_s = 0\n\n"
        f'[[outputs]]\nname = "vnm-ops"\nkind = "webhook"\nmember = "{VNM}"\n'
        f'url = "{hook_url}"\nsecret_env = "VNM_HOOK_SECRET"\n'
    )
    return path


def test_status_shows_each_caller_the_outputs_it_administers(
    tmp_path: Path, http_receiver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VNM_HOOK_SECRET", "s3cret")
    port = closed_port()
    settings = Settings(data_dir=tmp_path / "data", detectors="none", shore="none",
                        outputs_file=_outputs_file(tmp_path, port, http_receiver))  # fmt: skip
    runtime = Runtime(settings)
    runtime.start()
    try:
        assert runtime.access is not None
        auth = {}
        for member in (PHL, VNM):
            runtime.access.add_member(Member(member, member))
        for who, member, role in (("phl-admin", PHL, Role.MEMBER_ADMIN),
                                  ("phl-officer", PHL, Role.WATCH_OFFICER),
                                  ("net-admin", VNM, Role.NETWORK_ADMIN)):  # fmt: skip
            token = runtime.access.issue(subject=who, member=member, role=role, ttl_s=900).token
            auth[who] = {"Authorization": f"Bearer {token}"}
        runtime.bus.publish(subjects.vessel(412_000_001), vessel(412_000_001, PHL))
        with TestClient(create_app(runtime)) as client:

            def outputs(who: str) -> dict[str, Any]:
                body = client.get("/api/v1/status", headers=auth[who]).json()
                return {o["name"]: o for o in body["outputs"]}

            wait_for(lambda: outputs("phl-admin")["phl-up"]["failed"] == 1)
            mine, everyone = outputs("phl-admin"), outputs("net-admin")
            none = outputs("phl-officer")
    finally:
        runtime.stop()
    assert list(mine) == ["phl-up"] and sorted(everyone) == ["phl-up", "vnm-ops"] and not none
    up = mine["phl-up"]
    assert (up["kind"], up["member"], up["sent"], up["queue_depth"]) == ("nmea", PHL, 0, 0)
    assert "cannot connect" in up["last_error"] and up["last_success_at"] is None
    ops = everyone["vnm-ops"]
    assert (ops["failed"], ops["target"]) == (0, http_receiver.split("/hook")[0])


def test_doctor_names_the_output_whose_target_does_not_answer(
    tmp_path: Path, tcp_receiver: int, http_receiver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VNM_HOOK_SECRET", "s3cret")
    port = closed_port()
    path = _outputs_file(tmp_path, port, http_receiver)
    path.write_text(
        path.read_text() + f'\n[[outputs]]\nname = "pcg-tak"\nkind = "cot"\nmember = "{PHL}"\n'
        f'host = "127.0.0.1"\nport = {tcp_receiver}\n'
    )
    settings = Settings(data_dir=tmp_path / "data", detectors="none", shore="none",
                        outputs_file=path)  # fmt: skip
    checks = run_checks(settings.data_dir, settings.db_path, "127.0.0.1", 0, settings)
    found = {c.name: c for c in checks if c.name.startswith("output")}
    assert found["outputs"].status == "ok" and "3 in" in found["outputs"].detail
    down = found["output phl-up"]
    assert down.status == "warn"
    assert f"to tcp://127.0.0.1:{port}: does not answer" in down.detail
    tak, ops = found["output pcg-tak"], found["output vnm-ops"]
    assert tak.status == "ok" and "accepts a TCP connection" in tak.detail
    assert ops.status == "ok" and "answers HTTP 405" in ops.detail
    assert "s3cret" not in repr(checks) and "token=abc" not in repr(checks)
    path.write_text('[[outputs]]\nname = "x"\nkind = "pigeon"\nmember = "M"\n')
    [bad] = [c for c in run_checks(settings.data_dir, settings.db_path, "127.0.0.1", 0, settings)
             if c.name == "outputs"]  # fmt: skip
    assert bad.status == "fail" and "pigeon" in bad.detail
