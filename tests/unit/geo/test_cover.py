"""The block index behind ``swarm``: what its vectorised answers mean, checked one by one."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from lookout.geo.cover import BlockIndex, _cross, _norms, crowded, densest_disc
from lookout.geo.distance import EARTH_RADIUS_M
from lookout.geo.grid import cell_keys, cell_offset, chord_of, unit_vectors

RADIUS_M = 9260.0


def harbour_and_sea(seed: int, n: int) -> np.ndarray:
    """Unit vectors of ``n`` points: half in three tight crowds, half scattered."""
    rng = np.random.default_rng(seed)
    crowd = rng.integers(0, 3, n // 2)
    lat = np.concatenate(
        (55.0 + 0.2 * crowd + rng.normal(0, 0.03, n // 2), rng.uniform(54, 57, n - n // 2))
    )
    lon = np.concatenate(
        (10.0 + 0.3 * crowd + rng.normal(0, 0.05, n // 2), rng.uniform(8, 13, n - n // 2))
    )
    return unit_vectors(lat, lon).reshape(-1, 3)


def block_of(xyz: np.ndarray) -> dict[int, set[int]]:
    """Brute force: anchor -> the points of that block (each point is in eight blocks)."""
    keys = cell_keys(xyz, 2.0 * chord_of(RADIUS_M))
    blocks: dict[int, set[int]] = {}
    for point, key in enumerate(keys.tolist()):
        for corner in product((0, 1), repeat=3):
            blocks.setdefault(key - cell_offset(*corner), set()).add(point)
    return blocks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dense_blocks_and_their_members_are_the_brute_force_answer(seed: int) -> None:
    xyz = harbour_and_sea(seed, 600)
    weights = np.random.default_rng(seed).random(len(xyz)) < 0.7
    index = BlockIndex(xyz, RADIUS_M)
    blocks = block_of(xyz)
    want = sorted(a for a, pts in blocks.items() if sum(weights[p] for p in pts) >= 10)
    dense = index.dense_blocks(weights, 10)
    assert dense.tolist() == want and len(want) > 5
    asked = np.unique(np.concatenate((dense[::2], dense[:3] + 7)))  # some hold no point
    points, bounds = index.block_members(asked)
    for k, anchor in enumerate(asked.tolist()):
        assert points[bounds[k] : bounds[k + 1]].tolist() == sorted(blocks.get(anchor, ()))
    inside = index.in_blocks(dense)
    assert set(np.flatnonzero(inside).tolist()) == set().union(*(blocks[a] for a in want))


def test_untouched_blocks_are_more_than_one_cell_from_every_taken_point() -> None:
    xyz = harbour_and_sea(4, 600)
    taken = np.zeros(len(xyz), dtype=bool)
    taken[::37] = True
    index = BlockIndex(xyz, RADIUS_M)
    anchors = index.dense_blocks(np.ones(len(xyz), dtype=bool), 3)
    keys = cell_keys(xyz, 2.0 * chord_of(RADIUS_M))
    near = {cell_offset(*d) for d in product((-1, 0, 1, 2), repeat=3)}  # block cell +- 1
    want = [a for a in anchors.tolist() if not any(k - a in near for k in keys[taken].tolist())]
    got = index.untouched(anchors, taken)
    assert got.tolist() == want and 0 < len(want) < len(anchors)
    assert index.untouched(anchors, np.zeros(len(xyz), dtype=bool)).tolist() == anchors.tolist()


def test_an_empty_index_answers_empty() -> None:
    index = BlockIndex(np.empty((0, 3)), RADIUS_M)
    none = np.zeros(0, dtype=bool)
    assert len(index.dense_blocks(none, 1)) == 0 and len(index.in_blocks(index.anchors)) == 0
    points, bounds = index.block_members(np.array([5], dtype=np.int64))
    assert len(points) == 0 and bounds.tolist() == [0, 0]
    assert len(crowded(np.empty((0, 3)), RADIUS_M, 10)) == 0


def test_the_disc_geometry_computes_as_numpy_does() -> None:
    """The densest disc is part of every swarm's reported position, to the last bit."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(500, 3)), rng.normal(size=(500, 3))
    assert np.array_equal(_cross(a, b), np.cross(a, b))
    assert np.array_equal(_norms(a), np.linalg.norm(a, axis=1))


def test_the_densest_disc_of_a_crowd_with_repeated_positions() -> None:
    """Vessels moored side by side share a position: pairs of equal points give no centre."""
    xyz = np.repeat(harbour_and_sea(6, 8)[:4], 3, axis=0)
    centre, covered = densest_disc(xyz, RADIUS_M)
    assert len(covered) >= 3 and covered.tolist() == sorted(covered.tolist())
    assert np.all(xyz[covered] @ centre >= np.cos(RADIUS_M / EARTH_RADIUS_M) - 1e-9)
