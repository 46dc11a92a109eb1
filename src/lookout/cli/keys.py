"""``lookout keys``: the signing keys of access tokens, and revoking single tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from lookout.api.geojson import iso_utc
from lookout.cli.common import DataDirOpt, out_console
from lookout.cli.identity import JsonOpt, access_for, print_rows

__all__ = ["app"]

app = typer.Typer(
    name="keys",
    help="Token signing keys: list, rotate, retire; revoke a token.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.command("list")
def list_keys(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List signing keys (never their secrets): kid, created, retired; the newest active one
    signs."""
    with access_for(data_dir, change=False) as access:
        keys = access.store.signing_keys()
    active = [k.kid for k in keys if k.retired_at is None]
    rows = [
        {
            "kid": k.kid,
            "created_at": iso_utc(k.created_at),
            "retired_at": iso_utc(k.retired_at) if k.retired_at is not None else None,
            "signing": bool(active) and k.kid == active[-1],
        }
        for k in keys
    ]
    print_rows(rows, ("kid", "created_at", "retired_at", "signing"), as_json=as_json)


@app.command("rotate")
def rotate(data_dir: DataDirOpt = None) -> None:
    """Make a new signing key, which signs from now on; tokens of older keys stay valid
    until they expire or their key is retired."""
    with access_for(data_dir) as access:
        key = access.rotate_key()
    out_console.print(f"signing key {key.kid} made; it signs new tokens", markup=False)


@app.command("retire")
def retire(
    kid: Annotated[str, typer.Argument(metavar="KID", help="The key id (lookout keys list).")],
    data_dir: DataDirOpt = None,
) -> None:
    """Retire a signing key: every token it signed is refused from now on (open streams end
    within 10 s)."""
    with access_for(data_dir) as access:
        access.retire_key(kid)
    out_console.print(f"signing key {kid} retired", markup=False)


@app.command("revoke")
def revoke(
    token: Annotated[
        str, typer.Argument(metavar="TOKEN_OR_JTI", help="A whole access token or its jti.")
    ],
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke one access token: refused at once, and an open stream with it ends within
    10 s."""
    with access_for(data_dir) as access:
        jti = access.revoke(token)
    out_console.print(f"token {jti} revoked", markup=False)
