"""Sinks: where Lookout sends what a member may see, in the formats partner systems speak.

:class:`~lookout.sinks.webhook.WebhookSink` posts signed JSON alerts to a member's URL;
:class:`~lookout.sinks.cot_sink.CotSink` sends Cursor-on-Target tracks and alerts to a TAK
server; :class:`~lookout.sinks.nmea_relay.NmeaRelaySink` relays released AIS upstream as
NMEA. Each output acts for one member and passes every message through that member's sharing
view. :func:`start_outputs` starts the outputs of an outputs file on a bus; the
service runtime calls it when it starts and closes them when it stops (docs/outputs.md).
:meth:`Outputs.status` gives every output's counters in one shape (``GET /api/v1/status``);
:func:`~lookout.sinks.probe.probe` tells whether an output's target answers (``lookout doctor``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from lookout.pipeline.ports import Bus
from lookout.sharing import Policy
from lookout.sinks.config import OutputConfig, OutputsFileError, read_outputs
from lookout.sinks.cot_sink import CotSink
from lookout.sinks.nmea_relay import NmeaRelaySink
from lookout.sinks.webhook import WebhookSink

__all__ = [
    "CotSink",
    "NmeaRelaySink",
    "OutputConfig",
    "OutputCounters",
    "Outputs",
    "OutputsFileError",
    "Sink",
    "WebhookSink",
    "read_outputs",
    "start_outputs",
]

log = logging.getLogger(__name__)


class OutputCounters(Protocol):
    """The counters every output keeps under the same names (besides its own)."""

    @property
    def sent(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def retried(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def last_error(self) -> str: ...
    @property
    def last_success_ts(self) -> float | None: ...


class Sink(Protocol):
    """The port every output implements: subscribe to a bus, later stop; counters."""

    config: OutputConfig

    @property
    def stats(self) -> OutputCounters: ...

    def queue_depth(self) -> int: ...

    def start(self, bus: Bus) -> None: ...

    def close(self) -> None: ...


class Outputs:
    """The running outputs of one service."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = tuple(sinks)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Each output's counters, by name."""
        return {s.config.name: dict(_fields(s.stats)) for s in self.sinks}

    def status(self) -> list[dict[str, Any]]:
        """Each output in one shape (docs/outputs.md, "Counters"): its name, kind, member and
        target, the shared counters, the queue depth now, and all its own ``counters``."""
        return [_status(s) for s in self.sinks]

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("output %s did not close cleanly", sink.config.name)


def _status(sink: Sink) -> dict[str, Any]:
    config, stats = sink.config, sink.stats
    return {
        "name": config.name, "kind": config.kind, "member": config.member,
        "target": target(config), "sent": stats.sent, "failed": stats.failed,
        "retried": stats.retried, "dropped": stats.dropped, "queue_depth": sink.queue_depth(),
        "last_error": stats.last_error or None, "last_success_ts": stats.last_success_ts,
        "counters": {k: v for k, v in _fields(stats).items() if k not in _SHOWN_APART},
    }  # fmt: skip


_SHOWN_APART = frozenset({"last_error", "last_success_ts"})


def target(config: OutputConfig) -> str:
    """Where an output sends, without secrets: ``scheme://host[:port]`` of a webhook's URL
    (no path or query, which may hold a token), ``tcp|udp://host:port`` of a stream."""
    if config.kind == "webhook":
        parts = urlsplit(config.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # no user:password@
    return f"{config.protocol}://{config.host}:{config.port}"


def _fields(stats: object) -> dict[str, Any]:
    slots = getattr(stats, "__slots__", ())
    return {name: getattr(stats, name) for name in slots}


def build_sink(config: OutputConfig, policy: Callable[[], Policy]) -> Sink:
    """The sink of one configured output."""
    if config.kind == "webhook":
        return WebhookSink(config, policy, clock=time.time)
    if config.kind == "nmea":
        return NmeaRelaySink(config, policy, clock=time.time)
    return CotSink(config, policy, clock=time.time)


def start_outputs(
    configs: Sequence[OutputConfig], bus: Bus, policy: Callable[[], Policy]
) -> Outputs:
    """Build and start every output on ``bus``; each asks ``policy()`` for the policy in force."""
    sinks = [build_sink(c, policy) for c in configs]
    for sink in sinks:
        sink.start(bus)
        log.info("output %r started", sink.config)
    return Outputs(sinks)
