"""``lookout sources``: a member's push sources, their releases and their ingest keys."""

from __future__ import annotations

from typing import Annotated

import typer

from lookout.api.geojson import iso_utc
from lookout.cli.common import DataDirOpt, out_console
from lookout.cli.identity import JsonOpt, access_for, print_rows

__all__ = ["app"]

app = typer.Typer(
    name="sources",
    help="Push sources of members: add (prints the ingest key), list, change the release, "
    "rotate or revoke a key.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

MemberOpt = Annotated[str, typer.Option("--member", metavar="CODE", help="Owning member.")]
NameOpt = Annotated[str, typer.Option("--name", metavar="NAME", help="Source name.")]


def _print_key(key: str) -> None:
    out_console.print(f"ingest key: {key}", markup=False, highlight=False, soft_wrap=True)


@app.command("add")
def add(
    member: MemberOpt,
    name: NameOpt,
    release: Annotated[
        str,
        typer.Option(
            "--release",
            metavar="RELEASE",
            help="Who receives its data: network, owner, members:CODE,CODE or community:NAME.",
        ),
    ] = "owner",
    data_dir: DataDirOpt = None,
) -> None:
    """Register a push source of a member; prints its ingest key (shown once, stored
    hashed). A running server takes pushes with it at once."""
    with access_for(data_dir) as access:
        key = access.add_source(member, name, release)
    out_console.print(f"source {member}/{name} added", markup=False)
    _print_key(key)


@app.command("release")
def release(
    member: MemberOpt,
    name: NameOpt,
    to: Annotated[
        str,
        typer.Option(
            "--release",
            metavar="RELEASE",
            help="network, owner, members:CODE,CODE or community:NAME (docs/sharing.md).",
        ),
    ],
    data_dir: DataDirOpt = None,
) -> None:
    """Change who receives a source's data; withdrawing a release takes effect within a
    second on a running server, for new requests, history queries and open streams."""
    with access_for(data_dir) as access:
        text = access.set_release(member, name, to)
    out_console.print(f"source {member}/{name} released to: {text}", markup=False)


@app.command("list")
def list_sources(
    member: Annotated[
        str | None, typer.Option("--member", metavar="CODE", help="Only this member's sources.")
    ] = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List registered sources: member, name, kind, release, whether a key is set."""
    with access_for(data_dir, change=False) as access:
        sources = access.store.sources(member)
    rows = [
        {
            "member": s.member,
            "name": s.name,
            "kind": s.kind,
            "release": s.release,
            "key": s.key_hash is not None,
            "key_set_at": iso_utc(s.key_set_at) if s.key_set_at is not None else None,
        }
        for s in sources
    ]
    print_rows(rows, ("member", "name", "kind", "release", "key", "key_set_at"), as_json=as_json)


@app.command("rotate-key")
def rotate_key(member: MemberOpt, name: NameOpt, data_dir: DataDirOpt = None) -> None:
    """Give a source a new ingest key (printed); the old one is refused at once."""
    with access_for(data_dir) as access:
        key = access.rotate_source_key(member, name)
    out_console.print(f"source {member}/{name}: new key", markup=False)
    _print_key(key)


@app.command("revoke-key")
def revoke_key(member: MemberOpt, name: NameOpt, data_dir: DataDirOpt = None) -> None:
    """Revoke a source's ingest key: its pushes are refused until rotate-key gives a new one."""
    with access_for(data_dir) as access:
        access.revoke_source_key(member, name)
    out_console.print(f"source {member}/{name}: key revoked", markup=False)
