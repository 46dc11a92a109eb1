"""``position_on_land``: a vessel reported well inland, a position that cannot be true.

A position more than ``min_inland_m`` from the coastline on the land side (the signed
distance of a :class:`~lookout.geo.shore.Shore` below ``-min_inland_m``) is on land. Near the
coast positions are not judged: ports, rivers and the coarseness of coastline data (the 1 km
global land mask reads coastal cells as land) make a few hundred metres meaningless.

One event per continuous episode: the first inland position opens it and publishes it
``provisional`` at once (``end_ts`` null); the next position that is not inland, or no
position for ``max_gap_s`` (event time), ends it and publishes it ``confirmed`` with
``end_ts`` the last inland position. Without a ``Shore`` (``create_detector`` builds one
without) nothing is ever inland.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from lookout.detectors.base import Detector, register_detector
from lookout.detectors.pairwise import setting
from lookout.detectors.vessel import Fix, ShoreCheck, VesselConfig, beyond_shore, vessel_event
from lookout.geo.shore import Shore
from lookout.model import Observation

__all__ = ["LandState", "PositionOnLandConfig", "PositionOnLandDetector"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOnLandConfig(VesselConfig):
    """Thresholds of ``position_on_land``."""

    min_inland_m: float = setting(2_000.0, "More than this far inland from the coast, metres.")
    max_gap_s: float = setting(3_600.0, "No position for this long ends an episode, seconds.")


@dataclass(slots=True)
class LandState:
    """Per vessel: the last shore check and the open episode (first and last inland position,
    how many, the deepest measured)."""

    shore: ShoreCheck | None = None
    start: Fix | None = None
    last: Fix | None = None
    count: int = 0
    deepest_m: float = 0.0


@register_detector
class PositionOnLandDetector(Detector[LandState]):
    """A position more than ``min_inland_m`` inland; see the module docstring."""

    kind = "position_on_land"

    def __init__(
        self, config: PositionOnLandConfig | None = None, *, shore: Shore | None = None
    ) -> None:
        super().__init__()
        self.config = config or PositionOnLandConfig()
        self.shore = shore

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    def update(self, key: Hashable, state: LandState | None, obs: Observation) -> LandState | None:
        if self.shore is None:
            return None
        state = state or LandState()
        if state.last is not None and obs.observed_ts <= state.last.ts:
            return state  # late or repeated
        if state.last is not None and obs.observed_ts - state.last.ts > self.config.max_gap_s:
            self._close(obs.mmsi, state)
        limit = -self.config.min_inland_m
        at_sea, state.shore = beyond_shore(self.shore, state.shore, obs.lat, obs.lon, limit)
        if at_sea:
            self._close(obs.mmsi, state)
            return state
        fix = Fix.of(obs)
        depth = self.shore.distance_to_shore_m(obs.lat, obs.lon)
        state.deepest_m = min(state.deepest_m, depth)
        state.count += 1
        state.last = fix
        if state.start is None:
            state.start = fix
            self._publish(obs.mmsi, state, fix.ts, "provisional")
        self.notify_at(key, fix.ts + self.config.max_gap_s)
        return state

    def on_notify(self, key: Hashable, state: LandState | None, ts: float) -> LandState | None:
        if state is None or state.last is None:
            return state
        assert isinstance(key, int)
        self._close(key, state)
        return state

    def _close(self, mmsi: int, state: LandState) -> None:
        if state.start is not None and state.last is not None:
            self._publish(mmsi, state, state.last.ts, "confirmed")
        state.start = state.last = None
        state.count, state.deepest_m = 0, 0.0

    def _publish(self, mmsi: int, state: LandState, ts: float, status: str) -> None:
        start, last = state.start, state.last
        assert start is not None and last is not None
        details: dict[str, Any] = {
            "inland_m": -state.deepest_m,
            "positions": state.count,
            "duration_s": last.ts - start.ts,
        }
        end = last.ts if status == "confirmed" else None
        fixes = (start,) if start is last else (start, last)
        values = vessel_event(
            self.kind,
            mmsi,
            (start.ts, end),
            (start.lat, start.lon),
            fixes,
            details,
            self.thresholds(),
        )
        self.emit(ts, values, status=status)

    def dump_state(self, state: LandState) -> Any:
        shore = None if state.shore is None else list(state.shore)
        start = None if state.start is None else state.start.dump()
        last = None if state.last is None else state.last.dump()
        return [shore, start, last, state.count, state.deepest_m]

    def load_state(self, data: Any) -> LandState:
        shore, start, last, count, deepest = data
        return LandState(
            None if shore is None else ShoreCheck(*map(float, shore)),
            None if start is None else Fix.load(start),
            None if last is None else Fix.load(last),
            int(count),
            float(deepest),
        )
