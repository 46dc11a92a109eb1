"""``lookout serve``: the HTTP API over a running Runtime (see ``lookout.api.server``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from lookout.cli.common import (
    DataDirOpt,
    HostOpt,
    PortOpt,
    data_dir_problem,
    err_console,
    fail,
    load_settings,
)

__all__ = ["serve"]


def serve(
    data_dir: DataDirOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    sources_file: Annotated[
        Path | None,
        typer.Option(
            "--sources-file",
            metavar="FILE",
            help="JSON list of sources (name, member, kind, key...).",
        ),
    ] = None,
    tokens_file: Annotated[
        Path | None,
        typer.Option(
            "--tokens-file", metavar="FILE", help="JSON object: API read token -> actor name."
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", metavar="LEVEL", help="debug, info, warning or error.")
    ] = "info",
) -> None:
    """Run the HTTP API and the ingest runtime until SIGINT/SIGTERM.

    On a stop signal the server stops accepting connections, ends open event streams and
    commits everything already submitted before it exits 0.

    Sources file (JSON): `[{"name": "ais-1", "member": "ph", "kind": "push", "key": "..."}]`

    Tokens file (JSON): `{"API-READ-TOKEN": "ACTOR-NAME"}`
    """
    settings = load_settings(
        data_dir=data_dir,
        host=host,
        port=port,
        sources_file=sources_file,
        tokens_file=tokens_file,
    )
    problem = data_dir_problem(settings.data_dir)
    if problem:
        fail(problem)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if not settings.api_tokens:
        err_console.print("lookout: warning: no API tokens configured; every read gets 401 or 403")
    from lookout.api.server import serve_forever
    from lookout.service.detect_setup import SetupError, setup_from_settings
    from lookout.service.detection import build_detectors
    from lookout.service.runtime import Runtime

    try:  # a bad zone, ports or detector config file stops the start with its message
        detectors = build_detectors(setup_from_settings(settings))
    except (SetupError, ValueError, OSError) as exc:
        fail(str(exc))
    runtime = Runtime(settings, detectors=detectors)
    serve_forever(runtime, host=settings.host, port=settings.port, log_level=log_level)
