"""probe: whether an output's target answers, without sending it anything it would act on.

``lookout doctor`` asks this of every configured output. A TCP target (CoT, NMEA relay) must
accept a connection, which is closed at once without a byte sent; a webhook URL must answer
an HTTP ``HEAD`` with any status (a 405 still proves the server is there). A UDP target gets
no datagram and gives no answer, so only its host name is resolved.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import httpx

from lookout.sinks.config import OutputConfig

__all__ = ["PROBE_TIMEOUT_S", "Probe", "probe"]

PROBE_TIMEOUT_S = 3.0
"""The longest a probe waits for one target (less if the output's ``timeout_s`` is less)."""


@dataclass(frozen=True, slots=True)
class Probe:
    """What a probe found: ``answers`` is ``None`` when it cannot be told (UDP)."""

    answers: bool | None
    detail: str


def probe(config: OutputConfig, timeout_s: float = PROBE_TIMEOUT_S) -> Probe:
    """Whether ``config``'s target answers now (see the module docstring)."""
    wait_s = min(timeout_s, config.timeout_s) or timeout_s
    if config.kind == "webhook":
        return _http(config.url, wait_s)
    address = (config.host, config.port)
    if config.protocol == "udp":
        try:
            socket.getaddrinfo(*address, type=socket.SOCK_DGRAM)
        except OSError as exc:
            return Probe(False, f"{config.host} does not resolve ({exc.strerror or exc})")
        return Probe(None, "UDP: the host resolves; a datagram gets no answer, so not checked")
    try:
        with socket.create_connection(address, timeout=wait_s):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return Probe(False, f"does not answer: {reason}")
    return Probe(True, "accepts a TCP connection")


def _http(url: str, wait_s: float) -> Probe:
    try:
        response = httpx.head(url, timeout=wait_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Probe(False, f"does not answer: {type(exc).__name__}: {exc}")
    return Probe(True, f"answers HTTP {response.status_code} to HEAD")
