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

Nearly every position only continues the current place a few hundred metres on, and changes
nothing but the place's last position. :class:`PlaceScreenDetector` (the base of both
detectors) screens a batch for those: per MMSI it keeps a *cursor* with the current place's
position, and a position that is surely within ``min_jump_m`` of it, no older, is only
appended to the cursor; the state is brought up to date (:meth:`Places.fold`) the next time
anything else reads or changes it. Every other position goes to the detector's ``update``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, TypeVar

from lookout.detectors.base import Detector, Event
from lookout.detectors.vessel import Fix
from lookout.geo.distance import METRES_PER_DEGREE, distance_m, implied_speed_kn
from lookout.model import Observation

__all__ = [
    "MAX_PLACES",
    "MAX_SKIPPED",
    "Cursor",
    "Hop",
    "PlaceScreenDetector",
    "Places",
    "is_sar_aircraft",
    "near_deg",
    "run_of",
]

MAX_PLACES = 3
"""Places remembered per MMSI."""
MAX_SKIPPED = 3
"""Positions of the current place that may be skipped as off (bad time stamps)."""

_SURELY_WITHIN_DEG_PER_M = 1.0 / (METRES_PER_DEGREE * 1.4143)
"""Degrees per metre of a coordinate step that keeps a move within that many metres."""
MAX_ROWS = 2 * (MAX_SKIPPED + 1)
"""Screened positions a cursor holds before the older ones (that :meth:`Places.fold` would
not read) are dropped."""

S = TypeVar("S")
Cursor = list[Any]
"""Per MMSI whose ordinary positions are screened: ``[ts, lat, lon, rows, ...]``, the
current place's position (the last screened one), the positions screened since the state
was folded, and what the detector adds (a mark, :class:`PlaceScreenDetector`)."""


def near_deg(min_jump_m: float) -> float:
    """The coordinate step (degrees) under which a move is surely within ``min_jump_m``: as
    :meth:`Places.add` tests it."""
    return min_jump_m * _SURELY_WITHIN_DEG_PER_M


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
        near = near_deg(min_jump_m)
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

    def fold(self, rows: Sequence[Observation]) -> Fix:
        """Fold in positions each surely within ``min_jump_m`` of the one before and no older
        (the first of the current place), as :meth:`add` would one by one; only the last
        ``MAX_SKIPPED + 1`` are read (the earlier ones would have left ``before``). The new
        current position."""
        fixes = [Fix.of(obs) for obs in rows[-MAX_SKIPPED - 1 :]]
        self.before = (self.before + self.heads[:1] + fixes[:-1])[-MAX_SKIPPED:]
        self.heads[0] = fixes[-1]
        return fixes[-1]

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


class PlaceScreenDetector(Detector[S]):
    """Base of the detectors whose state is one MMSI's :class:`Places` and more: screens each
    batch for the positions that only continue the current place (module docstring).

    A subclass says when that is all a position can change (:meth:`_cursor`: ``None`` while
    anything else could happen, such as an open episode) and how to fold screened positions
    into its state (:meth:`_fold`). Code outside ``update`` that changes what a cursor rests
    on (``on_notify``) first calls :meth:`_release`; code that only reads a state's positions
    calls :meth:`_settle` (:meth:`state` releases). Screened positions never emit events nor
    set timers, so taking them out of the order of the others changes nothing.

    With ``marked``, a cursor also holds a *mark*, ``lat, lon, half-size in degrees`` after
    the rows: when the position before a screened one is outside that box, :meth:`_left_mark`
    is called first (``identity_conflict`` keeps its strand's trail so).
    """

    marked: ClassVar[bool] = False
    """Whether cursors have a mark that :meth:`_left_mark` must hear about."""

    def __init__(self) -> None:
        super().__init__()
        self._cursors: dict[Hashable, Cursor] = {}

    def _near_deg(self) -> float:
        """:func:`near_deg` of the detector's ``min_jump_m``."""
        raise NotImplementedError

    def _cursor(self, state: S) -> Cursor | None:
        """A new cursor for ``state``, or ``None`` if its next position must go to ``update``."""
        raise NotImplementedError

    def _fold(self, state: S, rows: list[Observation]) -> None:
        """Bring ``state`` up to date with the screened positions ``rows`` (time order)."""
        raise NotImplementedError

    def _left_mark(self, cursor: Cursor, ts: float) -> None:
        """The position in ``cursor`` is outside its mark, and one at ``ts`` follows."""

    def on_observation(self, obs: Observation) -> list[Event]:
        return self.on_observations((obs,))

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        cursor_of, near, marked = self._cursors.get, self._near_deg(), self.marked
        most, keep = MAX_ROWS, -MAX_SKIPPED - 1
        for obs in observations:
            c = cursor_of(obs.mmsi)  # none for 111MIDxxx (no state): type 9 is the other SAR
            if c is not None and obs.msg_type != 9:
                ts, lat, lon = obs.observed_ts, obs.lat, obs.lon
                if ts >= c[0] and -near < lat - c[1] < near and -near < lon - c[2] < near:
                    if marked:
                        mark = c[6]
                        if not (-mark < c[1] - c[4] < mark and -mark < c[2] - c[5] < mark):
                            self._left_mark(c, ts)
                    c[0], c[1], c[2] = ts, lat, lon
                    rows = c[3]
                    rows.append(obs)
                    if len(rows) > most:
                        del rows[:keep]
                    continue
            self._update(obs)
        return self._drain()

    def _update(self, obs: Observation) -> None:
        """The scalar path: ``update`` with the state brought up to date, then a new cursor."""
        key = self.key(obs)
        if key is None:
            return
        self._release(key)
        state = self.update(key, self._states.get(key), obs)
        self._store(key, state)
        if state is not None:
            cursor = self._cursor(state)
            if cursor is not None:
                self._cursors[key] = cursor

    def _release(self, key: Hashable) -> None:
        """Fold the key's screened positions into its state and drop its cursor: the state
        is about to be read or changed by other code."""
        self._settle(key)
        self._cursors.pop(key, None)

    def _settle(self, key: Hashable) -> None:
        """Fold the key's screened positions into its state, keeping its cursor: for code
        that reads the state's positions but changes nothing the cursor rests on."""
        cursor = self._cursors.get(key)
        if cursor is not None and cursor[3]:
            self._fold(self._states[key], cursor[3])
            cursor[3] = []

    def state(self, key: Hashable) -> S | None:
        self._release(key)
        return super().state(key)

    def snapshot(self) -> dict[str, Any]:
        for key in self._cursors:
            self._settle(key)
        return super().snapshot()

    def restore(self, data: Mapping[str, Any]) -> None:
        super().restore(data)
        self._cursors = {}
