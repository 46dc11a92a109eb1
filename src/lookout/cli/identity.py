"""What ``lookout members``, ``users``, ``sources``, ``keys`` and ``token`` share: the access
control of the data dir (or, with the PostGIS store, of its database), changes recorded in
the audit log as ``cli:<OS user>``, and one-line errors for refused changes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lookout.cli.common import fail, load_settings, out_console
from lookout.service.access import Access, TokenError, cli_actor, shared_database
from lookout.storage.audit import AuditLog
from lookout.storage.identity import IdentityError

__all__ = ["JsonOpt", "access_for", "print_rows", "read_password"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")]


@contextmanager
def access_for(data_dir: Path | None, *, change: bool = True) -> Iterator[Access]:
    """The access control of the data dir; with ``change``, recording in its audit log.
    A refused change exits 2 with its reason."""
    settings = load_settings(data_dir=data_dir)
    folder, shared = settings.data_dir, shared_database(settings)
    folder.mkdir(parents=True, exist_ok=True)
    audit = AuditLog.open(folder, shared) if change else None
    access = Access.open(folder, shared, audit=audit, actor=cli_actor())
    try:
        yield access
    except (IdentityError, TokenError, ValueError) as exc:
        fail(str(exc))
    finally:
        access.close()
        if audit is not None:
            audit.close()


def read_password(from_stdin: bool) -> str | None:
    """The password on the first line of stdin with ``from_stdin``, else ``None``."""
    if not from_stdin:
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("no password on stdin")
    return line


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """``rows`` as a JSON array or as a table of ``columns``."""
    if as_json:
        typer.echo(json.dumps(list(rows), indent=2))
        return
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    out_console.print(table)
