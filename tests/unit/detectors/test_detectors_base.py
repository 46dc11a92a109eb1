"""The detector seam: per-key state, event-time timers, snapshots and the registry."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

import pytest

from lookout.detectors.base import (
    Detector,
    create_detector,
    detector_types,
    register_detector,
)
from lookout.model import Observation

OBS = Observation(
    mmsi=219000001,
    msg_type=1,
    observed_ts=0.0,
    lat=55.0,
    lon=11.0,
    speed_kn=10.0,
    course_deg=90.0,
    heading_deg=90,
    status=0,
    member="dk",
    source="a",
    receivers=("a",),
    received_ts=0.0,
    key="k",
)


def obs(mmsi: int, ts: float) -> Observation:
    return replace(OBS, mmsi=mmsi, observed_ts=ts)


@register_detector
class SilenceDouble(Detector[int]):
    """Test double: counts reports per vessel, flags the third one, reports 600 s of silence."""

    kind = "test_silence_double"

    def update(self, key: Hashable, state: int | None, o: Observation) -> int | None:
        count = (state or 0) + 1
        if count == 3:
            self.emit(o.observed_ts, {"mmsi": o.mmsi, "reports": count})
        self.notify_at(key, o.observed_ts + 600.0)
        return count

    def on_notify(self, key: Hashable, state: int | None, ts: float) -> int | None:
        self.emit(ts, {"mmsi": key, "silent_s": 600.0, "reports": state}, status="confirmed")
        return None  # forget the vessel

    def thresholds(self) -> dict[str, float]:
        return {"silence_s": 600.0}


def test_state_is_kept_per_key_and_events_carry_kind_time_and_values():
    d = SilenceDouble()
    assert d.on_observation(obs(1, 0.0)) == []
    assert d.on_observation(obs(2, 1.0)) == []
    assert d.on_observation(obs(1, 2.0)) == []
    events = d.on_observation(obs(1, 3.0))
    assert events == [
        {
            "kind": "test_silence_double",
            "ts": 3.0,
            "status": "provisional",
            "mmsi": 1,
            "reports": 3,
            "id": "test_silence_double-1-3",  # given by emit: the detector set none
        }
    ]
    assert d.state(1) == 3 and d.state(2) == 1


def test_timers_fire_on_event_time_oldest_first_and_a_new_timer_replaces_the_old():
    d = SilenceDouble()
    d.on_observation(obs(1, 0.0))
    d.on_observation(obs(2, 100.0))
    d.on_observation(obs(1, 200.0))  # moves vessel 1's timer from 600 to 800
    assert d.advance(650.0) == []
    events = d.advance(900.0)
    assert [(e["mmsi"], e["ts"]) for e in events] == [(2, 700.0), (1, 800.0)]
    assert d.advance(10_000.0) == []
    assert len(d) == 0  # on_notify returned None: state forgotten


def test_cancel_drops_a_timer():
    d = SilenceDouble()
    d.on_observation(obs(1, 0.0))
    d.cancel(1)
    assert d.timer(1) is None
    assert d.advance(1e9) == []


def test_many_reschedules_keep_memory_bounded_and_behaviour_right():
    d = SilenceDouble()
    for i in range(5000):
        d.on_observation(obs(i % 3, float(i)))
    assert len(d._heap) <= 2 * 3 + 1024 + 1
    assert sorted(e["mmsi"] for e in d.advance(1e9)) == [0, 1, 2]


def test_snapshot_and_restore_give_the_same_results():
    a = SilenceDouble()
    for i, mmsi in enumerate([1, 2, 1, 2, 1]):
        a.on_observation(obs(mmsi, float(i)))
    b = SilenceDouble()
    b.restore(a.snapshot())
    assert b.on_observation(obs(2, 10.0)) == a.on_observation(obs(2, 10.0))
    assert b.advance(5000.0) == a.advance(5000.0)


def test_tuple_keys_survive_a_snapshot():
    class PairDouble(SilenceDouble):
        kind = "test_pair_double"

        def key(self, o: Observation) -> Hashable:
            return (o.mmsi, o.mmsi + 1)

    a = PairDouble()
    a.on_observation(obs(7, 0.0))
    b = PairDouble()
    b.restore(a.snapshot())
    assert b.state((7, 8)) == 1 and b.timer((7, 8)) == 600.0


def test_the_registry_knows_registered_detectors_by_kind():
    assert detector_types()["test_silence_double"] is SilenceDouble
    assert isinstance(create_detector("test_silence_double"), SilenceDouble)
    with pytest.raises(KeyError, match="test_silence_double"):
        create_detector("no_such_detector")


def test_the_registry_refuses_bad_or_duplicate_kinds():
    class Nameless(Detector[int]):
        pass

    with pytest.raises(ValueError):
        register_detector(Nameless)

    class Clash(SilenceDouble):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register_detector(Clash)


def test_unknown_event_status_is_refused():
    d = SilenceDouble()
    with pytest.raises(ValueError):
        d.emit(0.0, {}, status="deleted")


def test_a_timer_set_while_firing_waits_for_the_next_advance():
    class Nagging(SilenceDouble):
        kind = "test_nagging_double"

        def on_notify(self, key: Hashable, state: int | None, ts: float) -> int | None:
            self.emit(ts, {"mmsi": key})
            self.notify_at(key, ts)  # due again at once: must not loop forever
            return state

    d = Nagging()
    d.on_observation(obs(1, 0.0))
    assert len(d.advance(1e9)) == 1
    assert len(d.advance(1e9)) == 1
