"""Episodes of a qualifying vessel pair: the lifecycle shared by ``encounter`` and ``shadowing``.

At every tick the detector names the pairs that qualify (close enough, slow or fast enough,
...) with one *sample* of measured values each. A qualifying pair extends its open episode
or starts one. An open episode that does not qualify at a tick is judged by the evidence:

- both vessels known at the tick (position and the speed/course the rule needs): the
  condition failed, the episode ends at its last qualifying tick;
- either vessel unknown (no report close enough to interpolate): no evidence either way, the
  episode stays open, until nothing qualified for ``max_silence_s``.

This is how Global Fishing Watch's encounters pipeline treats missing positions (a run of
adjacent resampled points is only broken by a point that is not adjacent).

An episode that has lasted ``min_duration_s`` is published ``provisional`` (``end_ts`` null);
when it ends it is published again ``confirmed`` with its final values and the same ``id``.
An episode that ends shorter is never published. Long episodes keep at most
:data:`MAX_SAMPLES` samples, evenly thinned, for their medians and means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.detectors.pairwise import PairwiseDetector, SweepConfig, TickFrame, setting

__all__ = ["MAX_SAMPLES", "EpisodeConfig", "PairEpisode", "PairEpisodeDetector"]

MAX_SAMPLES = 256
"""Samples kept per episode; beyond that every other one is dropped and the stride doubles."""

Pair = tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class EpisodeConfig(SweepConfig):
    """Resampling plus the episode lifecycle."""

    min_duration_s: float = setting(3600.0, "Shortest episode that is an event, seconds.")
    max_silence_s: float = setting(
        3600.0, "An episode with no qualifying tick for this long ends, seconds."
    )


@dataclass(slots=True)
class PairEpisode:
    """One continuous episode of a pair; ``samples`` rows start with the tick time."""

    mmsis: Pair
    start_ts: float
    last_ts: float
    samples: list[list[float]] = field(default_factory=list)
    stride: int = 1
    seen: int = 0
    published: bool = False

    @property
    def duration_s(self) -> float:
        return self.last_ts - self.start_ts

    def add(self, sample: list[float]) -> None:
        """One more qualifying tick (``sample[0]`` is its time)."""
        self.last_ts = sample[0]
        if self.seen % self.stride == 0:
            self.samples.append(sample)
            if len(self.samples) >= MAX_SAMPLES:
                del self.samples[1::2]
                self.stride *= 2
        self.seen += 1

    def column(self, index: int) -> NDArray[np.float64]:
        """One measured value over the kept samples."""
        return np.array([row[index] for row in self.samples], dtype=np.float64)

    def dump(self) -> list[Any]:
        a, b = self.mmsis
        return [a, b, self.start_ts, self.last_ts, self.stride, self.seen, self.published]

    @classmethod
    def load(cls, data: list[Any]) -> PairEpisode:
        a, b, start, last, stride, seen, published, samples = data
        return cls((int(a), int(b)), float(start), float(last), samples, stride, seen, published)


class PairEpisodeDetector(PairwiseDetector):
    """A pairwise detector whose events are :class:`PairEpisode` s; see the module docstring.

    Subclasses implement :meth:`qualify` and :meth:`describe`, and :meth:`evidence` when a
    vessel needs more than a known speed to count as observed.
    """

    def __init__(self, config: EpisodeConfig) -> None:
        super().__init__(config)
        self._min_s = float(config.min_duration_s)
        self._silence_s = float(config.max_silence_s)
        self._open: dict[Pair, PairEpisode] = {}
        self._unpublished: dict[Pair, PairEpisode] = {}
        """The open episodes not published yet, in the order of :attr:`_open`: the only ones
        a tick can publish (most open episodes were published long ago)."""
        self._earliest_ts = math.inf
        """At most the ``last_ts`` of every open episode (those only grow): while nothing
        has been silent since then, :meth:`expire` need not look at each episode."""

    def qualify(self, frame: TickFrame) -> dict[Pair, list[float]]:
        """The pairs (smaller MMSI first) that qualify at this tick, each with its sample
        ``[ts, lat, lon, ...]``."""
        raise NotImplementedError

    def describe(self, episode: PairEpisode) -> tuple[float, float, dict[str, Any]]:
        """The event's position and measured values (``duration_s`` and ``thresholds`` are
        added)."""
        raise NotImplementedError

    def evidence(self, frame: TickFrame) -> NDArray[np.bool_]:
        """Which vessels of the frame are observed well enough to break an episode."""
        known: NDArray[np.bool_] = ~np.isnan(frame.speed_kn)
        return known

    def open_episodes(self) -> list[PairEpisode]:
        """The episodes under way (for inspection and tests)."""
        return list(self._open.values())

    def sweep(self, frame: TickFrame) -> None:
        found = self.qualify(frame)
        opened, ts = self._open, frame.ts
        for pair, sample in found.items():
            episode = opened.get(pair)
            if episode is None:
                episode = opened[pair] = self._unpublished[pair] = PairEpisode(pair, ts, ts)
                self._earliest_ts = min(self._earliest_ts, ts)
            episode.add(sample)
        if len(opened) > len(found):  # every found pair is open: some open ones were not found
            rest = [pair for pair in opened if pair not in found]
            rows = frame.find(np.array(rest, dtype=np.int64).reshape(-1))
            seen = self.evidence(frame)
            known: NDArray[np.bool_] = (rows >= 0) & seen[np.maximum(rows, 0)]
            both: NDArray[np.bool_] = np.all(known.reshape(-1, 2), axis=1)
            decisions: list[bool] = both.tolist()
            for pair, decided in zip(rest, decisions, strict=True):
                if decided:
                    self._close(pair)
        self.expire(ts)
        due = [e for e in self._unpublished.values() if e.duration_s >= self._min_s]
        for episode in due:
            del self._unpublished[episode.mmsis]
            episode.published = True
            self._publish(episode, "provisional", ts)

    def expire(self, through_ts: float) -> None:
        if through_ts - self._earliest_ts <= self._silence_s:
            return
        silent = [p for p, e in self._open.items() if through_ts - e.last_ts > self._silence_s]
        for pair in silent:
            self._close(pair)
        self._earliest_ts = min((e.last_ts for e in self._open.values()), default=math.inf)

    def _close(self, pair: Pair) -> None:
        episode = self._open.pop(pair)
        self._unpublished.pop(pair, None)
        if episode.duration_s >= self._min_s:
            self._publish(episode, "confirmed", episode.last_ts)

    def _publish(self, episode: PairEpisode, status: str, ts: float) -> None:
        lat, lon, details = self.describe(episode)
        details["duration_s"] = episode.duration_s
        end = episode.last_ts if status == "confirmed" else None
        pair = episode.mmsis
        span = (episode.start_ts, end)
        self.publish(
            ts, status, key=pair, mmsis=pair, span=span, position=(lat, lon), details=details
        )

    def dump_sweep(self) -> Any:
        return [[*e.dump(), e.samples] for e in self._open.values()]

    def load_sweep(self, data: Any) -> None:
        episodes = [PairEpisode.load(row) for row in data or ()]
        self._open = {e.mmsis: e for e in episodes}
        self._unpublished = {e.mmsis: e for e in episodes if not e.published}
        self._earliest_ts = min((e.last_ts for e in episodes), default=math.inf)
