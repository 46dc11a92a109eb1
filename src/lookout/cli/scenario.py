"""``lookout scenario``: build an exercise (labelled behaviour in simulated traffic).

Writes ``exercise.nmea``, ``labels.jsonl``, ``zones.geojson``, ``EXERCISE.md`` and, when the
scenarios have satellite detections, ``detections.csv`` into ``--out``. Everything it writes is
marked EXERCISE. Progress goes to stderr. See docs/exercises.md.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from lookout.cli.common import err_console, fail
from lookout.sources.scenario import (
    BACKGROUND_VESSELS,
    DEFAULT_HOURS,
    DEFAULT_START,
    SCENARIOS,
    ScenarioError,
    build_exercise,
    read_recording,
    write_exercise,
)

__all__ = ["scenario"]


def _start_ts(text: str) -> float:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--start: not an ISO 8601 time: {text!r}")
    if when.tzinfo is None:
        fail(f"--start: give a time zone (e.g. {text}Z for UTC)")
    return when.timestamp()


def scenario(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="NAME...",
            help="Scenarios to put in the exercise (see --list); 'all' for every one.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="Directory to write the exercise into."),
    ] = None,
    start: Annotated[
        str, typer.Option("--start", metavar="ISO", help="When the exercise starts (UTC).")
    ] = DEFAULT_START,
    hours: Annotated[
        float,
        typer.Option("--hours", metavar="H", help="How long the exercise lasts, hours (>= 20)."),
    ] = DEFAULT_HOURS,
    into: Annotated[
        Path | None,
        typer.Option(
            "--into",
            metavar="RECORDING",
            help="Inject into this real NMEA recording (tag-block c: times) instead of "
            "simulated background traffic; the exercise starts at its first time unless "
            "--start is given.",
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="Name the scenarios and what they contain, then exit.")
    ] = False,
) -> None:
    """Build an exercise: labelled behaviour injected into simulated traffic (or a real
    recording, --into), marked EXERCISE.

    Writes DIR/exercise.nmea (tag blocks with c: times and s:EXERCISE), DIR/labels.jsonl
    (expected events and near misses that must not fire), DIR/zones.geojson, DIR/EXERCISE.md
    and DIR/detections.csv when a scenario has satellite detections. Run `lookout detect` on
    them and compare with the labels (`make eval` does it for the whole suite).
    """
    if list_:
        for item in SCENARIOS.values():
            typer.echo(f"{item.name:24} {', '.join(item.kinds):30} {item.summary}")
        return
    if not names:
        fail("name at least one scenario (or 'all'); --list shows them")
    if out is None:
        fail("--out DIR is required")
    start_ts = _start_ts(start)
    recording = None
    if into is not None:
        if not into.is_file():
            fail(f"--into: no such file: {into}")
        try:
            recording = read_recording(into)
        except (ScenarioError, OSError) as exc:
            fail(f"--into: {exc}")
        if start == DEFAULT_START:
            start_ts = float(recording.first_ts)
        err_console.print(
            f"recording {into}: {len(recording.lines)} timed lines"
            + (f" ({recording.untimed} without a c: time left out)" if recording.untimed else "")
        )
    err_console.print(f"building exercise {', '.join(names)} (seed {seed}, {hours:g} h) ...")
    try:
        exercise = build_exercise(
            names, seed=seed, start_ts=start_ts, hours=hours,
            background=0 if recording is not None else BACKGROUND_VESSELS,
        )  # fmt: skip
    except ScenarioError as exc:
        fail(str(exc))
    err_console.print(
        f"{len(exercise.vessels)} vessels, {len(exercise.labels)} labels; writing NMEA ..."
    )
    try:
        files = write_exercise(exercise, out, recording)
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror or exc}")
    for role, path in files.items():
        err_console.print(f"  {role:10} {path}")
    err_console.print("EXERCISE - not real traffic")
