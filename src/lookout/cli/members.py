"""``lookout members``: the members of the network (states and agencies, coded ``PHL-PCG``)."""

from __future__ import annotations

from typing import Annotated

import typer

from lookout.cli.common import DataDirOpt, out_console
from lookout.cli.identity import JsonOpt, access_for, print_rows
from lookout.model.members import Member

__all__ = ["app"]

app = typer.Typer(
    name="members",
    help="Members of the network: add one, list them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.command("add")
def add(
    code: Annotated[str, typer.Argument(metavar="CODE", help="Member code, e.g. PHL-PCG.")],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Full name.")],
    country: Annotated[
        str, typer.Option("--country", metavar="ISO3", help="ISO 3166 alpha-3 country code.")
    ] = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Add a member to the network."""
    with access_for(data_dir) as access:
        access.add_member(Member(code, name, country.upper()))
    out_console.print(f"member {code} added", markup=False)


@app.command("list")
def list_members(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List the members: code, name, country."""
    with access_for(data_dir, change=False) as access:
        rows = [
            {"code": m.code, "name": m.name, "country": m.country} for m in access.store.members()
        ]
    print_rows(rows, ("code", "name", "country"), as_json=as_json)
