"""``lookout assets``: the vessels each member offers for assistance (``incidents.db``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from lookout.cli.common import DataDirOpt, fail, load_settings, out_console
from lookout.cli.identity import JsonOpt, print_rows
from lookout.model.incidents import Asset, IncidentError
from lookout.model.members import MemberCodeError, check_member_code
from lookout.service.access import cli_actor, shared_database
from lookout.storage.audit import AuditLog
from lookout.storage.incidents import IncidentStore

__all__ = ["app", "incident_store"]

app = typer.Typer(
    name="assets",
    help="Member assets (vessels offered for assistance): add, list, remove.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

MemberOpt = Annotated[str, typer.Option("--member", metavar="CODE", help="Member code.")]
MmsiOpt = Annotated[int, typer.Option("--mmsi", min=1, max=999_999_999, help="The vessel.")]


@contextmanager
def incident_store(data_dir: DataDirOpt) -> Iterator[IncidentStore]:
    """The data dir's incident store; a refused change exits 2 with its reason."""
    settings = load_settings(data_dir=data_dir)
    store = IncidentStore.open(settings.data_dir, shared_database(settings))
    try:
        yield store
    except (IncidentError, MemberCodeError) as exc:
        fail(str(exc))
    finally:
        store.close()


def _audit(data_dir: DataDirOpt, resource: str, detail: dict[str, object]) -> None:
    settings = load_settings(data_dir=data_dir)
    audit = AuditLog.open(settings.data_dir, shared_database(settings))
    try:
        audit.append(cli_actor(), "configuration", resource, detail)
    finally:
        audit.close()


@app.command("add")
def add(
    member: MemberOpt,
    mmsi: MmsiOpt,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The vessel's name.")],
    speed_kn: Annotated[
        float | None,
        typer.Option("--speed-kn", min=0.1, help="Speed it would make to an incident, knots."),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Register a vessel as a member's asset (or update it)."""
    with incident_store(data_dir) as store:
        store.add_asset(Asset(member=check_member_code(member), mmsi=mmsi, name=name,
                              speed_kn=speed_kn))  # fmt: skip
    _audit(data_dir, f"asset:{mmsi}", {"added": member, "name": name})
    out_console.print(f"asset {mmsi} ({name}) of {member} added", markup=False)


@app.command("remove")
def remove(member: MemberOpt, mmsi: MmsiOpt, data_dir: DataDirOpt = None) -> None:
    """Remove a member's asset."""
    with incident_store(data_dir) as store:
        store.remove_asset(member, mmsi)
    _audit(data_dir, f"asset:{mmsi}", {"removed": member})
    out_console.print(f"asset {mmsi} of {member} removed", markup=False)


@app.command("list")
def list_assets(
    member: Annotated[str | None, typer.Option("--member", metavar="CODE")] = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the assets: member, MMSI, name, speed."""
    with incident_store(data_dir) as store:
        rows = [
            {"member": a.member, "mmsi": a.mmsi, "name": a.name, "speed_kn": a.speed_kn}
            for a in store.assets(member)
        ]
    print_rows(rows, ("member", "mmsi", "name", "speed_kn"), as_json=as_json)
