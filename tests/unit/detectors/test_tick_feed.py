"""A shared TickFeed: detectors that resample alike read one feed and give exactly the events
they give on their own feeds, through snapshots too; out-of-step use is an error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pairwise_scenarios import ordered
from test_encounter import side_by_side
from test_swarm import moored

from lookout.detectors.close_approach import CloseApproachDetector
from lookout.detectors.encounter import EncounterDetector
from lookout.detectors.pairwise import PairwiseDetector
from lookout.detectors.shadowing import ShadowingDetector
from lookout.detectors.swarm import SwarmDetector
from lookout.service.detection import DetectionSetup, build_detectors

Event = dict[str, Any]


def scenario() -> list[Any]:
    """A swarm at the reef and, later, an encounter well away from it, in batches of 25."""
    obs = ordered(moored(12) + side_by_side(start_s=9 * 3600.0, origin=(10.5, 115.5)))
    return [obs[i : i + 25] for i in range(0, len(obs), 25)]


def drive(
    detectors: list[PairwiseDetector], batches: list[Any], *, finish: bool = True
) -> dict[str, list[Event]]:
    """The pipeline's order: every detector gets a batch, then every detector advances; with
    ``finish``, the end of the input closes what is open."""
    events: dict[str, list[Event]] = {d.kind: [] for d in detectors}
    for batch in batches:
        for d in detectors:
            events[d.kind] += d.on_observations(batch)
        for d in detectors:
            events[d.kind] += d.advance(batch[-1].observed_ts)
    for d in detectors:
        events[d.kind] += d.advance(math.inf) if finish else []
    return events


def test_the_suite_shares_a_feed_only_between_detectors_that_resample_alike() -> None:
    suite = build_detectors(
        DetectionSetup(kinds=["encounter", "swarm", "close_approach", "shadowing"])
    )
    by_kind = {d.kind: d for d in suite}
    assert all(isinstance(d, PairwiseDetector) for d in suite)
    feeds = {kind: d._feed for kind, d in by_kind.items()}  # type: ignore[attr-defined]
    assert feeds["encounter"] is feeds["swarm"]
    assert len({id(f) for f in feeds.values()}) == 3


def test_shared_readers_give_the_events_of_separate_ones() -> None:
    batches = scenario()
    alone = drive([EncounterDetector(), SwarmDetector()], batches)
    encounter, swarm = EncounterDetector(), SwarmDetector()
    assert swarm.share_feed(encounter)
    shared = drive([encounter, swarm], batches)
    assert shared == alone
    assert [e["status"] for e in shared["swarm"]] == ["provisional", "confirmed"]
    assert [e["status"] for e in shared["encounter"]] == ["provisional", "confirmed"]
    assert len(encounter) == len(swarm) > 0


def test_a_shared_feed_survives_a_snapshot_of_each_reader() -> None:
    batches = scenario()
    alone = drive([EncounterDetector(), SwarmDetector()], batches)
    first = [EncounterDetector(), SwarmDetector()]
    first[1].share_feed(first[0])
    half = len(batches) // 2
    events = drive(first, batches[:half], finish=False)
    texts = [json.dumps(d.snapshot(), allow_nan=False) for d in first]
    second: list[PairwiseDetector] = [EncounterDetector(), SwarmDetector()]
    second[1].share_feed(second[0])
    for d, text in zip(second, texts, strict=True):
        d.restore(json.loads(text))
    rest = drive(second, batches[half:])
    assert {k: events[k] + rest[k] for k in rest} == alone


def test_readers_handed_different_batches_are_an_error_not_a_mix_up() -> None:
    batches = scenario()
    encounter, swarm = EncounterDetector(), SwarmDetector()
    swarm.share_feed(encounter)
    encounter.on_observations(batches[0])
    with pytest.raises(RuntimeError, match="different batches"):
        swarm.on_observations(batches[1])
    watermark = batches[0][-1].observed_ts
    encounter.advance(watermark)
    with pytest.raises(RuntimeError, match="out of step"):
        swarm.advance(watermark + 600.0)


def test_only_alike_and_fresh_detectors_share() -> None:
    assert not CloseApproachDetector().share_feed(ShadowingDetector())
    encounter, swarm = EncounterDetector(), SwarmDetector()
    encounter.on_observations(scenario()[0])
    with pytest.raises(ValueError, match="before any report"):
        swarm.share_feed(encounter)
