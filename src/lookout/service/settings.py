"""Settings: every knob of a Lookout server, with units and defaults.

Read from ``LOOKOUT_*`` environment variables (``LOOKOUT_DATA_DIR``, ``LOOKOUT_BATCH_MAX_LINES``
...) and overridden by CLI flags. Secrets are given by reference (``*_FILE`` paths or env vars)
and never printed: ``repr`` masks them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PROCESS_PARTITIONS", "Settings", "SourceConfig", "masked_url"]

DEFAULT_PROCESS_PARTITIONS = 8
"""Vessel partitions of a scale-out deployment unless set: room for up to eight process
nodes; each partition costs its own raw messages (docs/deployment.md, "Limits")."""


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
    release: str = "owner"

    def __repr__(self) -> str:
        shown = "***" if self.key else None
        return (
            f"SourceConfig(name={self.name!r}, member={self.member!r}, kind={self.kind!r}, "
            f"host={self.host!r}, port={self.port}, key={shown}, simulated={self.simulated}, "
            f"path={self.path!r}, speed={self.speed}, release={self.release!r})"
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
    store: str = "sqlite"
    """Where the fused picture is kept: ``sqlite`` (``lookout.db`` in the data dir) or
    ``postgis`` (PostgreSQL + PostGIS at ``database_url``). Env ``LOOKOUT_STORE``."""
    database_url: str | None = field(default=None, repr=False)
    """libpq connection string of the PostGIS store (``postgresql://lookout@db:5432/lookout``).
    Env ``LOOKOUT_DATABASE_URL``, or ``LOOKOUT_DATABASE_URL_FILE`` naming a file that holds it.
    Give the password by ``PGPASSWORD``, ``~/.pgpass`` or that file; it is never printed."""
    bus: str = "inprocess"
    """How messages travel between ingest, processing and API: ``inprocess`` (one process)
    or ``nats`` (NATS JetStream at ``nats_url``, docs/nats.md). Env ``LOOKOUT_BUS``."""
    nats_url: str = "nats://127.0.0.1:4222"
    """NATS server(s) of the ``nats`` bus; a password in it is never printed.
    Env ``LOOKOUT_NATS_URL``."""
    nats_stream_prefix: str = ""
    """Names this deployment's streams and subject root on the NATS server (empty: streams
    ``LOOKOUT_*``, subjects as they are). Env ``LOOKOUT_NATS_STREAM_PREFIX``."""
    nats_replicas: int = 1
    """Replicas of each stream the ``nats`` bus creates (3 on a three-node cluster).
    Env ``LOOKOUT_NATS_REPLICAS``."""
    role: str = "all"
    """What ``lookout serve`` runs: ``all`` (everything in one process), ``ingest``, ``process``
    or ``api`` (docs/deployment.md). Env ``LOOKOUT_ROLE``; ``--role`` overrides it."""
    process_ack_wait_s: float = 30.0
    """How long a process node may hold a raw batch before JetStream gives it to another
    (after a crash), seconds. Env ``LOOKOUT_PROCESS_ACK_WAIT_S``."""
    process_partitions: int = DEFAULT_PROCESS_PARTITIONS
    """Vessel partitions of the scale-out roles (a hash of the MMSI); every ingest and process
    node of a deployment must use the same number. Env ``LOOKOUT_PROCESS_PARTITIONS``."""
    process_lease_ttl_s: float = 10.0
    """How long a process node's membership and partition leases last unless renewed
    (renewed every third of it); a dead node's partitions move after at most this, seconds.
    Env ``LOOKOUT_PROCESS_LEASE_TTL_S``."""
    process_node_id: str = ""
    """This process node's name in the membership (empty: ``<host>-<pid>``).
    Env ``LOOKOUT_PROCESS_NODE_ID``."""
    api_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    """Bearer token -> actor name for API reads. Env ``LOOKOUT_API_TOKENS_FILE`` (JSON)."""
    api_tokens_member: str = "LOCAL"
    """The member static API tokens act for (role ``viewer``). Env ``LOOKOUT_API_TOKENS_MEMBER``."""
    token_ttl_s: float = 900.0
    """Lifetime of an access token from ``POST /api/v1/auth/login``, seconds.
    Env ``LOOKOUT_TOKEN_TTL_S``."""
    sources: tuple[SourceConfig, ...] = ()
    """Configured sources (see SourceConfig). Env ``LOOKOUT_SOURCES_FILE`` (JSON list)."""
    max_body_bytes: int = 8 * 1024 * 1024
    """Largest accepted HTTP push body, bytes. Env ``LOOKOUT_MAX_BODY_BYTES``."""
    max_request_body_bytes: int = 1024 * 1024
    """Largest body of any other HTTP request (JSON routes), bytes.
    Env ``LOOKOUT_MAX_REQUEST_BODY_BYTES``."""
    max_json_depth: int = 32
    """Deepest nesting of arrays/objects accepted in a JSON body. Env ``LOOKOUT_MAX_JSON_DEPTH``."""
    max_geometry_vertices: int = 10_000
    """Most vertices accepted in one GeoJSON geometry of a request.
    Env ``LOOKOUT_MAX_GEOMETRY_VERTICES``."""
    rate_requests_per_s: float = 50.0
    """API requests per second per member (token bucket; 0 = unlimited).
    Env ``LOOKOUT_RATE_REQUESTS_PER_S``."""
    rate_requests_burst: int = 200
    """... up to this many at once. Env ``LOOKOUT_RATE_REQUESTS_BURST``."""
    push_lines_per_s: float = 50_000.0
    """Pushed lines per second per member (token bucket; 0 = unlimited).
    Env ``LOOKOUT_PUSH_LINES_PER_S``."""
    push_lines_burst: int = 200_000
    """... up to this many at once. Env ``LOOKOUT_PUSH_LINES_BURST``."""
    detectors: str = "all"
    """Detectors that run live: ``all``, ``none`` or a comma-separated list of kinds.
    Env ``LOOKOUT_DETECTORS``."""
    detection_process: bool = True
    """Run the detectors in a child process beside the ingest thread (a second core), as
    ``lookout serve`` does by default; ``false`` runs them on the ingest thread. Env
    ``LOOKOUT_DETECTION_PROCESS`` (``1``/``0``, ``true``/``false``)."""
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
    sharing_file: Path | None = None
    """The network's sharing agreement (TOML: communities of interest, mutual alerting, per-
    source delays and precision; docs/sharing.md). None: each source's own release only.
    Env ``LOOKOUT_SHARING_FILE``."""
    outputs_file: Path | None = None
    """Outputs partner systems receive (TOML: webhooks and Cursor-on-Target feeds, each acting
    for one member; docs/outputs.md). None: no outputs. Env ``LOOKOUT_OUTPUTS_FILE``."""
    max_attachment_bytes: int = 25 * 1024 * 1024
    """Largest file attached to an incident, bytes (413 beyond it).
    Env ``LOOKOUT_MAX_ATTACHMENT_BYTES``."""
    assist_speed_kn: float = 15.0
    """Speed assumed for a member asset with no registered speed and not under way, knots
    (ETAs of ``GET /api/v1/incidents/{id}/assets``). Env ``LOOKOUT_ASSIST_SPEED_KN``."""
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
            store=_env("STORE", "sqlite").lower(),
            database_url=_database_url(),
            bus=_env("BUS", "inprocess").lower(),
            nats_url=_env("NATS_URL", "nats://127.0.0.1:4222"),
            nats_stream_prefix=_env("NATS_STREAM_PREFIX", ""),
            nats_replicas=int(_env("NATS_REPLICAS", "1")),
            role=_env("ROLE", "all").lower(),
            process_ack_wait_s=float(_env("PROCESS_ACK_WAIT_S", "30")),
            process_partitions=int(_env("PROCESS_PARTITIONS", str(DEFAULT_PROCESS_PARTITIONS))),
            process_lease_ttl_s=float(_env("PROCESS_LEASE_TTL_S", "10")),
            process_node_id=_env("PROCESS_NODE_ID", ""),
            api_tokens=tokens,
            api_tokens_member=_env("API_TOKENS_MEMBER", "LOCAL"),
            token_ttl_s=float(_env("TOKEN_TTL_S", "900")),
            sources=sources,
            max_body_bytes=int(_env("MAX_BODY_BYTES", str(8 * 1024 * 1024))),
            max_request_body_bytes=int(_env("MAX_REQUEST_BODY_BYTES", str(1024 * 1024))),
            max_json_depth=int(_env("MAX_JSON_DEPTH", "32")),
            max_geometry_vertices=int(_env("MAX_GEOMETRY_VERTICES", "10000")),
            rate_requests_per_s=float(_env("RATE_REQUESTS_PER_S", "50")),
            rate_requests_burst=int(_env("RATE_REQUESTS_BURST", "200")),
            push_lines_per_s=float(_env("PUSH_LINES_PER_S", "50000")),
            push_lines_burst=int(_env("PUSH_LINES_BURST", "200000")),
            detectors=_env("DETECTORS", "all"),
            detection_process=_flag(_env("DETECTION_PROCESS", "true"), "DETECTION_PROCESS"),
            detector_config=Path(config) if (config := _env("DETECTOR_CONFIG", "")) else None,
            zones=tuple(Path(p) for p in _env("ZONES", "").split(os.pathsep) if p),
            region=_env("REGION", "") or None,
            shore=_env("SHORE", "landmask"),
            ports_file=Path(ports) if (ports := _env("PORTS_FILE", "")) else None,
            sharing_file=Path(f) if (f := _env("SHARING_FILE", "")) else None,
            max_attachment_bytes=int(_env("MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024))),
            assist_speed_kn=float(_env("ASSIST_SPEED_KN", "15")),
            outputs_file=Path(o) if (o := _env("OUTPUTS_FILE", "")) else None,
        )

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={self._shown(f.name)}" for f in fields(self))
        return f"Settings({shown})"

    def _shown(self, name: str) -> str:
        if name == "api_tokens":
            return "***"
        if name == "database_url":
            return repr(masked_url(self.database_url))
        if name == "nats_url":  # user:password@ or a bare token@: all of it is secret
            return repr(re.sub(r"://[^/@]*@", "://***@", self.nats_url))
        return repr(getattr(self, name))


def _database_url() -> str | None:
    """``LOOKOUT_DATABASE_URL``, else the contents of ``LOOKOUT_DATABASE_URL_FILE``."""
    url = os.environ.get("LOOKOUT_DATABASE_URL")
    path = os.environ.get("LOOKOUT_DATABASE_URL_FILE")
    if not url and path:
        url = Path(path).read_text(encoding="utf-8").strip()
    return url or None


def masked_url(url: str | None) -> str | None:
    """A connection string with its password (URI ``user:password@`` or ``password=``)
    shown as ``***``."""
    if url is None:
        return None
    url = re.sub(r"(://[^:/@?#]*:)[^/?#]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", r"\1***", url, flags=re.I)


def _flag(value: str, name: str) -> bool:
    """A yes/no setting: ``1``, ``true``, ``yes``, ``on`` or ``0``, ``false``, ``no``, ``off``."""
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"LOOKOUT_{name} must be true or false, not {value!r}")
