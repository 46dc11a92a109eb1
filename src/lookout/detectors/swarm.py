"""``swarm``: many slow vessels massed around one point for hours.

Issue 3's rule, after the Whitsun Reef incident of March 2021 (about 220 Chinese vessels
moored at the reef, reported by the Philippine National Task Force for the West Philippine
Sea on 7 March 2021, Reuters 22 March 2021): at least ``min_vessels`` distinct vessels within
``radius_m`` (5 nm) of one centre, each slower than ``max_speed_kn``, for ``min_duration_s``.

At each tick, among the slow vessels (only those in a crowded block, see
:func:`lookout.geo.cover.crowded`): first every vessel with ``min_vessels`` slow vessels
(itself included) within the radius of itself is a *core*, taken in order (most neighbours
first, then the smaller MMSI), and the unassigned ones around it are a swarm centred on it.
Then, for groups where no vessel has enough neighbours of its own (a ring around a reef),
the exact densest disc of the vessels of each crowded block that holds no swarm yet
(:func:`lookout.geo.cover.densest_disc`; a crowd already reported is not searched again for
more swarms on its fringe). A swarm continues the open swarm it shares most
vessels with (or whose centre is within the radius); ``mmsis`` is every vessel that was a
member at any qualifying tick; the event's position is the mean of the members' positions.

An open swarm not found at a tick ends if even its silent (unknown) members could not bring
the count of slow vessels near its centre up to ``min_vessels``; otherwise it waits, up to
``max_silence_s``. Lifecycle as for pair episodes: ``provisional`` once it has lasted the
minimum, ``confirmed`` with the final values when it ends. A centre within
``port_distance_m`` of a port or anchorage is not a swarm (moored fleets in harbour).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.detectors.base import register_detector
from lookout.detectors.pairwise import (
    NearPort,
    PairwiseDetector,
    SweepConfig,
    TickFrame,
    never_near_port,
    setting,
)
from lookout.geo.cover import MAX_EXACT_POINTS, BlockIndex, clique_core, densest_disc
from lookout.geo.distance import EARTH_RADIUS_M, METRES_PER_NM
from lookout.geo.grid import SpatialGrid, chord_of, distance_of_chord, unit_vectors

__all__ = ["DiscMemo", "SwarmConfig", "SwarmDetector", "SwarmScan", "find_swarms"]

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class SwarmConfig(SweepConfig):
    """Thresholds of ``swarm`` (issue 3's defaults)."""

    tick_s: float = setting(600.0, "Seconds between comparisons.")
    max_gap_s: float = setting(4200.0, "Longest report gap interpolated across, seconds.")
    radius_m: float = setting(5.0 * METRES_PER_NM, "Vessels within this of the centre, metres.")
    min_vessels: float = setting(10.0, "At least this many distinct vessels.")
    max_speed_kn: float = setting(3.0, "Each slower than this, knots.")
    min_duration_s: float = setting(21_600.0, "Shortest swarm, seconds (6 h).")
    port_distance_m: float = setting(
        10_000.0, "No swarm centred within this distance of a port or anchorage, metres."
    )
    max_silence_s: float = setting(43_200.0, "A swarm not seen for this long has ended, seconds.")


@dataclass(slots=True, eq=False)
class _Swarm:
    """One swarm under way: its members now (``current``) and ever (``members``)."""

    founder: int
    start_ts: float
    last_ts: float
    lat: float
    lon: float
    current: list[int] = field(default_factory=list)
    members: set[int] = field(default_factory=set)
    centre_sum: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    ticks: int = 0
    vessel_ticks: int = 0
    peak: int = 0
    published: bool = False

    def add(self, ts: float, lat: float, lon: float, mmsis: list[int]) -> None:
        self.last_ts, self.lat, self.lon = ts, lat, lon
        self.current = mmsis
        self.members.update(mmsis)
        phi, lam = math.radians(lat), math.radians(lon)
        x, y, z = math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)
        self.centre_sum = [self.centre_sum[0] + x, self.centre_sum[1] + y, self.centre_sum[2] + z]
        self.ticks += 1
        self.vessel_ticks += len(mmsis)
        self.peak = max(self.peak, len(mmsis))

    def dump(self) -> list[Any]:
        head = [self.founder, self.start_ts, self.last_ts, self.lat, self.lon, self.current]
        tail = [self.centre_sum, self.ticks, self.vessel_ticks, self.peak, self.published]
        return [*head, sorted(self.members), *tail]

    @classmethod
    def load(cls, row: list[Any]) -> _Swarm:
        founder, start, last, lat, lon, current, members, centre, *counts, published = row
        swarm = cls(int(founder), start, last, lat, lon, current, set(members), centre)
        swarm.ticks, swarm.vessel_ticks, swarm.peak = counts
        swarm.published = published
        return swarm


class SwarmScan:
    """The swarms found at one tick, each (centre lat, centre lon, member MMSIs), and the
    slow vessels they were found among."""

    def __init__(self, slow: TickFrame, radius_m: float) -> None:
        self.swarms: list[tuple[float, float, IntArray]] = []
        self.slow = slow
        self.free = np.ones(len(slow), dtype=bool)
        self.radius_m = radius_m
        self.xyz: NDArray[np.float64] | None = None

    def take(self, members: IntArray, xyz: NDArray[np.float64]) -> None:
        """Members (rows of ``slow``) are a swarm centred at their mean position."""
        self.free[members] = False
        lat, lon = _mean_position(xyz)
        self.swarms.append((lat, lon, self.slow.mmsi[members]))

    def free_near(self, lats: list[float], lons: list[float]) -> NDArray[np.int64]:
        """For each point: the slow vessels within the radius that belong to no swarm."""
        if len(self.slow) == 0 or not lats:
            return np.zeros(len(lats), dtype=np.int64)
        if self.xyz is None:
            self.xyz = unit_vectors(self.slow.lat, self.slow.lon)
        near = self.xyz[self.free] @ unit_vectors(lats, lons).T >= math.cos(
            self.radius_m / EARTH_RADIUS_M
        )
        counts: NDArray[np.int64] = near.sum(axis=0)
        return counts


class DiscMemo:
    """The densest disc of each block's free vessels at the last tick, by their positions.

    :func:`clique_core` and :func:`densest_disc` are the dearest steps of a sweep, and a crowd
    that has not moved since the last tick has the same disc: moored crowds keep their
    positions tick after tick (in the Danish feed's benchmark replay, 3,440 of 3,445 blocks
    searched held the vessels of the last tick, where they were). Only the discs asked for at
    the last tick are kept; a disc looked up is the one that would have been computed, so no
    result changes."""

    def __init__(self) -> None:
        self._last: dict[bytes, _Disc | None] = {}
        self._now: dict[bytes, _Disc | None] = {}

    def next_tick(self) -> None:
        """Forget the discs not asked for at the tick now ending."""
        self._last, self._now = self._now, {}

    def disc(self, xyz: NDArray[np.float64], radius_m: float, minimum: int) -> _Disc | None:
        """Of these points: the ones that could be among ``minimum`` within ``radius_m`` of
        one centre (:func:`clique_core`, at most :data:`MAX_EXACT_POINTS` of them), the
        centre of their densest disc and the ones it covers (indices into those); None if
        fewer than ``minimum`` could."""
        key = b"%r %d " % (radius_m, minimum) + xyz.tobytes()
        if key in self._now:
            return self._now[key]
        found = self._last[key] if key in self._last else _solve(xyz, radius_m, minimum)
        self._now[key] = found
        return found


_Disc = tuple[IntArray, NDArray[np.float64], IntArray]


def _solve(xyz: NDArray[np.float64], radius_m: float, minimum: int) -> _Disc | None:
    """:meth:`DiscMemo.disc`, computed."""
    kept = clique_core(xyz, radius_m, minimum)
    if len(kept) < minimum:
        return None
    kept = kept[:MAX_EXACT_POINTS]  # a crowd this large has cores: rare leftovers
    centre, covered = densest_disc(xyz[kept], radius_m)
    for array in (kept, centre, covered):
        array.flags.writeable = False
    return kept, centre, covered


def find_swarms(
    frame: TickFrame,
    radius_m: float,
    min_vessels: int,
    max_speed_kn: float,
    memo: DiscMemo | None = None,
) -> SwarmScan:
    """The swarms at one tick (see the module docstring); ``memo`` keeps the discs of the
    last tick it was given to."""
    memo = DiscMemo() if memo is None else memo
    memo.next_tick()
    scan = SwarmScan(frame.select(frame.speed_kn < max_speed_kn), radius_m)
    slow = scan.slow
    if len(slow) < min_vessels:
        return scan
    xyz = scan.xyz = unit_vectors(slow.lat, slow.lon)
    blocks = BlockIndex(xyz, radius_m)
    rows = np.flatnonzero(blocks.in_blocks(blocks.dense_blocks(scan.free, min_vessels)))
    if len(rows) < min_vessels:
        return scan
    grid = SpatialGrid.of_unit_vectors(xyz[rows], radius_m)
    _around_cores(scan, grid, rows, min_vessels)
    _in_blocks(scan, blocks, grid, rows, memo, min_vessels)
    return scan


def _around_cores(scan: SwarmScan, grid: SpatialGrid, rows: IntArray, minimum: int) -> None:
    """Vessels with ``minimum`` slow vessels within the radius of themselves, most first."""
    i, j = grid.index_pairs()
    n = len(rows)
    source = np.concatenate((i, j))
    degree = np.bincount(source, minlength=n)
    counts = 1 + degree
    cores = np.flatnonzero(counts >= minimum)
    cores = cores[np.lexsort((scan.slow.mmsi[rows[cores]], -counts[cores]))]
    order = np.argsort(source.astype(np.uint16 if n < 2**16 else np.int64), kind="stable")
    target = np.concatenate((j, i))[order]
    starts = np.concatenate(([0], np.cumsum(degree))).tolist()
    free = scan.free[rows]  # in grid order; kept in step with scan.free
    for core in cores.tolist():
        if not free[core]:
            continue
        around = target[starts[core] : starts[core + 1]]
        around = around[free[around]]
        if len(around) + 1 >= minimum:  # with the core itself, last
            around = np.concatenate((around, (core,)))
            free[around] = False
            scan.take(rows[around], grid.xyz[around])


def _in_blocks(
    scan: SwarmScan,
    blocks: BlockIndex,
    grid: SpatialGrid,
    rows: IntArray,
    memo: DiscMemo,
    minimum: int,
) -> None:
    """Groups no vessel of which has enough neighbours of its own: the densest disc of the
    vessels of each crowded block that holds no swarm yet.

    The blocks' vessels are listed in one pass, and the free ones counted again only when a
    swarm is taken (nothing else takes a vessel), so that a block emptied by an earlier swarm
    costs nothing."""
    todo = blocks.untouched(blocks.dense_blocks(scan.free, minimum), ~scan.free)
    points, bounds = blocks.block_members(todo)  # no block is empty
    free, xyz = scan.free, scan.xyz
    assert xyz is not None  # set by find_swarms
    counts = np.diff(bounds).tolist()  # an untouched block holds no taken vessel
    within = _near_test(grid)
    for k in range(len(todo)):
        if counts[k] < minimum:
            continue
        local = points[bounds[k] : bounds[k + 1]]
        local = local[free[local]]
        found = memo.disc(xyz[local], scan.radius_m, minimum)
        if found is None:
            continue
        kept, centre, covered = found
        local = local[kept]
        near = rows[within(*_mean_position(centre[None, :]))]
        members = np.union1d(local[covered], near[free[near]])
        if len(members) >= minimum:
            scan.take(members, xyz[members])
            counts = np.add.reduceat(free[points], bounds[:-1], dtype=np.int64).tolist()


def _near_test(grid: SpatialGrid) -> Callable[[float, float], IntArray]:
    """:meth:`SpatialGrid.near` at the grid's radius, as a test of every position: the
    same chord test, and cheaper than finding the cells around the point when the grid holds
    the few hundred crowded vessels of a tick (it is asked once per disc found in a block)."""
    axes = np.ascontiguousarray(grid.xyz.T)
    limit = chord_of(grid.radius_m)

    def within(lat: float, lon: float) -> IntArray:
        centre = unit_vectors(np.array([lat]), np.array([lon]))[0]
        d2 = sum((axis - c) ** 2 for axis, c in zip(axes, centre, strict=True))
        found: IntArray = np.flatnonzero(d2 <= limit * limit)
        return found

    return within


def _mean_position(xyz: NDArray[np.float64]) -> tuple[float, float]:
    """The mean position (lat, lon) of unit vectors."""
    x, y, z = np.add.reduce(xyz, axis=0).tolist()
    lon = math.degrees(math.atan2(y, x))
    return math.degrees(math.atan2(z, math.hypot(x, y))), (lon + 180.0) % 360.0 - 180.0


@register_detector
class SwarmDetector(PairwiseDetector):
    """At least ``min_vessels`` slow vessels within ``radius_m`` of one centre, for hours."""

    kind = "swarm"
    min_report_interval_s = 60.0  # a swarm lasts hours; ticks are 10 minutes apart

    def __init__(
        self, config: SwarmConfig | None = None, *, near_port: NearPort = never_near_port
    ) -> None:
        self.config = config or SwarmConfig()
        super().__init__(self.config)
        self.near_port = near_port
        self._open: list[_Swarm] = []
        self._discs = DiscMemo()

    def open_swarms(self) -> list[tuple[float, float, list[int]]]:
        """Centre and members of each swarm under way (for inspection and tests)."""
        return [(s.lat, s.lon, sorted(s.members)) for s in self._open]

    def sweep(self, frame: TickFrame) -> None:
        cfg = self.config
        minimum = int(cfg.min_vessels)
        scan = find_swarms(frame, cfg.radius_m, minimum, cfg.max_speed_kn, self._discs)
        owner = {m: k for k, swarm in enumerate(self._open) for m in swarm.current}
        centres = unit_vectors([s.lat for s in self._open], [s.lon for s in self._open])
        matched: set[int] = set()
        for lat, lon, members in scan.swarms:
            if self.near_port(lat, lon, cfg.port_distance_m):
                continue
            mmsis = members.tolist()
            shared = Counter(owner[m] for m in mmsis if m in owner and owner[m] not in matched)
            k = self._match(lat, lon, shared, centres, matched)
            if k is None:
                self._open.append(_Swarm(min(mmsis), frame.ts, frame.ts, lat, lon))
                k = len(self._open) - 1
            matched.add(k)
            self._open[k].add(frame.ts, lat, lon, mmsis)
        unmatched = [s for k, s in enumerate(self._open) if k not in matched]
        around = scan.free_near([s.lat for s in unmatched], [s.lon for s in unmatched])
        for swarm, free in zip(unmatched, around.tolist(), strict=True):
            if self._silent(swarm, frame) + free < minimum:
                self._close(swarm)
        self.expire(frame.ts)
        for swarm in self._open:
            if not swarm.published and swarm.last_ts - swarm.start_ts >= cfg.min_duration_s:
                swarm.published = True
                self._publish(swarm, "provisional", frame.ts)

    def _match(
        self,
        lat: float,
        lon: float,
        shared: Counter[int],
        centres: NDArray[np.float64],
        taken: set[int],
    ) -> int | None:
        """The open swarm (index) sharing most vessels with this one, else the nearest one
        within the radius, else None; each open swarm matches one swarm per tick."""
        if shared:
            return min(shared, key=lambda k: (-shared[k], k))
        if len(centres) == 0:
            return None
        chord = np.linalg.norm(centres - unit_vectors([lat], [lon]), axis=1)
        apart = distance_of_chord(chord)
        apart[list(taken & set(range(len(centres))))] = np.inf
        k = int(np.argmin(apart))
        return k if apart[k] <= self.config.radius_m else None

    @staticmethod
    def _silent(swarm: _Swarm, frame: TickFrame) -> int:
        """Members at the swarm's last tick that are unknown at this one."""
        rows = frame.find(swarm.current)
        return int(((rows < 0) | np.isnan(frame.speed_kn[np.maximum(rows, 0)])).sum())

    def expire(self, through_ts: float) -> None:
        silence = self.config.max_silence_s
        for swarm in [s for s in self._open if through_ts - s.last_ts > silence]:
            self._close(swarm)

    def _close(self, swarm: _Swarm) -> None:
        self._open.remove(swarm)
        if swarm.last_ts - swarm.start_ts >= self.config.min_duration_s:
            self._publish(swarm, "confirmed", swarm.last_ts)

    def _publish(self, swarm: _Swarm, status: str, ts: float) -> None:
        x, y, z = swarm.centre_sum
        lat = float(np.degrees(np.arctan2(z, np.hypot(x, y))))
        lon = float(np.degrees(np.arctan2(y, x)))
        details = {
            "vessels": len(swarm.members),
            "peak_vessels": swarm.peak,
            "mean_vessels": swarm.vessel_ticks / swarm.ticks,
            "duration_s": swarm.last_ts - swarm.start_ts,
        }
        end = swarm.last_ts if status == "confirmed" else None
        self.publish(
            ts,
            status,
            key=[swarm.founder],
            mmsis=sorted(swarm.members),
            span=(swarm.start_ts, end),
            position=(lat, lon),
            details=details,
        )

    def dump_sweep(self) -> Any:
        return [swarm.dump() for swarm in self._open]

    def load_sweep(self, data: Any) -> None:
        self._open = [_Swarm.load(row) for row in data or ()]
