"""``lookout incidents``: the incidents of a data dir, as their members recorded them
(``incidents.db``; docs/incidents.md). For operators: every incident is shown, whatever its
release; members read them through the API, under the sharing rules."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lookout.cli.assets import incident_store
from lookout.cli.common import DataDirOpt, fail
from lookout.cli.identity import JsonOpt, print_rows
from lookout.service.evidence import attachment_record, entry_record, incident_record

__all__ = ["app"]

app = typer.Typer(
    name="incidents",
    help="Incidents recorded in the data dir: list them, show one with its timeline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.command("list")
def list_incidents(
    status: Annotated[
        str | None, typer.Option("--status", metavar="open|closed", help="Only these.")
    ] = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, newest opened first: id, member, occurred, category, severity,
    status, release."""
    with incident_store(data_dir) as store:
        rows = [
            incident_record(i) for i in store.incidents() if status is None or i.status == status
        ]
    columns = ("id", "member", "occurred_at", "category", "severity", "status", "release")
    print_rows(rows, columns, as_json=as_json)


@app.command("show")
def show(
    incident: Annotated[str, typer.Argument(metavar="INCIDENT", help="The incident's id.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Print one incident with its timeline and attachments, as JSON."""
    with incident_store(data_dir) as store:
        found = store.incident(incident)
        if found is None:
            fail(f"no incident {incident!r}")
        record = {
            "incident": incident_record(found),
            "timeline": [entry_record(e) for e in store.entries(found.id)],
            "attachments": [attachment_record(a) for a in store.attachments(found.id)],
        }
    typer.echo(json.dumps(record, indent=2))
