"""``lookout doctor``: versions, backends and whether they are reachable, for bug reports."""

from __future__ import annotations

import platform
import socket
import sqlite3
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

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
from lookout.service.settings import Settings

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
        Check("store backend", "ok", "sqlite (embedded)"),
        Check("bus backend", "ok", "in-process"),
        _sqlite(),
        _data_dir(data_dir),
        _database(db_path),
        _port(host, port),
    ]
    if settings is not None:
        checks += _detection(settings)
    return checks


STYLE = {"ok": "green", "off": "dim", "warn": "yellow", "fail": "bold red"}


def doctor(data_dir: DataDirOpt = None, host: HostOpt = None, port: PortOpt = None) -> None:
    """Print versions and check the store and port; exit 1 if something is broken.

    Checks: package versions, SQLite with R*Tree, the data dir (created and written), the
    store (opens read-only), the HTTP port (a busy port is only a warning: a server may
    already run there), the region packs built, and the detector suite the settings describe
    (zones, ports, shore: a file that does not load fails).
    """
    settings = load_settings(data_dir=data_dir, host=host, port=port)
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
