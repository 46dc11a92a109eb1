"""The detector seam: per-key state, event-time timers and a registry of detector plugins.

Detectors form one family (MovingPandas-style): :class:`Detector` does the plumbing and each
detector implements one small method. The shape is bytewax's stateful operator:

- :meth:`Detector.key` picks the key an observation belongs to (the MMSI by default; a pair of
  MMSIs for an encounter detector; ``None`` to ignore the observation);
- :meth:`Detector.update` gets the key's state (``None`` the first time) and the observation,
  emits events with :meth:`Detector.emit`, may ask for a timer with :meth:`Detector.notify_at`,
  and returns the new state (``None`` forgets the key);
- :meth:`Detector.on_notify` is called when a timer is due, with the same contract.

Timers run on *event time*: the pipeline calls :meth:`Detector.advance` with its watermark (the
newest observed time) after each batch, and every timer at or before it fires, oldest first.
Each key has at most one timer; ``notify_at`` replaces it. Nothing here reads a clock.

Events are JSON-able dicts ``{"kind", "ts", "status", ...measured values}``; ``status`` is
``provisional``, ``confirmed`` or ``retracted`` (events are never silently deleted). The
pipeline publishes them on ``lookout.event.<kind>``.

Detectors register themselves with :func:`register_detector`, exactly as a third-party plugin
would; :func:`detector_types` lists them and :func:`create_detector` builds one by kind. The
registry is filled at import time by the decorator and only read afterwards.

State snapshots (:meth:`Detector.snapshot` / :meth:`Detector.restore`) let a restarted
pipeline resume; a detector whose state is not JSON-able overrides :meth:`Detector.dump_state`
and :meth:`Detector.load_state`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

from lookout.model import Observation

__all__ = [
    "EVENT_STATUSES",
    "Detector",
    "Event",
    "create_detector",
    "detector_types",
    "register_detector",
]

Event = dict[str, Any]
"""A detector event: JSON-able, with at least ``kind``, ``ts`` and ``status``."""

EVENT_STATUSES = ("provisional", "confirmed", "retracted")

S = TypeVar("S")
D = TypeVar("D", bound="type[Detector[Any]]")


class Detector(Generic[S]):
    """Base of every detector: per-key state and event-time timers; see the module docstring.

    Subclasses set ``kind`` (a stable snake_case event kind) and implement :meth:`update`;
    :meth:`thresholds` publishes the parameters that decide when it fires.
    """

    kind: ClassVar[str] = ""
    min_report_interval_s: ClassVar[float] = 0.0
    """Positions of one vessel closer together than this may be thinned out before they reach
    :meth:`update` (the pipeline keeps manoeuvres and late data; see
    :meth:`lookout.pipeline.suite.DetectorSuite.observations`). 0: every position."""

    def __init__(self) -> None:
        self._states: dict[Hashable, S] = {}
        self._timers: dict[Hashable, float] = {}
        self._heap: list[tuple[float, int, Hashable]] = []
        self._seq = 0
        self._out: list[Event] = []

    # -- what a detector implements ----------------------------------------------------------

    def key(self, obs: Observation) -> Hashable | None:
        """The key ``obs`` belongs to; ``None`` skips it. Default: the MMSI."""
        return obs.mmsi

    def update(self, key: Hashable, state: S | None, obs: Observation) -> S | None:
        """Fold one observation into the key's state; return the new state (None forgets)."""
        raise NotImplementedError

    def on_notify(self, key: Hashable, state: S | None, ts: float) -> S | None:
        """A timer set with :meth:`notify_at` is due at event time ``ts``. Default: no-op."""
        return state

    def thresholds(self) -> dict[str, float]:
        """The parameters that decide when this detector fires, with units in their names."""
        return {}

    # -- tools for update / on_notify ----------------------------------------------------------

    def emit(self, ts: float, values: Mapping[str, Any], *, status: str = "provisional") -> None:
        """Emit an event at event time ``ts`` carrying the measured ``values``.

        Without an ``id`` in ``values`` the event gets ``<kind>-<mmsi or mmsis>-<ts>``: a new
        version of an event must repeat the id of the first.
        """
        if status not in EVENT_STATUSES:
            raise ValueError(f"unknown event status {status!r}")
        event = {"kind": self.kind, "ts": ts, "status": status, **values}
        if "id" not in event:
            mmsis = event.get("mmsis") or [event.get("mmsi")]
            event["id"] = f"{self.kind}-{'-'.join(map(str, mmsis))}-{math.floor(ts)}"
        self._out.append(event)

    def notify_at(self, key: Hashable, ts: float) -> None:
        """Call :meth:`on_notify` for ``key`` when event time reaches ``ts``; replaces its timer."""
        self._timers[key] = ts
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, key))
        if len(self._heap) > 2 * len(self._timers) + 1024:
            self._compact()

    def cancel(self, key: Hashable) -> None:
        """Drop the timer of ``key``, if any."""
        self._timers.pop(key, None)

    # -- plumbing the pipeline calls -----------------------------------------------------------

    def on_observation(self, obs: Observation) -> list[Event]:
        """Route one accepted observation to its key's state; the events it caused."""
        key = self.key(obs)
        if key is None:
            return []
        self._store(key, self.update(key, self._states.get(key), obs))
        return self._drain()

    def on_observations(self, observations: Sequence[Observation]) -> list[Event]:
        """:meth:`on_observation` for each of ``observations`` in order; their events."""
        if type(self).on_observation is not Detector.on_observation:  # overridden: use it
            out: list[Event] = []
            for obs in observations:
                out += self.on_observation(obs)
            return out + self._drain()
        update, states = self.update, self._states
        if type(self).key is Detector.key:  # keyed by MMSI: no call per observation
            for obs in observations:
                mmsi = obs.mmsi
                state = update(mmsi, states.get(mmsi), obs)
                if state is None:
                    states.pop(mmsi, None)
                else:
                    states[mmsi] = state
            return self._drain()
        key_of = self.key
        for obs in observations:
            key = key_of(obs)
            if key is None:
                continue
            state = update(key, states.get(key), obs)
            if state is None:
                states.pop(key, None)
            else:
                states[key] = state
        return self._drain()

    def advance(self, watermark_ts: float) -> list[Event]:
        """Fire every timer due at or before ``watermark_ts``, oldest first; their events.

        A timer set while firing (by ``on_notify``) waits for the next call, even if due.
        """
        heap = self._heap
        due = []
        while heap and heap[0][0] <= watermark_ts:
            due.append(heapq.heappop(heap))
        for ts, _, key in due:
            if self._timers.get(key) != ts:
                continue  # replaced or cancelled
            del self._timers[key]
            self._store(key, self.on_notify(key, self._states.get(key), ts))
        return self._drain()

    def state(self, key: Hashable) -> S | None:
        """The current state of ``key`` (for tests and inspection)."""
        return self._states.get(key)

    def timer(self, key: Hashable) -> float | None:
        """When the timer of ``key`` is due, or ``None``."""
        return self._timers.get(key)

    def __len__(self) -> int:
        """Keys with state."""
        return len(self._states)

    def _store(self, key: Hashable, state: S | None) -> None:
        if state is None:
            self._states.pop(key, None)
        else:
            self._states[key] = state

    def _drain(self) -> list[Event]:
        if not self._out:
            return []
        out, self._out = self._out, []
        return out

    def _compact(self) -> None:
        self._heap = [(ts, seq, key) for ts, seq, key in self._heap if self._timers.get(key) == ts]
        heapq.heapify(self._heap)

    # -- snapshots -------------------------------------------------------------------------------

    def dump_state(self, state: S) -> Any:
        """A JSON-able form of one key's state (default: the state itself)."""
        return state

    def load_state(self, data: Any) -> S:
        """Inverse of :meth:`dump_state`."""
        result: S = data
        return result

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state of every key and timer (keys must be JSON-able: ints, strings, lists)."""
        return {
            "kind": self.kind,
            "states": [[_dump_key(k), self.dump_state(s)] for k, s in self._states.items()],
            "timers": [[_dump_key(k), ts] for k, ts in self._timers.items()],
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace all state with a :meth:`snapshot`."""
        self._states = {_load_key(k): self.load_state(s) for k, s in data.get("states", ())}
        self._timers = {}
        self._heap = []
        for key, ts in data.get("timers", ()):
            self.notify_at(_load_key(key), float(ts))


def _dump_key(key: Hashable) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _load_key(key: Any) -> Hashable:
    return tuple(key) if isinstance(key, list) else key


_REGISTRY: dict[str, type[Detector[Any]]] = {}


def register_detector(cls: D) -> D:
    """Class decorator: make a detector available by its ``kind`` (built-ins use it too)."""
    kind = cls.kind
    if not kind or not kind.replace("_", "").isalnum() or kind != kind.lower():
        raise ValueError(f"detector {cls.__name__} needs a snake_case kind, got {kind!r}")
    known = _REGISTRY.get(kind)
    if known is not None and known is not cls:
        raise ValueError(f"detector kind {kind!r} already registered by {known.__name__}")
    _REGISTRY[kind] = cls
    return cls


def detector_types() -> Mapping[str, type[Detector[Any]]]:
    """Registered detectors by kind (read-only)."""
    return MappingProxyType(_REGISTRY)


def create_detector(kind: str) -> Detector[Any]:
    """A new instance of the detector registered as ``kind``, with its default parameters."""
    cls = _REGISTRY.get(kind)
    if cls is None:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"no detector {kind!r} (registered: {known})")
    return cls()
