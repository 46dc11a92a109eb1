"""Building source adapters from their configuration (``SourceConfig.kind``)."""

from __future__ import annotations

from typing import Any

from lookout.service.settings import SourceConfig
from lookout.sources.files import FileSource
from lookout.sources.network import TcpClientSource, TcpServerSource, UdpSource

__all__ = ["KINDS", "build_source"]

KINDS = ("push", "udp", "tcp-server", "tcp-client", "file")
"""Source kinds; ``push`` sources have no adapter (they arrive through the HTTP API)."""


def build_source(cfg: SourceConfig) -> Any:
    """The adapter for ``cfg``; listeners are returned unbound (call ``bind()``)."""
    if cfg.kind == "udp":
        return UdpSource(
            name=cfg.name, member=cfg.member, host=cfg.host, port=cfg.port, receiver=cfg.receiver
        )
    if cfg.kind == "tcp-server":
        return TcpServerSource(
            name=cfg.name, member=cfg.member, host=cfg.host, port=cfg.port, receiver=cfg.receiver
        )
    if cfg.kind == "tcp-client":
        return TcpClientSource(
            name=cfg.name, member=cfg.member, host=cfg.host, port=cfg.port, receiver=cfg.receiver
        )
    if cfg.kind == "file":
        if not cfg.path:
            raise ValueError(f"source {cfg.member}/{cfg.name}: kind 'file' needs a path")
        return FileSource(
            cfg.path, member=cfg.member, name=cfg.name, speed=cfg.speed, max_gap_s=cfg.max_gap_s
        )
    raise ValueError(
        f"source {cfg.member}/{cfg.name}: unknown kind {cfg.kind!r}; one of {', '.join(KINDS)}"
    )
