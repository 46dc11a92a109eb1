"""Non-AIS detections from a CSV file: satellite SAR/optical detections, radar contacts,
patrol sightings, for ``dark_vessel``.

The file has a header with (at least) the columns ``id``, ``timestamp``, ``lat``, ``lon`` and
``source``, in any order; names are compared normalised (case, surrounding blanks and ``#``
ignored) and other columns are ignored. ``timestamp`` is ISO 8601 (a time without offset is
UTC) or Unix seconds (milliseconds above 1e11); ``lat``/``lon`` are WGS84 degrees; ``source``
says what saw the vessel (``sar``, ``optical``, ``radar``, ``patrol``, ...). Gzip is read
transparently.

A row that cannot be used is skipped and reported in :attr:`DetectionsRead.errors` with its
line number and why: a missing field, a time or number that cannot be read, a latitude or
longitude out of range, or an ``id`` already used by an earlier row. Blank lines are skipped
without being counted. A file whose header lacks a required column is refused as a whole
(:class:`~lookout.sources.files.FileFormatError`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from lookout.model import Detection
from lookout.sources.files import FileFormatError, open_text
from lookout.sources.records import BadRecord, normalise, parse_time

__all__ = ["COLUMNS", "DetectionError", "DetectionsRead", "parse_detections", "read_detections"]

COLUMNS = ("id", "timestamp", "lat", "lon", "source")
"""The columns a detections CSV must have."""


class DetectionError(NamedTuple):
    """A row that was not read: its line number (1 is the header) and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class DetectionsRead:
    """What a detections file came to: the detections in file order, and the rows skipped."""

    detections: list[Detection] = field(default_factory=list)
    errors: list[DetectionError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Non-blank data rows read (detections plus errors)."""
        return len(self.detections) + len(self.errors)


def read_detections(path: str | Path, *, member: str = "") -> DetectionsRead:
    """Read a detections CSV (see the module docstring); ``member`` owns every detection."""
    path = Path(path)
    with open_text(path) as stream:
        return parse_detections(stream, member=member, name=str(path))


def parse_detections(
    lines: Iterable[str], *, member: str = "", name: str = "<detections>", feed: str = ""
) -> DetectionsRead:
    """:func:`read_detections` on lines already open; ``feed`` (``MEMBER/NAME``) is the
    source that delivered them."""
    reader = csv.reader(lines)
    header = next(reader, None)
    columns = {} if header is None else _columns(header)
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise FileFormatError(
            f"{name}: not a detections CSV: the header needs the columns "
            f"{', '.join(COLUMNS)}; missing {', '.join(missing)}"
        )
    read = DetectionsRead()
    first_line: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return read
        except csv.Error as exc:
            read.errors.append(DetectionError(reader.line_num, str(exc)))
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        line = reader.line_num
        try:
            det = _detection(row, columns, member, feed)
        except BadRecord as exc:
            read.errors.append(DetectionError(line, str(exc)))
            continue
        if det.id in first_line:
            message = f"id {det.id!r} already used on line {first_line[det.id]}"
            read.errors.append(DetectionError(line, message))
            continue
        first_line[det.id] = line
        read.detections.append(det)


def _columns(header: list[str]) -> dict[str, int]:
    """Required column -> its index (the first column of that name)."""
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = normalise(title)
        if key in COLUMNS and key not in found:
            found[key] = index
    return found


def _detection(row: list[str], columns: dict[str, int], member: str, feed: str) -> Detection:
    values = {}
    for column, index in columns.items():
        value = row[index].strip() if index < len(row) else ""
        if not value:
            raise BadRecord(f"{column}: missing")
        values[column] = value
    ts = parse_time(values["timestamp"])
    lat = _degrees(values["lat"], "lat", 90.0)
    lon = _degrees(values["lon"], "lon", 180.0)
    return Detection(values["id"], ts, lat, lon, values["source"], member, feed)


def _degrees(text: str, column: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRecord(f"{column}: not a number: {text!r}") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise BadRecord(f"{column}: {text} is out of range (-{limit:g} to {limit:g})")
    return value
