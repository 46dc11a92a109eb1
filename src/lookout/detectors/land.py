"""``position_on_land``: a vessel reported well inland, a position that cannot be true.

A position more than ``min_inland_m`` from the coastline on the land side (the signed
distance of a :class:`~lookout.geo.shore.Shore` below ``-min_inland_m``) is on land. Near the
coast positions are not judged: ports, rivers and the coarseness of coastline data (the 1 km
global land mask reads coastal cells as land) make a few hundred metres meaningless.

**Waterways.** Coastline data misses narrow water: the 1 km land mask reads an inner harbour,
a river mouth or a delta channel as land, up to several kilometres from open water (Boston
Inner Harbor, the Pearl River delta, the Oakland estuary in the shared recordings). A vessel
that *sails* there is evidence of water: an inland position reached from the vessel's last
position afloat (at sea, or itself reached that way) within ``passage_max_gap_s`` at no more
than ``passage_speed_kn`` is taken as a waterway the data lacks, and raises nothing. A
position that jumps inland (a corrupt or spoofed report) is judged as above. A vessel with no
position afloat in the last ``passage_max_gap_s`` (first heard inland, or after a silence)
cannot be told from one moored in such a channel; it is judged inland only beyond
``unverified_min_inland_m``, past the waterways the land mask misses.

One event per continuous episode: the first inland position opens it and publishes it
``provisional`` at once (``end_ts`` null); the next position that is not inland, or no
position for ``max_gap_s`` (event time), ends it and publishes it ``confirmed`` with
``end_ts`` the last inland position. Without a ``Shore`` (``create_detector`` builds one
without) nothing is ever inland.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import numpy as np

from lookout.detectors.base import Detector, Event, register_detector
from lookout.detectors.pairwise import setting
from lookout.detectors.vessel import Fix, ShoreCheck, VesselConfig, beyond_shore, vessel_event
from lookout.geo.distance import distance_m, implied_speed_kn
from lookout.geo.shore import Shore
from lookout.model import Observation

__all__ = ["LandState", "PositionOnLandConfig", "PositionOnLandDetector"]

_MAX_AFLOAT = 500_000
"""Vessels whose last position afloat is remembered before the stale ones are forgotten."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOnLandConfig(VesselConfig):
    """Thresholds of ``position_on_land``."""

    min_inland_m: float = setting(2_000.0, "More than this far inland from the coast, metres.")
    max_gap_s: float = setting(3_600.0, "No position for this long ends an episode, seconds.")
    passage_speed_kn: float = setting(
        50.0, "An inland position reached from afloat at most this fast is a waterway, knots."
    )
    passage_max_gap_s: float = setting(
        3_600.0, "... and at most this long after the position afloat, seconds."
    )
    unverified_min_inland_m: float = setting(
        8_000.0,
        "With no recent position afloat (first heard inland), inland only beyond this, metres.",
    )


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
        # A shore that can say "at sea" at once (a land mask) spares the distance search for
        # the positions at sea: almost all of them.
        self._is_land = getattr(shore, "is_land", None)
        self._land_flags = getattr(shore, "land_flags", None)
        self._afloat: dict[int, tuple[float, float, float]] = {}
        """Per vessel, its last position afloat (time, lat, lon): see Waterways."""

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """As the base class, but with a shore that flags land cells for a whole batch at
        once (a land mask), positions at sea of vessels with no state are skipped unread:
        they could only create an empty state. The rest go through :meth:`update` in order,
        except the positions that could only move the vessel's last position afloat (see
        :meth:`_batch`)."""
        flags = self._land_flags
        if flags is None or not observations:
            return super().on_observations(observations)
        lats = [o.lat for o in observations]
        lons = [o.lon for o in observations]
        on_land = flags(np.array(lats, dtype=np.float64), np.array(lons, dtype=np.float64)).tolist()
        states, afloat = self._states, self._afloat
        todo = []
        for i, o, land, lat, lon in zip(count(), observations, on_land, lats, lons):
            mmsi = o.mmsi
            if land or mmsi in states:
                todo.append(i)
                continue
            known, ts = afloat.get(mmsi), o.observed_ts  # _set_afloat, inlined
            if known is None or ts >= known[0]:
                afloat[mmsi] = (ts, lat, lon)
        if len(afloat) > _MAX_AFLOAT:
            newest = max(ts for ts, _, _ in afloat.values())
            for mmsi in [
                m for m, v in afloat.items() if v[0] < newest - self.config.passage_max_gap_s
            ]:
                del afloat[mmsi]
        if self._is_land is None:  # land cells say nothing on their own
            return super().on_observations([observations[i] for i in todo])
        self._batch(observations, todo, on_land)
        return self._drain()

    def _batch(
        self, observations: Sequence[Observation], todo: list[int], on_land: list[bool]
    ) -> None:
        """:meth:`update` for ``observations[i]`` of every ``i`` in ``todo``, in order.

        A vessel with state but no open episode whose position is at sea (not a land cell,
        or a land cell its last shore check, with :meth:`ShoreCheck.moved_at_most_m`,
        already puts less than ``min_inland_m`` inland) only gets a new last position
        afloat: that is all :meth:`update` would do."""
        states, afloat = self._states, self._afloat
        inland_m = -self.config.min_inland_m
        update = self._update
        for i in todo:
            o = observations[i]
            mmsi, lat, lon = o.mmsi, o.lat, o.lon
            state = states.get(mmsi)
            finite = lat - lat == 0.0 and lon - lon == 0.0  # not NaN nor infinite
            if state is not None and state.last is None and finite:
                check = state.shore
                if not on_land[i] or (
                    check is not None
                    and check.distance_m - check.moved_at_most_m(lat, lon) > inland_m
                ):
                    known, ts = afloat.get(mmsi), o.observed_ts  # _set_afloat, inlined
                    if known is None or ts >= known[0]:
                        afloat[mmsi] = (ts, lat, lon)
                    continue
            state = update(mmsi, state, o, on_land[i] if finite else None)
            if state is None:
                states.pop(mmsi, None)
            else:
                states[mmsi] = state

    def _set_afloat(self, obs: Observation) -> None:
        known = self._afloat.get(obs.mmsi)
        if known is None or obs.observed_ts >= known[0]:
            self._afloat[obs.mmsi] = (obs.observed_ts, obs.lat, obs.lon)

    def _recently_afloat(self, obs: Observation) -> bool:
        known = self._afloat.get(obs.mmsi)
        return known is not None and 0.0 <= obs.observed_ts - known[0] <= (
            self.config.passage_max_gap_s
        )

    def _by_waterway(self, obs: Observation) -> bool:
        """Was ``obs`` reached by sailing from the vessel's last position afloat?"""
        known = self._afloat.get(obs.mmsi)
        if known is None:
            return False
        ts, lat, lon = known
        elapsed = obs.observed_ts - ts
        if not 0.0 <= elapsed <= self.config.passage_max_gap_s:
            return False
        moved = distance_m(lat, lon, obs.lat, obs.lon)
        return implied_speed_kn(moved, elapsed) <= self.config.passage_speed_kn

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    def update(self, key: Hashable, state: LandState | None, obs: Observation) -> LandState | None:
        return self._update(key, state, obs, None)

    def _update(
        self, key: Hashable, state: LandState | None, obs: Observation, on_land: bool | None
    ) -> LandState | None:
        """:meth:`update`; ``on_land``: whether the position is on a land cell, if known
        (from a whole batch's :meth:`land_flags`), else None (asked when needed)."""
        if self.shore is None:
            return None
        state = state or LandState()
        if state.last is not None and obs.observed_ts <= state.last.ts:
            return state  # late or repeated
        if state.last is not None and obs.observed_ts - state.last.ts > self.config.max_gap_s:
            self._close(obs.mmsi, state)
        limit = -self.config.min_inland_m
        if on_land is None and self._is_land is not None:
            on_land = self._is_land(obs.lat, obs.lon)
        if on_land is False:
            at_sea = True
        else:
            at_sea, state.shore = beyond_shore(self.shore, state.shore, obs.lat, obs.lon, limit)
        if at_sea:
            self._close(obs.mmsi, state)
            self._set_afloat(obs)
            return state
        if state.start is None and self._by_waterway(obs):
            self._set_afloat(obs)  # sailing up a waterway: afloat still
            return state
        depth = self.shore.distance_to_shore_m(obs.lat, obs.lon)
        if (
            state.start is None
            and -depth <= self.config.unverified_min_inland_m
            and not self._recently_afloat(obs)
        ):
            return state  # maybe moored in a channel the coastline data lacks
        fix = Fix.of(obs)
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

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        data["afloat"] = [[m, *v] for m, v in self._afloat.items()]
        return data

    def restore(self, data: Mapping[str, Any]) -> None:
        super().restore(data)
        self._afloat = {
            int(m): (float(t), float(a), float(o)) for m, t, a, o in data.get("afloat", ())
        }

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
