"""The thinned streams detectors that judge hours of behaviour get (DetectorSuite.observations)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lookout.model import Observation
from lookout.pipeline.suite import SAMPLE_SPEED_STEP_KN, ReportSampler

T0 = 1_700_000_000.0


def report(mmsi: int, ts: float, speed_kn: float | None) -> Observation:
    return Observation(
        mmsi, 1, ts, 10.0, 114.0, speed_kn, 90.0, 90, 0, "PHL", "rx", ("rx",), ts, f"{mmsi}@{ts}"
    )


def test_a_steady_vessel_is_thinned_but_manoeuvres_and_late_reports_pass() -> None:
    sampler = ReportSampler(60.0)
    stream = [
        report(1, T0, 5.0),
        report(1, T0 + 10, 5.2),  # steady, 10 s later: dropped
        report(1, T0 + 20, 5.0 + SAMPLE_SPEED_STEP_KN),  # a manoeuvre: kept
        report(1, T0 + 30, 6.0),  # steady again: dropped
        report(1, T0 - 30, 5.0),  # older than the last kept: late, for the detector
        report(1, T0 + 80, 6.1),  # a minute after the last kept: kept
        report(2, T0 + 5, None),  # another vessel's first report: kept
    ]
    kept = sampler.sample(stream)
    assert [(o.mmsi, o.observed_ts - T0) for o in kept] == [
        (1, 0.0), (1, 20.0), (1, -30.0), (1, 80.0), (2, 5.0),
    ]  # fmt: skip


reports = st.lists(
    st.tuples(
        st.integers(1, 4),
        st.floats(0.0, 600.0, allow_nan=False),
        st.one_of(st.none(), st.floats(0.0, 20.0, allow_nan=False)),
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(st.lists(reports, min_size=1, max_size=4))
def test_one_pass_for_several_intervals_gives_each_interval_its_own_stream(batches) -> None:
    intervals = (10.0, 30.0, 60.0)
    alone = [ReportSampler(i) for i in intervals]
    together = [ReportSampler(i) for i in intervals]
    for rows in batches:
        stream = [report(m, T0 + t, s) for m, t, s in rows]
        expected = [sampler.sample(stream) for sampler in alone]
        assert ReportSampler.sample_all(together, stream) == expected
