"""``identity_conflict``: one MMSI that is two vessels, or a vessel that changes who it says
it is.

Positions (:mod:`lookout.detectors.hops`): one MMSI alternating between places more than
``min_distance_m`` apart, at least ``min_hops`` consecutive position pairs switching, all
within ``window_s``, at least one of them back to a place seen before: two transmitters on
one MMSI (a cloned or shared MMSI, a default MMSI such as 412000000). A switch is a move no
vessel could make (faster than ``max_speed_kn``); a vessel that only ever jumps to new places
is not alternating (that is ``speed_anomaly``). One event per episode: published
``provisional`` when the run is found (``start_ts`` = the position before its first switch),
extended by every further switch within ``window_s`` of the last, ``confirmed`` (``end_ts`` =
the last switching position) once ``window_s`` passes without one. SAR aircraft are skipped.

Identity (second entry point, :meth:`IdentityConflictDetector.on_static`, fed with the static
reports of types 5, 19 and 24): a name, call sign or IMO number that differs from every value
the MMSI has reported before (up to :data:`MAX_KNOWN` remembered per field) is an
instantaneous ``confirmed`` event with ``details.reason = "identity_change"``; switching back
to a known value raises nothing more. Its ``id`` ends in ``-identity`` so it never collides
with a position episode starting in the same second.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from lookout.detectors.base import Detector, Event, register_detector
from lookout.detectors.hops import Hop, Places, is_sar_aircraft, run_of
from lookout.detectors.pairwise import setting
from lookout.detectors.vessel import Fix, VesselConfig, vessel_event
from lookout.model import Observation, StaticReport

__all__ = [
    "MAX_KNOWN",
    "Episode",
    "IdentityConflictConfig",
    "IdentityConflictDetector",
    "IdentityState",
]

MAX_KNOWN = 8
"""Distinct values remembered per identity field and MMSI."""
MAX_PLACES_LISTED = 8
"""Positions of the switches listed in an event's details."""

_FIELDS = ("name", "callsign", "imo")


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityConflictConfig(VesselConfig):
    """Thresholds of ``identity_conflict``."""

    min_distance_m: float = setting(10_000.0, "Places farther apart than this, metres.")
    window_s: float = setting(3_600.0, "All switches of a run within this, seconds (1 h).")
    min_hops: float = setting(3.0, "At least this many consecutive position pairs switching.")
    max_speed_kn: float = setting(
        50.0, "A move faster than this is a switch, knots (as speed_anomaly)."
    )
    min_jump_m: float = setting(
        1_000.0, "Moves shorter than this are never switches, metres (as speed_anomaly)."
    )


@dataclass(slots=True)
class Episode:
    """An open alternation episode: its ends and the measured values so far."""

    start: Fix
    end: Fix
    switches: int = 0
    returns: int = 0
    min_distance_m: float = float("inf")
    max_distance_m: float = 0.0
    max_speed_kn: float = 0.0
    places: list[list[float]] = field(default_factory=list)

    def add(self, hop: Hop) -> None:
        self.end = hop.end
        self.switches += 1
        self.returns += hop.returned
        self.min_distance_m = min(self.min_distance_m, hop.distance_m)
        self.max_distance_m = max(self.max_distance_m, hop.distance_m)
        self.max_speed_kn = max(self.max_speed_kn, hop.speed_kn)
        for fix in (hop.start, hop.end):
            spot = [fix.lat, fix.lon]
            if len(self.places) < MAX_PLACES_LISTED and spot not in self.places:
                self.places.append(spot)

    def dump(self) -> list[Any]:
        return [
            self.start.dump(),
            self.end.dump(),
            self.switches,
            self.returns,
            self.min_distance_m,
            self.max_distance_m,
            self.max_speed_kn,
            self.places,
        ]

    @classmethod
    def load(cls, data: list[Any]) -> Episode:
        start, end, switches, returns, low, high, speed, places = data
        return cls(
            Fix.load(start),
            Fix.load(end),
            int(switches),
            int(returns),
            float(low),
            float(high),
            float(speed),
            [[float(a), float(b)] for a, b in places],
        )


@dataclass(slots=True)
class IdentityState:
    """Per MMSI: recent places, recent switches, the open episode, identities seen."""

    places: Places = field(default_factory=Places)
    hops: list[Hop] = field(default_factory=list)
    episode: Episode | None = None
    known: dict[str, list[str]] = field(default_factory=dict)

    def dump(self) -> list[Any]:
        episode = None if self.episode is None else self.episode.dump()
        return [self.places.dump(), [h.dump() for h in self.hops], episode, self.known]

    @classmethod
    def load(cls, data: Any) -> IdentityState:
        places, hops, episode, known = data
        return cls(
            Places.load(places),
            [Hop.load(h) for h in hops],
            None if episode is None else Episode.load(episode),
            {str(k): [str(v) for v in vs] for k, vs in known.items()},
        )


@register_detector
class IdentityConflictDetector(Detector[IdentityState]):
    """Two transmitters on one MMSI, or a changed identity; see the module docstring."""

    kind = "identity_conflict"

    def __init__(self, config: IdentityConflictConfig | None = None) -> None:
        super().__init__()
        self.config = config or IdentityConflictConfig()

    def thresholds(self) -> dict[str, float]:
        return self.config.values()

    def key(self, obs: Observation) -> Hashable | None:
        return None if is_sar_aircraft(obs.mmsi, obs.msg_type) else obs.mmsi

    def update(self, key: Hashable, state: IdentityState | None, obs: Observation) -> IdentityState:
        cfg = self.config
        state = state or IdentityState()
        hop = state.places.add(
            Fix.of(obs), cfg.max_speed_kn, cfg.min_jump_m, cfg.window_s, obs.speed_kn
        )
        if hop is None or hop.distance_m <= cfg.min_distance_m:
            return state
        if state.episode is not None:
            state.episode.add(hop)
        else:
            state.hops.append(hop)
            run = run_of(state.hops, cfg.window_s, int(cfg.min_hops))
            if run:
                state.episode = Episode(run[0].start, run[0].end)
                for each in run:
                    state.episode.add(each)
                state.hops.clear()
                self._publish(obs.mmsi, state.episode, hop.end.ts, "provisional")
        self.notify_at(key, hop.end.ts + cfg.window_s)
        return state

    def on_notify(
        self, key: Hashable, state: IdentityState | None, ts: float
    ) -> IdentityState | None:
        if state is None:
            return None
        if state.episode is not None:
            assert isinstance(key, int)
            self._publish(key, state.episode, state.episode.end.ts, "confirmed")
            state.episode = None
        state.hops.clear()
        return state

    def on_static(self, report: StaticReport) -> list[Event]:
        """Fold one static report (name, call sign, IMO) into the MMSI's identity; the
        ``identity_change`` events it causes."""
        if is_sar_aircraft(report.mmsi, report.msg_type):
            return []
        state = self.state(report.mmsi) or IdentityState()
        changes: dict[str, dict[str, str]] = {}
        for name in _FIELDS:
            value = _clean(getattr(report, name))
            if value is None:
                continue
            seen = state.known.setdefault(name, [])
            if value in seen:
                continue
            if seen:
                changes[name] = {"from": seen[-1], "to": value}
            seen.append(value)
            del seen[:-MAX_KNOWN]
        self._store(report.mmsi, state)
        if changes:
            self._publish_change(report, state, changes)
        return self._drain()

    def _publish(self, mmsi: int, episode: Episode, ts: float, status: str) -> None:
        start, end = episode.start, episode.end
        details: dict[str, Any] = {
            "reason": "alternating_positions",
            "switches": episode.switches,
            "returns": episode.returns,
            "min_switch_distance_m": episode.min_distance_m,
            "max_switch_distance_m": episode.max_distance_m,
            "max_implied_speed_kn": episode.max_speed_kn,
            "duration_s": end.ts - start.ts,
            "places": [list(p) for p in episode.places],
        }
        span = (start.ts, end.ts if status == "confirmed" else None)
        values = vessel_event(
            self.kind,
            mmsi,
            span,
            (start.lat, start.lon),
            (start, end),
            details,
            self.thresholds(),
        )
        self.emit(ts, values, status=status)

    def _publish_change(
        self, report: StaticReport, state: IdentityState, changes: dict[str, dict[str, str]]
    ) -> None:
        here = state.places.heads[0] if state.places.heads else None
        details: dict[str, Any] = {
            "reason": "identity_change",
            "changes": changes,
            "known": {k: list(v) for k, v in state.known.items()},
            "msg_type": report.msg_type,
        }
        fixes = [Fix(report.observed_ts, 0.0, 0.0, "", report.member)]
        position = (None, None) if here is None else (here.lat, here.lon)
        values = vessel_event(
            self.kind,
            report.mmsi,
            (report.observed_ts, report.observed_ts),
            (0.0, 0.0),
            fixes,
            details,
            self.thresholds(),
        )
        values["id"] += "-identity"
        values["lat"], values["lon"] = position
        self.emit(report.observed_ts, values, status="confirmed")

    def dump_state(self, state: IdentityState) -> Any:
        return state.dump()

    def load_state(self, data: Any) -> IdentityState:
        return IdentityState.load(data)


def _clean(value: object) -> str | None:
    """An identity value as compared: text stripped and upper-cased, IMO as digits; empty,
    zero and missing values are ``None``."""
    if value is None:
        return None
    text = str(value).strip().upper()
    return None if text in ("", "0") else text
