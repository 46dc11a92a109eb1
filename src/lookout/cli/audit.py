"""``lookout audit``: read and verify the audit log of a data dir.

``lookout audit verify`` checks the hash chain and the head (exit 0 when intact, 1 naming
every altered, removed or reordered record); ``lookout audit list`` prints the newest records.
Both read the log (``<data_dir>/audit.db``, or with the PostGIS store the shared ``audit``
table of its database) without changing it, also while servers run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from lookout.cli.common import DataDirOpt, fail, load_settings, out_console
from lookout.service.access import shared_database
from lookout.storage.audit import AUDIT_FILE, AuditLog, verify, verify_database

__all__ = ["app"]

app = typer.Typer(
    name="audit",
    help="The audit log: verify its hash chain, list its records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _where(data_dir: DataDirOpt) -> tuple[Path, str | None]:
    """The data dir's log file, and the shared database when the settings say postgis."""
    settings = load_settings(data_dir=data_dir)
    return settings.data_dir / AUDIT_FILE, shared_database(settings)


@app.command("verify")
def verify_command(data_dir: DataDirOpt = None) -> None:
    """Check the audit log's hash chain and head; exit 1 naming every record that was
    altered, removed or moved."""
    path, shared = _where(data_dir)
    result = verify(path) if shared is None else verify_database(shared)
    name = str(path) if shared is None else "audit log (database)"
    if result.intact:
        out_console.print(
            f"{name}: {result.records} records, chain intact "
            f"(last {result.last_seq}, {result.last_hash[:16]}...)",
            soft_wrap=True,
        )
        return
    for problem in result.problems:
        out_console.print(f"{name}: {problem}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command("list")
def list_command(
    data_dir: DataDirOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest records shown.")] = 50,
    json_: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the newest records of the audit log, oldest of them first."""
    path, shared = _where(data_dir)
    if shared is None and not path.is_file():
        fail(f"no audit log at {path}")
    log = AuditLog(path) if shared is None else AuditLog.open(path.parent, shared)
    try:
        records = log.records(limit)
    finally:
        log.close()
    if json_:
        for r in records:
            row = {**r._asdict(), "detail": orjson.loads(r.detail)}
            typer.echo(orjson.dumps(row).decode())
        return
    table = Table(title=str(path) if shared is None else "audit log (database)")
    for column in ("seq", "ts", "actor", "action", "resource", "detail"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(str(r.seq), f"{r.ts:.3f}", r.actor, r.action, r.resource, r.detail)
    out_console.print(table)
