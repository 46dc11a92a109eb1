"""``loitering``: one vessel nearly stopped far out at sea for hours.

Global Fishing Watch's definition (technical documentation, "Loitering"): a single vessel
slower than 2 knots, at least 20 nautical miles from shore; with another vessel it would be an
encounter, alone it may be meeting a vessel that does not transmit AIS. Lookout's rule per
position: speed below ``max_speed_kn`` (the reported SOG; derived from the previous position
where SOG is missing), at least ``min_shore_distance_m`` from shore (when a
:class:`~lookout.geo.shore.Shore` is given), not within ``port_distance_m`` of a port or
anchorage (``near_port`` predicate; without one nowhere is near a port).

One event per continuous episode: ``start_ts`` is the first qualifying position, ``end_ts``
the last. A position that does not qualify ends the episode; so does silence: no position for
``max_gap_s`` (a timer, event time). A position with no speed at all (no SOG, nothing to
derive from) neither extends nor ends it. An episode that has lasted ``min_duration_s`` is
published ``provisional`` (``end_ts`` null) and ``confirmed`` when it ends; a shorter one is
never published.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from lookout.detectors.base import Detector, Event, register_detector
from lookout.detectors.pairwise import NearPort, never_near_port, setting
from lookout.detectors.vessel import (
    Fix,
    LatestFix,
    ShoreCheck,
    VesselConfig,
    beyond_shore,
    vessel_event,
)
from lookout.geo.distance import distance_m, implied_speed_kn, lon_delta_deg
from lookout.geo.shore import Shore
from lookout.model import Observation

__all__ = ["LoiteringConfig", "LoiteringDetector", "LoiteringState"]

MIN_DERIVE_SPAN_S = 60.0
"""Shortest interval a speed is derived over when SOG is missing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoiteringConfig(VesselConfig):
    """Thresholds of ``loitering``; speed and shore distance are Global Fishing Watch's."""

    max_speed_kn: float = setting(2.0, "Slower than this, knots (GFW: 2 kn).")
    min_duration_s: float = setting(14_400.0, "Shortest loitering, seconds (4 h).")
    min_shore_distance_m: float = setting(
        37_040.0, "At least this far from shore, metres (GFW: 20 nm)."
    )
    port_distance_m: float = setting(
        10_000.0, "Not within this distance of a port or anchorage, metres."
    )
    max_gap_s: float = setting(10_800.0, "No position for this long ends an episode, seconds.")


class LoiteringState(LatestFix):
    """Per vessel: the previous position (for derived speeds), the last shore check, and the
    open episode (first and last qualifying position, sums for the means).

    The previous position is a :class:`~lookout.detectors.vessel.LatestFix` (``prev``, its
    time ``fix_ts``)."""

    __slots__ = (
        "count", "dlat_sum", "dlon_sum", "last", "published", "shore", "speed_sum", "start",
    )  # fmt: skip

    def __init__(
        self,
        prev: Fix,
        shore: ShoreCheck | None = None,
        start: Fix | None = None,
        last: Fix | None = None,
        count: int = 0,
        speed_sum: float = 0.0,
        dlat_sum: float = 0.0,
        dlon_sum: float = 0.0,
        published: bool = False,
    ) -> None:
        self.prev = prev
        self.shore = shore
        self.start, self.last = start, last
        self.count, self.speed_sum, self.dlat_sum, self.dlon_sum = (
            count, speed_sum, dlat_sum, dlon_sum,
        )  # fmt: skip
        self.published = published

    prev = LatestFix.fix

    def _values(self) -> tuple[Any, ...]:
        return (self.prev, self.shore, self.start, self.last,
                *(getattr(self, name) for name in _EPISODE))  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LoiteringState) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces

    def __repr__(self) -> str:
        names = ("prev", "shore", "start", "last", *_EPISODE)
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._values(), strict=True))
        return f"LoiteringState({fields})"

    def extend(self, fix: Fix, speed_kn: float) -> None:
        if self.start is None:
            self.start = fix
        self.last = fix
        self.count += 1
        self.speed_sum += speed_kn
        self.dlat_sum += fix.lat - self.start.lat
        self.dlon_sum += lon_delta_deg(self.start.lon, fix.lon)

    def reset(self) -> None:
        self.start = self.last = None
        self.count, self.speed_sum, self.dlat_sum, self.dlon_sum = 0, 0.0, 0.0, 0.0
        self.published = False


_EPISODE = ("count", "speed_sum", "dlat_sum", "dlon_sum", "published")


@register_detector
class LoiteringDetector(Detector[LoiteringState]):
    """One vessel slow, far from shore, for hours; see the module docstring."""

    kind = "loitering"
    min_report_interval_s = 60.0  # loitering lasts hours

    def __init__(
        self,
        config: LoiteringConfig | None = None,
        *,
        shore: Shore | None = None,
        near_port: NearPort = never_near_port,
    ) -> None:
        super().__init__()
        self.config = config or LoiteringConfig()
        self.shore = shore
        self.near_port = near_port

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """As the base class, but a position that cannot start, extend or end an episode
        only becomes the vessel's previous position, without :meth:`update`: one of a
        vessel with no open episode, in order, with a SOG, and either not slow or (by its
        last shore check and :meth:`ShoreCheck.moved_at_most_m`) too near the shore."""
        states, max_speed = self._states, self.config.max_speed_kn
        near_m = self.config.min_shore_distance_m - 1e-6  # as _qualifies asks
        judged = self.shore is not None
        update = self.update
        for obs in observations:
            state = states.get(obs.mmsi)
            if state is not None and state.start is None:
                ts, sog = obs.observed_ts, obs.speed_kn
                if ts > state.fix_ts and sog is not None:
                    check = state.shore
                    if sog >= max_speed or (
                        judged
                        and check is not None
                        and check.distance_m + check.moved_at_most_m(obs.lat, obs.lon) <= near_m
                    ):
                        state._obs, state.fix_ts = obs, ts  # LatestFix.follow, inlined
                        continue
            states[obs.mmsi] = update(obs.mmsi, state, obs)
        return self._drain()

    def update(
        self, key: Hashable, state: LoiteringState | None, obs: Observation
    ) -> LoiteringState:
        fix = Fix.of(obs)
        if state is None:
            state = LoiteringState(fix)
        elif fix.ts <= state.fix_ts:
            return state  # late or repeated: the track only moves forward
        speed = self._speed(state.prev, fix, obs.speed_kn)
        if speed is None:
            return state
        state.prev = fix
        if state.last is not None and fix.ts - state.last.ts > self.config.max_gap_s:
            self._close(obs.mmsi, state)
        if self._qualifies(state, fix, speed):
            state.extend(fix, speed)
            self._maybe_publish(obs.mmsi, state, fix.ts)
            self.notify_at(key, fix.ts + self.config.max_gap_s)
        elif state.start is not None:
            self._close(obs.mmsi, state)
        return state

    def _speed(self, prev: Fix, fix: Fix, sog_kn: float | None) -> float | None:
        if sog_kn is not None:
            return sog_kn
        span = fix.ts - prev.ts
        if span < MIN_DERIVE_SPAN_S:
            return None
        return implied_speed_kn(distance_m(prev.lat, prev.lon, fix.lat, fix.lon), span)

    def _qualifies(self, state: LoiteringState, fix: Fix, speed_kn: float) -> bool:
        cfg = self.config
        if speed_kn >= cfg.max_speed_kn:
            return False
        if self.shore is not None:
            far, state.shore = beyond_shore(
                self.shore, state.shore, fix.lat, fix.lon, cfg.min_shore_distance_m - 1e-6
            )
            if not far:
                return False
        return not self.near_port(fix.lat, fix.lon, cfg.port_distance_m)

    def on_notify(
        self, key: Hashable, state: LoiteringState | None, ts: float
    ) -> LoiteringState | None:
        if state is None or state.last is None:
            return state
        assert isinstance(key, int)
        self._close(key, state)
        return state

    def _maybe_publish(self, mmsi: int, state: LoiteringState, ts: float) -> None:
        assert state.start is not None and state.last is not None
        if not state.published and state.last.ts - state.start.ts >= self.config.min_duration_s:
            state.published = True
            self._publish(mmsi, state, ts, "provisional")

    def _close(self, mmsi: int, state: LoiteringState) -> None:
        if state.published and state.last is not None:
            self._publish(mmsi, state, state.last.ts, "confirmed")
        state.reset()

    def _publish(self, mmsi: int, state: LoiteringState, ts: float, status: str) -> None:
        start, last = state.start, state.last
        assert start is not None and last is not None
        lat = start.lat + state.dlat_sum / state.count
        lon = (start.lon + state.dlon_sum / state.count + 180.0) % 360.0 - 180.0
        details: dict[str, Any] = {
            "duration_s": last.ts - start.ts,
            "mean_speed_kn": state.speed_sum / state.count,
            "positions": state.count,
            "distance_to_shore_m": None
            if self.shore is None
            else self.shore.distance_to_shore_m(lat, lon),
        }
        end = last.ts if status == "confirmed" else None
        values = vessel_event(
            self.kind, mmsi, (start.ts, end), (lat, lon), (start, last), details, self.thresholds()
        )
        self.emit(ts, values, status=status)

    def dump_state(self, state: LoiteringState) -> Any:
        episode = [getattr(state, name) for name in _EPISODE]
        start = None if state.start is None else state.start.dump()
        last = None if state.last is None else state.last.dump()
        shore = None if state.shore is None else list(state.shore)
        return [state.prev.dump(), shore, start, last, *episode]

    def load_state(self, data: Any) -> LoiteringState:
        prev, shore, start, last, count, speed_sum, dlat, dlon, published = data
        return LoiteringState(
            Fix.load(prev),
            None if shore is None else ShoreCheck(*map(float, shore)),
            None if start is None else Fix.load(start),
            None if last is None else Fix.load(last),
            int(count),
            float(speed_sum),
            float(dlat),
            float(dlon),
            bool(published),
        )
