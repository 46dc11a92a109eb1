"""The JetStream layout: which stream stores a subject, subjects on the wire, and the filter a
durable consumer gets on each stream (no server needed)."""

from __future__ import annotations

import pytest

from lookout.bus.nats_streams import (
    STREAMS,
    check_prefix,
    intersect,
    stream_for,
    stream_name,
    unwire,
    wire,
)
from lookout.pipeline import subjects


def test_raw_input_observations_events_and_alerts_are_stored_vessel_updates_are_not() -> None:
    stored = {
        subjects.raw("PHL-PCG", "subic"): "RAW",
        subjects.observation("PHL-PCG", "subic"): "OBS",
        subjects.event("zone_entry"): "EVENTS",
        subjects.alert("VNM-VFR"): "ALERTS",
    }
    for subject, family in stored.items():
        spec = stream_for(subject)
        assert spec is not None and spec.family == family, subject
    assert stream_for(subjects.vessel(548123456)) is None
    assert stream_for(subjects.INGEST_STATS) is None


def test_no_two_streams_store_the_same_subject() -> None:
    patterns = [s.pattern for s in STREAMS]
    for i, a in enumerate(patterns):
        assert all(intersect(a, b) is None for b in patterns[i + 1 :]), a


def test_a_prefix_puts_a_deployment_under_its_own_root() -> None:
    assert wire("", "lookout.event.ais_gap") == "lookout.event.ais_gap"
    assert wire("drill", "lookout.event.ais_gap") == "drill.lookout.event.ais_gap"
    assert unwire("drill", "drill.lookout.event.ais_gap") == "lookout.event.ais_gap"
    assert [stream_name("", s) for s in STREAMS[:2]] == ["LOOKOUT_RAW", "LOOKOUT_OBS"]
    assert stream_name("drill", STREAMS[2]) == "drill_EVENTS"


@pytest.mark.parametrize("prefix", ["a.b", "a b", "*", ">", "x" * 33])
def test_a_prefix_that_cannot_name_a_stream_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="nats_stream_prefix"):
        check_prefix(prefix)


@pytest.mark.parametrize(
    ("a", "b", "both"),
    [
        ("lookout.>", "lookout.obs.>", "lookout.obs.>"),
        ("*.obs.*.*", "lookout.obs.>", "lookout.obs.*.*"),
        ("lookout.obs.dk.*", "lookout.obs.>", "lookout.obs.dk.*"),
        ("lookout.*", "lookout.obs.>", None),
        (">", "lookout.event.>", "lookout.event.>"),
        ("lookout.vessel.*", "lookout.event.>", None),
        ("lookout.event.zone_entry", "lookout.event.>", "lookout.event.zone_entry"),
        ("lookout.event", "lookout.event.>", None),
    ],
)
def test_the_filter_on_a_stream_matches_what_both_patterns_match(
    a: str, b: str, both: str | None
) -> None:
    assert intersect(a, b) == both
    assert intersect(b, a) == both
