"""Sinks: where Lookout sends what a member may see, in the formats partner systems speak.

:class:`~lookout.sinks.webhook.WebhookSink` posts signed JSON alerts to a member's URL;
:class:`~lookout.sinks.cot_sink.CotSink` sends Cursor-on-Target tracks and alerts to a TAK
server; :class:`~lookout.sinks.nmea_relay.NmeaRelaySink` relays released AIS upstream as
NMEA. Each output acts for one member and passes every message through that member's sharing
view. :func:`start_outputs` starts the outputs of an outputs file on a bus; the
service runtime calls it when it starts and closes them when it stops (docs/outputs.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

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
    "Outputs",
    "OutputsFileError",
    "Sink",
    "WebhookSink",
    "read_outputs",
    "start_outputs",
]

log = logging.getLogger(__name__)


class Sink(Protocol):
    """The port every output implements: subscribe to a bus, later stop."""

    config: OutputConfig

    def start(self, bus: Bus) -> None: ...

    def close(self) -> None: ...


class Outputs:
    """The running outputs of one service."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = tuple(sinks)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Each output's counters, by name."""
        return {s.config.name: dict(_fields(getattr(s, "stats", None))) for s in self.sinks}

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("output %s did not close cleanly", sink.config.name)


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
