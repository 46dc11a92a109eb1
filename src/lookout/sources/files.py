"""Files as sources: NMEA logs (plain or gzip), report CSVs and JSON lines.

:func:`iter_file_items` reads a file into what the core ingests:

- NMEA (``.nmea``, ``.nm4``, ``.ais``, ``.txt`` ...): one ``Frame`` per line, every line
  (blank lines and comments too: the pipeline counts them); times and receivers come from the
  lines themselves (tag blocks, ``$PGHP``, USCG trailers).
- CSV (MarineCadastre, Danish Maritime Authority, generic; see ``lookout.sources.records``):
  one ``ReportRecord`` per row.
- JSON lines: ``{"nmea": ...}`` objects become ``Frame``s, report objects ``ReportRecord``s.

A CSV row or JSON line that cannot be read is yielded as a ``Rejection`` (reason
``bad_record``, the line number in ``detail``), so it is counted, never dropped silently. A file
whose CSV header names no MMSI/time/position columns raises :class:`FileFormatError`.

The format is sniffed from the first non-blank line (``{`` JSON, ``!``/``$``/``\\`` NMEA, a
header with MMSI, time and position columns CSV), then from the extension (``.gz`` is looked
through); anything else is read as NMEA, whose decoder rejects what is not.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from lookout.model import Frame, Rejection, RejectReason, ReportRecord
from lookout.pipeline.ports import FrameSink, SourceItem, StopSignal
from lookout.sources.delivery import submit_with_retry
from lookout.sources.records import BadRecord, detect_layout, record_from_json

__all__ = [
    "FileFormatError",
    "FileSource",
    "FileStats",
    "item_time",
    "iter_file_items",
    "open_text",
    "peek_time",
    "sniff_format",
]

log = logging.getLogger(__name__)

FORMATS = ("nmea", "csv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class FileFormatError(ValueError):
    """The file is not in a format Lookout reads; the message says what was expected."""


def open_text(path: Path) -> TextIO:
    """Open for reading as text (UTF-8, bad bytes replaced), gunzipping ``.gz`` or gzip magic."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gzipped else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def sniff_format(path: Path) -> str:
    """``"nmea"``, ``"csv"`` or ``"jsonl"``, from the first non-blank line, else the extension."""
    with open_text(path) as stream:
        first = next((line.strip() for line in stream if line.strip()), "")
    if first.startswith("{"):
        return "jsonl"
    if first[:1] in ("!", "$", "\\"):
        return "nmea"
    if first and detect_layout(next(csv.reader([first]))) is not None:
        return "csv"
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return _EXTENSIONS.get(suffixes[-1], "nmea") if suffixes else "nmea"


def iter_file_items(
    path: str | Path, *, member: str, source: str, fmt: str | None = None
) -> Iterator[SourceItem]:
    """Read one file into frames, reports and rejections, in file order (see module doc)."""
    path = Path(path)
    fmt = fmt or sniff_format(path)
    if fmt not in FORMATS:
        raise FileFormatError(f"{path}: unknown format {fmt!r}; expected one of {FORMATS}")
    with open_text(path) as stream:
        if fmt == "nmea":
            yield from iter_nmea(stream, member=member, source=source)
        elif fmt == "csv":
            yield from iter_csv(stream, member=member, source=source, name=str(path))
        else:
            yield from iter_jsonl(stream, member=member, source=source)


def iter_nmea(lines: Iterable[str], *, member: str, source: str) -> Iterator[Frame]:
    for line in lines:
        yield Frame(line.rstrip("\r\n"), member, source)


def iter_csv(
    lines: Iterable[str], *, member: str, source: str, name: str = "<csv>"
) -> Iterator[ReportRecord | Rejection]:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    layout = detect_layout(header)
    if layout is None:
        raise FileFormatError(
            f"{name}: not a report CSV: the header needs MMSI, time, latitude and longitude "
            f"columns (MarineCadastre, Danish Maritime Authority or similar), got {header}"
        )
    log.debug("%s: CSV layout %s", name, layout.name)
    read = layout.reader(member=member, source=source)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the csv module's size limit
            detail = f"line {reader.line_num}: {exc}"
            yield Rejection(RejectReason.BAD_RECORD, source, "", detail)
            continue
        if not row:
            continue
        try:
            yield read(row)
        except BadRecord as exc:
            detail = f"line {reader.line_num}: {exc}"
            yield Rejection(RejectReason.BAD_RECORD, source, ",".join(row), detail)


def iter_jsonl(
    lines: Iterable[str], *, member: str, source: str
) -> Iterator[Frame | ReportRecord | Rejection]:
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            yield record_from_json(json.loads(line), member=member, source=source)
        except (BadRecord, ValueError) as exc:
            detail = f"line {number}: {exc}"
            yield Rejection(RejectReason.BAD_RECORD, source, line, detail)


# -- times for replay ----------------------------------------------------------------------


def peek_time(line: str) -> float | None:
    """The receive time a raw line carries, cheaply, or ``None``.

    Understands an NMEA 4.0 tag block ``c:`` (seconds, or milliseconds when above 1e11), a
    Gatehouse ``$PGHP,1,yyyy,mm,dd,HH,MM,SS,ms,...`` sentence and a USCG trailer
    (``...*hh,<receiver>,<epoch>``). Only for pacing a replay: the decoder reads these properly.
    """
    try:
        if line.startswith("\\"):
            return _tag_block_time(line)
        if line.startswith("$PGHP,"):
            f = line.split(",", 9)
            ms = int(f[8]) if f[8] else 0
            when = datetime(
                int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]), int(f[7]), tzinfo=UTC
            )
            return when.timestamp() + ms / 1000.0
        star = line.rfind("*")
        if line.startswith("!") and star > 0 and line[star + 3 : star + 4] == ",":
            last = line.rsplit(",", 1)[1].strip()
            return float(last) if last.isdigit() else None
    except (ValueError, IndexError, OverflowError):
        return None
    return None


def _tag_block_time(line: str) -> float | None:
    end = line.find("\\", 1)
    if end < 0:
        return None
    block = line[1:end].split("*", 1)[0]
    for fld in block.split(","):
        if fld.startswith("c:"):
            value = float(fld[2:])
            return value / 1000.0 if value > 1e11 else value
    return None


def item_time(item: SourceItem) -> float | None:
    """Data time of an item for replay pacing: report time, frame receive time or line time."""
    if isinstance(item, ReportRecord):
        return item.observed_ts
    if isinstance(item, Frame):
        return item.received_ts if item.received_ts is not None else peek_time(item.line)
    return None


# -- the source ----------------------------------------------------------------------------


@dataclass(slots=True)
class FileStats:
    """What a file source has read and handed on."""

    items: int = 0
    rejections: int = 0
    submitted: int = 0
    lost: int = 0
    done: bool = False
    error: str | None = None


class FileSource:
    """A file as a ``Source``: reads it once, submitting chunks of ``chunk_lines`` items.

    With ``speed`` set it replays: items are submitted at their recorded time intervals
    divided by ``speed`` (``speed=1`` real time, ``60`` a minute per second), times taken from
    tag blocks, ``$PGHP``, USCG trailers or CSV/JSON timestamps; items without a time go with
    the one before. ``max_gap_s`` shortens longer silences in the data to that many seconds.
    ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        member: str,
        name: str,
        speed: float | None = None,
        fmt: str | None = None,
        chunk_lines: int = 500,
        max_gap_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.path = Path(path)
        self.member = member
        self.name = name
        self.speed = speed
        self.fmt = fmt
        self.chunk_lines = chunk_lines
        self.max_gap_s = max_gap_s
        self.stats = FileStats()
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"FileSource({str(self.path)!r}, member={self.member!r}, name={self.name!r}, "
            f"speed={self.speed})"
        )

    def run(self, sink: FrameSink, stop: StopSignal) -> None:
        label = f"{self.member}/{self.name}"
        pending: list[SourceItem] = []
        pacer = _Pacer(self.speed, self.max_gap_s, self._clock) if self.speed else None
        try:
            items = iter_file_items(self.path, member=self.member, source=self.name, fmt=self.fmt)
            for item in items:
                if pacer is not None:
                    wait_s = pacer.wait_for(item)
                    if wait_s > _MIN_SLEEP_S:
                        self._deliver(sink, pending, stop, label)
                        if stop.wait(wait_s):
                            break
                self.stats.items += 1
                self.stats.rejections += isinstance(item, Rejection)
                pending.append(item)
                if len(pending) >= self.chunk_lines:
                    self._deliver(sink, pending, stop, label)
                    if stop.is_set():
                        break
        except (OSError, EOFError, FileFormatError) as exc:  # EOFError: truncated gzip
            self.stats.error = str(exc)
            log.error("%s: cannot read %s: %s", label, self.path, exc)
        finally:
            self._deliver(sink, pending, stop, label)
            self.stats.done = True
        log.info(
            "%s: %s read, %d items (%d rejected)",
            label,
            self.path,
            self.stats.items,
            self.stats.rejections,
        )

    def _deliver(
        self, sink: FrameSink, pending: list[SourceItem], stop: StopSignal, label: str
    ) -> None:
        if not pending:
            return
        chunk = list(pending)
        pending.clear()
        if submit_with_retry(sink, chunk, stop, label):
            self.stats.submitted += len(chunk)
        else:
            self.stats.lost += len(chunk)


_MIN_SLEEP_S = 0.02
"""Replay waits shorter than this are not slept: the items go with the current chunk."""


class _Pacer:
    """Maps data time to wall time for a replay at ``speed``."""

    def __init__(self, speed: float, max_gap_s: float | None, clock: Callable[[], float]):
        self.speed = speed
        self.max_gap_s = max_gap_s
        self.clock = clock
        self.start_data: float | None = None
        self.start_wall = 0.0
        self.last_data = 0.0

    def wait_for(self, item: SourceItem) -> float:
        """Seconds to wait before ``item`` is due (0 if it has no time or is late)."""
        ts = item_time(item)
        if ts is None:
            return 0.0
        if self.start_data is None:
            self.start_data, self.start_wall, self.last_data = ts, self.clock(), ts
            return 0.0
        gap = ts - self.last_data
        if self.max_gap_s is not None and gap > self.max_gap_s:
            self.start_data += gap - self.max_gap_s
        self.last_data = max(self.last_data, ts)
        due = self.start_wall + (ts - self.start_data) / self.speed
        return max(0.0, due - self.clock())
