"""Zones with a legal regime, and a fast index of which zones hold a position.

A :class:`Zone` is a frozen value: an id, a name, a legal :class:`Regime`, the member(s) that
own it (every claimant for a ``disputed`` zone), a shapely 2 ``Polygon``/``MultiPolygon`` in
WGS84 lon/lat, an ``approximate`` flag for derived boundaries ("approximate, not a legal
boundary") and a source/attribution string. Construction validates it: an invalid polygon is
refused with shapely's reason, never repaired with ``make_valid``.

Antimeridian: a zone's coordinates must lie within [-180, 180]. A zone that crosses the
antimeridian is stored as a MultiPolygon split at ±180 (one part ending at 180, the other
starting at -180); :func:`split_antimeridian` does that split for the importers, both for rings
written with continuous longitudes past 180 (170 .. 190) and for rings that jump from 179 to
-179. A position at longitude 180 or -180 is on the boundary of both parts.

:class:`ZoneIndex` answers :meth:`ZoneIndex.zones_at` without calling shapely for most
positions: a grid over the zones' extent, each cell classified once at build time as inside
or outside every zone, cells crossed by a boundary subdivided once more, and only positions
in a subdivided cell that a boundary still crosses tested exactly (prepared shapely
geometry). A position on a zone's boundary is inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from math import isfinite
from typing import Protocol, TypeAlias

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = [
    "OWNED_REGIMES",
    "Polygonal",
    "Positioned",
    "Regime",
    "Zone",
    "ZoneError",
    "ZoneIndex",
    "split_antimeridian",
]

Polygonal: TypeAlias = Polygon | MultiPolygon


class Regime(StrEnum):
    """The legal regime of a zone (UNCLOS maritime zones plus Lookout's own kinds)."""

    TERRITORIAL_SEA = "territorial_sea"
    """Up to 12 nm from the baselines: the coastal state's sovereignty (UNCLOS art. 3)."""
    CONTIGUOUS_ZONE = "contiguous_zone"
    """Up to 24 nm: customs, fiscal, immigration and sanitary control (UNCLOS art. 33)."""
    EEZ = "eez"
    """Exclusive economic zone, up to 200 nm: sovereign rights over resources (art. 57)."""
    INTERNAL_WATERS = "internal_waters"
    """Landward of the baselines: full sovereignty (UNCLOS art. 8)."""
    ARCHIPELAGIC_WATERS = "archipelagic_waters"
    """Enclosed by archipelagic baselines (UNCLOS art. 49)."""
    PROTECTED_AREA = "protected_area"
    """A marine protected area or fishing closure."""
    DISPUTED = "disputed"
    """An area claimed by several states; its owners are every claimant."""
    WATCH_AREA = "watch_area"
    """An area a member watches (a reef, a shoal), with no legal standing of its own."""


OWNED_REGIMES = frozenset(
    {
        Regime.TERRITORIAL_SEA,
        Regime.CONTIGUOUS_ZONE,
        Regime.EEZ,
        Regime.INTERNAL_WATERS,
        Regime.ARCHIPELAGIC_WATERS,
    }
)
"""Regimes that belong to a state: a zone of one of these names at least one owner."""


class ZoneError(ValueError):
    """A zone that cannot be built: the message names the zone and what is wrong."""


@dataclass(frozen=True, slots=True)
class Zone:
    """One zone: who owns it, under which regime, and where it is (WGS84 lon/lat)."""

    id: str
    name: str
    regime: Regime
    owners: tuple[str, ...]
    geometry: Polygonal
    approximate: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        try:
            regime = Regime(self.regime)
        except ValueError:
            known = ", ".join(r.value for r in Regime)
            raise ZoneError(f"zone {self.id!r}: unknown regime {self.regime!r} ({known})") from None
        object.__setattr__(self, "regime", regime)
        object.__setattr__(self, "owners", tuple(self.owners))
        problem = _problem(self)
        if problem:
            raise ZoneError(f"zone {self.id!r}: {problem}")


def _problem(zone: Zone) -> str:
    """What is wrong with ``zone`` ("" if nothing)."""
    if not isinstance(zone.id, str) or not zone.id.strip():
        return "the id is empty"
    if not isinstance(zone.name, str):
        return "the name is not a string"
    if any(not isinstance(o, str) or not o.strip() for o in zone.owners):
        return f"an owner is empty: {zone.owners!r}"
    if len(set(zone.owners)) != len(zone.owners):
        return f"an owner is listed twice: {zone.owners!r}"
    if zone.regime is Regime.DISPUTED and len(zone.owners) < 2:
        return "a disputed zone lists every claimant (at least two owners)"
    if zone.regime in OWNED_REGIMES and not zone.owners:
        return f"a {zone.regime.value} zone needs its owner"
    return _geometry_problem(zone.geometry)


def _geometry_problem(geometry: object) -> str:
    if not isinstance(geometry, Polygon | MultiPolygon):
        kind = getattr(geometry, "geom_type", type(geometry).__name__)
        return f"the geometry is a {kind}, not a Polygon or MultiPolygon"
    if geometry.is_empty:
        return "the geometry is empty"
    if not geometry.is_valid:
        return f"invalid geometry: {shapely.is_valid_reason(geometry)}"
    west, south, east, north = geometry.bounds
    if west < -180.0 or east > 180.0 or south < -90.0 or north > 90.0:
        bounds = f"({west:g}, {south:g}, {east:g}, {north:g})"
        return f"coordinates {bounds} outside lon -180..180 / lat -90..90"
    return ""


# -- antimeridian ---------------------------------------------------------------------------


def split_antimeridian(geometry: BaseGeometry) -> BaseGeometry:
    """``geometry`` with every polygon that crosses the antimeridian split at ±180.

    A ring with an edge spanning more than 180 degrees of longitude is read as crossing the
    antimeridian the short way (179 -> -179 is 2 degrees east). Polygons already within
    [-180, 180] and non-polygonal geometries come back unchanged.
    """
    if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
        return geometry
    polygons = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
    if all(_within_world(p) and not _jumps(p) for p in polygons):
        return geometry
    parts: list[Polygon] = []
    for polygon in polygons:
        parts.extend(_split_polygon(_unwrap(polygon)))
    if len(parts) < 2:
        return parts[0] if parts else MultiPolygon()
    return shapely.unary_union(parts)


def _within_world(polygon: Polygon) -> bool:
    west, _, east, _ = polygon.bounds
    return bool(west >= -180.0 and east <= 180.0)


def _jumps(polygon: Polygon) -> bool:
    rings = [polygon.exterior, *polygon.interiors]
    for ring in rings:
        xs = shapely.get_coordinates(ring)[:, 0]
        if len(xs) > 1 and float(abs(xs[1:] - xs[:-1]).max()) > 180.0:
            return True
    return False


def _unwrap_ring(
    coords: Sequence[tuple[float, float]], near: float | None
) -> list[tuple[float, float]]:
    """The ring with longitudes made continuous (each step the short way round)."""
    x0 = coords[0][0]
    if near is not None:
        x0 += 360.0 * round((near - x0) / 360.0)
    out = [(x0, coords[0][1])]
    for (xa, _), (xb, yb) in pairwise(coords):
        step = (xb - xa + 180.0) % 360.0 - 180.0
        out.append((out[-1][0] + step, yb))
    if abs(out[-1][0] - out[0][0]) > 1e-9:
        raise ZoneError("a ring goes all the way round the Earth (around a pole)")
    return out


def _unwrap(polygon: Polygon) -> Polygon:
    if not _jumps(polygon):
        return polygon
    shell = _unwrap_ring(list(polygon.exterior.coords), None)
    holes = [_unwrap_ring(list(r.coords), shell[0][0]) for r in polygon.interiors]
    return Polygon(shell, holes)


def _split_polygon(polygon: Polygon) -> list[Polygon]:
    if _within_world(polygon):
        return [polygon]
    pieces: list[Polygon] = []
    for turn in (-1, 0, 1):
        window = shapely.box(-180.0 + 360.0 * turn, -90.0, 180.0 + 360.0 * turn, 90.0)
        piece = shapely.transform(
            polygon.intersection(window), lambda xy, t=turn: xy - (360.0 * t, 0.0)
        )
        pieces.extend(p for p in shapely.get_parts(piece) if isinstance(p, Polygon) and p.area > 0)
    return pieces


# -- the index -------------------------------------------------------------------------------

_EPS_DEG = 1e-9
"""Cells are classified on boxes grown by this much, so rounding cannot misplace a position."""


class Positioned(Protocol):
    """Anything with a position in WGS84 degrees (an observation, a fix)."""

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...


class _Split:
    """A cell crossed by a boundary, divided into ``k`` x ``k`` sub-cells."""

    __slots__ = ("cells", "inv", "k", "x0", "y0")

    def __init__(self, x0: float, y0: float, size: float, k: int, cells: list[object]) -> None:
        self.x0, self.y0, self.inv, self.k, self.cells = x0, y0, 1.0 / size, k, cells


class _Exact:
    """A smallest cell still crossed by a boundary: zones surely in, zones to test exactly."""

    __slots__ = ("inside", "partial")

    def __init__(self, inside: tuple[int, ...], partial: tuple[int, ...]) -> None:
        self.inside, self.partial = inside, partial


class _Answer:
    """The zones (and their ids) that hold every position of a cell."""

    __slots__ = ("ids", "zones")

    def __init__(self, zones: tuple[Zone, ...]) -> None:
        self.zones, self.ids = zones, tuple(z.id for z in zones)


_NONE = _Answer(())


class ZoneIndex:
    """Which zones hold a position: :meth:`zones_at`, in the order the zones were given.

    ``max_cells`` bounds the top grid (its cells are square, in degrees); each top cell a
    boundary crosses is divided into ``split`` x ``split`` sub-cells. Zone ids must be unique.
    """

    def __init__(self, zones: Iterable[Zone] = (), *, max_cells: int = 16_384, split: int = 8):
        self._zones = tuple(zones)
        self._by_id = {z.id: z for z in self._zones}
        if len(self._by_id) != len(self._zones):
            ids = [z.id for z in self._zones]
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise ZoneError(f"zone ids must be unique; repeated: {', '.join(twice)}")
        self._geoms = [z.geometry for z in self._zones]
        self._answers: dict[tuple[int, ...], _Answer] = {(): _NONE}
        self._last: tuple[float, float, _Answer] = (float("nan"), float("nan"), _NONE)
        self._last_batch: tuple[Sequence[Positioned], list[bool]] | None = None
        for geometry in self._geoms:
            shapely.prepare(geometry)
        self._build(max(1, max_cells), max(2, split))

    @property
    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    def __len__(self) -> int:
        return len(self._zones)

    def get(self, zone_id: str) -> Zone | None:
        """The zone with id ``zone_id``, or ``None``."""
        return self._by_id.get(zone_id)

    def zones_at(self, lat: float, lon: float) -> tuple[Zone, ...]:
        """The zones that hold (``lat``, ``lon``), boundaries included; ``()`` if none.

        The last answer is remembered, so detectors sharing this index look a position up once.
        """
        return self._answer(lat, lon).zones

    def ids_at(self, lat: float, lon: float) -> tuple[str, ...]:
        """The ids of :meth:`zones_at`, in the same order."""
        return self._answer(lat, lon).ids

    def clear_of_zones(self, positions: Sequence[Positioned]) -> list[bool]:
        """For each position: True where it is surely in no zone (outside the grid, or in a
        top cell no zone touches); False where :meth:`ids_at` must be asked. One numpy pass
        for a whole batch; the answer for the last batch (the same list object) is
        remembered, so both zone detectors screen a batch once."""
        last = self._last_batch
        if last is not None and last[0] is positions:
            return last[1]
        lat = np.fromiter((p.lat for p in positions), np.float64, len(positions))
        lon = np.fromiter((p.lon for p in positions), np.float64, len(positions))
        with np.errstate(invalid="ignore"):
            lon = np.where((lon >= -180.0) & (lon <= 180.0), lon, (lon + 180.0) % 360.0 - 180.0)
            # the same arithmetic as _lookup; int() truncates, and negatives are outside anyway
            ix = (lon - self._x0) * self._inv
            iy = (lat - self._y0) * self._inv
            off = (lon < self._x0) | (lat < self._y0) | (ix >= self._nx) | (iy >= self._ny)
        ok = np.isfinite(lat) & np.isfinite(lon) & (lat >= -90.0) & (lat <= 90.0)
        cell = np.where(
            off | ~ok,
            0,
            iy.astype(np.int64, copy=False) * self._nx + ix.astype(np.int64, copy=False),
        )
        clear = ok & (off | self._empty[np.clip(cell, 0, len(self._empty) - 1)])
        answer: list[bool] = clear.tolist()
        self._last_batch = (positions, answer)
        return answer

    def _answer(self, lat: float, lon: float) -> _Answer:
        last = self._last
        if last[0] == lat and last[1] == lon:
            return last[2]
        found = self._lookup(lat, lon)
        self._last = (lat, lon, found)
        return found

    def _lookup(self, lat: float, lon: float) -> _Answer:
        if not (-90.0 <= lat <= 90.0) or not isfinite(lon):
            return _NONE
        if not -180.0 <= lon <= 180.0:
            lon = (lon + 180.0) % 360.0 - 180.0
        if lon < self._x0 or lat < self._y0:
            return _NONE
        ix = int((lon - self._x0) * self._inv)
        iy = int((lat - self._y0) * self._inv)
        if ix >= self._nx or iy >= self._ny:
            return _NONE
        cell = self._cells[iy * self._nx + ix]
        if cell.__class__ is _Split:
            split: _Split = cell
            k = split.k
            jx = min(k - 1, max(0, int((lon - split.x0) * split.inv)))
            jy = min(k - 1, max(0, int((lat - split.y0) * split.inv)))
            cell = split.cells[jy * k + jx]
        if cell.__class__ is _Exact:
            return self._exact(cell, lat, lon)
        return cell  # type: ignore[return-value]

    def _exact(self, cell: _Exact, lat: float, lon: float) -> _Answer:
        hits = [i for i in cell.partial if shapely.intersects_xy(self._geoms[i], lon, lat)]
        return self._final((*cell.inside, *hits))

    # -- build -----------------------------------------------------------------------------

    def _build(self, max_cells: int, split: int) -> None:
        if self._zones:
            west, south, east, north = shapely.total_bounds(self._geoms).tolist()
        else:
            west, south, east, north = 0.0, 0.0, 1.0, 1.0
        size = max(east - west, north - south, 1e-6) / max(1.0, float(max_cells) ** 0.5)
        inv = 1.0 / size
        self._x0, self._y0, self._inv = west, south, inv
        nx = self._nx = int((east - west) * inv) + 1  # the same sum as in _lookup
        ny = self._ny = int((north - south) * inv) + 1
        cell = np.arange(nx * ny)
        xs, ys = west + (cell % nx) * size, south + (cell // nx) * size
        by_zone: dict[int, np.ndarray] = {}
        for z, geometry in enumerate(self._geoms):
            zw, zs, ze, zn = geometry.bounds
            cols = np.arange(
                max(0, int((zw - west) / size) - 1), min(nx, int((ze - west) / size) + 2)
            )
            rows = np.arange(
                max(0, int((zs - south) / size) - 1), min(ny, int((zn - south) / size) + 2)
            )
            by_zone[z] = (rows[:, None] * nx + cols[None, :]).ravel()
        inside, partial = self._classify(xs, ys, size, by_zone)
        self._cells: list[object] = [self._final(inside.get(n, ())) for n in range(nx * ny)]
        pending = sorted(partial)
        self._subdivide(pending, xs[pending], ys[pending], size, split, inside, partial)
        self._empty = np.array([cell is _NONE for cell in self._cells], dtype=bool)
        """Per top cell: no zone touches it (the screen of :meth:`clear_of_zones`)."""

    def _subdivide(
        self,
        pending: list[int],
        xs: np.ndarray,
        ys: np.ndarray,
        size: float,
        k: int,
        inside: dict[int, list[int]],
        partial: dict[int, list[int]],
    ) -> None:
        """Divide each pending top cell into k x k sub-cells, classified against its zones."""
        sub = size / k
        j = np.arange(k * k)
        child_xs = (xs[:, None] + (j % k) * sub).ravel()
        child_ys = (ys[:, None] + (j // k) * sub).ravel()
        by_zone: dict[int, list[int]] = {}
        for m, n in enumerate(pending):
            for z in partial[n]:
                by_zone.setdefault(z, []).append(m)
        children = {z: (np.asarray(ms)[:, None] * k * k + j).ravel() for z, ms in by_zone.items()}
        c_inside, c_partial = self._classify(child_xs, child_ys, sub, children)
        for m, n in enumerate(pending):
            cells: list[object] = []
            for c in range(m * k * k, (m + 1) * k * k):
                ins = (*inside.get(n, ()), *c_inside.get(c, ()))
                part = c_partial.get(c)
                cells.append(_Exact(tuple(sorted(ins)), tuple(part)) if part else self._final(ins))
            self._cells[n] = _Split(float(xs[m]), float(ys[m]), sub, k, cells)

    def _final(self, inside: Sequence[int]) -> _Answer:
        """The answer for a position inside exactly these zones (one shared object per set)."""
        key = tuple(sorted(inside))
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = _Answer(tuple(self._zones[i] for i in key))
        return found

    def _classify(
        self, xs: np.ndarray, ys: np.ndarray, size: float, by_zone: Mapping[int, np.ndarray]
    ) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """Cells -> the zones covering them, and cells -> the zones whose boundary crosses them.

        ``by_zone`` lists, per zone, the cells (indexes into ``xs``/``ys``, the cells'
        south-west corners) to test against it; every other cell is outside it.
        """
        inside: dict[int, list[int]] = {}
        partial: dict[int, list[int]] = {}
        for z in sorted(by_zone):
            cells = by_zone[z]
            lo_x, lo_y = xs[cells] - _EPS_DEG, ys[cells] - _EPS_DEG
            boxes = shapely.box(lo_x, lo_y, lo_x + size + 2 * _EPS_DEG, lo_y + size + 2 * _EPS_DEG)
            covered = shapely.covers(self._geoms[z], boxes)
            for c in cells[covered].tolist():
                inside.setdefault(c, []).append(z)
            rest = ~covered
            touched = shapely.intersects(self._geoms[z], boxes[rest])
            for c in cells[rest][touched].tolist():
                partial.setdefault(c, []).append(z)
        return inside, partial
