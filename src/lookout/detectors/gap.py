"""``ais_gap``: a vessel silent for hours, Global Fishing Watch's gap rule.

A gap is a silence of at least ``min_gap_s`` between two position reports of one MMSI;
``start_ts`` is the last position before it, ``end_ts`` the first after. Only positions count:
the detector sees observations (position reports), so static and voyage messages never break
a silence.

Lifecycle: while the vessel is silent, a timer fires at ``last_ts + min_gap_s`` (event time)
and publishes the gap ``provisional`` with ``end_ts`` null; when the vessel reappears the gap
is published ``confirmed`` with both ends and the same ``id``. A position arriving late that
falls inside the vessel's last confirmed gap (another member's receiver heard it after all)
publishes that gap ``retracted``, and each remaining part that is still a gap again.

Details: whether the network was receiving other vessels near each end (by default a
:class:`~lookout.detectors.coverage.Coverage` fed with every position the detector sees; an
injected ``receiving_near(lat, lon, ts)`` callback overrides it; ``None`` = unknown; the
answer for the start is taken when the gap is first published and kept),
``coverage_hole`` (nobody was receiving near one of the ends: the silence says nothing about
the vessel), and
``suspected_disabling`` (GFW: a gap of at least ``disabling_min_gap_s`` whose two ends are
both more than ``disabling_shore_distance_m`` from shore, not in a coverage hole; null
without a :class:`~lookout.geo.shore.Shore`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import numpy as np

from lookout.detectors.base import Detector, Event, register_detector
from lookout.detectors.coverage import Coverage
from lookout.detectors.history import Positions
from lookout.detectors.pairwise import setting
from lookout.detectors.vessel import Fix, LatestFix, VesselConfig, vessel_event
from lookout.geo.distance import distance_m, implied_speed_kn
from lookout.geo.shore import Shore
from lookout.model import Observation

__all__ = ["AisGapConfig", "AisGapDetector", "GapState", "ReceivingNear"]

ReceivingNear = Callable[[float, float, float], bool | None]
"""``receiving_near(lat, lon, ts)``: was the network receiving other vessels near (lat, lon)
around ``ts``? ``None``: unknown."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AisGapConfig(VesselConfig):
    """Thresholds of ``ais_gap``; defaults are Global Fishing Watch's."""

    min_gap_s: float = setting(21_600.0, "Shortest silence that is a gap, seconds (GFW: 6 h).")
    disabling_min_gap_s: float = setting(
        43_200.0, "Shortest gap that can be a suspected disabling, seconds (GFW: 12 h)."
    )
    disabling_shore_distance_m: float = setting(
        92_600.0, "Both ends farther than this from shore for a suspected disabling (50 nm)."
    )


class GapState(LatestFix):
    """Per vessel: its last position, whether the current silence was published (and then
    whether others were received near its start), and its last confirmed gap (start, end)
    for retraction by late data.

    The last position is a :class:`~lookout.detectors.vessel.LatestFix` (``last``, its time
    ``fix_ts``)."""

    __slots__ = ("closed", "published", "receiving_start")

    def __init__(
        self,
        last: Fix,
        published: bool = False,
        closed: tuple[Fix, Fix] | None = None,
        receiving_start: bool | None = None,
    ) -> None:
        self.last = last
        self.published = published
        self.closed = closed
        self.receiving_start = receiving_start

    last = LatestFix.fix

    def _values(self) -> tuple[Any, ...]:
        return self.last, self.published, self.closed, self.receiving_start

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GapState) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces

    def __repr__(self) -> str:
        last, published, closed, receiving = self._values()
        return (
            f"GapState(last={last!r}, published={published!r}, closed={closed!r}, "
            f"receiving_start={receiving!r})"
        )


@register_detector
class AisGapDetector(Detector[GapState]):
    """A vessel silent for ``min_gap_s`` or more; see the module docstring."""

    kind = "ais_gap"

    def __init__(
        self,
        config: AisGapConfig | None = None,
        *,
        shore: Shore | None = None,
        receiving_near: ReceivingNear | None = None,
        coverage: Coverage | None = None,
    ) -> None:
        """``receiving_near`` overrides the coverage this detector records itself
        (``coverage``, a new :class:`Coverage` by default)."""
        super().__init__()
        self.config = config or AisGapConfig()
        self.shore = shore
        self.receiving_near = receiving_near
        self.coverage = coverage if coverage is not None else Coverage()
        self.late_positions = 0
        """Positions older than their vessel's latest, not inside its last gap."""
        self._seen_ts = float("-inf")
        """The newest position seen: a silence is only known up to there."""
        self._batch = _NO_ROWS
        self._recorded = self._upto = 0
        """The batch being processed: its first ``_recorded`` observations are in the
        coverage, and the first ``_upto`` must be before it is asked anything."""

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """As the base class, with :meth:`update`'s commonest case inlined: a vessel
        reporting again, in order, within ``min_gap_s`` of its last position, its silence
        unpublished and its timer set (nothing to publish or to schedule: the observation
        just becomes the last position). The batch is recorded into the coverage with numpy
        (:meth:`Coverage.record_many`), at the end or, when an event asks the coverage
        mid-batch, up to and including the observation that publishes it."""
        states, timers, min_gap = self._states, self._timers, self.config.min_gap_s
        mmsis = [o.mmsi for o in observations]
        times = [o.observed_ts for o in observations]
        self._batch, self._recorded = _columns(observations, mmsis, times), 0
        # Looked up by C-level maps as the loop reaches each row: what update() would see.
        found = map(states.get, mmsis)
        timed = map(timers.__contains__, mmsis)
        update = self._update
        for i, obs, state, ts, has_timer in zip(count(), observations, found, times, timed):
            if (
                state is None
                or not has_timer
                or state.published
                or not 0.0 <= ts - state.fix_ts < min_gap
            ):
                self._upto = i + 1
                states[obs.mmsi] = update(obs.mmsi, state, obs)
                continue
            state._obs, state.fix_ts = obs, ts  # LatestFix.follow, inlined
        if observations:
            newest = self._batch.ts  # the newest, NaN skipped as update() skips it
            newest_ts = float(np.max(newest, initial=-np.inf, where=newest == newest))
            self._seen_ts = max(self._seen_ts, newest_ts)
            self._upto = len(observations)
            self._record_batch()
        self._batch, self._recorded, self._upto = _NO_ROWS, 0, 0
        return self._drain()

    def _record_batch(self) -> None:
        """Record the observations of the batch not yet recorded, up to ``_upto``."""
        start, end = self._recorded, self._upto
        self._recorded = end
        if start < end and self.receiving_near is None:
            rows = self._batch
            self.coverage.record_many(
                rows.mmsi[start:end], rows.lat[start:end], rows.lon[start:end], rows.ts[start:end]
            )

    def update(self, key: Hashable, state: GapState | None, obs: Observation) -> GapState:
        if self.receiving_near is None:
            self.coverage.record(obs.mmsi, obs.lat, obs.lon, obs.observed_ts)
        return self._update(key, state, obs)

    def _update(self, key: Hashable, state: GapState | None, obs: Observation) -> GapState:
        """:meth:`update` but for the coverage (recorded by the caller)."""
        fix = Fix.of(obs)
        self._seen_ts = max(self._seen_ts, fix.ts)
        if state is None:
            self.notify_at(key, fix.ts + self.config.min_gap_s)
            return GapState(fix)
        if fix.ts < state.fix_ts:
            self._late(obs.mmsi, state, fix)
            return state
        if fix.ts - state.fix_ts >= self.config.min_gap_s:
            start_cover = (
                state.receiving_start if state.published else self._receiving(obs.mmsi, state.last)
            )
            self._publish(obs.mmsi, state.last, fix, fix.ts, "confirmed", start_cover)
            state.closed = (state.last, fix)
        if state.published or self.timer(key) is None:
            self.notify_at(key, fix.ts + self.config.min_gap_s)
        state.last, state.published = fix, False
        return state

    def on_notify(self, key: Hashable, state: GapState | None, ts: float) -> GapState | None:
        if state is None:
            return None
        due = state.fix_ts + self.config.min_gap_s
        if ts < due:  # the vessel reported since the timer was set
            self.notify_at(key, due)
        elif ts > self._seen_ts:  # the input ends before the silence is long enough
            self.notify_at(key, ts)
        elif not state.published:
            assert isinstance(key, int)
            state.receiving_start = self._receiving(key, state.last)
            self._publish(key, state.last, None, ts, "provisional", state.receiving_start)
            state.published = True
        return state

    def _late(self, mmsi: int, state: GapState, fix: Fix) -> None:
        """A late position: retract the last gap if it falls inside, republish what is left."""
        if state.closed is None or not state.closed[0].ts < fix.ts < state.closed[1].ts:
            self.late_positions += 1
            return
        start, end = state.closed
        cover = self._receiving(mmsi, start)
        self._publish(mmsi, start, end, fix.ts, "retracted", cover, filler=fix)
        state.closed = None
        for before, after in ((start, fix), (fix, end)):
            if after.ts - before.ts >= self.config.min_gap_s:
                cover = self._receiving(mmsi, before)
                self._publish(mmsi, before, after, fix.ts, "confirmed", cover)
                state.closed = (before, after)

    def _publish(
        self,
        mmsi: int,
        start: Fix,
        end: Fix | None,
        ts: float,
        status: str,
        receiving_start: bool | None,
        *,
        filler: Fix | None = None,
    ) -> None:
        """``filler``: the late position that retracts the gap (named in the event, with
        whose data it is)."""
        span = (start.ts, None if end is None else end.ts)
        fixes: tuple[Fix, ...] = (start,) if end is None else (start, end)
        details = self._details(mmsi, start, end, ts, receiving_start)
        if filler is not None and end is not None:
            fixes = (start, filler, end)
            details["filled_by"] = {
                "ts": filler.ts, "lat": filler.lat, "lon": filler.lon,
                "member": filler.member, "observation": filler.key,
            }  # fmt: skip
            details["filled_by_other_member"] = filler.member not in (start.member, end.member)
        values = vessel_event(
            self.kind, mmsi, span, (start.lat, start.lon), fixes, details, self.thresholds()
        )
        self.emit(ts, values, status=status)

    def _details(
        self, mmsi: int, start: Fix, end: Fix | None, ts: float, receiving_start: bool | None
    ) -> dict[str, Any]:
        """The measured values of a gap (``end`` None: still silent at ``ts``)."""
        cfg = self.config
        end_ts = ts if end is None else end.ts
        details: dict[str, Any] = {"duration_s": end_ts - start.ts, "ongoing": end is None}
        details["receiving_near_start"] = receiving_start
        details["distance_to_shore_start_m"] = self._shore_m(start)
        ends = [details["receiving_near_start"]]
        shores = [details["distance_to_shore_start_m"]]
        if end is not None:
            moved = distance_m(start.lat, start.lon, end.lat, end.lon)
            details["end_lat"], details["end_lon"] = end.lat, end.lon
            details["distance_m"] = moved
            details["implied_speed_kn"] = implied_speed_kn(moved, end.ts - start.ts)
            details["receiving_near_end"] = self._receiving(mmsi, end)
            details["distance_to_shore_end_m"] = self._shore_m(end)
            ends.append(details["receiving_near_end"])
            shores.append(details["distance_to_shore_end_m"])
        hole = True if False in ends else (False if end is not None and None not in ends else None)
        details["coverage_hole"] = hole
        details["filled_by_other_member"] = None
        if end is None or None in shores:
            details["suspected_disabling"] = None
        else:
            far = all(s > cfg.disabling_shore_distance_m for s in shores)
            long = end.ts - start.ts >= cfg.disabling_min_gap_s
            details["suspected_disabling"] = far and long and hole is not True
        return details

    def _receiving(self, mmsi: int, fix: Fix) -> bool | None:
        """Were vessels other than ``mmsi`` received near ``fix``? (Records the batch so far
        first: the coverage must be as :meth:`update` would have left it.)"""
        if self.receiving_near is not None:
            return self.receiving_near(fix.lat, fix.lon, fix.ts)
        self._record_batch()
        return self.coverage.receiving_near(fix.lat, fix.lon, fix.ts, exclude_mmsi=mmsi)

    def _shore_m(self, fix: Fix) -> float | None:
        return None if self.shore is None else self.shore.distance_to_shore_m(fix.lat, fix.lon)

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        data["seen_ts"] = None if self._seen_ts == float("-inf") else self._seen_ts
        data["late_positions"] = self.late_positions
        data["coverage"] = self.coverage.snapshot()
        return data

    def restore(self, data: Mapping[str, Any]) -> None:
        super().restore(data)
        seen = data.get("seen_ts")
        self._seen_ts = float("-inf") if seen is None else float(seen)
        self.late_positions = int(data.get("late_positions", 0))
        self.coverage.restore(data.get("coverage", {}))

    def dump_state(self, state: GapState) -> Any:
        closed = None if state.closed is None else [f.dump() for f in state.closed]
        return [state.last.dump(), state.published, closed, state.receiving_start]

    def load_state(self, data: Any) -> GapState:
        last, published, closed, *rest = data
        pair = None if closed is None else (Fix.load(closed[0]), Fix.load(closed[1]))
        receiving = rest[0] if rest else None
        return GapState(Fix.load(last), bool(published), pair, receiving)


def _columns(
    observations: Sequence[Observation], mmsis: list[int], times: list[float]
) -> Positions:
    """The MMSIs, times and positions of a batch as arrays (``mmsis`` and ``times``: those of
    ``observations``, already listed)."""
    return Positions(
        np.array(mmsis, dtype=np.int64),
        np.array(times, dtype=np.float64),
        np.array([o.lat for o in observations], dtype=np.float64),
        np.array([o.lon for o in observations], dtype=np.float64),
    )


_NO_ROWS = _columns((), [], [])
