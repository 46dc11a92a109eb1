"""Test helper: ``lookout serve`` as a subprocess on an ephemeral port (used by e2e tests)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

LOOKOUT = [sys.executable, "-m", "lookout.cli.main"]
_PORT = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def write_config(
    folder: Path, *, sources: list[dict[str, object]], tokens: dict[str, str]
) -> tuple[Path, Path]:
    """A sources file and a tokens file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    sources_file = folder / "sources.json"
    tokens_file = folder / "tokens.json"
    sources_file.write_text(json.dumps(sources))
    tokens_file.write_text(json.dumps(tokens))
    return sources_file, tokens_file


class ServeProcess:
    """Starts ``lookout serve --port 0``, learns the port from uvicorn's log line."""

    def __init__(
        self,
        data_dir: Path,
        sources_file: Path,
        tokens_file: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.extra_env = env or {}
        self.args = [
            *LOOKOUT,
            "serve",
            "--data-dir",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--sources-file",
            str(sources_file),
            "--tokens-file",
            str(tokens_file),
            "--log-level",
            "info",
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.log: list[str] = []

    def start(self, timeout_s: float = 30.0) -> str:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.proc = subprocess.Popen(
            self.args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
        )
        found = threading.Event()
        threading.Thread(target=self._pump, args=(found,), daemon=True).start()
        if not found.wait(timeout_s):
            self.kill()
            raise AssertionError("lookout serve did not start:\n" + "".join(self.log))
        return self.url

    def _pump(self, found: threading.Event) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            match = _PORT.search(line)
            if match and not found.is_set():
                self.url = f"http://127.0.0.1:{match.group(1)}"
                found.set()

    def wait_healthy(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("lookout serve is not healthy")

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def kill(self) -> None:
        """SIGKILL: no chance to drain or close anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
