"""``lookout doctor``: versions, backends and whether they are reachable, for bug reports."""

from __future__ import annotations

import platform
import socket
import sqlite3
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

import lookout
from lookout.cli.common import (
    DataDirOpt,
    HostOpt,
    PortOpt,
    data_dir_problem,
    load_settings,
    out_console,
)
from lookout.service.settings import Settings, masked_url

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["Check", "doctor", "run_checks"]

PACKAGES = ("pyais", "fastapi", "uvicorn", "numpy", "shapely", "pyproj", "h3", "typer", "rich")
OPTIONAL = {"psycopg": "postgres", "nats-py": "nats"}


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report. ``status``: ``ok``, ``off`` (optional, absent), ``warn`` (works,
    worth knowing) or ``fail`` (broken: doctor exits 1)."""

    name: str
    status: str
    detail: str


def _version(package: str) -> Check:
    try:
        return Check(package, "ok", metadata.version(package))
    except metadata.PackageNotFoundError:
        return Check(package, "fail", "not installed")


def _optional(package: str, extra: str) -> Check:
    try:
        return Check(package, "ok", metadata.version(package))
    except metadata.PackageNotFoundError:
        return Check(package, "off", f"not installed (optional: pip install 'lookout[{extra}]')")


def _sqlite() -> Check:
    version = sqlite3.sqlite_version
    try:
        con = sqlite3.connect(":memory:")
        try:
            con.execute("CREATE VIRTUAL TABLE t USING rtree(id, x0, x1, y0, y1)")
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Check("sqlite3", "fail", f"{version}, no R*Tree: {exc}")
    return Check("sqlite3", "ok", f"{version}, R*Tree available")


def _data_dir(data_dir: Path) -> Check:
    problem = data_dir_problem(data_dir)
    if problem:
        return Check("data dir", "fail", problem)
    return Check("data dir", "ok", f"{data_dir.resolve()} writable")


def _database(db_path: Path) -> Check:
    if not db_path.exists():
        return Check("sqlite store", "ok", f"{db_path} (not created yet)")
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Check("sqlite store", "fail", f"{db_path}: {exc}")
    return Check("sqlite store", "ok", f"{db_path} opens ({tables} objects, journal {mode})")


def _store(settings: Settings | None) -> list[Check]:
    """The configured store; for PostGIS, whether it answers (see :func:`_postgis`)."""
    if settings is None or settings.store == "sqlite":
        return [Check("store backend", "ok", "sqlite (embedded)")]
    if settings.store != "postgis":
        return [Check("store backend", "fail", f"unknown store {settings.store!r}")]
    return [Check("store backend", "ok", "postgis"), _postgis(settings.database_url)]


def _postgis(url: str | None) -> Check:
    """Reachability, server and PostGIS versions and the migration level of the database."""
    if not url:
        return Check("postgis store", "fail", "store = postgis needs LOOKOUT_DATABASE_URL")
    try:
        import psycopg

        from lookout.storage import postgis_sql
    except ImportError:
        return Check("postgis store", "fail", "psycopg missing: pip install 'lookout[postgres]'")
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            return _postgis_state(conn, len(postgis_sql.pg_migrations()))
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check("postgis store", "fail", f"{masked_url(url)}: {detail}")


def _postgis_state(conn: Connection[Any], newest: int) -> Check:
    from lookout.storage import postgis_sql

    server = conn.info.parameter_status("server_version") or str(conn.info.server_version)
    where = f"{conn.info.user}@{conn.info.host}:{conn.info.port}/{conn.info.dbname}"
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if row is None:
        found = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
        if found is None:
            return Check("postgis store", "fail", f"{where}: PostgreSQL {server}, no PostGIS")
        postgis = f"PostGIS {found[0]} available, created at first start"
    else:
        postgis = f"PostGIS {row[0]}"
    version = postgis_sql.schema_version(conn)
    detail = f"{where}: PostgreSQL {server}, {postgis}, schema {version} of {newest}"
    if version > newest:
        return Check("postgis store", "fail", detail + " (written by a newer Lookout)")
    if version < newest:
        return Check("postgis store", "warn", detail + " (migrated at next start)")
    return Check("postgis store", "ok", detail)


def _bus(settings: Settings | None) -> list[Check]:
    """The configured bus; for NATS, whether the server answers and has JetStream."""
    if settings is None or settings.bus == "inprocess":
        return [Check("bus backend", "ok", "in-process")]
    if settings.bus != "nats":
        return [Check("bus backend", "fail", f"unknown bus {settings.bus!r}")]
    return [Check("bus backend", "ok", "nats jetstream"), _nats(settings)]


def _nats(settings: Settings) -> Check:
    """Reachability, server version, JetStream and which of the deployment's streams exist."""
    try:
        from lookout.bus.nats import NatsBusError, probe
    except ImportError:
        return Check("nats", "fail", "nats-py missing: pip install 'lookout[nats]'")
    try:
        found = probe(settings.nats_url, settings.nats_stream_prefix)
    except (NatsBusError, ValueError) as exc:
        return Check("nats", "fail", str(exc))
    streams = ", ".join(found.streams) or "none yet (created at first start)"
    detail = f"server {found.server_version}, JetStream on; streams: {streams}"
    return Check("nats", "ok", detail + "; durability needs sync_interval: always (docs/nats.md)")


def _role(settings: Settings | None) -> list[Check]:
    """The ``lookout serve`` role the settings name and whether its backends fit it."""
    if settings is None:
        return []
    from lookout.service.roles import NEEDS, role_problem

    problem = role_problem(settings)
    if problem is not None:
        return [Check("role", "fail", problem)]
    return [Check("role", "ok", f"{settings.role}: needs {NEEDS[settings.role]}")]


def _outputs(settings: Settings | None) -> list[Check]:
    """Every output of ``outputs_file`` and whether its target answers (docs/outputs.md)."""
    if settings is None or settings.outputs_file is None:
        return []
    from lookout.sinks import OutputsFileError, read_outputs, target
    from lookout.sinks.probe import probe

    try:
        outputs = read_outputs(settings.outputs_file)
    except OutputsFileError as exc:
        return [Check("outputs", "fail", str(exc))]
    checks = [Check("outputs", "ok", f"{len(outputs)} in {settings.outputs_file}")]
    for config in outputs:
        found = probe(config)
        where = f"{config.kind} for {config.member} to {target(config)}: {found.detail}"
        if found.answers is False:
            where += " (lookout serve still starts; what it cannot send is counted as failed)"
        status = "warn" if found.answers is False else "ok"
        checks.append(Check(f"output {config.name}", status, where))
    return checks


def _port(host: str, port: int) -> Check:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            detail = f"{host}:{port} in use or not bindable ({exc.strerror or exc})"
            return Check("http port", "warn", detail + "; a server may already run there")
    return Check("http port", "ok", f"{host}:{port} free")


def _detection(settings: Settings) -> list[Check]:
    """The detector suite the server would build, and the region packs that are built."""
    from lookout.service.detect_setup import SetupError, setup_from_settings
    from lookout.sources.region_pack import available_packs

    packs = available_packs()
    checks = [
        Check("region packs", "ok", ", ".join(packs))
        if packs
        else Check("region packs", "warn", "none built (make regions builds scs)")
    ]
    try:
        setup = setup_from_settings(settings)
    except (SetupError, ValueError, OSError) as exc:
        return [*checks, Check("detectors", "fail", str(exc))]
    kinds = setup.enabled()
    ports = getattr(setup.near_port, "__self__", None)
    detail = (
        f"{len(kinds)} on ({', '.join(kinds) or 'none'}); {len(setup.zones)} zones; "
        f"{len(ports) if ports is not None else 0} ports and anchorages; "
        f"shore: {'1 km land mask' if setup.shore is not None else 'none'}"
    )
    return [*checks, Check("detectors", "ok", detail)]


def run_checks(
    data_dir: Path, db_path: Path, host: str, port: int, settings: Settings | None = None
) -> list[Check]:
    """Every check, in report order (the detector suite too when ``settings`` are given)."""
    checks = [
        Check("python", "ok", platform.python_version()),
        Check("platform", "ok", platform.platform()),
        Check("lookout", "ok", lookout.__version__),
    ]
    checks += [_version(p) for p in PACKAGES]
    checks += [_optional(p, extra) for p, extra in OPTIONAL.items()]
    checks += [
        *_store(settings),
        *_bus(settings),
        *_role(settings),
        *_outputs(settings),
        _sqlite(),
        _data_dir(data_dir),
        _database(db_path),
        _port(host, port),
    ]
    if settings is not None:
        checks += _detection(settings)
    return checks


STYLE = {"ok": "green", "off": "dim", "warn": "yellow", "fail": "bold red"}


def doctor(
    data_dir: DataDirOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role", metavar="ROLE", help="Check for this serve role: all, ingest, process, api."
        ),
    ] = None,
) -> None:
    """Print versions and check the store and port; exit 1 if something is broken.

    Checks: package versions, SQLite with R*Tree, the data dir (created and written), the
    store (opens read-only; with ``store = postgis``: the server answers, its PostgreSQL and
    PostGIS versions, the schema's migration level), the bus (with ``bus = nats``: the server
    answers, has JetStream, which streams exist), the HTTP port (a busy port is only a
    warning: a server may already run there), the region packs built, and the detector suite
    the settings describe (zones, ports, shore: a file that does not load fails), and whether
    the settings fit the serve role (`--role` or `LOOKOUT_ROLE`: ingest needs bus = nats,
    process and api also store = postgis), and each output of the outputs file: a TCP or
    webhook target that does not answer is a warning (UDP targets are only resolved).
    """
    settings = load_settings(data_dir=data_dir, host=host, port=port)
    settings = settings.with_overrides(role=role.lower() if role else None)
    checks = run_checks(settings.data_dir, settings.db_path, settings.host, settings.port, settings)
    table = Table(title="lookout doctor")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for check in checks:
        table.add_row(check.name, f"[{STYLE[check.status]}]{check.status}[/]", check.detail)
    out_console.print(table)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)
