"""The batch screen of ``speed_anomaly`` and ``identity_conflict``
(:class:`~lookout.detectors.hops.PlaceScreenDetector`): positions that only continue a place
are folded in lazily, everything else goes to ``update``; the events and the state must be
exactly those of ``update`` alone."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vessel_scenarios import observation

from lookout.detectors.hops import Cursor
from lookout.detectors.identity import IdentityConflictDetector, IdentityState
from lookout.detectors.speed import SpeedAnomalyDetector, SpeedState
from lookout.geo.distance import destination
from lookout.model import Observation, StaticReport

T0 = 1_700_000_000.0
A = (22.0, 119.0)
KN = 1852.0 / 3600.0


class UnscreenedSpeed(SpeedAnomalyDetector):
    """Every position through ``update``, as before the screen."""

    def _cursor(self, state: SpeedState) -> Cursor | None:
        return None


class UnscreenedIdentity(IdentityConflictDetector):
    def _cursor(self, state: IdentityState) -> Cursor | None:
        return None


def sailing(mmsi: int, start: float, hours: float, late_s: float = 0.0) -> list[Observation]:
    """East from A at 12 knots, a report every 30 s, each stamped ``late_s`` late."""
    return [
        observation(
            mmsi,
            start + late_s + t,
            *destination(*A, 90.0, (start + t - T0) * 12.0 * KN),
            speed_kn=12.0,
            key=f"{mmsi}-{t}-{late_s}",
        )
        for t in range(0, int(hours * 3600), 30)
    ]


def mixed() -> list[Observation]:
    """Several vessels at once: most positions ordinary, some not (jumps, two transmitters,
    a late echo, out-of-order and SAR reports)."""
    b = destination(*A, 0.0, 11_000.0)
    far = destination(*A, 180.0, 40_000.0)
    obs = sailing(1, T0, 6.0)  # a vessel under way: its trail grows
    obs += sailing(2, T0, 6.0) + sailing(2, T0 + 2 * 3600, 4.0, late_s=2 * 3600)  # late echo
    obs += sailing(6, T0 + 2 * 3600, 4.0) + sailing(6, T0 + 60, 4.0, late_s=2 * 3600)  # retracted
    for k in range(400):  # two transmitters on one MMSI for a while, else at anchor
        here = b if 100 <= k < 140 and k % 4 >= 2 else A
        obs.append(observation(3, T0 + 45 * k, *here, speed_kn=0.0, key=f"3-{k}"))
    for k in range(300):  # one bad position, one real jump, a late report
        here = destination(*(A if k < 200 else far), 90.0, 50.0 * k)
        here = far if k in (50, 200) else here
        ts = T0 + 60 * k - (600 if k == 120 else 0)
        obs.append(observation(4, ts, *here, speed_kn=5.0, key=f"4-{k}"))
    obs += [
        observation(5, T0 + 100 * k, *destination(*A, 45.0, 80.0 * k), speed_kn=1.0, msg_type=18)
        for k in range(200)
    ]
    obs += [observation(1, o.observed_ts + 1, *far, msg_type=9) for o in obs[::97]]  # SAR
    obs += [observation(111_412_001, T0 + 500 * k, *far) for k in range(40)]
    return sorted(obs, key=lambda o: o.observed_ts)


STATICS = [  # time order; 40: a high-speed craft, exempt from speed_anomaly
    StaticReport(4, 5, T0 + 3000.0, "PHL", "test", name="A", callsign="X1"),
    StaticReport(5, 5, T0 + 9000.0, "PHL", "test", name="FIRST", ship_type=40),
    StaticReport(4, 5, T0 + 9500.0, "PHL", "test", name="B", callsign="X1"),
    StaticReport(5, 5, T0 + 12_000.0, "PHL", "test", name="SECOND", ship_type=40),
]


def run_batches(
    detector: SpeedAnomalyDetector | IdentityConflictDetector,
    observations: list[Observation],
    size: int,
) -> tuple[list[dict[str, Any]], Any]:
    """Batches of ``size`` with the watermark after each and static reports in between; the
    events and the final snapshot (through JSON)."""
    events: list[dict[str, Any]] = []
    statics = list(STATICS)
    for i in range(0, len(observations), size):
        batch = observations[i : i + size]
        while statics and statics[0].observed_ts <= batch[0].observed_ts:
            events += detector.on_static(statics.pop(0))
        events += detector.on_observations(batch)
        events += detector.advance(max(o.observed_ts for o in batch))
    events += detector.advance(math.inf)
    return events, json.loads(json.dumps(detector.snapshot()))


@pytest.mark.parametrize("size", [1, 7, 500])
def test_screened_batches_give_the_events_and_state_of_update_alone(size: int) -> None:
    obs = mixed()
    speed = run_batches(UnscreenedSpeed(), obs, size)
    identity = run_batches(UnscreenedIdentity(), obs, size)
    assert len(speed[0]) == 2  # the bad position that the track came back from is none
    assert {e["status"] for e in identity[0]} == {"provisional", "confirmed", "retracted"}
    assert run_batches(SpeedAnomalyDetector(), obs, size) == speed
    assert run_batches(IdentityConflictDetector(), obs, size) == identity


def test_most_positions_never_reach_update() -> None:
    calls = []

    class Counting(IdentityConflictDetector):
        def update(self, key: Any, state: Any, obs: Observation) -> IdentityState:
            calls.append(obs)
            return super().update(key, state, obs)

    obs = sailing(1, T0, 6.0)
    Counting().on_observations(obs)
    assert 0 < len(calls) < len(obs) // 20


def test_state_and_snapshot_fold_in_the_screened_positions() -> None:
    obs = sailing(1, T0, 1.0)
    screened, unscreened = IdentityConflictDetector(), UnscreenedIdentity()
    screened.on_observations(obs[:50])
    unscreened.on_observations(obs[:50])
    assert screened.snapshot() == unscreened.snapshot()
    screened.on_observations(obs[50:])
    unscreened.on_observations(obs[50:])
    assert screened.state(1) == unscreened.state(1)
    restored = IdentityConflictDetector()
    restored.restore(json.loads(json.dumps(screened.snapshot())))
    more = sailing(1, T0 + 3600, 1.0)
    assert restored.on_observations(more) == unscreened.on_observations(more)
    assert restored.snapshot() == unscreened.snapshot()


STEP = st.tuples(
    st.integers(3, 5),  # which vessel (4 and 5 get STATICS)
    st.sampled_from([-300.0, 0.0, 10.0, 10.0, 60.0, 60.0, 600.0, 4000.0]),  # seconds on
    st.sampled_from([0.0, 0.001, 0.001, -0.003, 0.0045, 0.2, -0.5]),  # degrees north
    st.sampled_from([0.0, 0.002, 0.002, -0.004, 0.3]),  # degrees east
    st.sampled_from([1, 1, 1, 1, 1, 9]),  # message type (9: SAR aircraft)
    st.sampled_from([None, 0.0, 12.0]),  # reported speed
)


@settings(max_examples=60, deadline=None)
@given(st.lists(STEP, max_size=120), st.integers(1, 40))
def test_random_tracks_screened_or_not_are_the_same(steps: list[Any], size: int) -> None:
    """Small and large moves, repeats, late reports and SAR aircraft in any mix."""
    here = {m: [T0, *A] for m in range(3, 6)}
    obs = []
    for k, (mmsi, dt, dlat, dlon, msg_type, sog) in enumerate(steps):
        ts, lat, lon = here[mmsi]
        here[mmsi] = [ts + dt, lat + dlat, lon + dlon]
        obs.append(
            observation(
                mmsi, ts + dt, lat + dlat, lon + dlon, msg_type=msg_type, speed_kn=sog, key=str(k)
            )
        )
    for screened, unscreened in (
        (SpeedAnomalyDetector(), UnscreenedSpeed()),
        (IdentityConflictDetector(), UnscreenedIdentity()),
    ):
        assert run_batches(screened, obs, size) == run_batches(unscreened, obs, size)
