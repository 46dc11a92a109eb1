"""``lookout demo``: a server with simulated traffic (wired in ``lookout.service.demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lookout.cli.common import DataDirOpt, HostOpt, PortOpt

__all__ = ["demo"]


def demo(
    data_dir: DataDirOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            metavar="FILE",
            help="Also replay this recorded NMEA file.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    vessels: Annotated[
        int | None,
        typer.Option("--vessels", metavar="N", help="Number of simulated vessels.", min=1),
    ] = None,
) -> None:
    """Run a server with simulated vessels (and optionally a replayed recording)."""
    from lookout.service.demo import run_demo

    run_demo(data_dir=data_dir, host=host, port=port, replay=replay, vessels=vessels)
