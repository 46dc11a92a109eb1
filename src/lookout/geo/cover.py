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
_TOLERANCE = 1e-12
"""Slack on the cosine of the radius, so that points on the edge of a candidate disc count."""


class BlockIndex:
    """Points (unit vectors) by cell, for the 2 x 2 x 2 blocks of :func:`crowded`."""

    def __init__(self, xyz: FloatArray, radius_m: float) -> None:
        keys = cell_keys(xyz, 2.0 * chord_of(radius_m))
        self.order: IntArray = np.argsort(keys, kind="stable").astype(np.int64)
        sorted_keys = keys[self.order]
        firsts = np.flatnonzero(np.diff(sorted_keys, prepend=sorted_keys[:1] - 1))
        self.cells: IntArray = sorted_keys[firsts]
        self.bounds: IntArray = np.append(firsts, len(keys)).astype(np.int64)
        self.of_point: IntArray = np.empty(len(keys), dtype=np.int64)
        self.of_point[self.order] = np.repeat(np.arange(len(self.cells)), np.diff(self.bounds))

    def dense_blocks(self, weights: NDArray[np.bool_], min_points: int) -> IntArray:
        """Anchor keys (smallest corner) of the blocks holding at least ``min_points`` of the
        points where ``weights`` is true."""
        per_cell = np.add.reduceat(weights[self.order].astype(np.int64), self.bounds[:-1])
        used = np.flatnonzero(per_cell > 0)
        if len(used) == 0:
            return np.empty(0, dtype=np.int64)
        # eight sorted runs: a stable sort merges them in linear time
        anchors = np.concatenate([self.cells[used] - corner for corner in _CORNERS.tolist()])
        order = np.argsort(anchors, kind="stable")
        anchors = anchors[order]
        totals = np.tile(per_cell[used], len(_CORNERS))[order]
        firsts = np.flatnonzero(np.diff(anchors, prepend=anchors[:1] - 1))
        sums = np.add.reduceat(totals, firsts)
        dense: IntArray = anchors[firsts][sums >= min_points]
        return dense

    def occupied(self, weights: NDArray[np.bool_]) -> IntArray:
        """Keys (sorted) of the cells holding any of the points where ``weights`` is true."""
        hit = np.zeros(len(self.cells), dtype=bool)
        hit[self.of_point[weights]] = True
        cells: IntArray = self.cells[hit]
        return cells

    def in_blocks(self, anchors: IntArray) -> NDArray[np.bool_]:
        """Which points lie in any of the blocks with these anchors."""
        hit = np.zeros(len(self.cells), dtype=bool)
        if len(anchors):
            for corner in _CORNERS.tolist():
                pos = np.minimum(np.searchsorted(anchors, self.cells - corner), len(anchors) - 1)
                hit |= anchors[pos] == self.cells - corner
        result: NDArray[np.bool_] = hit[self.of_point]
        return result

    def block_points(self, anchor: int) -> IntArray:
        """Indices of the points in the block with this anchor."""
        wanted = anchor + _CORNERS
        pos = np.minimum(np.searchsorted(self.cells, wanted), len(self.cells) - 1)
        spans = [
            self.order[self.bounds[k] : self.bounds[k + 1]]
            for k, key in zip(pos.tolist(), wanted.tolist(), strict=True)
            if self.cells[k] == key
        ]
        return np.sort(np.concatenate(spans)) if spans else np.empty(0, dtype=np.int64)


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
    alive = np.ones(len(xyz), dtype=bool)
    while True:
        degree = close[alive][:, alive].sum(axis=1)
        weak = degree < min_points  # the point itself counts among its close ones
        if not weak.any():
            break
        alive[np.flatnonzero(alive)[weak]] = False
        if alive.sum() < min_points:
            break
    kept = np.flatnonzero(alive).astype(np.int64)
    return kept if len(kept) >= min_points else np.empty(0, dtype=np.int64)


def densest_disc(xyz: FloatArray, radius_m: float) -> tuple[FloatArray, IntArray]:
    """The centre (unit vector) of a disc of ``radius_m`` covering the most of the points
    (unit vectors, not antipodal), and the indices of the points it covers."""
    if len(xyz) == 0:
        raise ValueError("densest_disc needs at least one point")
    cos_r = np.cos(radius_m / EARTH_RADIUS_M)
    i, j = np.triu_indices(len(xyz), k=1)
    p, q = xyz[i], xyz[j]
    cos_pq = np.einsum("ij,ij->i", p, q)
    half = np.sqrt((1.0 + cos_pq) / 2.0)  # cos of half the angle between p and q
    ok = half >= cos_r
    p, q, half = p[ok], q[ok], half[ok]
    mid = (p + q) / np.linalg.norm(p + q, axis=1)[:, None]
    normal = np.cross(p, q)
    length = np.linalg.norm(normal, axis=1)
    usable = length > 0
    mid, normal, half = mid[usable], normal[usable] / length[usable, None], half[usable]
    cos_phi = np.minimum(cos_r / half, 1.0)
    sin_phi = np.sqrt(1.0 - cos_phi**2)
    centres = np.concatenate(
        (xyz, cos_phi[:, None] * mid + sin_phi[:, None] * normal),
        axis=0,
    )
    centres = np.concatenate((centres, (cos_phi[:, None] * mid - sin_phi[:, None] * normal)))
    covered = centres @ xyz.T >= cos_r - _TOLERANCE
    best = int(np.argmax(covered.sum(axis=1)))
    return centres[best], np.flatnonzero(covered[best]).astype(np.int64)
