"""``lookout ingest``: run files (NMEA, CSV, JSON lines) through the pipeline into the store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from lookout.cli.common import (
    DataDirOpt,
    ReceiptTotals,
    chunked,
    count_lines,
    data_dir_problem,
    fail,
    load_settings,
    out_console,
    progress_bar,
    require_files,
    summary_table,
)
from lookout.model import IngestReceipt, Lines
from lookout.pipeline.ports import SourceItem, item_lines

if TYPE_CHECKING:
    from lookout.service.runtime import Runtime

__all__ = ["IngestTotals", "ingest", "ingest_files"]

CHUNK_ITEMS = 5_000
"""Items (NMEA: lines) per submission to the runtime."""
IN_FLIGHT = 8
"""Submissions awaiting commit before reading pauses (bounds memory)."""


@dataclass(slots=True)
class IngestTotals(ReceiptTotals):
    """What a run of ``lookout ingest`` came to: receipts plus the vessels in the store."""

    vessels: int = 0


def _submit(runtime: Runtime, chunk: list[SourceItem]) -> Future[IngestReceipt]:
    """Submit, waiting while the runtime reports back-pressure. Rows the file reader could not
    read go in too, as Rejections: the pipeline counts them for the source."""
    from lookout.service.runtime import Overloaded

    while True:
        try:
            return runtime.submit(chunk)
        except Overloaded:
            time.sleep(0.05)


def _ingest_file(
    runtime: Runtime,
    path: Path,
    member: str,
    source: str,
    totals: IngestTotals,
    advance: Callable[[int], None],
) -> None:
    pending: list[Future[IngestReceipt]] = []
    for chunk in _chunks(path, member, source):
        pending.append(_submit(runtime, chunk))
        advance(item_lines(chunk))
        while len(pending) >= IN_FLIGHT:
            totals.add(pending.pop(0).result())
    for fut in pending:
        totals.add(fut.result())


def _chunks(path: Path, member: str, source: str) -> Iterator[list[SourceItem]]:
    """The file's items in submissions of ``CHUNK_ITEMS`` lines: an NMEA file's lines as one
    :class:`~lookout.model.Lines` block each (no object per line), other files' items as read."""
    from lookout.sources.files import iter_file_items, open_text, sniff_format

    if sniff_format(path) != "nmea":
        yield from chunked(iter_file_items(path, member=member, source=source), CHUNK_ITEMS)
        return
    with open_text(path) as stream:
        for lines in chunked((line.rstrip("\r\n") for line in stream), CHUNK_ITEMS):
            yield [Lines(lines, member, source)]


def ingest_files(
    runtime: Runtime, paths: list[Path], *, member: str, source: str | None, progress: Progress
) -> IngestTotals:
    """Ingest every file through a started ``runtime``; returns the acknowledged totals."""
    totals = IngestTotals()
    for path in paths:
        total = count_lines(path)
        task = progress.add_task(path.name, total=total)

        def advance(n: int, task: TaskID = task) -> None:
            progress.advance(task, n)

        _ingest_file(runtime, path, member, source or path.name, totals, advance)
        progress.update(task, completed=total)
    totals.vessels = len(runtime.store.vessels(None, limit=100_000_000))
    return totals


def _summary(totals: IngestTotals) -> Table:
    rows = [("lines", totals.lines), *totals.rows(), ("vessels in store", totals.vessels)]
    return summary_table("lookout ingest", rows)


def ingest(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="NMEA, CSV or JSON-lines files.")
    ],
    data_dir: DataDirOpt = None,
    member: Annotated[
        str, typer.Option("--member", metavar="MEMBER", help="Member the data belongs to.")
    ] = "local",
    source: Annotated[
        str | None,
        typer.Option("--source", metavar="SOURCE", help="Source name (default: each file's name)."),
    ] = None,
) -> None:
    """Ingest recorded files into the store, with a progress bar and a summary.

    The format is recognised from the content: NMEA (tag blocks, $PGHP, USCG trailers; gzip
    too), report CSVs (MarineCadastre, Danish Maritime Authority, ...) or JSON lines. Every
    line is accepted or counted under a reject reason; the summary shows what the store
    acknowledged.
    """
    from lookout.service.runtime import Runtime
    from lookout.sources.files import FileFormatError

    require_files(files)
    settings = load_settings(data_dir=data_dir)
    problem = data_dir_problem(settings.data_dir)
    if problem:
        fail(problem)
    runtime = Runtime(settings)
    try:
        runtime.start()
    except (OSError, sqlite3.Error) as exc:
        fail(f"cannot open the store {settings.db_path}: {exc}")
    try:
        with progress_bar() as progress:
            totals = ingest_files(runtime, files, member=member, source=source, progress=progress)
    except FileFormatError as exc:
        fail(str(exc))
    finally:
        runtime.stop()
    out_console.print(_summary(totals))
