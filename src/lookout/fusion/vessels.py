"""The mutable per-vessel records of :class:`~lookout.fusion.tracks.VesselTracker`.

Also what turns them into values and back: :func:`state_row` (a
:data:`~lookout.model.rows.VesselRow`), :func:`state_of` (a :class:`VesselState`), :func:`seed`
(start from a stored state), :func:`dump` / :func:`load` (JSON-able snapshots).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lookout.fusion.identity import Identity
from lookout.model import VesselState
from lookout.model.rows import VesselRow, new_vessel_state

__all__ = ["Latest", "Segment", "Vessel", "dump", "load", "seed", "state_of", "state_row"]

Latest = tuple[float, float, float, float | None, float | None, int | None, int | None, int, bool]
"""``(ts, lat, lon, speed_kn, course_deg, heading_deg, status, segment, simulated)``."""


class Segment:
    """One live segment: its id and its last point (newest observed time)."""

    __slots__ = ("id", "last_ts", "lat", "lon")

    def __init__(self, segment_id: int, ts: float, lat: float, lon: float) -> None:
        self.id = segment_id
        self.last_ts = ts
        self.lat = lat
        self.lon = lon


class Vessel:
    """Mutable per-MMSI state.

    ``latest`` is the newest position as one tuple ``(ts, lat, lon, speed_kn, course_deg,
    heading_deg, status, segment, simulated)`` (one store per update on the hot path), or
    ``None`` until the first position; ``ts`` repeats its time for quick comparisons.
    """

    __slots__ = (
        "ais_class",
        "feed",
        "flag",
        "identity",
        "latest",
        "members",
        "mmsi",
        "positions",
        "seen_ts",
        "segments",
        "sources",
        "ts",
    )

    def __init__(self, mmsi: int, flag: str | None, seen_ts: float) -> None:
        self.mmsi = mmsi
        self.flag = flag
        self.segments: list[Segment] = []
        self.ts: float | None = None
        self.latest: Latest | None = None
        self.identity = Identity()
        self.members: tuple[str, ...] = ()
        self.sources: tuple[str, ...] = ()
        self.feed = ""
        """``MEMBER/NAME`` of the source of the latest position (not kept across restarts)."""
        self.ais_class: str | None = None
        """``A``, ``B`` or ``SAR``: the station class of the latest position that tells one
        (:data:`~lookout.ais.tables.AIS_CLASS_OF_TYPE`); not in the stored state."""
        self.positions = 0
        self.seen_ts = seen_ts


def seed(vessel: Vessel, known: VesselState) -> None:
    """Start from a stored state: identity, contributors, counts and the latest position (as
    the one live segment, so the track continues across a restart or an eviction)."""
    ident = vessel.identity
    ident.name, ident.callsign, ident.imo = known.name, known.callsign, known.imo
    ident.ship_type, ident.destination = known.ship_type, known.destination
    ident.length_m = known.length_m
    vessel.members, vessel.sources = tuple(known.members), tuple(known.sources)
    vessel.positions = known.positions
    vessel.ts = known.observed_ts
    vessel.latest = (
        known.observed_ts, known.lat, known.lon, known.speed_kn, known.course_deg,
        known.heading_deg, known.status, known.segment, known.simulated,
    )  # fmt: skip
    vessel.segments = [Segment(known.segment, known.observed_ts, known.lat, known.lon)]
    vessel.seen_ts = max(vessel.seen_ts, known.observed_ts)


def state_row(v: Vessel) -> VesselRow:
    """The value of a vessel that has a position, as a row."""
    ident = v.identity
    assert v.latest is not None
    ts, lat, lon, speed_kn, course_deg, heading_deg, status, segment, simulated = v.latest
    # fmt: off
    return (
        v.mmsi, segment, ts, lat, lon, speed_kn, course_deg, heading_deg, status, v.flag,
        ident.name, ident.callsign, ident.imo, ident.ship_type, ident.destination,
        ident.length_m, v.members, v.sources, v.positions, simulated,
    )
    # fmt: on


def state_of(v: Vessel) -> VesselState:
    """The value of a vessel that has a position."""
    return new_vessel_state(*state_row(v))


_IDENT = ("name", "callsign", "imo", "ship_type", "destination", "length_m", "updated_ts",
          "version")  # fmt: skip


def dump(v: Vessel) -> dict[str, Any]:
    """A JSON-able form of one vessel (see :func:`load`)."""
    return {
        "mmsi": v.mmsi,
        "latest": None if v.latest is None else list(v.latest),
        "identity": [getattr(v.identity, k) for k in _IDENT],
        "segments": [[s.id, s.last_ts, s.lat, s.lon] for s in v.segments],
        "members": list(v.members),
        "sources": list(v.sources),
        "positions": v.positions,
        "seen_ts": v.seen_ts,
        "ais_class": v.ais_class,
    }


def load(row: dict[str, Any], flag: Callable[[int], str | None]) -> Vessel:
    """Inverse of :func:`dump`."""
    mmsi = int(row["mmsi"])
    vessel = Vessel(mmsi, flag(mmsi), float(row["seen_ts"]))
    latest = row["latest"]
    if latest is not None:
        ts, lat, lon, speed, course, heading, status, segment, simulated = latest
        vessel.latest = (ts, lat, lon, speed, course, heading, status, segment, bool(simulated))
        vessel.ts = ts
    for key, value in zip(_IDENT, row["identity"], strict=True):
        setattr(vessel.identity, key, value)
    vessel.segments = [
        Segment(int(i), float(t), float(a), float(o)) for i, t, a, o in row["segments"]
    ]
    vessel.members = tuple(row["members"])
    vessel.sources = tuple(row["sources"])
    vessel.positions = int(row["positions"])
    vessel.ais_class = row.get("ais_class")  # absent from snapshots before it was kept
    return vessel
