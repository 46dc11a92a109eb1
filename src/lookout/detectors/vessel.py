"""Shared pieces of the per-vessel detectors (``ais_gap``, ``loitering``, ``speed_anomaly``,
``identity_conflict``, ``position_on_land``): the config base, a remembered position, and the
fields every per-vessel event carries.

Every per-vessel event has ``id`` (``<kind>-<mmsi>-<start, Unix seconds>``, as
:func:`~lookout.detectors.pairwise.event_id`), ``mmsi``, ``mmsis`` (``[mmsi]``), ``start_ts``,
``end_ts`` (null while an episode is open), ``lat``, ``lon``, ``observations`` (the keys of the
observations it rests on), ``members`` (whose data) and ``details`` with the measured values
and ``thresholds`` (every setting in force).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from lookout.detectors.pairwise import event_id, field_names
from lookout.geo.distance import METRES_PER_DEGREE, distance_m
from lookout.geo.shore import Shore
from lookout.model import Observation

__all__ = [
    "BOUND_MARGIN_M",
    "Fix",
    "LatestFix",
    "ShoreCheck",
    "VesselConfig",
    "beyond_shore",
    "vessel_event",
]

BOUND_MARGIN_M = 0.01
"""Metres added to :meth:`ShoreCheck.moved_at_most_m` for rounding: it and
:meth:`ShoreCheck.bound`'s haversine round differently, by far less (about 1e-6 m for any
move short of the antipodes), so a screen with this margin never takes a position the exact
check would not."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VesselConfig:
    """Base of the per-vessel configs: every float field is a finite, non-negative setting
    (declared with :func:`~lookout.detectors.pairwise.setting`, which carries its help)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{type(self).__name__}.{f.name} must be >= 0, got {value!r}")

    def values(self) -> dict[str, float]:
        """Every numeric setting by name: the thresholds in force (a new dict each call;
        every event carries one)."""
        out = {}
        for name in field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = float(value)
        return out


class Fix(NamedTuple):
    """One remembered position of a vessel: when, where, and the observation behind it."""

    ts: float
    lat: float
    lon: float
    key: str
    member: str
    source: str = ""

    @classmethod
    def of(cls, obs: Observation) -> Fix:
        return cls(obs.observed_ts, obs.lat, obs.lon, obs.key, obs.member, obs.source)

    def dump(self) -> list[Any]:
        return list(self)

    @classmethod
    def load(cls, data: Sequence[Any]) -> Fix:
        ts, lat, lon, key, member, *source = data  # snapshots before 0.2 had no source
        return cls(float(ts), float(lat), float(lon), str(key), str(member), *map(str, source))


class LatestFix:
    """Base of a per-vessel state whose latest position is kept as the observation it came
    from (:meth:`follow`) until something reads it as a :class:`Fix` (:attr:`fix`): most
    positions are only ever replaced by the next one. ``fix_ts`` is its time, always at hand;
    a hot loop may set ``_obs`` and ``fix_ts`` itself, as :meth:`follow` does."""

    __slots__ = ("_fix", "_obs", "fix_ts")
    _fix: Fix
    _obs: Observation | None
    fix_ts: float

    @property
    def fix(self) -> Fix:
        if self._obs is not None:
            self._fix, self._obs = Fix.of(self._obs), None
        return self._fix

    @fix.setter
    def fix(self, fix: Fix) -> None:
        self._fix, self._obs, self.fix_ts = fix, None, fix.ts

    def follow(self, obs: Observation) -> None:
        """Make ``obs`` the latest position (its :class:`Fix` is built when first read)."""
        self._obs, self.fix_ts = obs, obs.observed_ts


def vessel_event(
    kind: str,
    mmsi: int,
    span: tuple[float, float | None],
    position: tuple[float, float],
    fixes: Iterable[Fix],
    details: dict[str, Any],
    thresholds: dict[str, float],
) -> dict[str, Any]:
    """The fields of a per-vessel event (see the module docstring); ``span`` is (start_ts,
    end_ts or None); ``fixes`` are the positions it rests on; ``details`` gets
    ``thresholds``."""
    rests_on = list(fixes)
    details["thresholds"] = thresholds
    return {
        "id": event_id(kind, (mmsi,), span[0]),
        "mmsi": mmsi,
        "mmsis": [mmsi],
        "start_ts": span[0],
        "end_ts": span[1],
        "lat": position[0],
        "lon": position[1],
        "observations": [f.key for f in rests_on if f.key],
        "members": sorted({f.member for f in rests_on}),
        "sources": sorted({f"{f.member}/{f.source}" for f in rests_on if f.source}),
        "details": details,
    }


class ShoreCheck(NamedTuple):
    """Where a vessel's distance to shore was last computed, and what it was.

    The distance to shore changes by at most the distance moved, so while a vessel stays
    well on one side of a threshold the exact (costly) computation can be skipped.
    """

    lat: float
    lon: float
    distance_m: float

    def bound(self, lat: float, lon: float) -> tuple[float, float]:
        """Lowest and highest possible distance to shore at (lat, lon)."""
        moved = distance_m(self.lat, self.lon, lat, lon)
        return self.distance_m - moved, self.distance_m + moved

    def moved_at_most_m(self, lat: float, lon: float) -> float:
        """A cheap upper bound of what :meth:`bound` measures from here to (lat, lon): the
        path along the meridian, then along the parallel (no longer than a degree of
        longitude at the equator), is no shorter than the great circle; plus
        :data:`BOUND_MARGIN_M` for rounding. So where ``distance_m`` plus (minus) this is
        still on one side of a threshold, so is :meth:`bound`'s answer. NaN when unknown."""
        dlon = abs((lon - self.lon + 180.0) % 360.0 - 180.0)
        return (abs(lat - self.lat) + dlon) * METRES_PER_DEGREE + BOUND_MARGIN_M


def beyond_shore(
    shore: Shore, last: ShoreCheck | None, lat: float, lon: float, threshold_m: float
) -> tuple[bool, ShoreCheck | None]:
    """Is (lat, lon) farther than ``threshold_m`` from shore (signed: negative thresholds are
    inland)? Reuses ``last`` when the answer cannot have changed; returns the check to keep."""
    if last is not None:
        low, high = last.bound(lat, lon)
        if low > threshold_m:
            return True, last
        if high <= threshold_m:
            return False, last
    check = ShoreCheck(lat, lon, shore.distance_to_shore_m(lat, lon))
    return check.distance_m > threshold_m, check
