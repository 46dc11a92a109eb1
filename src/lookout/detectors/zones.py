"""``zone_entry`` and ``zone_exit``: a vessel crossing into or out of a zone.

- ``zone_entry``: the vessel's first position inside a zone after a position outside it. A
  vessel first seen inside a zone raises no ``zone_entry``.
- ``zone_exit``: the first position outside a zone after a position inside it.

Both are instantaneous (``start_ts == end_ts``, the time of the position that crossed); the
``id`` is ``<kind>-<mmsi>-<ts>-<zone id>``. A
position on a zone's boundary is inside it. Where zones overlap (a territorial sea inside a
disputed area) each zone is crossed on its own: one position can fire several events, in the
order the zones were given to the :class:`~lookout.geo.zones.ZoneIndex`.

Per-vessel state is the set of zones the vessel was in at its last position, with that
position (time, place, observation key, member), so every event carries both ends of the
crossing: a :class:`ZoneVisit`, or, while the vessel is in no zone, its last
:class:`~lookout.model.Observation` itself (most vessels most of the time: nothing is built
per position). A position older than the vessel's last one is late: it is ignored, so late
data never makes a vessel cross back and forth.

A batch is screened first (:meth:`~lookout.geo.zones.ZoneIndex.clear_of_zones`, one numpy
pass shared by both detectors): a position surely in no zone, of a vessel that was in none,
only becomes the vessel's last position; every other one is looked up.

The detectors take their :class:`~lookout.geo.zones.ZoneIndex` in the constructor
(``ZoneEntryDetector(index)``, or :func:`zone_detectors` for both); ``create_detector(kind)``
builds them with an empty index, which never fires. Restored state naming a zone the index no
longer has is kept, but crossing that zone raises no event.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

from lookout.ais.tables import flag_of
from lookout.detectors.base import Detector, Event, register_detector
from lookout.detectors.pairwise import event_id
from lookout.geo.zones import Zone, ZoneIndex
from lookout.model import Observation

__all__ = ["ZoneEntryDetector", "ZoneExitDetector", "ZoneVisit", "zone_detectors"]


class ZoneVisit(NamedTuple):
    """Per-vessel state: the zones the vessel was in at its last position, and that position.

    (A named tuple rather than a dataclass: one is built per observation.)
    """

    ts: float
    lat: float
    lon: float
    key: str
    member: str
    zones: tuple[str, ...]
    source: str = ""


Visit = ZoneVisit | Observation
"""A vessel's state: where it was last, and in which zones (an observation: in none)."""


def _visit(state: Visit) -> ZoneVisit:
    if type(state) is ZoneVisit:
        return state
    obs: Observation = state  # type: ignore[assignment]
    return ZoneVisit(obs.observed_ts, obs.lat, obs.lon, obs.key, obs.member, (), obs.source)


class _ZoneCrossingDetector(Detector[Visit]):
    """Shared plumbing: look the position up, compare with the last zones, emit crossings."""

    def __init__(self, zones: ZoneIndex | None = None) -> None:
        super().__init__()
        self.zones = zones if zones is not None else ZoneIndex()

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """:meth:`update` of each position in order, after the batch screen (module doc)."""
        if not observations:
            return []
        clear = self.zones.clear_of_zones(observations)
        states, update = self._states, self.update
        for obs, nothing in zip(observations, clear, strict=True):
            mmsi = obs.mmsi
            state = states.get(mmsi)
            if nothing and (state is None or type(state) is Observation):
                if state is None or obs.observed_ts >= state.observed_ts:
                    states[mmsi] = obs
                continue
            states[mmsi] = update(mmsi, state, obs)
        return self._drain()

    def update(self, key: Hashable, state: Visit | None, obs: Observation) -> Visit:
        if state is not None:
            state = _visit(state)
            if obs.observed_ts < state.ts:
                return state  # late: an older position than the last one
        here = self.zones.ids_at(obs.lat, obs.lon)
        if state is not None and here != state.zones:
            for zone_id in self._crossed(state.zones, here):
                zone = self.zones.get(zone_id)
                if zone is not None:
                    values = _values(self.kind, zone, state, obs)
                    self.emit(obs.observed_ts, values, status="confirmed")
        if not here:
            return obs
        return ZoneVisit(obs.observed_ts, obs.lat, obs.lon, obs.key, obs.member, here, obs.source)

    def _crossed(self, before: tuple[str, ...], now: tuple[str, ...]) -> list[str]:
        """The ids of the zones this detector reports, given the zones before and now."""
        raise NotImplementedError

    def thresholds(self) -> dict[str, float]:
        return {"zone_count": float(len(self.zones)), "boundary_tolerance_m": 0.0}

    def dump_state(self, state: Visit) -> Any:
        state = _visit(state)
        return [
            state.ts, state.lat, state.lon, state.key, state.member, list(state.zones),
            state.source,
        ]  # fmt: skip

    def load_state(self, data: Any) -> Visit:
        ts, lat, lon, key, member, zones, *source = data  # no source before 0.2
        return ZoneVisit(
            float(ts), float(lat), float(lon), str(key), str(member), tuple(zones),
            *map(str, source),
        )  # fmt: skip


def _values(kind: str, zone: Zone, before: ZoneVisit, obs: Observation) -> dict[str, Any]:
    """One crossing in the common event shape (``id``, ``mmsi``, ``mmsis``, ``start_ts`` =
    ``end_ts``, ``lat``/``lon`` of the first position on the new side, ``zone``,
    ``observations``, ``members``) with the zone, the previous position, speed and course in
    ``details``."""
    ts = obs.observed_ts
    return {
        "id": f"{event_id(kind, (obs.mmsi,), ts)}-{zone.id}",
        "mmsi": obs.mmsi,
        "mmsis": [obs.mmsi],
        "zone": zone.id,
        "start_ts": ts,
        "end_ts": ts,
        "lat": obs.lat,
        "lon": obs.lon,
        "observations": [before.key, obs.key],
        "members": sorted({before.member, obs.member}),
        "sources": sorted(
            {
                f"{before.member}/{before.source}" if before.source else "",
                f"{obs.member}/{obs.source}",
            }
            - {""}
        ),
        "details": {
            "zone_name": zone.name,
            "regime": zone.regime.value,
            "owners": list(zone.owners),
            "approximate": zone.approximate,
            "flag": flag_of(obs.mmsi),
            "speed_kn": obs.speed_kn,
            "course_deg": obs.course_deg,
            "previous_ts": before.ts,
            "previous_lat": before.lat,
            "previous_lon": before.lon,
            "interval_s": ts - before.ts,
            "thresholds": {"boundary_tolerance_m": 0.0},
        },
    }


@register_detector
class ZoneEntryDetector(_ZoneCrossingDetector):
    """``zone_entry``: the first position inside a zone after a position outside it."""

    kind = "zone_entry"

    def _crossed(self, before: tuple[str, ...], now: tuple[str, ...]) -> list[str]:
        return [z for z in now if z not in before]


@register_detector
class ZoneExitDetector(_ZoneCrossingDetector):
    """``zone_exit``: the first position outside a zone after a position inside it."""

    kind = "zone_exit"

    def _crossed(self, before: tuple[str, ...], now: tuple[str, ...]) -> list[str]:
        return [z for z in before if z not in now]


def zone_detectors(zones: ZoneIndex) -> list[Detector[Visit]]:
    """Both zone detectors over one index (its last lookup is shared between them)."""
    return [ZoneEntryDetector(zones), ZoneExitDetector(zones)]
