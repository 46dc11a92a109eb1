"""Where many points crowd into one disc: the geometry behind the ``swarm`` detector.

- :func:`crowded` rules points out, vectorised: with cubic cells (on the unit sphere) of edge
  twice the chord of the radius, any group within the radius of one centre lies inside some
  2 x 2 x 2 block of cells, so a point all of whose blocks hold fewer than ``min_points``
  points cannot belong to such a group.
- :func:`clique_core` rules out more of a few points: the members of such a group are
  pairwise within twice the radius.
- :func:`densest_disc` finds, exactly, a disc of the radius covering the most of a few
  points: an optimal disc can be moved until two of its points lie on its edge (or it holds
  a single point), so every centre at the radius from two points is tried. O(m^3): for small
  sets (:data:`MAX_EXACT_POINTS`).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np
from numpy.typing import NDArray

from lookout.geo.distance import EARTH_RADIUS_M
from lookout.geo.grid import cell_keys, cell_offset, chord_of

__all__ = ["MAX_EXACT_POINTS", "BlockIndex", "clique_core", "crowded", "densest_disc"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MAX_EXACT_POINTS = 64
"""Largest set :func:`densest_disc` is asked to solve (about 4,000 candidate centres)."""

_CORNERS = np.array([cell_offset(*step) for step in product((0, 1), repeat=3)], dtype=np.int64)
_REACH = np.unique(
    [
        cell_offset(*around) - cell_offset(*corner)
        for around in product((-1, 0, 1), repeat=3)
        for corner in product((0, 1), repeat=3)
    ]
)
"""Key offsets from a cell to the anchors of the blocks that hold it (a block's anchor is its
smallest corner) and of the 26 blocks overlapping or touching each of those: the blocks that
hold the cell or touch it."""
_TOLERANCE = 1e-12
"""Slack on the cosine of the radius, so that points on the edge of a candidate disc count."""


class BlockIndex:
    """Points (unit vectors) by cell, and the 2 x 2 x 2 blocks of :func:`crowded` that hold
    any of them.

    Each cell is one of the eight corners of eight blocks; those (block, cell) memberships are
    listed once, by block, so that counting the points of every block (:meth:`dense_blocks`,
    asked twice per swarm sweep with different weights) or listing the points of many blocks
    (:meth:`block_members`) is a handful of vectorised steps, not a sort or a search per call.
    """

    def __init__(self, xyz: FloatArray, radius_m: float) -> None:
        keys = cell_keys(xyz, 2.0 * chord_of(radius_m))
        self.order: IntArray = np.argsort(keys, kind="stable").astype(np.int64)
        sorted_keys = keys[self.order]
        firsts = np.flatnonzero(np.diff(sorted_keys, prepend=sorted_keys[:1] - 1))
        self.cells: IntArray = sorted_keys[firsts]
        self.bounds: IntArray = np.append(firsts, len(keys)).astype(np.int64)
        self.of_point: IntArray = np.empty(len(keys), dtype=np.int64)
        self.of_point[self.order] = np.repeat(np.arange(len(self.cells)), np.diff(self.bounds))
        # anchor of the block holding each cell at each corner: eight sorted runs, which a
        # stable sort merges in linear time
        owners = (self.cells[None, :] - _CORNERS[:, None]).ravel()
        by_block = np.argsort(owners, kind="stable")
        owners = owners[by_block]
        starts = np.flatnonzero(np.diff(owners, prepend=owners[:1] - 1))
        self.anchors: IntArray = owners[starts]
        """Anchor keys (smallest corner, sorted) of the blocks holding any point."""
        self._member_cells: IntArray = by_block % max(len(self.cells), 1)
        self._member_bounds: IntArray = np.append(starts, len(owners)).astype(np.int64)

    def block_counts(self, weights: NDArray[np.bool_]) -> IntArray:
        """How many of the points where ``weights`` is true each block (of ``anchors``) holds."""
        per_cell = np.bincount(self.of_point[weights], minlength=len(self.cells))
        counts: IntArray = np.add.reduceat(per_cell[self._member_cells], self._member_bounds[:-1])
        return counts

    def dense_blocks(self, weights: NDArray[np.bool_], min_points: int) -> IntArray:
        """Anchor keys (sorted) of the blocks holding at least ``min_points`` (and at least
        one) of the points where ``weights`` is true."""
        dense: IntArray = self.anchors[self.block_counts(weights) >= max(min_points, 1)]
        return dense

    def occupied(self, weights: NDArray[np.bool_]) -> IntArray:
        """Keys (sorted) of the cells holding any of the points where ``weights`` is true."""
        hit = np.zeros(len(self.cells), dtype=bool)
        hit[self.of_point[weights]] = True
        cells: IntArray = self.cells[hit]
        return cells

    def in_blocks(self, anchors: IntArray) -> NDArray[np.bool_]:
        """Which points lie in any of the blocks with these anchors (sorted)."""
        chosen = _sorted_contains(anchors, self.anchors)
        hit = np.zeros(len(self.cells), dtype=bool)
        hit[self._member_cells[np.repeat(chosen, np.diff(self._member_bounds))]] = True
        result: NDArray[np.bool_] = hit[self.of_point]
        return result

    def block_members(self, anchors: IntArray) -> tuple[IntArray, IntArray]:
        """The points in each of the blocks with these anchors, ascending, as one array and
        bounds: block ``k`` holds ``points[bounds[k]:bounds[k + 1]]``."""
        pos = np.searchsorted(self.anchors, anchors)
        found = pos < len(self.anchors)
        found[found] = self.anchors[pos[found]] == anchors[found]
        pos = pos[found]
        block, member = _runs(self._member_bounds[pos], self._member_bounds[pos + 1])
        cells = self._member_cells[member]
        owner, at = _runs(self.bounds[cells], self.bounds[cells + 1])
        block = np.flatnonzero(found)[block[owner]]
        # a block's points come cell by cell: sort them by (block, point)
        n_points = max(len(self.of_point), 1)
        points: IntArray = np.sort(block * n_points + self.order[at]) % n_points
        counts = np.bincount(block, minlength=len(anchors))
        bounds: IntArray = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return points, bounds

    def untouched(self, anchors: IntArray, weights: NDArray[np.bool_]) -> IntArray:
        """Those of these anchors (sorted) whose blocks neither hold nor touch (share a face,
        edge or corner with) a cell holding any of the points where ``weights`` is true."""
        around = (anchors[:, None] - _REACH[None, :]).ravel()
        touched = _sorted_contains(self.occupied(weights), around).reshape(-1, len(_REACH))
        kept: IntArray = anchors[~touched.any(axis=1)]
        return kept


def _runs(starts: IntArray, ends: IntArray) -> tuple[IntArray, IntArray]:
    """For runs ``[starts[k], ends[k])``: the (run ``k``, index) pair of every index of every
    run, run by run."""
    lengths = ends - starts
    run = np.repeat(np.arange(len(starts), dtype=np.int64), lengths)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    index: IntArray = np.arange(len(run), dtype=np.int64) + shift
    return run, index


def _sorted_contains(haystack: IntArray, needles: IntArray) -> NDArray[np.bool_]:
    """Which of ``needles`` are in the sorted ``haystack``."""
    if len(haystack) == 0:
        return np.zeros(len(needles), dtype=bool)
    pos = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    found: NDArray[np.bool_] = haystack[pos] == needles
    return found


def crowded(xyz: FloatArray, radius_m: float, min_points: int) -> NDArray[np.bool_]:
    """Which points (unit vectors) could be among ``min_points`` within ``radius_m`` of one
    centre (a necessary condition; see the module docstring)."""
    index = BlockIndex(xyz, radius_m)
    dense = index.dense_blocks(np.ones(len(xyz), dtype=bool), min_points)
    return index.in_blocks(dense)


def clique_core(xyz: FloatArray, radius_m: float, min_points: int) -> IntArray:
    """The points (indices) that could be among ``min_points`` within ``radius_m`` of one
    centre: such points are pairwise within twice the radius, so each has ``min_points - 1``
    others that close; points with fewer are dropped until none is (empty if fewer than
    ``min_points`` remain)."""
    close = xyz @ xyz.T >= np.cos(2.0 * radius_m / EARTH_RADIUS_M) - _TOLERANCE
    degree = close.sum(axis=1)  # the point itself counts among its close ones
    alive = np.ones(len(xyz), dtype=bool)
    left = len(xyz)
    while left >= min_points:
        weak = np.flatnonzero(alive & (degree < min_points))
        if len(weak) == 0:
            return np.flatnonzero(alive).astype(np.int64)
        alive[weak] = False
        left -= len(weak)
        degree -= close[:, weak].sum(axis=1)
    return np.empty(0, dtype=np.int64)


@lru_cache(maxsize=MAX_EXACT_POINTS)
def _pair_indices(n: int) -> tuple[IntArray, IntArray]:
    """The index pairs ``i < j`` of ``n`` points (read-only; asked for the same few sizes)."""
    i, j = np.triu_indices(n, k=1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def densest_disc(xyz: FloatArray, radius_m: float) -> tuple[FloatArray, IntArray]:
    """The centre (unit vector) of a disc of ``radius_m`` covering the most of the points
    (unit vectors, not antipodal), and the indices of the points it covers."""
    if len(xyz) == 0:
        raise ValueError("densest_disc needs at least one point")
    cos_r = np.cos(radius_m / EARTH_RADIUS_M)
    i, j = _pair_indices(len(xyz))
    p, q = xyz[i], xyz[j]
    cos_pq = np.einsum("ij,ij->i", p, q)
    half = np.sqrt((1.0 + cos_pq) / 2.0)  # cos of half the angle between p and q
    ok = half >= cos_r
    p, q, half = p[ok], q[ok], half[ok]
    mid = p + q
    mid /= _norms(mid)[:, None]
    normal = _cross(p, q)
    length = _norms(normal)
    usable = length > 0
    mid, normal, half = mid[usable], normal[usable] / length[usable, None], half[usable]
    cos_phi = np.minimum(cos_r / half, 1.0)
    sin_phi = np.sqrt(1.0 - cos_phi**2)
    along, across = cos_phi[:, None] * mid, sin_phi[:, None] * normal
    centres = np.concatenate((xyz, along + across, along - across))
    covered = centres @ xyz.T >= cos_r - _TOLERANCE
    best = int(np.argmax(covered.sum(axis=1)))
    return centres[best], np.flatnonzero(covered[best]).astype(np.int64)


def _norms(v: FloatArray) -> FloatArray:
    """The length of each row (as :func:`numpy.linalg.norm` computes it, without its checks)."""
    result: FloatArray = np.sqrt(np.add.reduce(v * v, axis=1))
    return result


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise cross products (as :func:`numpy.cross` computes them, without its reshaping)."""
    (a0, a1, a2), (b0, b1, b2) = a.T, b.T
    result: FloatArray = np.column_stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))
    return result
