"""``speed_anomaly``: a single impossible jump in a vessel's track (a teleport).

The implied speed between consecutive valid positions of one MMSI is compared with
``max_speed_kn`` (50 knots; per ship type through ``ship_type_limits_kn``). High-speed craft
(ship types 40-49, ``exempt_ship_types``) and SAR aircraft (message type 9, MMSI 111MIDxxx)
are exempt. Ship types come from static reports through the second entry point
:meth:`SpeedAnomalyDetector.on_static`; until one arrives the default limit applies.

Moves are classified by :mod:`lookout.detectors.hops` with the same rules as
``identity_conflict``: a move faster than the limit and longer than ``min_jump_m`` is a hop.
A *jump* (a hop to a new place) is a speed anomaly only if the track does not come back: it
is held for ``window_s`` of event time and dropped if a later hop returns to a recent place
(a single bad position, or a bad time stamp, then the track resumes: A, B, A) or if it is
part of a run of at least ``min_hops`` hops within ``window_s`` (two transmitters on one
MMSI: ``identity_conflict`` reports those). So the event comes ``window_s`` after the jump,
``confirmed`` and instantaneous (``start_ts == end_ts``, the time of the position jumped to).
``lat``/``lon`` is the position jumped to; ``details`` has where it came from.

A position that only continues the vessel's current place changes nothing else, so a batch
is screened for them (:class:`~lookout.detectors.hops.PlaceScreenDetector`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from lookout.detectors.base import Event, register_detector
from lookout.detectors.hops import (
    Cursor,
    Hop,
    Places,
    PlaceScreenDetector,
    is_sar_aircraft,
    near_deg,
    run_of,
)
from lookout.detectors.pairwise import setting
from lookout.detectors.vessel import Fix, VesselConfig, vessel_event
from lookout.model import Observation, StaticReport

__all__ = ["SpeedAnomalyConfig", "SpeedAnomalyDetector", "SpeedState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedAnomalyConfig(VesselConfig):
    """Thresholds of ``speed_anomaly``."""

    max_speed_kn: float = setting(50.0, "Implied speed above this is impossible, knots.")
    min_jump_m: float = setting(
        1_000.0, "Moves shorter than this are never anomalies (position noise), metres."
    )
    window_s: float = setting(
        3_600.0, "A jump is held this long to see whether the track alternates back, seconds."
    )
    min_hops: float = setting(3.0, "Hops (at least one back) that make an alternation.")
    exempt_ship_types: tuple[int, ...] = tuple(range(40, 50))
    """Ship types never checked (40-49: high-speed craft)."""
    ship_type_limits_kn: tuple[tuple[int, float], ...] = ()
    """(ship type, max speed in knots) pairs overriding ``max_speed_kn``."""

    def limit_kn(self, ship_type: int | None) -> float | None:
        """The speed limit for a ship type; ``None``: exempt."""
        if ship_type is None:
            return self.max_speed_kn
        if ship_type in self.exempt_ship_types:
            return None
        for code, limit in self.ship_type_limits_kn:
            if code == ship_type:
                return limit
        return self.max_speed_kn


@dataclass(slots=True)
class SpeedState:
    """Per MMSI: recent places and hops, the jumps held (with the SOG reported at their
    end), and the ship type."""

    places: Places = field(default_factory=Places)
    hops: list[Hop] = field(default_factory=list)
    pending: list[tuple[Hop, float | None]] = field(default_factory=list)
    ship_type: int | None = None


@register_detector
class SpeedAnomalyDetector(PlaceScreenDetector[SpeedState]):
    """A single jump faster than the limit; see the module docstring."""

    kind = "speed_anomaly"

    def __init__(self, config: SpeedAnomalyConfig | None = None) -> None:
        super().__init__()
        self.config = config or SpeedAnomalyConfig()

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    def key(self, obs: Observation) -> Hashable | None:
        return None if is_sar_aircraft(obs.mmsi, obs.msg_type) else obs.mmsi

    def update(self, key: Hashable, state: SpeedState | None, obs: Observation) -> SpeedState:
        cfg = self.config
        state = state or SpeedState()
        limit = cfg.limit_kn(state.ship_type)
        if limit is None:
            return state
        hop = state.places.add(Fix.of(obs), limit, cfg.min_jump_m, cfg.window_s, obs.speed_kn)
        if hop is None:
            return state
        state.hops.append(hop)
        run = run_of(state.hops, cfg.window_s, int(cfg.min_hops))
        if hop.returned:  # back where it was: the jumps before were bad positions
            state.pending = []
        if run:
            state.pending = [(h, sog) for h, sog in state.pending if h not in run]
        elif not hop.returned:
            state.pending.append((hop, obs.speed_kn))
        if state.pending:
            self.notify_at(key, state.pending[0][0].start.ts + cfg.window_s)
        else:
            self.cancel(key)
        return state

    def _near_deg(self) -> float:
        return near_deg(self.config.min_jump_m)

    def _cursor(self, state: SpeedState) -> Cursor | None:
        """Positions of an exempt vessel change nothing, but they are rare: no cursor."""
        if not state.places.heads or self.config.limit_kn(state.ship_type) is None:
            return None
        head = state.places.heads[0]
        return [head.ts, head.lat, head.lon, []]

    def _fold(self, state: SpeedState, rows: list[Observation]) -> None:
        state.places.fold(rows)

    def on_notify(self, key: Hashable, state: SpeedState | None, ts: float) -> SpeedState | None:
        self._release(key)
        if state is None:
            return None
        window = self.config.window_s
        while state.pending and state.pending[0][0].start.ts + window <= ts:
            hop, sog = state.pending.pop(0)
            assert isinstance(key, int)
            self._publish(key, hop, sog, ts, state.ship_type)
        if state.pending:
            self.notify_at(key, state.pending[0][0].start.ts + window)
        return state

    def on_static(self, report: StaticReport) -> list[Event]:
        """Remember the ship type of a static report (it decides the limit); no events."""
        if report.ship_type is not None and not is_sar_aircraft(report.mmsi, report.msg_type):
            state = self._states.get(report.mmsi) or SpeedState()
            state.ship_type = report.ship_type
            self._store(report.mmsi, state)
            if self.config.limit_kn(report.ship_type) is None:
                self._release(report.mmsi)  # exempt: its positions change nothing from now
        return []

    def _publish(
        self, mmsi: int, hop: Hop, sog: float | None, ts: float, ship_type: int | None
    ) -> None:
        start, end = hop.start, hop.end
        details: dict[str, Any] = {
            "implied_speed_kn": hop.speed_kn,
            "distance_m": hop.distance_m,
            "duration_s": end.ts - start.ts,
            "reported_speed_kn": sog,
            "from_ts": start.ts,
            "from_lat": start.lat,
            "from_lon": start.lon,
            "ship_type": ship_type,
            "max_speed_kn": self.config.limit_kn(ship_type),
        }
        values = vessel_event(
            self.kind,
            mmsi,
            (end.ts, end.ts),
            (end.lat, end.lon),
            (start, end),
            details,
            self.thresholds(),
        )
        self.emit(ts, values, status="confirmed")

    def dump_state(self, state: SpeedState) -> Any:
        pending = [[h.dump(), sog] for h, sog in state.pending]
        return [state.places.dump(), [h.dump() for h in state.hops], pending, state.ship_type]

    def load_state(self, data: Any) -> SpeedState:
        places, hops, pending, ship_type = data
        return SpeedState(
            Places.load(places),
            [Hop.load(h) for h in hops],
            [(Hop.load(h), None if sog is None else float(sog)) for h, sog in pending],
            None if ship_type is None else int(ship_type),
        )
