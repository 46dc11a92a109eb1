"""``InProcessBus.has_subscribers``: whether a message on some subject matching a pattern would
reach anyone (the service builds vessel updates only then)."""

from __future__ import annotations

import pytest

from lookout.bus.inprocess import InProcessBus
from lookout.pipeline import subjects

# (subscription pattern, asked pattern, does some subject match both?) by NATS rules:
# "*" one token, ">" one or more trailing tokens.
CASES = [
    ("lookout.vessel.>", "lookout.vessel.>", True),
    ("lookout.>", "lookout.vessel.>", True),
    (">", "lookout.vessel.>", True),
    ("lookout.vessel.*", "lookout.vessel.>", True),
    ("lookout.vessel.219000001", "lookout.vessel.>", True),
    ("*.vessel.>", "lookout.vessel.>", True),
    ("lookout.*.219000001", "lookout.vessel.>", True),
    ("lookout.event.*", "lookout.vessel.>", False),
    ("lookout.vessel", "lookout.vessel.>", False),
    ("lookout.*", "lookout.vessel.>", False),
    ("lookout.stats.ingest", "lookout.vessel.>", False),
    ("a.b", "a.b", True),
    ("a.b", "a.c", False),
    ("a.>", "a", False),
    ("a.*.c", "a.b.>", True),
]


@pytest.mark.parametrize(("subscribed", "asked", "expected"), CASES)
def test_interest_follows_nats_wildcards(subscribed: str, asked: str, expected: bool) -> None:
    bus = InProcessBus()
    try:
        assert bus.has_subscribers(asked) is False
        sub = bus.subscribe(subscribed, lambda subject, payload: None)
        assert bus.has_subscribers(asked) is expected
        sub.close()
        assert bus.has_subscribers(asked) is False
    finally:
        bus.close()


def test_the_vessel_subjects_are_what_the_service_asks_about() -> None:
    bus = InProcessBus()
    try:
        bus.subscribe("lookout.stats.ingest", lambda subject, payload: None)
        assert not bus.has_subscribers(subjects.VESSELS)
        bus.subscribe(subjects.vessel(219000001), lambda subject, payload: None)
        assert bus.has_subscribers(subjects.VESSELS)
    finally:
        bus.close()
