"""``lookout evidence``: export an incident as a signed evidence bundle, verify a bundle, list
the members' signing keys (docs/incidents.md)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from lookout.cli.assets import incident_store
from lookout.cli.common import DataDirOpt, err_console, fail, load_settings, out_console
from lookout.cli.identity import JsonOpt, access_for, print_rows
from lookout.model.members import check_member_code
from lookout.pipeline.ports import Store
from lookout.service.access import cli_actor, shared_database
from lookout.service.batch import iso_utc
from lookout.service.evidence import BundleError, SigningKeys, export, verify
from lookout.service.runtime import open_store
from lookout.service.settings import Settings
from lookout.service.sharing import PolicySource
from lookout.storage import sqlite_sql
from lookout.storage.audit import AuditLog
from lookout.storage.sqlite_reads import SqliteReads

__all__ = ["app"]

app = typer.Typer(
    name="evidence",
    help="Evidence bundles: export an incident signed, verify a bundle, list signing keys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


class _SqlitePicture(SqliteReads):
    """The SQLite picture, read only (beside a running server, or after it stopped)."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)
        self._closed = False
        self._rows = sqlite_sql.RowCodec()
        self._readers = {}
        self._readers_lock = threading.Lock()
        self._reading = self._snapshot  # type: ignore[method-assign]

    def close(self) -> None:
        with self._readers_lock:
            self._close_readers()


def _picture(settings: Settings) -> Store | _SqlitePicture:
    if settings.store == "sqlite":
        if not settings.db_path.is_file():
            fail(f"no picture store at {settings.db_path}")
        return _SqlitePicture(settings.db_path)
    return open_store(settings)


@app.command("export")
def export_bundle(
    incident: Annotated[str, typer.Argument(metavar="INCIDENT", help="The incident's id.")],
    member: Annotated[str, typer.Option("--member", metavar="CODE", help="Who signs it.")],
    out: Annotated[Path, typer.Option("--out", metavar="BUNDLE.zip", help="Where to write.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Write the incident's signed evidence bundle as ``member`` may see it."""
    settings = load_settings(data_dir=data_dir)
    check_member_code(member)
    with access_for(data_dir, change=False) as access:
        releases = access.releases()
    policy = PolicySource(lambda: releases, settings.sharing_file).policy()
    picture = _picture(settings)
    try:
        with incident_store(data_dir) as incidents:
            data, checked = export(
                incidents, picture, policy, SigningKeys.of(settings.data_dir),  # type: ignore[arg-type]
                member=member, incident_id=incident,
            )  # fmt: skip
    except BundleError as exc:
        fail(str(exc))
    finally:
        picture.close()
    out.write_bytes(data)
    audit = AuditLog.open(settings.data_dir, shared_database(settings))
    try:
        detail = {"member": member, "fingerprint": checked.fingerprint, "files": checked.files}
        audit.append(cli_actor(), "evidence", f"incident:{incident}", {**detail, "out": str(out)})
    finally:
        audit.close()
    out_console.print(
        f"{out}: {checked.files} files, signed by {member} key {checked.fingerprint}",
        markup=False,
        soft_wrap=True,
    )


@app.command("verify")
def verify_bundle(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="The bundle (.zip).")],
    fingerprint: Annotated[
        str | None,
        typer.Option("--fingerprint", metavar="HEX", help="Also require this signing key."),
    ] = None,
) -> None:
    """Recompute every hash and check the signature: exit 0 and name the signer, or exit 1
    naming the first problem."""
    try:
        checked = verify(bundle, fingerprint)
    except BundleError as exc:
        err_console.print(f"{bundle}: NOT VERIFIED: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out_console.print(
        f"{bundle}: verified: incident {checked.incident}, {checked.files} files, signed by "
        f"{checked.member} key {checked.fingerprint}",
        markup=False,
        soft_wrap=True,
    )


@app.command("keys")
def keys(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List the members' evidence signing keys: member, fingerprint, created (public keys
    with --json)."""
    found = SigningKeys.of(load_settings(data_dir=data_dir).data_dir).list()
    rows = [
        {"member": k.member, "fingerprint": k.fingerprint, "created_at": iso_utc(k.created_ts),
         **({"public_key": k.public_pem} if as_json else {})}
        for k in found
    ]  # fmt: skip
    print_rows(rows, ("member", "fingerprint", "created_at"), as_json=as_json)
