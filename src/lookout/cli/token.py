"""``lookout token``: print an access token for scripts and tests."""

from __future__ import annotations

from typing import Annotated

import typer

from lookout.api.geojson import iso_utc
from lookout.cli.common import DataDirOpt, err_console, load_settings
from lookout.cli.identity import access_for
from lookout.model.members import Role

__all__ = ["token"]


def token(
    member: Annotated[str, typer.Option("--member", metavar="CODE", help="Member it acts for.")],
    role: Annotated[
        str,
        typer.Option(
            "--role", metavar="ROLE", help="viewer, watch_officer, member_admin or network_admin."
        ),
    ] = "viewer",
    ttl: Annotated[
        float | None,
        typer.Option(
            "--ttl", metavar="SECONDS", help="Lifetime (default: token_ttl_s, 900).", min=1
        ),
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option("--subject", metavar="NAME", help="Who it names (default: script:CODE)."),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Print a bearer access token signed with the data dir's current key (only the token on
    stdout; its jti and expiry on stderr). A running server on the same data dir accepts it."""
    lifetime = ttl if ttl is not None else load_settings(data_dir=data_dir).token_ttl_s
    with access_for(data_dir) as access:
        issued = access.issue(
            subject=subject or f"script:{member}",
            member=member,
            role=Role.parse(role),
            ttl_s=lifetime,
        )
        access.record(
            "configuration",
            f"token:{issued.claims.jti}",
            {"issued": issued.claims.subject, "member": member, "role": issued.claims.role.value},
        )
    typer.echo(issued.token)
    err_console.print(
        f"jti {issued.claims.jti}, expires {iso_utc(issued.claims.expires_at)}",
        markup=False,
        highlight=False,
    )
