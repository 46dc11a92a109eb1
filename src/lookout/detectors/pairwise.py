"""Shared plumbing of the detectors that compare vessels with each other.

``encounter``, ``close_approach``, ``shadowing`` and ``swarm`` ask where every vessel is *at
the same moment*. Reports of two vessels are never simultaneous, so positions are resampled
onto a grid of event-time *ticks* (every ``tick_s`` seconds, aligned with the epoch), the way
Global Fishing Watch's encounters pipeline resamples tracks before comparing them:

- a vessel's position at tick T is interpolated linearly between its reports just before and
  just after T when those are at most ``max_gap_s`` apart; across a longer gap the vessel is
  *unknown* at T (no evidence either way), and its track restarts at the next report;
- speed and course at T are those of the nearer of the two reports: the reported SOG/COG, or
  where a report lacks them, derived from the track over at least ``derive_window_s``
  (partial windows of at least 60 s until a full one exists);
- tick T is *swept* once the watermark passes T + ``max_gap_s``: every report that can
  bracket T has arrived by then. :meth:`PairwiseDetector.sweep` gets a :class:`TickFrame` of
  every vessel known at T, sorted by MMSI, and compares them with a
  :class:`~lookout.geo.grid.SpatialGrid`. A report older than the last swept tick, or than
  its vessel's latest report, is too late to be used (counted in ``late_positions``).

Per observation the cost is a dictionary look-up and, when a tick is crossed, one buffered
segment (:mod:`lookout.detectors.resample`: its rows are interpolated when their ticks are
swept); the comparisons happen once per tick for all vessels at once.
``advance(math.inf)`` at the end of the input sweeps every pending tick and closes every open
episode. Nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lookout.detectors.base import Detector, Event
from lookout.detectors.resample import ROW, PendingRows
from lookout.geo.distance import distance_m, implied_speed_kn, initial_bearing_deg
from lookout.model import Observation

__all__ = [
    "MIN_DERIVE_SPAN_S",
    "NearPort",
    "PairwiseDetector",
    "SweepConfig",
    "TickFrame",
    "event_id",
    "field_names",
    "midpoint",
    "midpoints",
    "near_port_mask",
    "never_near_port",
    "setting",
]

MIN_DERIVE_SPAN_S = 60.0
"""Shortest stretch of track a derived speed or course is computed over."""

NearPort = Callable[[float, float, float], bool]
"""``near_port(lat, lon, distance_m)``: is a port or anchorage within ``distance_m`` metres?"""

_NAN = math.nan


def never_near_port(lat: float, lon: float, distance_m: float) -> bool:
    """The default port predicate: no port data set, so nowhere is near a port."""
    return False


def near_port_mask(
    near_port: NearPort, lat: NDArray[np.float64], lon: NDArray[np.float64], distance_m: float
) -> NDArray[np.bool_]:
    """``near_port`` of many points: through the ``near_many`` of the object it is a method
    of, when it has one (:meth:`lookout.geo.ports.PortIndex.near_many`, the same answers at
    a fraction of the cost), else one call per point."""
    if near_port is never_near_port:
        return np.zeros(len(lat), dtype=bool)
    many = getattr(getattr(near_port, "__self__", None), "near_many", None)
    if many is not None and getattr(near_port, "__name__", "") == "near":
        found: NDArray[np.bool_] = many(lat, lon, distance_m)
        return found
    answers = [near_port(a, b, distance_m) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]
    return np.array(answers, dtype=bool)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a config dataclass, remembered: every event carries its detector's
    thresholds, and ``dataclasses.fields`` is slow for a per-event call (a few per cent of a
    process node's work on an event-heavy load)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def setting(default: float, help_text: str) -> float:
    """A config field with its help text (``dataclasses.fields(cfg)[i].metadata["help"]``)."""
    value: float = field(default=default, metadata={"help": help_text})
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepConfig:
    """How positions are resampled before vessels are compared (see the module docstring)."""

    tick_s: float = setting(60.0, "Seconds between the instants at which vessels are compared.")
    max_gap_s: float = setting(
        600.0, "Longest gap between two reports that is interpolated across, seconds."
    )
    derive_window_s: float = setting(
        600.0, "Track stretch a speed/course is derived over when SOG/COG are missing, seconds."
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{type(self).__name__}.{f.name} must be >= 0, got {value!r}")
        if self.tick_s <= 0:
            raise ValueError(f"{type(self).__name__}.tick_s must be > 0")

    def values(self) -> dict[str, float]:
        """Every field by name: the thresholds in force."""
        return {name: float(getattr(self, name)) for name in field_names(type(self))}


def midpoint(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """Halfway between two nearby positions (the short way round in longitude)."""
    lon = lon1 + ((lon2 - lon1 + 180.0) % 360.0 - 180.0) * 0.5
    return (lat1 + lat2) * 0.5, (lon + 180.0) % 360.0 - 180.0


def midpoints(
    lat1: NDArray[np.float64],
    lon1: NDArray[np.float64],
    lat2: NDArray[np.float64],
    lon2: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`midpoint` of many pairs of positions at once."""
    lon = lon1 + ((lon2 - lon1 + 180.0) % 360.0 - 180.0) * 0.5
    return (lat1 + lat2) * 0.5, (lon + 180.0) % 360.0 - 180.0


def event_id(kind: str, mmsis: Sequence[int], start_ts: float) -> str:
    """A stable event id: the same kind, vessels and start give the same id."""
    return f"{kind}-{'-'.join(str(m) for m in sorted(mmsis))}-{math.floor(start_ts)}"


@dataclass(frozen=True, slots=True)
class TickFrame:
    """Every vessel known at one tick: parallel arrays sorted by MMSI; NaN marks unknown
    speed or course."""

    ts: float
    mmsi: NDArray[np.int64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    speed_kn: NDArray[np.float64]
    course_deg: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.mmsi.shape[0])

    @classmethod
    def from_rows(cls, ts: float, rows: ArrayLike) -> TickFrame:
        """A frame from rows ``(mmsi, lat, lon, speed_kn, course_deg)`` in any order."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, ROW)
        mmsi = table[:, 0].astype(np.int64)
        order = _mmsi_order(mmsi)
        lat, lon, speed, course = (table[:, k].take(order) for k in range(1, ROW))
        return cls(ts, mmsi.take(order), lat, lon, speed, course)

    def select(self, mask: NDArray[np.bool_]) -> TickFrame:
        """The vessels where ``mask`` is true (still sorted by MMSI)."""
        return TickFrame(
            self.ts,
            self.mmsi[mask],
            self.lat[mask],
            self.lon[mask],
            self.speed_kn[mask],
            self.course_deg[mask],
        )

    def find(self, mmsis: ArrayLike) -> NDArray[np.int64]:
        """Row of each MMSI in this frame, -1 where the vessel is unknown at this tick."""
        wanted = np.asarray(mmsis, dtype=np.int64)
        if len(self) == 0:
            return np.full(wanted.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.mmsi, wanted), len(self) - 1)
        found: NDArray[np.int64] = np.where(self.mmsi[pos] == wanted, pos, -1).astype(np.int64)
        return found

    def rows(self) -> list[list[float | None]]:
        """The frame as JSON-able rows (NaN as None), for snapshots."""
        table = np.column_stack((self.mmsi, self.lat, self.lon, self.speed_kn, self.course_deg))
        return [[_json_float(v) for v in row] for row in table.tolist()]


def _mmsi_order(mmsi: NDArray[np.int64]) -> NDArray[np.intp]:
    """The stable sorting order of MMSIs: two 16-bit radix passes (five times faster than a
    comparison sort of 50,000 int64), or a plain sort for numbers outside 0 .. 2**32."""
    if len(mmsi) == 0 or mmsi.min() < 0 or mmsi.max() >= 2**32:
        return np.argsort(mmsi, kind="stable")
    order = np.argsort((mmsi & 0xFFFF).astype(np.uint16), kind="stable")
    high = (mmsi.take(order) >> 16).astype(np.uint16)
    result: NDArray[np.intp] = order.take(np.argsort(high, kind="stable"))
    return result


class _Seen(NamedTuple):
    """A vessel's latest report as a restored snapshot remembers it (what an event rests on;
    live, the :class:`~lookout.model.Observation` itself is kept: nothing is built per
    report)."""

    key: str
    member: str
    source: str


class _Track:
    """The latest report of one vessel and the anchor its derived speed/course is taken from."""

    __slots__ = (
        "a_lat",
        "a_lon",
        "a_ts",
        "course",
        "d_course",
        "d_speed",
        "lat",
        "lon",
        "next_ts",
        "speed",
        "ts",
    )

    def __init__(
        self,
        ts: float,
        lat: float,
        lon: float,
        speed: float,
        course: float,
        next_ts: float = math.inf,
    ) -> None:
        self.ts, self.lat, self.lon, self.speed, self.course = ts, lat, lon, speed, course
        self.a_ts, self.a_lat, self.a_lon = ts, lat, lon
        self.d_speed = self.d_course = _NAN
        self.next_ts = next_ts
        """The first tick after ``ts``: a report from then on crosses a tick."""

    def derive(self, ts: float, lat: float, lon: float, window_s: float) -> None:
        """Update the derived speed/course with a new report (see the module docstring)."""
        span = ts - self.a_ts
        if span >= window_s or (span >= MIN_DERIVE_SPAN_S and self.d_speed != self.d_speed):
            moved = distance_m(self.a_lat, self.a_lon, lat, lon)
            self.d_speed = implied_speed_kn(moved, span)
            self.d_course = initial_bearing_deg(self.a_lat, self.a_lon, lat, lon) if moved else _NAN
            if span >= window_s:
                self.a_ts, self.a_lat, self.a_lon = ts, lat, lon

    def dump(self) -> list[float | None]:
        return [_json_float(getattr(self, name)) for name in _TRACK_FIELDS]

    @classmethod
    def load(cls, data: Sequence[float | None]) -> _Track:
        track = cls(0.0, 0.0, 0.0, _NAN, _NAN)
        for name, value in zip(_TRACK_FIELDS, data, strict=True):
            setattr(track, name, _NAN if value is None else float(value))
        return track


_TRACK_FIELDS: tuple[str, ...] = ("ts", "lat", "lon", "speed", "course", "a_ts", "a_lat")
_TRACK_FIELDS += ("a_lon", "d_speed", "d_course", "next_ts")


def _json_float(value: float) -> float | None:
    return None if value != value else float(value)


class TickFeed:
    """The resampled positions of one stream of reports: every vessel's track, the rows of the
    ticks not swept yet, and the frames of the ticks swept, for each detector reading it.

    Detectors that resample alike and are handed the same thinned reports (``encounter`` and
    ``swarm`` by default) share one (:meth:`PairwiseDetector.share_feed`): the reports are
    folded in once, each tick is interpolated and sorted once, and every reader gets every
    frame once. Readers must be handed the same batches in step, as the pipeline does: a
    reader's batch that another reader already handed (the same observations, by identity)
    is not folded in again; anything else out of step is an error, never a silent mix-up.
    """

    def __init__(self, config: SweepConfig) -> None:
        self.tick = float(config.tick_s)
        self.gap = float(config.max_gap_s)
        self.window = float(config.derive_window_s)
        self.tracks: dict[int, _Track] = {}
        self.pending = PendingRows(self.tick)
        self.swept = -(2**62)
        self.next_prune_ts = -math.inf
        self.prune_at: float | None = None
        """Set by :meth:`advance`, applied by :meth:`settle` when the next batch or round
        begins: after every reader has swept (their events still name the latest reports of
        vessels about to be forgotten)."""
        self.late_positions = 0
        """Positions not used because they came too late: older than their vessel's latest
        report, or than the last swept tick."""
        self.last_seen: dict[int, Observation | _Seen] = {}
        """Per vessel, its latest report (key, member, source): what an event rests on."""
        self._inboxes: list[list[TickFrame]] = []
        self._added = 0
        self._handed: dict[int, int] = {}
        """Batches handed by each reader (by ``id``), never more than :attr:`_added`."""
        self._recent: Sequence[Observation] = ()
        self._rounds = 0
        self._advanced: dict[int, int] = {}
        """Advance calls of each reader (by ``id``), never more than :attr:`_rounds`."""
        self._round = (math.nan, math.nan)
        """The watermark and swept-through time of the latest round."""

    def reader(self) -> list[TickFrame]:
        """A new reader's inbox: the frames swept and not yet taken, oldest first."""
        inbox: list[TickFrame] = []
        self._inboxes.append(inbox)
        return inbox

    def add(self, reader: object, observations: Sequence[Observation]) -> None:
        """Fold a reader's batch of reports into the tracks, unless another reader already
        handed the same batch (see the class docstring)."""
        handed = self._handed.get(id(reader), 0)
        self._handed[id(reader)] = handed + 1
        if handed < self._added:
            recent = self._recent
            if (
                handed + 1 == self._added
                and len(observations) == len(recent)
                and all(a is b for a, b in zip(observations, recent, strict=True))
            ):
                return
            raise RuntimeError("the readers of a shared TickFeed were handed different batches")
        self._added += 1
        self._recent = observations
        self.settle()
        tracks, last_seen, pending = self.tracks, self.last_seen, self.pending
        bucket_of = pending.segments.get
        gap, window, tick, swept = self.gap, self.window, self.tick, self.swept
        late = 0
        for obs in observations:
            t, mmsi = obs.observed_ts, obs.mmsi
            track = tracks.get(mmsi)
            if track is None or t - track.ts > gap:  # a new track, built right here
                last_seen[mmsi] = obs
                speed, course = obs.speed_kn, obs.course_deg
                speed = _NAN if speed is None else speed
                course = _NAN if course is None else course
                k = int(t // tick)
                tracks[mmsi] = _Track(t, obs.lat, obs.lon, speed, course, (k + 1) * tick)
                if k * tick == t:  # a report right on a tick is that tick's row
                    if k > swept:
                        pending.add_row(k, mmsi, obs.lat, obs.lon, speed, course)
                    else:
                        late += 1
                continue
            ts0 = track.ts
            if t <= ts0:  # the track only moves forward
                if t < ts0:
                    late += 1
                else:
                    last_seen[mmsi] = obs
                continue
            last_seen[mmsi] = obs
            lat, lon, speed, course = obs.lat, obs.lon, obs.speed_kn, obs.course_deg
            if speed is None or course is None:
                track.derive(t, lat, lon, window)
                speed = track.d_speed if speed is None else speed
                course = track.d_course if course is None else course
            elif t - track.a_ts >= window:
                track.a_ts, track.a_lat, track.a_lon = t, lat, lon
                track.d_speed = track.d_course = _NAN
            if t >= track.next_ts:
                last_tick = int(t // tick)
                if last_tick > swept:  # a segment for the ticks in (ts0, t]
                    first = int(ts0 // tick) + 1
                    if first <= swept:
                        first = swept + 1
                    bucket = bucket_of(first) or pending.bucket(first)
                    lat0, lon0 = track.lat, track.lon
                    bucket.extend((
                        mmsi, first, last_tick, ts0, lat0, lon0, track.speed, track.course,
                        t - ts0, lat - lat0, (lon - lon0 + 180.0) % 360.0 - 180.0, speed, course,
                    ))  # fmt: skip
                else:
                    late += 1
                track.next_ts = (last_tick + 1) * tick
            track.ts, track.lat, track.lon, track.speed, track.course = t, lat, lon, speed, course
        self.late_positions += late

    def advance(self, reader: object, watermark_ts: float) -> float:
        """Interpolate every tick completed by ``watermark_ts`` into a frame for every reader
        (once per round: the other readers of a shared feed find theirs in their inboxes);
        the time through which ticks are swept."""
        done = self._advanced.get(id(reader), 0)
        self._advanced[id(reader)] = done + 1
        if done < self._rounds:
            if done + 1 != self._rounds or watermark_ts != self._round[0]:
                raise RuntimeError("the readers of a shared TickFeed advanced out of step")
            return self._round[1]
        self._rounds += 1
        self.settle()
        through_ts = watermark_ts - self.gap
        if math.isinf(through_ts):
            last = self.pending.last_tick(self.swept) if through_ts > 0 else self.swept
        else:
            last = int(through_ts // self.tick)
        for k, rows in self.pending.take_through(last):
            frame = TickFrame.from_rows(k * self.tick, rows)
            for inbox in self._inboxes:
                inbox.append(frame)
        self.swept = max(self.swept, last)
        if through_ts >= self.next_prune_ts:
            self.prune_at = through_ts
        self._round = (watermark_ts, through_ts)
        return through_ts

    def settle(self) -> None:
        """Forget tracks that can no longer bracket an unswept tick (decided by the last
        :meth:`advance`)."""
        through_ts = self.prune_at
        if through_ts is None:
            return
        self.prune_at = None
        stale = [m for m, track in self.tracks.items() if track.ts < through_ts - self.gap]
        for mmsi in stale:
            del self.tracks[mmsi]
            self.last_seen.pop(mmsi, None)
        self.next_prune_ts = through_ts + max(self.gap, self.tick)

    def dump(self) -> dict[str, Any]:
        """JSON-able state (the pending forgetting applied first)."""
        self.settle()
        return {
            "tracks": [[mmsi, *track.dump()] for mmsi, track in self.tracks.items()],
            "pending": self.pending.dump(),
            "swept": self.swept,
            "next_prune_ts": _json_float(self.next_prune_ts)
            if math.isfinite(self.next_prune_ts)
            else None,
            "late_positions": self.late_positions,
            "seen": [[m, r.key, r.member, r.source] for m, r in self.last_seen.items()],
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Inverse of :meth:`dump` (readers' inboxes are theirs to restore)."""
        self.tracks = {int(row[0]): _Track.load(row[1:]) for row in data["tracks"]}
        self.pending = PendingRows(self.tick)
        self.pending.load(data["pending"])
        self.swept = int(data["swept"])
        prune = data.get("next_prune_ts")
        self.next_prune_ts = -math.inf if prune is None else float(prune)
        self.prune_at = None
        self.late_positions = int(data.get("late_positions", 0))
        self.last_seen = {
            int(row[0]): _Seen(str(row[1]), str(row[2]), str(row[3]) if len(row) > 3 else "")
            for row in data.get("seen", ())
        }
        self._added = 0
        self._handed = {}
        self._recent = ()
        self._rounds = 0
        self._advanced = {}


class PairwiseDetector(Detector[None]):
    """Base of the detectors that compare vessels at common ticks; see the module docstring.

    Subclasses implement :meth:`sweep` (one tick, every known vessel), may override
    :meth:`expire` (no tick swept up to a time: close what has been silent too long) and
    keep their own state in :meth:`dump_sweep` / :meth:`load_sweep` for snapshots.
    """

    def __init__(self, config: SweepConfig) -> None:
        super().__init__()
        self._sweep_config = config
        self._feed = TickFeed(config)
        self._inbox = self._feed.reader()

    @property
    def late_positions(self) -> int:
        """Positions not used because they came too late (see :class:`TickFeed`)."""
        return self._feed.late_positions

    def feed_key(self) -> tuple[float, float, float, float]:
        """What decides the resampled positions: the thinning interval and the resampling
        settings. Detectors with equal keys given the same reports can share a feed."""
        cfg = self._sweep_config
        return (self.min_report_interval_s, cfg.tick_s, cfg.max_gap_s, cfg.derive_window_s)

    def share_feed(self, other: PairwiseDetector) -> bool:
        """Read ``other``'s feed from now on, when both have the same :meth:`feed_key` (the
        caller hands both the same batches); False, and nothing changes, otherwise. Only
        before any report: sharing does not merge what was seen."""
        if self.feed_key() != other.feed_key():
            return False
        if self._feed.tracks or other._feed.tracks:
            raise ValueError("feeds are shared before any report is folded in")
        self._feed = other._feed
        self._inbox = self._feed.reader()
        return True

    # -- what a pairwise detector implements -------------------------------------------------

    def sweep(self, frame: TickFrame) -> None:
        """Compare the vessels known at one tick; emit events with :meth:`emit`."""
        raise NotImplementedError

    def expire(self, through_ts: float) -> None:
        """Every tick up to ``through_ts`` has been swept. Default: nothing to do."""

    def dump_sweep(self) -> Any:
        """JSON-able state of the subclass (episodes) for :meth:`snapshot`."""
        return None

    def load_sweep(self, data: Any) -> None:
        """Inverse of :meth:`dump_sweep`."""

    def thresholds(self) -> dict[str, float]:
        return self._sweep_config.values()

    def publish(
        self,
        ts: float,
        status: str,
        *,
        key: Sequence[int],
        mmsis: Sequence[int],
        span: tuple[float, float | None],
        position: tuple[float, float],
        details: dict[str, Any],
    ) -> None:
        """Emit an event with the fields every pairwise kind carries: a stable ``id`` from
        the kind, ``key`` (MMSIs) and start; ``span`` is (start_ts, end_ts or None);
        ``details`` gets the thresholds in force."""
        details["thresholds"] = self.thresholds()
        last_seen = self._feed.last_seen
        seen = [last_seen[m] for m in mmsis if m in last_seen]
        values = {
            "id": event_id(self.kind, key, span[0]),
            "mmsi": None,
            "mmsis": list(mmsis),
            "start_ts": span[0],
            "end_ts": span[1],
            "lat": position[0],
            "lon": position[1],
            "observations": [r.key for r in seen if r.key],
            "members": sorted({r.member for r in seen}),
            "sources": sorted({f"{r.member}/{r.source}" for r in seen if r.source}),
            "details": details,
        }
        self.emit(ts, values, status=status)

    # -- plumbing ----------------------------------------------------------------------------

    def on_observation(self, obs: Observation) -> list[Event]:
        """Fold one position into its vessel's track; events only come from :meth:`advance`."""
        return self.on_observations((obs,))

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """Fold positions into their vessels' tracks (through the feed, once if shared)."""
        self._feed.add(self, observations)
        return []

    def advance(self, watermark_ts: float) -> list[Event]:
        """Sweep every tick completed by ``watermark_ts`` (see the module docstring)."""
        through_ts = self._feed.advance(self, watermark_ts)
        inbox = self._inbox
        while inbox:
            self.sweep(inbox.pop(0))
        self.expire(through_ts)
        return self._drain()

    def __len__(self) -> int:
        """Vessels with a live track."""
        return len(self._feed.tracks)

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state: tracks, pending tick rows, the last swept tick, the episodes, and
        any swept frame not taken yet."""
        return {
            "kind": self.kind,
            **self._feed.dump(),
            "frames": [[frame.ts, frame.rows()] for frame in self._inbox],
            "sweep": self.dump_sweep(),
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace all state with a :meth:`snapshot` (a shared feed gets the same state from
        each reader's snapshot)."""
        self._feed.load(data)
        self._inbox[:] = [
            TickFrame.from_rows(float(ts), [[_NAN if v is None else v for v in r] for r in rows])
            for ts, rows in data.get("frames", ())
        ]
        self.load_sweep(data.get("sweep"))
