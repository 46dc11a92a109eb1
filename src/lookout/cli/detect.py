"""``lookout detect``: the live detectors over recorded files, events to a JSON-lines file.

The work is done by :mod:`lookout.service.batch` (reading, ordering, detecting) and
:mod:`lookout.service.detect_setup` (config, zones, ports, shore); this module parses the
options, draws the progress bar and prints the summary.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID

from lookout.cli.common import (
    count_lines,
    err_console,
    fail,
    out_console,
    progress_bar,
    require_files,
    summary_table,
)

__all__ = ["detect"]

PROGRESS_MIN_BYTES = 5_000_000
"""Inputs smaller than this (in total) show no progress bar."""


class _Bar:
    """The service's progress reports drawn as rich tasks on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def phase(self, name: str, total: int | None) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=self._progress.tasks[-1].total or 0)
        self._task = self._progress.add_task(name, total=total)

    def advance(self, done: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, done)


def _line_counts(files: list[Path]) -> list[int] | None:
    """Lines per file for the bar, when every file is plain text (gzip: unknown)."""
    if any(_gzipped(path) for path in files):
        return None
    return [count_lines(path) for path in files]


def _gzipped(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open_out(out: Path) -> Any:
    if str(out) == "-":
        return nullcontext(sys.stdout.buffer)
    try:
        return out.open("wb")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")


def detect(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="INPUT", help="NMEA (tag-block times), CSV or JSON-lines files."),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="EVENTS.jsonl", help="Write the events here, one JSON object a line "
            "('-': stdout).",
        ),
    ],
    zones: Annotated[
        list[Path] | None,
        typer.Option("--zones", metavar="ZONES", help="Zone file (GeoJSON, GeoPackage, "
                     "Shapefile, KML) for zone_entry/zone_exit; repeatable."),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", metavar="NAME", help="Add a bundled region pack's zones: scs."),
    ] = None,
    detections: Annotated[
        list[Path] | None,
        typer.Option("--detections", metavar="DETECTIONS.csv", help="Non-AIS detections (CSV "
                     "columns id, timestamp, lat, lon, source) for dark_vessel; repeatable."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="Detector config (TOML): thresholds and "
                     "[detectors] enabled; see docs/detectors.md."),
    ] = None,
    detectors: Annotated[
        str | None,
        typer.Option("--detectors", metavar="KIND,KIND", help="Run only these detectors "
                     "(overrides the config's [detectors] enabled; default: all)."),
    ] = None,
    ports: Annotated[
        list[Path] | None,
        typer.Option("--ports", metavar="FILE", help="More ports/anchorages: CSV with latitude "
                     "and longitude columns, or GeoJSON points; repeatable."),
    ] = None,
    no_ports: Annotated[
        bool,
        typer.Option("--no-ports", help="Do not use the ports installed with Lookout "
                     "(searoute's 3,962 ports)."),
    ] = False,
    member: Annotated[
        str, typer.Option("--member", metavar="CODE", help="Member the data belongs to.")
    ] = "local",
) -> None:  # fmt: skip
    """Run the detectors over recorded data and write every event version to --out.

    Input is read as by `lookout ingest`, sorted by event time, then run through the same
    detectors as the live server. Each output line has kind, status, id, mmsi, mmsis, start,
    end (ISO 8601 UTC), lat, lon, zone, details, observations and members; a later line with
    the same id replaces the earlier one. Ports: the installed set plus --ports files. Exit
    0 when the run completes (bad lines are counted in the summary), 2 on a usage error, a
    bad config, zone, ports or detections file, or an input file in no known format.
    """
    from lookout.service.batch import BatchError, DetectRequest, run_detect
    from lookout.service.detect_setup import (
        DetectOptions,
        SetupError,
        build_setup,
        read_detection_files,
    )

    require_files(files)
    options = DetectOptions(
        config=config,
        detectors=detectors,
        zones=zones or [],
        region=region,
        ports=ports or [],
        no_ports=no_ports,
    )
    try:
        setup, report = build_setup(options)
        found, not_read = read_detection_files(detections or [], member)
    except SetupError as exc:
        fail(str(exc))
    if not_read:
        _warn(f"{len(not_read)} detections not read ({not_read[0]})")
    for read in report.port_sets:
        if read.error_count:
            first = read.errors[0] if read.errors else ""
            _warn(f"{read.name}: {read.error_count} rows not read ({first})")
    counts = _line_counts(files)
    show_bar = sum(path.stat().st_size for path in files) >= PROGRESS_MIN_BYTES
    request = DetectRequest(
        inputs=files,
        member=member,
        setup=setup,
        detections=found,
        detections_rejected=len(not_read),
        line_counts=counts,
    )
    with _open_out(out) as stream:
        try:
            if show_bar:
                with progress_bar() as progress:
                    summary = run_detect(request, stream, _Bar(progress))
            else:
                summary = run_detect(request, stream)
        except BatchError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
    rows = [
        *summary.rows(),
        ("zones", report.zones),
        ("ports and anchorages", report.ports),
        ("shore", report.shore),
    ]
    console = err_console if str(out) == "-" else out_console
    console.print(summary_table("lookout detect", rows))


def _warn(message: str) -> None:
    err_console.print(f"lookout: warning: {message}", markup=False, highlight=False)
