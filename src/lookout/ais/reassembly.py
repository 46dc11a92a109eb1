"""Bounded, expiring buffer that joins the fragments of multi-sentence AIS messages.

Rules (each dropped fragment is reported once, with its reason):

- Fragments are keyed by the tag block group id (``g:``) when the line has one, else by
  (station, sequential message id, channel); the :class:`~lookout.ais.framing.Framer` builds
  the key. Fragments of different messages may interleave freely.
- Fragments must arrive in order ``1..N``. A fragment ``1`` while a partial with the same key
  is pending starts a new message (sequential ids are reused; the old partial is an orphan).
  A later fragment that is not the next one expected is rejected: a repeat (duplicate) alone;
  a gap (``3`` after ``1``) together with the partial, which can no longer complete. A fragment
  whose count ``N`` differs from its partial's, or with no partial, is rejected alone.
- At most ``max_fragments`` fragments are held; room is made by evicting whole partials,
  oldest first (``fragment_overflow``).
- A partial expires (``orphan_fragment``) once more than ``ttl_lines`` lines have passed
  since its first fragment, or once its station's event-time clock has moved more than
  ``ttl_s`` past the partial's time. A station is the receiver named by the line itself (tag
  block ``s:``, USCG trailer); lines that name none share one station. Each station has its
  own clock (the latest line time seen from it) because merged feeds, satellite ones above all,
  interleave stations whose times are far apart (libais ``tagblock.nmea``: a line 42 minutes
  later sits between the two fragments of an ORBCOMM message). A partial's time is its
  station's clock when it arrived, or its own line time if later.
- Both ages grow in arrival order (per station for time), so expiry only looks at the oldest
  partials. Expiry is checked before every fragment and by the caller at the end of each
  batch, so the outcome does not depend on how lines are batched.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from lookout.model import RejectReason

__all__ = ["Dropped", "Fragment", "Reassembler"]


class Fragment(NamedTuple):
    """One sentence of a multi-sentence message, with what its line carried.

    A named tuple rather than a frozen dataclass: one is built per fragment on the hot path,
    and a tuple is built several times faster.
    """

    number: int
    total: int
    payload: str
    fill_bits: int
    channel: str
    talker: str
    line: str
    carried_ts: float | None
    """Receive time carried by the line (tag block, USCG trailer, ``$PGHP``)."""
    frame_ts: float | None
    """Time the frame arrived, as given to the framer."""
    receiver: str | None


@dataclass(frozen=True, slots=True)
class Dropped:
    """A buffered or offered fragment that will never be part of a message."""

    fragment: Fragment
    reason: RejectReason
    detail: str


@dataclass(slots=True)
class _Partial:
    total: int
    line_no: int
    station: str | None
    clock: float | None
    fragments: list[Fragment] = field(default_factory=list)


class Reassembler:
    """Joins fragments into complete messages; see the module docstring for the rules."""

    def __init__(self, *, max_fragments: int, ttl_s: float, ttl_lines: int) -> None:
        if max_fragments < 1:
            raise ValueError("max_fragments must be at least 1")
        self._max = max_fragments
        self._ttl_s = ttl_s
        self._ttl_lines = ttl_lines
        self._too_many_lines = f"not completed within {ttl_lines} lines"
        self._too_old = f"not completed within {ttl_s:g} s"
        self._partials: dict[Hashable, _Partial] = {}
        self._by_station: dict[str | None, dict[Hashable, None]] = {}
        self._clocks: dict[str | None, float] = {}
        self._advanced: set[str | None] = set()
        self.pending = 0
        """Fragments held now."""
        self.stations: Mapping[str | None, object] = self._by_station
        """Stations with pending partials (read-only view; :meth:`observe` ignores others)."""

    def observe(self, station: str | None, ts: float) -> None:
        """A line from ``station`` carried time ``ts``: advance that station's clock.

        Clocks are kept only for stations with pending partials (bounded memory).
        """
        if station in self._by_station:
            clock = self._clocks.get(station)
            if clock is None or ts > clock:
                self._clocks[station] = ts
                self._advanced.add(station)

    def add(
        self,
        key: Hashable,
        station: str | None,
        fragment: Fragment,
        line_no: int,
        ts: float | None,
    ) -> tuple[list[Fragment] | None, list[Dropped]]:
        """Offer one fragment; returns the completed message's fragments (if any) and drops.

        ``line_no`` counts input lines (monotonic); ``ts`` is the fragment's line time.
        """
        dropped = self.expire(line_no)
        partial = self._partials.get(key)
        if fragment.number == 1:
            if partial is not None:
                detail = "superseded by a new fragment 1"
                self._drop(key, RejectReason.ORPHAN_FRAGMENT, detail, dropped)
            self._make_room(key, dropped)
            self._start(key, station, fragment, line_no, ts)
            return None, dropped
        reason = self._mismatch(partial, fragment)
        if reason or partial is None:
            dropped.append(Dropped(fragment, RejectReason.ORPHAN_FRAGMENT, reason))
            if reason.startswith("gap"):
                self._drop(key, RejectReason.ORPHAN_FRAGMENT, reason, dropped)
            return None, dropped
        if fragment.number == partial.total:
            self._remove(key)
            partial.fragments.append(fragment)
            return partial.fragments, dropped
        if not self._make_room(key, dropped):
            dropped.append(Dropped(fragment, RejectReason.FRAGMENT_OVERFLOW, "buffer full"))
            return None, dropped
        partial.fragments.append(fragment)
        self.pending += 1
        return None, dropped

    def expire(self, line_no: int) -> list[Dropped]:
        """Drop the partials that are too old by line count or by their station's clock."""
        dropped: list[Dropped] = []
        while self._partials:
            key, oldest = next(iter(self._partials.items()))
            if line_no - oldest.line_no <= self._ttl_lines:
                break
            self._drop(key, RejectReason.ORPHAN_FRAGMENT, self._too_many_lines, dropped)
        if not self._advanced:
            return dropped
        for station in self._advanced:
            keys = self._by_station.get(station, {})
            clock = self._clocks.get(station)
            while keys and clock is not None:
                key = next(iter(keys))
                then = self._partials[key].clock
                if then is None or clock - then <= self._ttl_s:
                    break
                self._drop(key, RejectReason.ORPHAN_FRAGMENT, self._too_old, dropped)
        self._advanced.clear()
        return dropped

    def drain(self) -> list[Dropped]:
        """Drop every pending partial (end of input)."""
        dropped: list[Dropped] = []
        for key in list(self._partials):
            self._drop(key, RejectReason.ORPHAN_FRAGMENT, "input ended", dropped)
        return dropped

    @staticmethod
    def _mismatch(partial: _Partial | None, fragment: Fragment) -> str:
        """Why ``fragment`` cannot extend ``partial`` ("" when it can)."""
        expected = 0 if partial is None else len(partial.fragments) + 1
        if partial is not None and (fragment.total, fragment.number) == (partial.total, expected):
            return ""
        where = f"fragment {fragment.number}/{fragment.total}"
        if partial is None:
            return f"{where} without fragment 1"
        if fragment.total != partial.total:
            return f"{where} in a {partial.total}-sentence message"
        if fragment.number < expected:
            return f"{where} repeated"
        return f"gap: {where} arrived, fragment {expected} missing"

    def _start(
        self, key: Hashable, station: str | None, fragment: Fragment, line_no: int,
        ts: float | None,
    ) -> None:  # fmt: skip
        keys = self._by_station.setdefault(station, {})
        keys[key] = None
        clock = self._clocks.get(station)
        if ts is not None and (clock is None or ts > clock):
            self._clocks[station] = clock = ts
            self._advanced.add(station)
        self._partials[key] = _Partial(fragment.total, line_no, station, clock, [fragment])
        self.pending += 1

    def _make_room(self, key: Hashable, dropped: list[Dropped]) -> bool:
        """Evict oldest partials until one more fragment fits; False if ``key`` was evicted."""
        while self.pending >= self._max:
            oldest = next(iter(self._partials))
            self._drop(oldest, RejectReason.FRAGMENT_OVERFLOW, "buffer full", dropped)
            if oldest == key:
                return False
        return True

    def _remove(self, key: Hashable) -> _Partial:
        partial = self._partials.pop(key)
        self.pending -= len(partial.fragments)
        keys = self._by_station[partial.station]
        del keys[key]
        if not keys:
            del self._by_station[partial.station]
            self._clocks.pop(partial.station, None)
        return partial

    def _drop(
        self, key: Hashable, reason: RejectReason, detail: str, dropped: list[Dropped]
    ) -> None:
        partial = self._remove(key)
        dropped.extend(Dropped(f, reason, detail) for f in partial.fragments)
