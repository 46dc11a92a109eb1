"""The detector suite as the pipeline drives it, here or in another process.

The pipeline hands its detectors, in this order, for every micro-batch:

1. identity reports that changed something (to the detectors with ``on_static``) and non-AIS
   detections (to those with ``on_detection``), in the order they arrived;
2. when the batch closes, its accepted positions (:meth:`DetectorSuite.observations`: a
   thinned stream for the detectors with a positive ``min_report_interval_s``);
3. the data-time watermark (``advance``: timers fire).

:class:`DetectorSuite` runs the detectors. :class:`DeferredSuite` runs only those it is given
(the runtime gives it the zone detectors) and records what the pipeline handed them all, as
one :class:`DetectionWork` per batch. A suite elsewhere (the detection process of
:mod:`lookout.service.detection_process`) runs that work with :meth:`DetectorSuite.run` and
gets the very events, in the same order per detector, that its detectors would have given in
the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lookout.detectors.base import Detector, Event
from lookout.model import Detection, Observation, StaticReport

__all__ = [
    "SAMPLE_SPEED_STEP_KN",
    "DeferredSuite",
    "DetectionWork",
    "DetectorSuite",
    "ReportSampler",
]

SAMPLE_SPEED_STEP_KN = 1.0
"""A thinned report stream keeps a position whose speed changed this much since the last kept."""


class ReportSampler:
    """Per vessel, the last position handed on (time, speed); see
    :meth:`DetectorSuite.observations`.

    Vessels silent for ``forget_s`` of event time are forgotten when the memory is swept
    (every ``forget_s`` of event time), so it stays the size of the active fleet.
    """

    __slots__ = ("_last", "_next_sweep_ts", "forget_s", "interval_s")

    def __init__(self, interval_s: float, forget_s: float = 3600.0) -> None:
        self.interval_s = interval_s
        self.forget_s = max(forget_s, interval_s)
        self._last: dict[int, tuple[float, float]] = {}
        self._next_sweep_ts = -math.inf

    def sample(self, observations: Sequence[Observation]) -> list[Observation]:
        """The observations the thinned stream keeps, in order (:meth:`keep` of each)."""
        return self.sample_all((self,), observations)[0]

    @staticmethod
    def sample_all(
        samplers: Sequence[ReportSampler], observations: Sequence[Observation]
    ) -> list[list[Observation]]:
        """:meth:`sample` of each sampler over the same observations, in one pass (each
        observation's fields are read once for all of them; :meth:`keep` of each, inlined:
        this runs for every position)."""
        outs: list[list[Observation]] = [[] for _ in samplers]
        pairs = zip(samplers, outs, strict=True)
        each = [(s._last, s._last.get, s.interval_s, out) for s, out in pairs]
        nan, newest = math.nan, -math.inf
        for obs in observations:
            t, speed, mmsi = obs.observed_ts, obs.speed_kn, obs.mmsi
            if t > newest:
                newest = t
            for last, get, interval, kept in each:
                seen = get(mmsi)
                if seen is not None:
                    if seen[0] <= t < seen[0] + interval and (
                        speed is None or abs(speed - seen[1]) < SAMPLE_SPEED_STEP_KN
                    ):
                        continue
                    if t < seen[0]:
                        kept.append(obs)
                        continue
                last[mmsi] = (t, nan if speed is None else speed)
                kept.append(obs)
        if observations:
            for sampler in samplers:
                sampler._sweep(newest)
        return outs

    def keep(self, obs: Observation) -> bool:
        """Whether the thinned stream keeps ``obs`` (remembering it if so)."""
        t, speed = obs.observed_ts, obs.speed_kn
        seen = self._last.get(obs.mmsi)
        if (
            seen is not None
            and seen[0] <= t < seen[0] + self.interval_s
            and (speed is None or abs(speed - seen[1]) < SAMPLE_SPEED_STEP_KN)
        ):
            return False
        if seen is None or t >= seen[0]:
            self._last[obs.mmsi] = (t, math.nan if speed is None else speed)
        return True

    def _sweep(self, newest: float) -> None:
        """Forget the vessels silent for ``forget_s``, at most once per ``forget_s``."""
        if newest >= self._next_sweep_ts:
            cut = newest - self.forget_s
            last = self._last
            for mmsi in [m for m, (ts, _) in last.items() if ts < cut]:
                del last[mmsi]
            self._next_sweep_ts = newest + self.forget_s


@dataclass(slots=True)
class DetectionWork:
    """What one batch handed its detectors (see the module docstring), to run elsewhere."""

    handoffs: list[StaticReport | Detection] = field(default_factory=list)
    """Identity reports and non-AIS detections, in the order they arrived."""
    observations: list[Observation] = field(default_factory=list)
    """The batch's accepted positions, unthinned."""
    watermark_ts: float | None = None
    """The watermark the batch closed with (``None``: no position yet)."""


class DetectorSuite:
    """Every detector of a pipeline, driven as the module docstring says."""

    def __init__(self, detectors: Sequence[Detector[Any]] = ()) -> None:
        self.detectors = list(detectors)
        # The optional entry points, looked up once.
        self._on_static = [d.on_static for d in self.detectors if hasattr(d, "on_static")]
        self._on_detection = [d.on_detection for d in self.detectors if hasattr(d, "on_detection")]
        self._samplers: dict[float, ReportSampler] = {}
        self._intervals: list[float] | None = None
        """The detectors' thinning intervals (positive, sorted), once known."""

    def __bool__(self) -> bool:
        """Whether the pipeline must build observations for it."""
        return bool(self.detectors)

    def static(self, report: StaticReport) -> list[Event]:
        """An identity report that changed something (ship type, name, call sign, IMO)."""
        events: list[Event] = []
        for on_static in self._on_static:
            events.extend(on_static(report))
        return events

    def detection(self, det: Detection) -> list[Event]:
        """A non-AIS detection (``dark_vessel``); it changes nothing else."""
        events: list[Event] = []
        for on_detection in self._on_detection:
            events.extend(on_detection(det))
        return events

    def observations(self, observations: Sequence[Observation]) -> list[Event]:
        """A batch's accepted positions, once per detector.

        A detector whose ``min_report_interval_s`` is positive gets a thinned stream: per
        vessel, a position at least that long after the last one it got, or whose speed
        differs from it by ``SAMPLE_SPEED_STEP_KN`` or more (a manoeuvre), or that is older
        than it (late data, for the detector to judge). Detectors that decide on hours of
        behaviour (loitering, encounters, swarms) need no 5-second reports.
        """
        events: list[Event] = []
        if not observations:
            return events
        intervals = self._intervals
        if intervals is None:
            wanted = {d.min_report_interval_s for d in self.detectors}
            intervals = self._intervals = sorted(i for i in wanted if i > 0.0)
        thinned: dict[float, list[Observation]] = {}
        if intervals:
            streams = ReportSampler.sample_all([self._sampler(i) for i in intervals], observations)
            thinned = dict(zip(intervals, streams, strict=True))
        for detector in self.detectors:
            given = thinned.get(detector.min_report_interval_s, observations)
            events.extend(detector.on_observations(given))
        return events

    def _sampler(self, interval: float) -> ReportSampler:
        sampler = self._samplers.get(interval)
        if sampler is None:
            sampler = self._samplers[interval] = ReportSampler(interval)
        return sampler

    def advance(self, watermark_ts: float) -> list[Event]:
        """The data-time watermark: timers due by it fire."""
        events: list[Event] = []
        for detector in self.detectors:
            events.extend(detector.advance(watermark_ts))
        return events

    def run(self, work: DetectionWork) -> list[Event]:
        """A batch recorded by a :class:`DeferredSuite`: its events, as this suite would have
        given them in the pipeline."""
        events: list[Event] = []
        for item in work.handoffs:
            if type(item) is Detection:
                events.extend(self.detection(item))
            else:
                events.extend(self.static(item))  # type: ignore[arg-type]
        events.extend(self.observations(work.observations))
        if work.watermark_ts is not None:
            events.extend(self.advance(work.watermark_ts))
        return events

    def close_batch(self) -> None:
        """The batch is over (a :class:`DeferredSuite` readies its work)."""

    def take(self) -> list[DetectionWork]:
        """The work of the batches closed since the last call, oldest first (only a
        :class:`DeferredSuite` records any)."""
        return []

    def snapshot(self) -> list[dict[str, Any]]:
        """Every detector's state (JSON-able), in order."""
        return [d.snapshot() for d in self.detectors]

    def restore(self, states: Sequence[Mapping[str, Any]]) -> None:
        """Resume from :meth:`snapshot`, matched by kind: a detector turned on since starts
        afresh, the state of one turned off is dropped."""
        by_kind = {state.get("kind"): state for state in states}
        for detector in self.detectors:
            state = by_kind.get(detector.kind)
            if state is not None:
                detector.restore(state)


class DeferredSuite(DetectorSuite):
    """Runs its ``local`` detectors (if any) and records what the pipeline hands every
    detector, one :class:`DetectionWork` per batch (:meth:`take`), for a
    :class:`DetectorSuite` elsewhere running the others; only the local ones give events
    here.

    The others' state lives with that suite: :meth:`snapshot` gives the local detectors'
    states and :attr:`states` (set by whoever fetched them); :meth:`restore` restores the
    local ones and keeps everything it is given in :attr:`restored` for that suite (each
    suite takes the states of its own kinds)."""

    def __init__(self, local: Sequence[Detector[Any]] = ()) -> None:
        super().__init__(local)
        self._work = DetectionWork()
        self._taken: list[DetectionWork] = []
        self.states: list[dict[str, Any]] = []
        self.restored: list[Mapping[str, Any]] | None = None

    def __bool__(self) -> bool:
        return True

    def static(self, report: StaticReport) -> list[Event]:
        self._work.handoffs.append(report)
        return super().static(report)

    def detection(self, det: Detection) -> list[Event]:
        self._work.handoffs.append(det)
        return super().detection(det)

    def observations(self, observations: Sequence[Observation]) -> list[Event]:
        self._work.observations.extend(observations)
        return super().observations(observations)

    def advance(self, watermark_ts: float) -> list[Event]:
        self._work.watermark_ts = watermark_ts
        return super().advance(watermark_ts)

    def close_batch(self) -> None:
        self._taken.append(self._work)
        self._work = DetectionWork()

    def take(self) -> list[DetectionWork]:
        taken, self._taken = self._taken, []
        return taken

    def snapshot(self) -> list[dict[str, Any]]:
        return [*super().snapshot(), *self.states]

    def restore(self, states: Sequence[Mapping[str, Any]]) -> None:
        super().restore(states)
        self.restored = list(states)
