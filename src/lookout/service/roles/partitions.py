"""Who processes what: partitions and the pairwise lease over the live process nodes.

Each process node runs an :class:`Ownership` loop every third of ``process_lease_ttl_s``:

1. it writes its membership heartbeat and reads the live members
   (:class:`~lookout.bus.nats_leases.LeaseTable`);
2. every lease name (``p0`` ... ``p<N-1>``, and ``pairwise`` when the detector suite has
   pairwise detectors) belongs to one live node by rendezvous hashing with bounded loads
   (:func:`placement`): each partition goes to the node whose hash with it is highest,
   unless that node already has its share (``ceil(partitions / nodes)``), then to the next;
   ``pairwise`` goes to one of the nodes with the fewest partitions. Every node computes
   the same placement from the same live members. A node joining or leaving moves about
   ``1/nodes`` of the names, and no node holds more than its share of the partitions (plain
   rendezvous hashing put all five leases of a 4-partition deployment on one of two nodes);
3. it renews the leases it holds (a renewal that fails means the lease lapsed: the work stops
   at once, nothing is handed over);
4. it gives up the leases that now belong to another node: ``give(name)`` finishes the
   message in hand, saves the state, and only then is the lease released;
5. it tries to take the leases it should hold and does not: ``acquire`` succeeds only once
   the old holder released it, or its lease lapsed (the holder died), and ``take(name)``
   restores the handed-over state and starts consuming.

A node processes nothing under a lease whose last successful renewal is older than two thirds
of the TTL (:meth:`Ownership.valid`; it waits for the next renewal), before the server lets it
lapse: a node cut off from NATS never works on a partition another node may already hold.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from lookout.bus.nats_leases import LeaseTable
from lookout.detectors.base import Detector
from lookout.detectors.pairwise import PairwiseDetector

__all__ = [
    "PAIRWISE",
    "PAIRWISE_KINDS",
    "Ownership",
    "is_pairwise",
    "lease_names",
    "partition_lease",
    "placement",
    "rendezvous",
]

log = logging.getLogger(__name__)

PAIRWISE = "pairwise"
"""The lease of the node that runs the detectors comparing vessels with each other."""

PAIRWISE_KINDS = frozenset({"encounter", "close_approach", "shadowing", "swarm", "dark_vessel"})
"""Built-in detectors that need several vessels (a neighbourhood), not one vessel's reports."""


def is_pairwise(detector: Detector[Any]) -> bool:
    """Does ``detector`` compare vessels (or non-AIS detections) with each other? Those run
    on the pairwise lease holder; the others on the partition owners."""
    return (
        isinstance(detector, PairwiseDetector)
        or hasattr(detector, "on_detection")
        or detector.kind in PAIRWISE_KINDS
    )


def partition_lease(partition: int) -> str:
    return f"p{partition}"


def lease_names(partitions: int, pairwise: bool) -> list[str]:
    """Every lease of a deployment: one per partition, and the pairwise one if wanted."""
    names = [partition_lease(p) for p in range(partitions)]
    return [*names, PAIRWISE] if pairwise else names


def _weight(node: str, name: str) -> bytes:
    return hashlib.blake2b(f"{node}\0{name}".encode()).digest()


def rendezvous(name: str, nodes: Sequence[str]) -> str | None:
    """The node ``name`` prefers (highest random weight), ``None`` with no nodes."""
    if not nodes:
        return None
    return max(nodes, key=lambda n: _weight(n, name))


def placement(names: Sequence[str], nodes: Sequence[str]) -> dict[str, str]:
    """The node each of ``names`` belongs to. The partitions, in the order of ``names``: the
    node each prefers most (rendezvous order) among those still holding fewer than
    ``ceil(partitions / nodes)`` of them. Then the :data:`PAIRWISE` lease, if named: the
    node it prefers most among those holding the fewest partitions (it decodes the whole
    input, so it goes beside the least other work: two partitions on two nodes are placed
    one each, with ``pairwise`` beside one of them, not both on one node). The same names
    and nodes give the same placement on every node, whatever their order in ``nodes``."""
    live = sorted(set(nodes))
    if not live:
        return {}
    partitions = [name for name in names if name != PAIRWISE]
    share = -(-len(partitions) // len(live))
    load = dict.fromkeys(live, 0)
    placed: dict[str, str] = {}
    for name in partitions:
        ranked = sorted(live, key=lambda n: _weight(n, name), reverse=True)
        node = next(n for n in ranked if load[n] < share)
        placed[name] = node
        load[node] += 1
    if PAIRWISE in names:
        fewest = min(load.values())
        idle = [n for n in live if load[n] == fewest]
        placed[PAIRWISE] = max(idle, key=lambda n: _weight(n, PAIRWISE))
    return placed


class Ownership:
    """The membership and lease loop of one node; see the module docstring.

    ``take(name)`` starts work on a lease just acquired; ``give(names, clean)`` stops the work
    on those leases (``clean``: hand the state over, the leases are still ours; otherwise
    they lapsed).
    """

    def __init__(
        self,
        leases: LeaseTable,
        names: Sequence[str],
        take: Callable[[str], None],
        give: Callable[[list[str], bool], None],
    ) -> None:
        self.leases = leases
        self.names = list(names)
        self._take = take
        self._give = give
        self.interval_s = leases.ttl_s / 3
        self._valid_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._valid_until)

    def valid(self, name: str) -> bool:
        """Is this node's lease on ``name`` surely still its own?"""
        with self._lock:
            return time.monotonic() < self._valid_until.get(name, 0.0)

    def start(self) -> None:
        """One round now (so the node starts with its share when it is free), then a round
        every third of the TTL on a thread."""
        self.tick()
        self._thread = threading.Thread(target=self._run, name="lookout-leases", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                self.tick()
            except Exception:
                log.exception("lease round failed; trying again in %.1f s", self.interval_s)

    def tick(self) -> None:
        """One round: heartbeat, renew, give up what moved away, take what moved here."""
        me = self.leases.node_id
        self.leases.heartbeat()
        live = self.leases.members()
        if me not in live:
            live.append(me)
        wanted = {n for n, node in placement(self.names, live).items() if node == me}
        held = self.held
        for name in held:
            asked = time.monotonic()
            if self.leases.renew(name):
                self._set_valid(name, asked + 2 * self.interval_s)
            else:
                log.warning("lease %s lapsed; stopping its work without a hand-over", name)
                self._drop(name)
                self._give([name], False)
        moving = [n for n in self.held if n not in wanted]
        if moving:
            self._hand_over(moving)
        for name in self.names:
            if name not in wanted or name in self.held or self._stopping.is_set():
                continue
            if self.leases.acquire(name):
                self._set_valid(name, time.monotonic() + 2 * self.interval_s)
                self._take(name)

    def _hand_over(self, names: Sequence[str]) -> None:
        self._give(list(names), True)
        for name in names:
            self._drop(name)
            self.leases.release(name)

    def _set_valid(self, name: str, until: float) -> None:
        with self._lock:
            self._valid_until[name] = until

    def _drop(self, name: str) -> None:
        with self._lock:
            self._valid_until.pop(name, None)

    def stop(self) -> None:
        """Hand every lease over and leave the membership (a clean stop)."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.leases.ttl_s + 5.0)
        self._hand_over(self.held)
        self.leases.leave()
