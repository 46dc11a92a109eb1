"""Hops: impossible moves in one MMSI's track, and runs of them that keep alternating.

Shared by ``speed_anomaly`` and ``identity_conflict`` so the two agree on what is a jump and
what is two transmitters on one MMSI.

A :class:`Places` tracker keeps the last position of each *place* the MMSI was seen at
recently (at most :data:`MAX_PLACES`, none older than ``window_s``); the first is the current
one. A new position is *plausible* from a place if it is at most ``min_jump_m`` from it or
reachable from it at ``max_speed_kn``. A position plausible from the current place continues
it; so does one that is consistent with its own reported speed (at most twice its SOG plus
5 knots, ``max_speed_kn`` without SOG) from one of the :data:`MAX_SKIPPED` positions before
the current one (then the positions after that one were off, typically satellite reports with
wrong time stamps). Otherwise the move is a :class:`Hop`: a ``return`` to another recent place it is
plausible from (the nearest), or a ``jump`` to a new place.

A *run* is a sequence of consecutive hops (positions between them that continue their place
do not break it), all longer than a minimum distance, from the start of the first to the end
of the last within ``window_s``, at least ``min_hops`` of them, and at least one a return:
the track keeps coming back, as two transmitters sharing an MMSI make it do. A jump in no run
is a single jump (a speed anomaly); a run of hops longer than 10 km is an identity conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from lookout.detectors.vessel import Fix
from lookout.geo.distance import METRES_PER_DEGREE, distance_m, implied_speed_kn

__all__ = ["MAX_PLACES", "MAX_SKIPPED", "Hop", "Places", "is_sar_aircraft", "run_of"]

MAX_PLACES = 3
"""Places remembered per MMSI."""
MAX_SKIPPED = 3
"""Positions of the current place that may be skipped as off (bad time stamps)."""

_SURELY_WITHIN_DEG_PER_M = 1.0 / (METRES_PER_DEGREE * 1.4143)
"""Degrees per metre of a coordinate step that keeps a move within that many metres."""


def is_sar_aircraft(mmsi: int, msg_type: int) -> bool:
    """A search-and-rescue aircraft: message type 9, or an MMSI 111MIDxxx (ITU-R M.585)."""
    return msg_type == 9 or 111_000_000 <= mmsi <= 111_999_999


class Hop(NamedTuple):
    """An impossible move between consecutive positions: from ``start`` to ``end``."""

    start: Fix
    end: Fix
    distance_m: float
    speed_kn: float
    returned: bool
    """True: back to a place seen recently; False: a jump to a new place."""

    def dump(self) -> list[Any]:
        return [self.start.dump(), self.end.dump(), self.distance_m, self.speed_kn, self.returned]

    @classmethod
    def load(cls, data: Sequence[Any]) -> Hop:
        start, end, distance, speed, returned = data
        return cls(Fix.load(start), Fix.load(end), float(distance), float(speed), bool(returned))


@dataclass(slots=True)
class Places:
    """The recent places of one MMSI, the current first (see the module docstring)."""

    heads: list[Fix] = field(default_factory=list)
    before: list[Fix] = field(default_factory=list)
    """The positions before the current one on the current place (at most MAX_SKIPPED)."""

    def add(
        self,
        fix: Fix,
        max_speed_kn: float,
        min_jump_m: float,
        window_s: float,
        sog_kn: float | None = None,
    ) -> Hop | None:
        """Fold in the next position (``sog_kn``: its reported speed); the hop it makes, if
        any. Positions older than the current place's are ignored (``None``)."""
        heads = self.heads
        if not heads:
            heads.append(fix)
            return None
        current = heads[0]
        if fix.ts < current.ts:
            return None
        before = self.before
        # Nearly every report is a few hundred metres from the last: within min_jump_m for
        # certain when both coordinate steps are under its 1/sqrt(2) (longitude steps shrink
        # by cos(latitude) <= 1), so the great-circle distance need not be computed.
        near = min_jump_m * _SURELY_WITHIN_DEG_PER_M
        if abs(fix.lat - current.lat) < near and abs(fix.lon - current.lon) < near:
            before.append(current)
            if len(before) > MAX_SKIPPED:
                del before[0]
            heads[0] = fix
            return None
        moved = distance_m(current.lat, current.lon, fix.lat, fix.lon)
        speed = implied_speed_kn(moved, fix.ts - current.ts)
        if moved <= min_jump_m or speed <= max_speed_kn:
            before.append(current)
            if len(before) > MAX_SKIPPED:
                del before[0]
            heads[0] = fix
            return None
        skip_kn = max_speed_kn if sog_kn is None else min(max_speed_kn, 2.0 * sog_kn + 5.0)
        if any(_plausible(b, fix, skip_kn, min_jump_m) for b in self.before):
            heads[0] = fix  # the last positions were off (bad time stamps), not this one
            return None
        self.before = []
        back = self._plausible_place(fix, max_speed_kn, min_jump_m, window_s)
        if back is None:
            heads.insert(0, fix)
            del heads[MAX_PLACES:]
        else:
            heads.pop(back)
            heads.insert(0, fix)
        return Hop(current, fix, moved, speed, back is not None)

    def _plausible_place(
        self, fix: Fix, max_speed_kn: float, min_jump_m: float, window_s: float
    ) -> int | None:
        """Index of the nearest recent non-current place ``fix`` is plausible from."""
        best, best_m = None, float("inf")
        for i in range(1, len(self.heads)):
            head = self.heads[i]
            if fix.ts - head.ts > window_s:
                continue
            d = distance_m(head.lat, head.lon, fix.lat, fix.lon)
            if d < best_m and _plausible(head, fix, max_speed_kn, min_jump_m):
                best, best_m = i, d
        return best

    def dump(self) -> list[Any]:
        return [[h.dump() for h in self.heads], [b.dump() for b in self.before]]

    @classmethod
    def load(cls, data: Sequence[Any]) -> Places:
        heads, before = data
        return cls([Fix.load(h) for h in heads], [Fix.load(b) for b in before])


def _plausible(a: Fix, b: Fix, max_speed_kn: float, min_jump_m: float) -> bool:
    """Could one vessel have been at ``a`` and then at ``b``?"""
    d = distance_m(a.lat, a.lon, b.lat, b.lon)
    return d <= min_jump_m or implied_speed_kn(d, b.ts - a.ts) <= max_speed_kn


def run_of(hops: list[Hop], window_s: float, min_hops: int) -> list[Hop]:
    """Drop from the front of ``hops`` (time order, the newest last) those too old to share a
    run with the newest; the rest if they make a run, else ``[]``."""
    if not hops:
        return []
    newest = hops[-1].end.ts
    first = 0
    while first < len(hops) and newest - hops[first].start.ts > window_s:
        first += 1
    del hops[:first]
    if len(hops) >= min_hops and any(h.returned for h in hops):
        return list(hops)
    return []
