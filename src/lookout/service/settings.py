"""Settings: every knob of a Lookout server, with units and defaults.

Read from ``LOOKOUT_*`` environment variables (``LOOKOUT_DATA_DIR``, ``LOOKOUT_BATCH_MAX_LINES``
...) and overridden by CLI flags. Secrets are given by reference (``*_FILE`` paths or env vars)
and never printed: ``repr`` masks them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SourceConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceConfig:
    """One configured source of a member.

    ``kind``: ``push`` (HTTP push endpoint, authenticated by ``key``), ``udp`` (listen),
    ``tcp-server`` (listen), ``tcp-client`` (connect to ``host:port``), ``file`` (read ``path``).
    """

    name: str
    member: str
    kind: str = "push"
    key: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 0
    path: str | None = None
    receiver: str | None = None
    simulated: bool = False
    speed: float | None = None
    max_gap_s: float | None = None

    def __repr__(self) -> str:
        shown = "***" if self.key else None
        return (
            f"SourceConfig(name={self.name!r}, member={self.member!r}, kind={self.kind!r}, "
            f"host={self.host!r}, port={self.port}, key={shown}, simulated={self.simulated}, "
            f"path={self.path!r}, speed={self.speed})"
        )


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LOOKOUT_{name}", default)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Server settings. Each field is documented in docs/configuration.md (a test checks)."""

    data_dir: Path = Path("./var/lookout")
    """Where the SQLite database lives (``lookout.db``). Env ``LOOKOUT_DATA_DIR``."""
    host: str = "127.0.0.1"
    """HTTP listen address. Env ``LOOKOUT_HOST``."""
    port: int = 8000
    """HTTP listen port. Env ``LOOKOUT_PORT``."""
    batch_max_lines: int = 2000
    """A micro-batch closes at this many lines. Env ``LOOKOUT_BATCH_MAX_LINES``."""
    batch_max_wait_ms: float = 50.0
    """... or this many milliseconds after its first line. Env ``LOOKOUT_BATCH_MAX_WAIT_MS``."""
    retention_days: float | None = None
    """Track points older than this (data time) are pruned; none = keep all.
    Env ``LOOKOUT_RETENTION_DAYS``."""
    sqlite_synchronous: str = "FULL"
    """SQLite ``synchronous`` pragma: FULL survives power loss, NORMAL only process crashes.
    Env ``LOOKOUT_SQLITE_SYNCHRONOUS``."""
    api_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    """Bearer token -> actor name for API reads. Env ``LOOKOUT_API_TOKENS_FILE`` (JSON)."""
    sources: tuple[SourceConfig, ...] = ()
    """Configured sources (see SourceConfig). Env ``LOOKOUT_SOURCES_FILE`` (JSON list)."""
    max_body_bytes: int = 8 * 1024 * 1024
    """Largest accepted HTTP push body, bytes. Env ``LOOKOUT_MAX_BODY_BYTES``."""
    detectors: str = "all"
    """Detectors that run live: ``all``, ``none`` or a comma-separated list of kinds.
    Env ``LOOKOUT_DETECTORS``."""
    detector_config: Path | None = None
    """TOML file of detector thresholds (docs/detectors.md). Env ``LOOKOUT_DETECTOR_CONFIG``."""
    zones: tuple[Path, ...] = ()
    """Zone files to watch (GeoJSON, GeoPackage, Shapefile, KML). Env ``LOOKOUT_ZONES``
    (paths separated by ``:``)."""
    region: str | None = None
    """A bundled region pack whose zones are watched too (``scs``); none by default.
    Env ``LOOKOUT_REGION``."""
    shore: str = "landmask"
    """Where distances to shore come from: ``landmask`` (the 1 km global land mask) or
    ``none`` (rules that need the shore do not apply). Env ``LOOKOUT_SHORE``."""
    ports_file: Path | None = None
    """More ports and anchorages (CSV with latitude/longitude columns, or GeoJSON points) on top
    of the installed set (searoute's ports). Env ``LOOKOUT_PORTS_FILE``."""

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lookout.db"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)

    @classmethod
    def from_env(cls) -> Settings:
        import json

        tokens: dict[str, str] = {}
        tokens_file = os.environ.get("LOOKOUT_API_TOKENS_FILE")
        if tokens_file:
            tokens = json.loads(Path(tokens_file).read_text())
        sources: tuple[SourceConfig, ...] = ()
        sources_file = os.environ.get("LOOKOUT_SOURCES_FILE")
        if sources_file:
            sources = tuple(SourceConfig(**s) for s in json.loads(Path(sources_file).read_text()))
        retention = os.environ.get("LOOKOUT_RETENTION_DAYS")
        return cls(
            data_dir=Path(_env("DATA_DIR", "./var/lookout")),
            host=_env("HOST", "127.0.0.1"),
            port=int(_env("PORT", "8000")),
            batch_max_lines=int(_env("BATCH_MAX_LINES", "2000")),
            batch_max_wait_ms=float(_env("BATCH_MAX_WAIT_MS", "50")),
            retention_days=float(retention) if retention else None,
            sqlite_synchronous=_env("SQLITE_SYNCHRONOUS", "FULL").upper(),
            api_tokens=tokens,
            sources=sources,
            max_body_bytes=int(_env("MAX_BODY_BYTES", str(8 * 1024 * 1024))),
            detectors=_env("DETECTORS", "all"),
            detector_config=Path(config) if (config := _env("DETECTOR_CONFIG", "")) else None,
            zones=tuple(Path(p) for p in _env("ZONES", "").split(os.pathsep) if p),
            region=_env("REGION", "") or None,
            shore=_env("SHORE", "landmask"),
            ports_file=Path(ports) if (ports := _env("PORTS_FILE", "")) else None,
        )

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'***' if f.name == 'api_tokens' else getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"Settings({shown})"
