"""Per-vessel state and track segmentation.

:class:`VesselTracker` keeps, per MMSI, the latest position, identity, contributors and the
live *segments*: physically consistent tracks. Several transmitters sharing one MMSI (a
common fraud, and a common misconfiguration) would otherwise draw one track zig-zagging
between them.

Segmentation rule (thresholds in :class:`TrackConfig`): a new point is *compatible* with a
segment when it lies within ``gate_distance_m`` (default 10 km, far above GPS noise) of the
segment's last point, or when the speed implied from that point is at most ``max_speed_kn``
(default 50 kn; no ship keeps that up, fast ferries and SAR aircraft aside). The test is
``distance <= max_speed * |dt|``, so a zero or tiny time difference never divides by zero and
never makes a nearby point incompatible. A point joins the nearest compatible segment; with
none it opens a new one. At most ``max_segments`` (default 4) live per MMSI: a new one
replaces the least recently updated, and segments not updated for ``segment_ttl_s`` (default
6 h) are dropped as soon as another segment of that MMSI is updated.

Segment ids are the epoch second of the segment's first point (or one more than the MMSI's
previous id, if that is larger): unique per MMSI, increasing, and the same after a restart.

Memory: an optional ``recall`` callable (the service passes ``Store.vessel``) seeds a vessel
seen for the first time since start or eviction from its stored state, so its identity,
contributors, position count and track continue instead of starting from nothing.

Time: the *latest* state moves only forward in observed time. A late point (older than the
latest) goes into the track history and the counts but leaves the latest position alone.
Vessels not heard for ``vessel_ttl_s`` of data time (default 24 h; data time is the newest
observed time seen) are evicted from memory by :meth:`VesselTracker.evict`; their stored state
stays in the store.

``VesselState.simulated`` is the flag of the point the latest position came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lookout.ais.tables import AIS_CLASS_OF_TYPE, flag_of
from lookout.fusion.identity import Identity, merge
from lookout.fusion.vessels import Segment, Vessel, dump, load, seed, state_of, state_row
from lookout.geo.distance import METRES_PER_DEGREE, MPS_PER_KN, distance_m
from lookout.model import StaticReport, TrackPoint, VesselState
from lookout.model.rows import TrackRow, VesselRow, new_track_point, new_vessel_state

__all__ = ["TrackConfig", "VesselTracker"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackConfig:
    """Thresholds of fusion and segmentation (see the module docstring)."""

    max_speed_kn: float = 50.0
    """Implied speed above which two points cannot be the same vessel (if far apart)."""
    gate_distance_m: float = 10_000.0
    """Points closer than this are always compatible (GPS noise, jitter)."""
    max_segments: int = 4
    """Live segments kept per MMSI."""
    segment_ttl_s: float = 6 * 3600.0
    """A segment not updated for this long is dropped when another one is updated."""
    vessel_ttl_s: float = 24 * 3600.0
    """Vessels not heard for this long (data time) are evicted from memory."""

    def __post_init__(self) -> None:
        if self.max_segments < 1:
            raise ValueError("max_segments must be at least 1")
        if self.max_speed_kn <= 0 or self.gate_distance_m < 0:
            raise ValueError("max_speed_kn must be positive and gate_distance_m not negative")


class VesselTracker:
    """Fuses accepted observations into vessel states and track segments.

    Hot path: :meth:`observe` per position (returns the track point with its segment),
    :meth:`add_static` per identity report, then once per batch :meth:`take_states` (one
    :class:`VesselState` per MMSI changed since the last call) and :meth:`evict`. The pipeline
    uses :meth:`observe_row` and :meth:`take_state_rows`, which give the same as rows.
    """

    def __init__(
        self,
        config: TrackConfig | None = None,
        *,
        flag: Callable[[int], str | None] = flag_of,
        recall: Callable[[int], VesselState | None] | None = None,
    ) -> None:
        self.config = config if config is not None else TrackConfig()
        self._flag = flag
        self._recall = recall
        self._vessels: dict[int, Vessel] = {}
        self._dirty: dict[int, Vessel] = {}
        self.watermark_ts: float | None = None
        """The newest observed time seen (data time)."""
        self._configure()

    def _configure(self) -> None:
        cfg = self.config
        self._max_mps = cfg.max_speed_kn * MPS_PER_KN
        self._gate_m = cfg.gate_distance_m
        self._near_deg = cfg.gate_distance_m / METRES_PER_DEGREE

    def reconfigure(self, config: TrackConfig) -> None:
        """Use new thresholds from now on (state is kept)."""
        self.config = config
        self._configure()

    def __len__(self) -> int:
        return len(self._vessels)

    def __contains__(self, mmsi: object) -> bool:
        return mmsi in self._vessels

    def _vessel(self, mmsi: int, ts: float) -> Vessel:
        vessel = self._vessels.get(mmsi)
        if vessel is None:
            vessel = Vessel(mmsi, self._flag(mmsi), ts)
            known = self._recall(mmsi) if self._recall is not None else None
            if known is not None:
                seed(vessel, known)
            self._vessels[mmsi] = vessel
        return vessel

    def observe(
        self,
        mmsi: int,
        ts: float,
        lat: float,
        lon: float,
        speed_kn: float | None,
        course_deg: float | None,
        heading_deg: int | None,
        status: int | None,
        member: str,
        source: str,
        receivers: tuple[str, ...],
        simulated: bool = False,
    ) -> TrackPoint:
        """Fuse one accepted position; returns its track point (with its segment)."""
        # fmt: off
        return new_track_point(*self.observe_row(
            mmsi, ts, lat, lon, speed_kn, course_deg, heading_deg, status, member, source,
            receivers, simulated,
        ))
        # fmt: on

    def observe_row(
        self,
        mmsi: int,
        ts: float,
        lat: float,
        lon: float,
        speed_kn: float | None,
        course_deg: float | None,
        heading_deg: int | None,
        status: int | None,
        member: str,
        source: str,
        receivers: tuple[str, ...],
        simulated: bool = False,
        msg_type: int = 0,
    ) -> TrackRow:
        """:meth:`observe`, giving the track point as a row (the hot path). ``msg_type`` (the
        AIS message type, 0 if none) sets the vessel's :meth:`ais_class` when it tells one."""
        vessel = self._vessels.get(mmsi)
        if vessel is None:
            vessel = self._vessel(mmsi, ts)
        segments = vessel.segments
        if len(segments) == 1:  # the common case, inlined: one segment, a nearby point
            seg = segments[0]
            dlon = abs(lon - seg.lon)
            if dlon > 180.0:
                dlon = 360.0 - dlon
            if abs(lat - seg.lat) + dlon <= self._near_deg:
                segment = seg.id
                if ts >= seg.last_ts:
                    seg.last_ts, seg.lat, seg.lon = ts, lat, lon
            else:
                segment = self._assign(vessel, ts, lat, lon)
        else:
            segment = self._assign(vessel, ts, lat, lon)
        latest_ts = vessel.ts
        feed = member + "/" + source
        if latest_ts is None or ts >= latest_ts:
            vessel.ts = ts
            vessel.feed = feed
            if msg_type in AIS_CLASS_OF_TYPE:
                vessel.ais_class = AIS_CLASS_OF_TYPE[msg_type]
            # fmt: off
            vessel.latest = (ts, lat, lon, speed_kn, course_deg, heading_deg, status, segment,
                             simulated)
            # fmt: on
            if ts > vessel.seen_ts:
                vessel.seen_ts = ts
            watermark = self.watermark_ts
            if watermark is None or ts > watermark:
                self.watermark_ts = ts
        vessel.positions += 1
        if member not in vessel.members:
            vessel.members = tuple(sorted((*vessel.members, member)))
        if feed not in vessel.sources:
            vessel.sources = tuple(sorted((*vessel.sources, feed)))
        self._dirty[mmsi] = vessel
        return (mmsi, segment, ts, lat, lon, speed_kn, course_deg, heading_deg, member, source,
                receivers)  # fmt: skip

    def _assign(self, vessel: Vessel, ts: float, lat: float, lon: float) -> int:
        """The id of the segment this point belongs to (updating or opening it).

        Points within ``gate_distance_m`` in the sum of degree differences are surely within
        it on the sphere (an arc is never longer than a meridian leg plus a parallel leg), so
        the one-segment case needs no trigonometry for nearby points (inlined in observe).
        """
        segments = vessel.segments
        if len(segments) == 1:
            seg = segments[0]
            if self._compatible(seg, ts, lat, lon):
                return self._extend(seg, ts, lat, lon)
        elif segments:
            best = self._nearest_compatible(segments, ts, lat, lon)
            if best is not None:
                self._expire(vessel, ts, best)
                return self._extend(best, ts, lat, lon)
        return self._open(vessel, ts, lat, lon)

    def _compatible(self, seg: Segment, ts: float, lat: float, lon: float) -> bool:
        gap_m = distance_m(seg.lat, seg.lon, lat, lon)
        return gap_m <= self._gate_m or gap_m <= self._max_mps * abs(ts - seg.last_ts)

    def _nearest_compatible(
        self, segments: list[Segment], ts: float, lat: float, lon: float
    ) -> Segment | None:
        best: Segment | None = None
        best_m = float("inf")
        for seg in segments:
            gap_m = distance_m(seg.lat, seg.lon, lat, lon)
            if gap_m < best_m and (
                gap_m <= self._gate_m or gap_m <= self._max_mps * abs(ts - seg.last_ts)
            ):
                best, best_m = seg, gap_m
        return best

    @staticmethod
    def _extend(seg: Segment, ts: float, lat: float, lon: float) -> int:
        if ts >= seg.last_ts:
            seg.last_ts = ts
            seg.lat = lat
            seg.lon = lon
        return seg.id

    def _expire(self, vessel: Vessel, ts: float, keep: Segment) -> None:
        horizon = ts - self.config.segment_ttl_s
        vessel.segments = [s for s in vessel.segments if s is keep or s.last_ts >= horizon]

    def _open(self, vessel: Vessel, ts: float, lat: float, lon: float) -> int:
        previous = max((s.id for s in vessel.segments), default=None)
        horizon = ts - self.config.segment_ttl_s
        segments = [s for s in vessel.segments if s.last_ts >= horizon]
        if len(segments) >= self.config.max_segments:
            segments.remove(min(segments, key=lambda s: s.last_ts))
        segment_id = int(ts) if previous is None else max(int(ts), previous + 1)
        segments.append(Segment(segment_id, ts, lat, lon))
        vessel.segments = segments
        return segment_id

    def add_static(self, report: StaticReport) -> bool:
        """Merge an identity report; ``True`` when it changed the vessel's identity."""
        vessel = self._vessel(report.mmsi, report.observed_ts)
        if report.observed_ts > vessel.seen_ts:
            vessel.seen_ts = report.observed_ts
        if not merge(vessel.identity, report):
            return False
        if vessel.ts is not None:
            self._dirty[report.mmsi] = vessel
        return True

    def feed(self, mmsi: int) -> str:
        """``MEMBER/NAME`` of the source of a vessel's latest position (``""`` if unknown)."""
        vessel = self._vessels.get(mmsi)
        return "" if vessel is None else vessel.feed

    def ais_class(self, mmsi: int) -> str | None:
        """``A``, ``B`` or ``SAR``: the station class of the latest position report that tells
        one (:data:`~lookout.ais.tables.AIS_CLASS_OF_TYPE`); ``None`` if none did yet."""
        vessel = self._vessels.get(mmsi)
        return None if vessel is None else vessel.ais_class

    def identity(self, mmsi: int) -> Identity | None:
        """The live identity record of a vessel (compare by ``is`` and ``version`` to tell
        whether it changed), or ``None``."""
        vessel = self._vessels.get(mmsi)
        return None if vessel is None else vessel.identity

    def add_contributor(self, mmsi: int, member: str, source: str) -> bool:
        """Record that ``member``/``source`` also heard this vessel (a duplicate's sender).

        ``True`` when that was news (the vessel's state changed).
        """
        vessel = self._vessels.get(mmsi)
        feed = member + "/" + source
        if vessel is None or feed in vessel.sources:
            return False
        if member not in vessel.members:
            vessel.members = tuple(sorted((*vessel.members, member)))
        vessel.sources = tuple(sorted((*vessel.sources, feed)))
        if vessel.ts is not None:
            self._dirty[mmsi] = vessel
        return True

    def state(self, mmsi: int) -> VesselState | None:
        """The current fused state of one vessel (``None`` if unknown or never positioned)."""
        vessel = self._vessels.get(mmsi)
        return None if vessel is None or vessel.ts is None else state_of(vessel)

    def take_states(self) -> list[VesselState]:
        """One state per vessel changed since the last call (newest data), in first-change order."""
        return [new_vessel_state(*row) for row in self.take_state_rows()]

    def take_state_rows(self) -> list[VesselRow]:
        """:meth:`take_states`, as rows (the hot path)."""
        dirty = self._dirty
        self._dirty = {}
        return [state_row(v) for v in dirty.values()]

    def segments(self, mmsi: int) -> list[int]:
        """Ids of the live segments of one vessel, oldest first."""
        vessel = self._vessels.get(mmsi)
        return [] if vessel is None else sorted(s.id for s in vessel.segments)

    def evict(self, now_ts: float | None = None) -> int:
        """Forget vessels not heard for ``vessel_ttl_s`` before ``now_ts`` (default: data time).

        Returns how many were evicted. A vessel changed since the last :meth:`take_states` is
        still handed out by it: eviction frees memory, it never loses an update.
        """
        reference = now_ts if now_ts is not None else self.watermark_ts
        if reference is None:
            return 0
        horizon = reference - self.config.vessel_ttl_s
        stale = [m for m, v in self._vessels.items() if v.seen_ts < horizon]
        for mmsi in stale:
            del self._vessels[mmsi]
        return len(stale)

    # -- snapshot ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state, so a restarted pipeline resumes with the same tracks."""
        return {
            "watermark_ts": self.watermark_ts,
            "vessels": [dump(v) for v in self._vessels.values()],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the state with a :meth:`snapshot`."""
        self.watermark_ts = data.get("watermark_ts")
        self._vessels = {}
        self._dirty = {}
        for row in data.get("vessels", ()):
            vessel = load(row, self._flag)
            self._vessels[vessel.mmsi] = vessel

    def vessels(self) -> Iterable[int]:
        """MMSIs held in memory."""
        return self._vessels.keys()
