"""Where ``lookout replay`` sends lines: HTTP push (acknowledged, idempotent), TCP or UDP."""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from lookout.cli.common import ReceiptTotals
from lookout.model import IngestReceipt

__all__ = [
    "HttpSender",
    "SendError",
    "Sender",
    "SenderStats",
    "TcpSender",
    "UdpSender",
    "open_sender",
]

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 8
INGEST_PATH = "/api/v1/ingest/nmea"


class SendError(RuntimeError):
    """Lines could not be delivered (after retries, where the transport allows them)."""


@dataclass(slots=True)
class SenderStats:
    """What was sent; the receipt totals are filled only by HTTP push."""

    lines: int = 0
    batches: int = 0
    retries: int = 0
    acknowledged: bool = False
    receipts: ReceiptTotals = field(default_factory=ReceiptTotals)


class Sender(Protocol):
    stats: SenderStats

    def send(self, lines: list[str]) -> None: ...

    def close(self) -> None: ...


class HttpSender:
    """POSTs each batch with its own ``Idempotency-Key``; retries the same key on failure."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        backoff_s: float = 0.25,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "text/plain"},
            timeout=httpx.Timeout(60.0, connect=5.0),
            transport=transport,
        )
        self._run = uuid.uuid4().hex[:12]
        self._backoff_s = backoff_s
        self.stats = SenderStats(acknowledged=True)

    def send(self, lines: list[str]) -> None:
        body = ("\n".join(lines) + "\n").encode()
        key = f"replay-{self._run}-{self.stats.batches}"
        receipt = self._post(body, key)
        self.stats.batches += 1
        self.stats.lines += len(lines)
        self.stats.receipts.add(IngestReceipt(**receipt))

    def _post(self, body: bytes, key: str) -> dict[str, Any]:
        problem = ""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.stats.retries += 1
                time.sleep(self._backoff_s * 2 ** min(attempt - 1, 5))
            try:
                response = self._client.post(
                    INGEST_PATH, content=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code == 200:
                result: dict[str, Any] = response.json()
                return result
            problem = f"HTTP {response.status_code}: {_detail(response)}"
            if response.status_code not in RETRY_STATUS:
                raise SendError(problem)
        raise SendError(f"gave up after {MAX_ATTEMPTS} attempts: {problem}")

    def close(self) -> None:
        self._client.close()


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]


class TcpSender:
    """Lines over one TCP connection, CRLF-terminated (as receivers and feeds send them)."""

    def __init__(self, host: str, port: int) -> None:
        try:
            self._sock = socket.create_connection((host, port), timeout=10)
        except OSError as exc:
            raise SendError(f"cannot connect to tcp://{host}:{port}: {exc}") from exc
        self.stats = SenderStats()

    def send(self, lines: list[str]) -> None:
        try:
            self._sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
        except OSError as exc:
            raise SendError(f"tcp send failed: {exc}") from exc
        self.stats.batches += 1
        self.stats.lines += len(lines)

    def close(self) -> None:
        self._sock.close()


class UdpSender:
    """One datagram per line (the usual AIS-over-UDP convention)."""

    def __init__(self, host: str, port: int) -> None:
        self._addr = (host, port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.stats = SenderStats()

    def send(self, lines: list[str]) -> None:
        for line in lines:
            try:
                self._sock.sendto(f"{line}\r\n".encode(), self._addr)
            except OSError as exc:
                raise SendError(f"udp send to {self._addr} failed: {exc}") from exc
        self.stats.batches += 1
        self.stats.lines += len(lines)

    def close(self) -> None:
        self._sock.close()


def open_sender(target: str, key: str | None) -> Sender:
    """A sender for ``http(s)://host:port``, ``tcp://host:port`` or ``udp://host:port``;
    ``ValueError`` with a clear message for anything else."""
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        if not key:
            raise ValueError("HTTP push needs the source's ingest key: --key KEY")
        return HttpSender(target, key)
    if parts.scheme in ("tcp", "udp"):
        if not parts.hostname or not parts.port:
            raise ValueError(f"expected {parts.scheme}://host:port, got {target!r}")
        if parts.scheme == "tcp":
            return TcpSender(parts.hostname, parts.port)
        return UdpSender(parts.hostname, parts.port)
    raise ValueError(f"--to must start with http://, https://, tcp:// or udp://, got {target!r}")
