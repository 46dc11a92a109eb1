"""Track points and vessel states as rows: the hot path's form of the value types.

A row is a plain tuple of a value's fields in declaration order (``TrackPoint(*row)`` is the
value). The pipeline builds rows, several times cheaper than frozen dataclasses, and hands a
batch of them on as :class:`TrackRows` / :class:`VesselRows`: read-only sequences of the values
that build each value only when it is read. A store that can take rows directly reads
``.rows`` instead (:class:`~lookout.storage.sqlite.SqliteStore` does).

:func:`new_track_point` and :func:`new_vessel_state` build the values themselves: a frozen
dataclass's ``__init__`` goes through ``object.__setattr__`` per field (1.2 us for a
:class:`TrackPoint` and 2.9 us for a :class:`VesselState` on CPython 3.11); these set the
slots directly and build the very same objects (equal, hashable, immutable) in about half the
time. The field lists are checked at import, so a change to the model fails loudly here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from typing import Any, Generic, TypeVar, overload

from lookout.model import TrackPoint, VesselState

__all__ = [
    "TRACK_POINT_FIELDS",
    "VESSEL_STATE_FIELDS",
    "TrackRow",
    "TrackRows",
    "VesselRow",
    "VesselRows",
    "new_track_point",
    "new_vessel_state",
]

TrackRow = tuple[
    int, int, float, float, float, float | None, float | None, int | None, str, str,
    tuple[str, ...],
]  # fmt: skip
"""The fields of a :class:`TrackPoint` but the last, ``received_ts``, in order: a whole
batch's points share their receive time (``StoreBatch.received_ts``)."""
VesselRow = tuple[Any, ...]
"""The twenty fields of a :class:`VesselState`, in order."""

# fmt: off
TRACK_POINT_FIELDS = (
    "mmsi", "segment", "observed_ts", "lat", "lon", "speed_kn", "course_deg", "heading_deg",
    "member", "source", "receivers",
)
VESSEL_STATE_FIELDS = (
    "mmsi", "segment", "observed_ts", "lat", "lon", "speed_kn", "course_deg", "heading_deg",
    "status", "flag", "name", "callsign", "imo", "ship_type", "destination", "length_m",
    "members", "sources", "positions", "simulated",
)
# fmt: on
if (
    tuple(f.name for f in fields(TrackPoint)) != (*TRACK_POINT_FIELDS, "received_ts")
    or tuple(f.name for f in fields(VesselState)) != VESSEL_STATE_FIELDS
):  # pragma: no cover - guards a model change
    raise RuntimeError("lookout.model changed: update lookout.model.rows")

_new_object = object.__new__
# fmt: off
(
    _tp_mmsi, _tp_segment, _tp_ts, _tp_lat, _tp_lon, _tp_speed, _tp_course, _tp_heading,
    _tp_member, _tp_source, _tp_receivers, _tp_received,
) = (getattr(TrackPoint, name).__set__ for name in (*TRACK_POINT_FIELDS, "received_ts"))
(
    _vs_mmsi, _vs_segment, _vs_ts, _vs_lat, _vs_lon, _vs_speed, _vs_course, _vs_heading,
    _vs_status, _vs_flag, _vs_name, _vs_callsign, _vs_imo, _vs_ship_type, _vs_destination,
    _vs_length, _vs_members, _vs_sources, _vs_positions, _vs_simulated,
) = (getattr(VesselState, name).__set__ for name in VESSEL_STATE_FIELDS)
# fmt: on


def new_track_point(
    mmsi: int,
    segment: int,
    ts: float,
    lat: float,
    lon: float,
    speed_kn: float | None,
    course_deg: float | None,
    heading_deg: int | None,
    member: str,
    source: str,
    receivers: tuple[str, ...],
    received_ts: float | None = None,
) -> TrackPoint:
    """``TrackPoint(...)`` with the same positional arguments, twice as fast."""
    point: TrackPoint = _new_object(TrackPoint)
    _tp_mmsi(point, mmsi)
    _tp_segment(point, segment)
    _tp_ts(point, ts)
    _tp_lat(point, lat)
    _tp_lon(point, lon)
    _tp_speed(point, speed_kn)
    _tp_course(point, course_deg)
    _tp_heading(point, heading_deg)
    _tp_member(point, member)
    _tp_source(point, source)
    _tp_receivers(point, receivers)
    _tp_received(point, received_ts)
    return point


def new_vessel_state(
    mmsi: int,
    segment: int,
    ts: float,
    lat: float,
    lon: float,
    speed_kn: float | None,
    course_deg: float | None,
    heading_deg: int | None,
    status: int | None,
    flag: str | None,
    name: str | None,
    callsign: str | None,
    imo: int | None,
    ship_type: int | None,
    destination: str | None,
    length_m: int | None,
    members: tuple[str, ...],
    sources: tuple[str, ...],
    positions: int,
    simulated: bool,
) -> VesselState:
    """``VesselState(...)`` with the same positional arguments, about three times as fast."""
    state: VesselState = _new_object(VesselState)
    _vs_mmsi(state, mmsi)
    _vs_segment(state, segment)
    _vs_ts(state, ts)
    _vs_lat(state, lat)
    _vs_lon(state, lon)
    _vs_speed(state, speed_kn)
    _vs_course(state, course_deg)
    _vs_heading(state, heading_deg)
    _vs_status(state, status)
    _vs_flag(state, flag)
    _vs_name(state, name)
    _vs_callsign(state, callsign)
    _vs_imo(state, imo)
    _vs_ship_type(state, ship_type)
    _vs_destination(state, destination)
    _vs_length(state, length_m)
    _vs_members(state, members)
    _vs_sources(state, sources)
    _vs_positions(state, positions)
    _vs_simulated(state, simulated)
    return state


T = TypeVar("T")


class _Rows(Sequence[T], Generic[T]):
    """A read-only sequence of values kept as rows; each value is built when read."""

    __slots__ = ("rows",)
    _make: Callable[..., T]

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows
        """The rows themselves (a store may read them instead of the values)."""

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._make(*row) for row in self.rows[index]]
        return self._make(*self.rows[index])

    def __iter__(self) -> Iterator[T]:
        make = self._make
        for row in self.rows:
            yield make(*row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Rows):
            return self.rows == other.rows
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.rows)} rows)"


class TrackRows(_Rows[TrackPoint]):
    """Track points kept as :data:`TrackRow` tuples."""

    __slots__ = ()
    _make = staticmethod(new_track_point)


class VesselRows(_Rows[VesselState]):
    """Vessel states kept as :data:`VesselRow` tuples."""

    __slots__ = ()
    _make = staticmethod(new_vessel_state)
