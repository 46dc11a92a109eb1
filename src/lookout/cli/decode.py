"""``lookout decode``: decode NMEA files (or stdin) to JSON lines or a summary table.

With ``--json`` every decoded message is one JSON object on stdout (the contract of
``lookout.ais.contract``); rejected lines print nothing on stdout and are summed by reason on
stderr. Input is read and written as a stream, in chunks of ``CHUNK_LINES`` lines.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import orjson
import typer
from rich.table import Table

from lookout.ais.types import AisMessage, DecodeError
from lookout.cli.common import chunked, err_console, out_console, require_files, summary_table
from lookout.model import Rejection

__all__ = ["DecodeTotals", "decode", "decode_lines"]

CHUNK_LINES = 2_000


@dataclass(slots=True)
class DecodeTotals:
    """What a decode run came to."""

    lines: int = 0
    messages: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    types: Counter[int] = field(default_factory=Counter)
    mmsis: set[int] = field(default_factory=set)


def decode_lines(
    lines: Iterable[str],
    source: str,
    emit: Callable[[dict[str, Any]], None],
    totals: DecodeTotals,
) -> None:
    """Frame, decode and ``emit`` each message of ``lines`` as its contract dict."""
    from lookout.ais.framing import Framer

    framer = Framer(member="local", source=source)
    for chunk in chunked((line.rstrip("\r\n") for line in lines), CHUNK_LINES):
        totals.lines += len(chunk)
        messages, rejections = framer.feed_many(chunk)
        _count(rejections, totals)
        _decode_messages(messages, emit, totals)
    _count(framer.flush(), totals)


def _count(rejections: Iterable[Rejection], totals: DecodeTotals) -> None:
    for rejection in rejections:
        totals.rejected[rejection.reason.value] += 1


def _decode_messages(
    messages: Iterable[AisMessage], emit: Callable[[dict[str, Any]], None], totals: DecodeTotals
) -> None:
    from lookout.ais.contract import to_contract
    from lookout.ais.decode import decode as decode_payload

    for msg in messages:
        try:
            fields = decode_payload(msg.payload, msg.fill_bits)
        except DecodeError as exc:
            totals.rejected[exc.reason.value] += 1
            continue
        obj = to_contract(fields, received_ts=msg.received_ts, source=msg.receiver)
        totals.messages += 1
        totals.types[int(obj.get("msg_type", 0))] += 1
        mmsi = obj.get("mmsi")
        if isinstance(mmsi, int):
            totals.mmsis.add(mmsi)
        emit(obj)


def _json_writer(out: IO[bytes]) -> Callable[[dict[str, Any]], None]:
    def emit(obj: dict[str, Any]) -> None:
        out.write(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS, default=str) + b"\n")

    return emit


def _summary(totals: DecodeTotals) -> Table:
    rows: list[tuple[str, int | str]] = [
        ("lines", totals.lines),
        ("messages decoded", totals.messages),
        ("distinct MMSI", len(totals.mmsis)),
    ]
    rows += [(f"type {t}", n) for t, n in sorted(totals.types.items())]
    rows += [(f"rejected: {reason}", n) for reason, n in sorted(totals.rejected.items())]
    return summary_table("lookout decode", rows)


def _rejects_line(totals: DecodeTotals) -> str:
    parts = ", ".join(f"{reason} {n:,}" for reason, n in sorted(totals.rejected.items()))
    return (
        f"lookout decode: {totals.lines:,} lines, {totals.messages:,} messages, "
        f"rejected: {parts or 'none'}"
    )


def decode(
    files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE", help="NMEA files; none or '-' reads stdin."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object per decoded message on stdout.")
    ] = False,
) -> None:
    """Decode AIS NMEA lines; rejected lines are counted by reason, never printed.

    With --json each decoded message is one JSON object on stdout (msg_type, mmsi, pyais's
    field names, received_at, source) and a one-line summary of rejects goes to stderr;
    without it a summary table is printed. Exit 0 unless a file is missing (2).
    """
    paths = [p for p in files or [] if str(p) != "-"]
    require_files(paths)
    totals = DecodeTotals()
    out = sys.stdout.buffer
    emit = _json_writer(out) if json_out else (lambda obj: None)
    try:
        for path in files or [Path("-")]:
            if str(path) == "-":
                decode_lines(sys.stdin, "stdin", emit, totals)
                continue
            with path.open(encoding="utf-8", errors="replace", newline="") as fh:
                decode_lines(fh, path.name, emit, totals)
        out.flush()
    except BrokenPipeError:  # e.g. `lookout decode --json f | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    if json_out:
        err_console.print(_rejects_line(totals), markup=False, highlight=False, soft_wrap=True)
    else:
        out_console.print(_summary(totals))
