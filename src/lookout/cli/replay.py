"""``lookout replay``: send a recorded file to a server at N times its recorded pace.

Line times come from the lines themselves (tag block ``c:``, ``$PGHP``, USCG trailer epoch);
a line without a time goes out with the last timed line before it (all at once if the file has
no times). Lines are grouped into batches spanning at most ``WINDOW_S`` seconds of wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lookout.cli.common import (
    count_lines,
    fail,
    out_console,
    progress_bar,
    require_files,
    summary_table,
)
from lookout.sources.files import peek_time

if TYPE_CHECKING:
    from lookout.cli.replay_send import Sender, SenderStats

__all__ = ["plan_batches", "replay"]

WINDOW_S = 0.1
"""A batch holds the lines due within this many seconds (wall time) of its first line."""


def plan_batches(
    lines: Iterable[str], speed: float, *, max_lines: int = 500, window_s: float = WINDOW_S
) -> Iterator[tuple[float, list[str]]]:
    """``(due_s, lines)``: when (seconds after the start) to send each batch.

    ``speed`` divides the recorded spacing; ``0`` sends everything as fast as possible.
    """
    first_ts: float | None = None
    due_s = 0.0
    batch: list[str] = []
    batch_start = 0.0
    for raw in lines:
        line = raw.rstrip("\r\n")
        ts = peek_time(line) if speed > 0 else None
        if ts is not None:
            first_ts = ts if first_ts is None else first_ts
            due_s = max(due_s, (ts - first_ts) / speed)
        if batch and (len(batch) >= max_lines or due_s - batch_start > window_s):
            yield batch_start, batch
            batch = []
        if not batch:
            batch_start = due_s
        batch.append(line)
    if batch:
        yield batch_start, batch


def _run(path: Path, sender: Sender, speed: float, max_lines: int) -> float:
    started = time.monotonic()
    with progress_bar() as progress, path.open(encoding="utf-8", errors="replace") as fh:
        task = progress.add_task(path.name, total=count_lines(path))
        for due_s, batch in plan_batches(fh, speed, max_lines=max_lines):
            wait = started + due_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sender.send(batch)
            progress.advance(task, len(batch))
    return time.monotonic() - started


def _summary(stats: SenderStats, elapsed_s: float) -> Table:
    rows: list[tuple[str, int | str]] = [
        ("lines sent", stats.lines),
        ("batches", stats.batches),
        ("elapsed s", f"{elapsed_s:.1f}"),
    ]
    if stats.acknowledged:
        rows += [("retries", stats.retries), *stats.receipts.rows()]
    return summary_table("lookout replay", rows)


def replay(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Recorded NMEA file.")],
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            metavar="N",
            help="Pace multiplier: 10 = ten times faster; 0 = no pause.",
            min=0.0,
        ),
    ] = 1.0,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="http://host:port (push API), tcp://host:port or udp://host:port.",
        ),
    ] = "http://127.0.0.1:8000",
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="KEY",
            help="Source ingest key for HTTP push.",
            envvar="LOOKOUT_INGEST_KEY",
            show_envvar=True,
        ),
    ] = None,
    batch_lines: Annotated[
        int, typer.Option("--batch-lines", metavar="N", help="Most lines per HTTP batch.", min=1)
    ] = 500,
) -> None:
    """Replay a recorded file to a server at its recorded pace divided by --speed.

    Times come from the lines (tag block c:, $PGHP, USCG trailer); a line without one goes
    with the last timed line before it. HTTP push sends batches, each with its own
    Idempotency-Key, and retries a failed batch with the same key; TCP sends CRLF-terminated
    lines on one connection; UDP sends one datagram per line.
    """
    from lookout.cli.replay_send import SendError, open_sender

    require_files([file])
    try:
        sender = open_sender(to, key)
    except ValueError as exc:
        fail(str(exc))
    except SendError as exc:
        fail(str(exc), code=1)
    try:
        elapsed_s = _run(file, sender, speed, batch_lines)
    except SendError as exc:
        fail(f"{exc} ({sender.stats.lines:,} lines delivered before)", code=1)
    finally:
        sender.close()
    out_console.print(_summary(sender.stats, elapsed_s))
