"""``lookout serve``: the HTTP API over a running Runtime (see ``lookout.api.server``)."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from lookout.detectors.base import Detector
    from lookout.service.settings import Settings

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
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="all (default), ingest, process or api (docs/deployment.md). Env LOOKOUT_ROLE.",
        ),
    ] = None,
) -> None:
    """Run the HTTP API and the ingest runtime until SIGINT/SIGTERM.

    On a stop signal the server stops accepting connections, ends open event streams and
    commits everything already submitted before it exits 0.

    Roles (bus = nats; docs/deployment.md): `ingest` runs the sources and push routes and
    answers a push once JetStream stored it; `process` (no HTTP) consumes the raw stream into
    the shared PostGIS store; `api` serves reads and streams from it (pushes get 503).

    Sources file (JSON): `[{"name": "ais-1", "member": "ph", "kind": "push", "key": "..."}]`

    Tokens file (JSON): `{"API-READ-TOKEN": "ACTOR-NAME"}`
    """
    settings = load_settings(
        data_dir=data_dir,
        host=host,
        port=port,
        sources_file=sources_file,
        tokens_file=tokens_file,
    ).with_overrides(role=role.lower() if role else None)
    from lookout.service.roles import role_problem

    problem = data_dir_problem(settings.data_dir) or role_problem(settings)
    if problem:
        fail(problem)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if not settings.api_tokens:
        err_console.print("lookout: warning: no API tokens configured; every read gets 401 or 403")
    from lookout.api.server import serve_forever
    from lookout.service.detect_setup import SetupError, setup_from_settings
    from lookout.service.detection import build_detectors
    from lookout.service.runtime import Runtime

    if settings.role == "all":  # the runtime builds its detectors, in its detection process too
        checked = replace(settings, shore="none") if settings.shore == "landmask" else settings
        try:  # a bad zone, ports or detector config file stops the start with its message
            setup_from_settings(checked)  # (not the 0.9 GB land mask: the runtime loads it)
        except (SetupError, ValueError, OSError) as exc:
            fail(str(exc))
        serve_forever(Runtime(settings), host=settings.host, port=settings.port,
                      log_level=log_level)  # fmt: skip
        return
    try:  # a bad zone, ports or detector config file stops the start with its message
        detectors = build_detectors(setup_from_settings(settings))
    except (SetupError, ValueError, OSError) as exc:
        fail(str(exc))
    if settings.role == "process":
        _run_process(settings, detectors)
        return
    from lookout.service.roles.api import ApiNode
    from lookout.service.roles.ingest import IngestNode

    node: IngestNode | ApiNode
    if settings.role == "ingest":
        node = IngestNode(settings, detectors=detectors)
    else:
        node = ApiNode(settings, detectors=detectors)
    serve_forever(node, host=settings.host, port=settings.port, log_level=log_level)


def _run_process(settings: Settings, detectors: list[Detector[Any]]) -> None:
    """Run a process node until SIGINT/SIGTERM; it finishes the batch in hand, then exits 0."""
    from lookout.service.detection import build_detectors
    from lookout.service.roles.process import ProcessNode
    from lookout.service.runtime import zone_index_of

    first = iter([detectors])
    setup = None
    index = zone_index_of(detectors)  # the first suite's, shared by every later one

    def suite() -> list[Detector[Any]]:  # the first suite, then fresh ones (partitions, failures)
        nonlocal setup
        built = next(first, None)
        if built is not None:
            return built
        if setup is None:
            from lookout.service.detect_setup import setup_from_settings

            setup = setup_from_settings(settings)
        return build_detectors(setup, index=index)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    node = ProcessNode(settings, suite)
    try:
        node.start()
    except Exception as exc:  # an unreachable store or bus stops the start with its message
        fail(f"process node did not start: {exc}")
    err_console.print(f"lookout: process node consuming raw batches ({settings.nats_url})")
    stop.wait()
    node.stop()
