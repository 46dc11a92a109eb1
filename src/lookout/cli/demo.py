"""``lookout demo``: the embedded server with the demo network and its traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lookout.cli.common import HostOpt, PortOpt
from lookout.cli.common import out_console as console

__all__ = ["demo"]


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            metavar="DIR",
            help="Directory of the demo's SQLite store and credentials (default: ./var/demo).",
            file_okay=False,
        ),
    ] = None,
    host: HostOpt = None,
    port: PortOpt = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            metavar="FILE",
            help="Replay this recorded file (NMEA, CSV or JSON lines) instead of simulating.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option("--speed", metavar="N", help="Replay pace: recorded time / N.", min=0.001),
    ] = 1.0,
    vessels: Annotated[
        int,
        typer.Option("--vessels", metavar="N", help="Number of simulated vessels.", min=1),
    ] = 300,
) -> None:
    """Run Lookout embedded with the demo network: six coast guards' receivers feeding
    simulated South China Sea traffic (or a replayed recording) over UDP and TCP."""
    from lookout.api.server import serve_forever
    from lookout.service.demo import DEFAULT_DATA_DIR, build_demo
    from lookout.service.settings import Settings

    settings = Settings.from_env().with_overrides(
        data_dir=data_dir or DEFAULT_DATA_DIR, host=host, port=port
    )
    built = build_demo(settings=settings, vessels=vessels, replay=replay, replay_speed=speed)
    built.start()
    url = f"http://{settings.host}:{settings.port}"
    first = built.runtime.settings.api_tokens_member
    what = (
        f"replaying {replay} (real recorded data)"
        if replay
        else f"{vessels} SIMULATED vessels from 6 members' receivers"
    )
    console.print(f"[bold]Lookout demo[/bold]: {what}")
    if built.exercise_sender is not None:
        console.print(
            f"  EXERCISE:     running exercise '{built.exercise}' (lookout scenario), its lines "
            "tagged s:EXERCISE, not real traffic",
            soft_wrap=True,
        )
    region = built.runtime.settings.region
    zones = (
        f"South China Sea region pack ({region}): territorial seas, EEZs (approximate, not "
        "legal boundaries), disputed areas, watch areas; alerts on GET /api/v1/events and the "
        "stream"
        if region
        else "none: the region pack is not built (run make regions)"
    )
    console.print(f"  zones:        {zones}", soft_wrap=True)
    if not replay:
        console.print(
            "  sharing:      most sources network-wide; Da Nang (VNM) to PHL-PCG only, the JCG "
            "patrol to PHL-PCG and USA-USCG, Kota Kinabalu and the patrol reports to the ASEAN "
            "community, Pag-asa to PHL-PCG alone, the US satellite 15 min late at 1 km "
            "(docs/sharing.md)",
            soft_wrap=True,
        )
    console.print(f"  URL:          {url}")
    console.print(f"  API token:    {built.api_token}  (member {first}, viewer)", soft_wrap=True)
    console.print(f"  push source:  {built.push_source}  key: {built.push_key}", soft_wrap=True)
    if built.users:
        name, user = next(iter(built.users.items()))
        console.print(
            f"  log in:       {name} / {user['password']}  ({user['role']} of {user['member']}; "
            "one per member, passwords in the credentials file)",
            soft_wrap=True,
            markup=False,
        )
    console.print(f"  credentials:  {built.credentials_file}")
    console.print(
        f"  try:          curl -H 'Authorization: Bearer {built.api_token}' {url}/api/v1/vessels",
        soft_wrap=True,  # one line, so it can be copied whole
    )
    try:
        serve_forever(built.runtime, host=settings.host, port=settings.port)
    finally:
        for sender in (built.sender, built.exercise_sender):
            if sender is not None:
                sender.stop()
