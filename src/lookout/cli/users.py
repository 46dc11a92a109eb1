"""``lookout users``: people who log in, each of one member, in one role."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from lookout.cli.common import DataDirOpt, out_console
from lookout.cli.identity import JsonOpt, access_for, print_rows, read_password
from lookout.model.members import Role

__all__ = ["app"]

app = typer.Typer(
    name="users",
    help="Users: add, list, disable, change a password.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

UsernameArg = Annotated[str, typer.Argument(metavar="USERNAME", help="e.g. phl-officer.")]
StdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of stdin (else one is generated and printed).",
    ),
]


@app.command("add")
def add(
    username: UsernameArg,
    member: Annotated[str, typer.Option("--member", metavar="CODE", help="The user's member.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="viewer, watch_officer, member_admin or network_admin.",
        ),
    ] = "viewer",
    password_stdin: StdinOpt = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Add a user; prints the generated password unless --password-stdin gives one."""
    given = read_password(password_stdin)
    password = given or secrets.token_urlsafe(15)
    with access_for(data_dir) as access:
        access.add_user(username, member, Role.parse(role), password)
    out_console.print(f"user {username} added ({member}, {Role.parse(role).value})", markup=False)
    if given is None:
        out_console.print(f"password: {password}", markup=False, highlight=False)


@app.command("list")
def list_users(
    member: Annotated[
        str | None, typer.Option("--member", metavar="CODE", help="Only this member's users.")
    ] = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List users: username, member, role, disabled."""
    with access_for(data_dir, change=False) as access:
        users = access.store.users(member)
    rows = [
        {
            "username": u.username,
            "member": u.member,
            "role": u.role.value,
            "disabled": u.disabled_at is not None,
        }
        for u in users
    ]
    print_rows(rows, ("username", "member", "role", "disabled"), as_json=as_json)


@app.command("disable")
def disable(username: UsernameArg, data_dir: DataDirOpt = None) -> None:
    """Disable a user: no more logins, and the user's tokens are refused at once (open streams
    end within 10 s)."""
    with access_for(data_dir) as access:
        access.disable_user(username)
    out_console.print(f"user {username} disabled", markup=False)


@app.command("passwd")
def passwd(
    username: UsernameArg, password_stdin: StdinOpt = False, data_dir: DataDirOpt = None
) -> None:
    """Set a user's password; prints the generated one unless --password-stdin gives one."""
    given = read_password(password_stdin)
    password = given or secrets.token_urlsafe(15)
    with access_for(data_dir) as access:
        access.set_password(username, password)
    out_console.print(f"password of {username} changed", markup=False)
    if given is None:
        out_console.print(f"password: {password}", markup=False, highlight=False)
