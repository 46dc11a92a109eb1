"""``lookout``: the command line. Each command lives in its own module of this package."""

from __future__ import annotations

from typing import Annotated

import typer

import lookout
from lookout.cli import (
    assets,
    audit,
    decode,
    demo,
    detect,
    doctor,
    evidence,
    incidents,
    ingest,
    keys,
    members,
    replay,
    scenario,
    serve,
    sources,
    token,
    users,
    zones,
)

__all__ = ["app"]

app = typer.Typer(
    name="lookout",
    help="Lookout: a shared maritime domain awareness network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lookout {lookout.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Lookout: a shared maritime domain awareness network."""


app.command("serve")(serve.serve)
app.command("ingest")(ingest.ingest)
app.command("decode")(decode.decode)
app.command("detect")(detect.detect)
app.command("scenario")(scenario.scenario)
app.command("replay")(replay.replay)
app.command("doctor")(doctor.doctor)
app.command("demo")(demo.demo)
app.add_typer(zones.app, name="zones")
app.add_typer(audit.app, name="audit")
app.add_typer(members.app, name="members")
app.add_typer(users.app, name="users")
app.add_typer(sources.app, name="sources")
app.add_typer(keys.app, name="keys")
app.add_typer(assets.app, name="assets")
app.add_typer(evidence.app, name="evidence")
app.add_typer(incidents.app, name="incidents")
app.command("token")(token.token)


if __name__ == "__main__":
    app()
