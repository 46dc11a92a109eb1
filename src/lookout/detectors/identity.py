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

Late echoes (:mod:`lookout.detectors.echoes`): a switch between two strands of the MMSI that
are twins, one vessel reported twice with one copy hours late (under way within ``echo_m``
of a path the other took within ``echo_window_s``), is no switch. An episode whose switches
all went between two strands found to be twins, while it is open or up to ``echo_window_s``
after it was confirmed, is published ``retracted`` with ``details.echo_late_s``.

Identity (second entry point, :meth:`IdentityConflictDetector.on_static`, fed with the static
reports of types 5, 19 and 24): a name, call sign or IMO number that differs from every value
the MMSI has reported before (up to :data:`MAX_KNOWN` remembered per field) is an
instantaneous ``confirmed`` event with ``details.reason = "identity_change"``; switching back
to a known value raises nothing more. Its ``id`` ends in ``-identity`` so it never collides
with a position episode starting in the same second.

A position that only continues the vessel's current place and its only strand, while no
episode is open or recently confirmed and no switch is recent, changes nothing but those, so
a batch is screened for them (:class:`~lookout.detectors.hops.PlaceScreenDetector`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from math import inf
from typing import Any

from lookout.detectors.base import Event, register_detector
from lookout.detectors.echoes import Strands, extend_trail, trail_mark
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
    echo_m: float = setting(
        1_000.0, "A strand under way this near another's earlier path is its late echo, metres."
    )
    echo_window_s: float = setting(
        43_200.0, "How far back each strand's path is kept for echoes, seconds (12 h; 0: off)."
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
    strands: list[int] = field(default_factory=list)
    """Ids of the strands (:mod:`lookout.detectors.echoes`) its switches went between."""

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
            self.strands,
        ]

    @classmethod
    def load(cls, data: list[Any]) -> Episode:
        start, end, switches, returns, low, high, speed, places, *strands = data
        return cls(
            Fix.load(start),
            Fix.load(end),
            int(switches),
            int(returns),
            float(low),
            float(high),
            float(speed),
            [[float(a), float(b)] for a, b in places],
            [int(i) for i in strands[0]] if strands else [],  # none in snapshots before 0.2
        )


@dataclass(slots=True)
class IdentityState:
    """Per MMSI: recent places, recent switches, the open episode, identities seen."""

    places: Places = field(default_factory=Places)
    hops: list[Hop] = field(default_factory=list)
    episode: Episode | None = None
    known: dict[str, list[str]] = field(default_factory=dict)
    strands: Strands = field(default_factory=Strands)
    switched_to: dict[int, float] = field(default_factory=dict)
    """Strand id -> time of the last switch from or to it (within ``window_s``)."""
    closed: Episode | None = None
    """The last confirmed episode, while it can still turn out to be an echo."""

    def dump(self) -> list[Any]:
        episode, closed = (None if e is None else e.dump() for e in (self.episode, self.closed))
        hops = [h.dump() for h in self.hops]
        echoes = [self.strands.dump(), [[k, v] for k, v in self.switched_to.items()], closed]
        return [self.places.dump(), hops, episode, self.known, *echoes]

    @classmethod
    def load(cls, data: Any) -> IdentityState:
        places, hops, episode, known, *echoes = data  # snapshots before 0.2: no strands
        strands, switched, closed = echoes or (None, [], None)
        return cls(
            Places.load(places),
            [Hop.load(h) for h in hops],
            None if episode is None else Episode.load(episode),
            {str(k): [str(v) for v in vs] for k, vs in known.items()},
            Strands() if strands is None else Strands.load(strands),
            {int(k): float(v) for k, v in switched},
            None if closed is None else Episode.load(closed),
        )


@register_detector
class IdentityConflictDetector(PlaceScreenDetector[IdentityState]):
    """Two transmitters on one MMSI, or a changed identity; see the module docstring."""

    kind = "identity_conflict"
    marked = True

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
        fix = Fix.of(obs)
        hop = state.places.add(fix, cfg.max_speed_kn, cfg.min_jump_m, cfg.window_s, obs.speed_kn)
        strand = self._strand(state, fix, obs.speed_kn)
        switch = hop is not None and hop.distance_m > cfg.min_distance_m
        twin = -1
        if switch or self._watching(state, fix.ts):
            twin = self._echo(key, state, strand, fix.ts)
        if hop is not None and switch and (twin < 0 or twin != state.strands.previous):
            self._switch(key, state, hop, strand)
        return state

    def _switch(self, key: Hashable, state: IdentityState, hop: Hop, strand: int) -> None:
        """Count a switch: extend the open episode, or open one if it completes a run."""
        cfg = self.config
        ends = [s for s in (state.strands.previous, strand) if s >= 0]
        for end in ends:
            state.switched_to[end] = hop.end.ts
        episode = state.episode
        if episode is not None:
            episode.add(hop)
            episode.strands += [s for s in ends if s not in episode.strands]
        else:
            state.hops.append(hop)
            run = run_of(state.hops, cfg.window_s, int(cfg.min_hops))
            if run:
                episode = state.episode = Episode(run[0].start, run[0].end)
                for each in run:
                    episode.add(each)
                episode.strands = list(state.switched_to)
                state.hops.clear()
                assert isinstance(key, int)
                self._publish(key, episode, hop.end.ts, "provisional")
        self.notify_at(key, hop.end.ts + cfg.window_s)

    def _strand(self, state: IdentityState, fix: Fix, sog_kn: float | None) -> int:
        """Fold ``fix`` into the MMSI's strands; the id of its strand (-1: echoes off)."""
        cfg = self.config
        if cfg.echo_window_s <= 0:
            return -1
        old = fix.ts - cfg.window_s
        if state.switched_to:
            state.switched_to = {k: v for k, v in state.switched_to.items() if v >= old}
        return state.strands.add(fix, sog_kn, cfg.max_speed_kn, cfg.min_jump_m, cfg.echo_window_s)

    def _watching(self, state: IdentityState, ts: float) -> bool:
        """Whether an episode is open, or closed recently enough to be retracted."""
        closed = state.closed
        if closed is not None and ts > closed.end.ts + self.config.echo_window_s:
            state.closed = closed = None
        return state.episode is not None or closed is not None

    def _echo(self, key: Hashable, state: IdentityState, strand: int, ts: float) -> int:
        """The id of the strand that the position's strand is a twin of, one vessel with
        one copy late (a switch between the two is no switch), or -1; an episode whose
        switches all went between the two, open or closed within ``echo_window_s``, is
        retracted."""
        cfg = self.config
        twin = None if strand < 0 else state.strands.echo(ts - cfg.echo_window_s, cfg.echo_m)
        if twin is None:
            return -1
        for episode in (state.episode, state.closed):
            if episode is not None and set(episode.strands) <= {strand, twin[0]}:
                assert isinstance(key, int)
                self._publish(key, episode, ts, "retracted", late_s=twin[1])
                if episode is state.episode:
                    state.episode = None
                    state.hops.clear()
                    self.cancel(key)
                else:
                    state.closed = None
        return twin[0]

    def _near_deg(self) -> float:
        return near_deg(self.config.min_jump_m)

    def _cursor(self, state: IdentityState) -> Cursor | None:
        """With echoes on, the mark is the last vertex of the only strand's trail (kept
        after it: ``[ts, lat, lon, rows, mark_lat, mark_lon, mark_deg, trail]``)."""
        heads = state.places.heads
        if not heads or state.episode is not None or state.closed is not None:
            return None
        if state.switched_to:
            return None
        head = heads[0]
        if self.config.echo_window_s <= 0:
            return [head.ts, head.lat, head.lon, [], 0.0, 0.0, inf]  # never left
        strands = state.strands
        if len(strands.heads) != 1 or strands.heads[0] != head:
            return None
        trail = strands.trails[0]
        return [head.ts, head.lat, head.lon, [], *trail_mark(trail), trail]

    def _fold(self, state: IdentityState, rows: list[Observation]) -> None:
        head = state.places.fold(rows)
        if self.config.echo_window_s > 0:
            state.strands.fold(head, rows[-1].speed_kn, len(rows))

    def _left_mark(self, cursor: Cursor, ts: float) -> None:
        trail = cursor[7]
        extend_trail(trail, cursor[0], cursor[1], cursor[2], ts - self.config.echo_window_s)
        cursor[4:7] = trail_mark(trail)

    def on_notify(
        self, key: Hashable, state: IdentityState | None, ts: float
    ) -> IdentityState | None:
        self._release(key)
        if state is None:
            return None
        if state.episode is not None:
            assert isinstance(key, int)
            self._publish(key, state.episode, state.episode.end.ts, "confirmed")
            if self.config.echo_window_s > 0:
                state.closed = state.episode
            state.episode = None
        state.hops.clear()
        return state

    def on_static(self, report: StaticReport) -> list[Event]:
        """Fold one static report (name, call sign, IMO) into the MMSI's identity; the
        ``identity_change`` events it causes."""
        if is_sar_aircraft(report.mmsi, report.msg_type):
            return []
        state = self._states.get(report.mmsi) or IdentityState()
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
            self._settle(report.mmsi)  # the event is where the vessel is now
            self._publish_change(report, state, changes)
        return self._drain()

    def _publish(
        self, mmsi: int, episode: Episode, ts: float, status: str, late_s: float | None = None
    ) -> None:
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
        if late_s is not None:  # retracted: one of the two places only retraced the other
            details["echo_late_s"] = late_s
        span = (start.ts, None if status == "provisional" else end.ts)
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
