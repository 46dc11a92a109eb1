"""Vessel state and track segmentation: physically consistent tracks, never a zig-zag."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest

from lookout.fusion.fastinit import new_track_point, new_vessel_state
from lookout.fusion.tracks import TrackConfig, VesselTracker
from lookout.geo.distance import MPS_PER_KN, destination, distance_m, implied_speed_kn
from lookout.model import StaticReport, TrackPoint, VesselState

MMSI = 219000001  # MID 219: Denmark


def make_track(
    lat: float,
    lon: float,
    *,
    course_deg: float,
    speed_kn: float,
    start_ts: float,
    every_s: float,
    n: int,
) -> list[tuple[float, float, float]]:
    """``n`` points ``(ts, lat, lon)`` of a vessel steaming on a great circle."""
    points = []
    for i in range(n):
        ts = start_ts + i * every_s
        p_lat, p_lon = destination(lat, lon, course_deg, speed_kn * MPS_PER_KN * i * every_s)
        points.append((ts, p_lat, p_lon))
    return points


def feed(
    tracker: VesselTracker, points, mmsi: int = MMSI, member: str = "dk", source: str = "a"
) -> list[TrackPoint]:
    return [
        tracker.observe(mmsi, ts, lat, lon, 10.0, 90.0, 90, 0, member, source, (source,))
        for ts, lat, lon in points
    ]


def by_segment(points: list[TrackPoint]) -> dict[int, list[TrackPoint]]:
    segments: dict[int, list[TrackPoint]] = defaultdict(list)
    for p in points:
        segments[p.segment].append(p)
    return segments


def max_implied_speed_kn(points: list[TrackPoint]) -> float:
    return max(
        implied_speed_kn(distance_m(a.lat, a.lon, b.lat, b.lon), b.observed_ts - a.observed_ts)
        for a, b in itertools.pairwise(points)
    )


def test_one_vessel_gives_one_segment_and_its_latest_state():
    tracker = VesselTracker()
    track = make_track(55.0, 11.0, course_deg=45, speed_kn=12, start_ts=1000, every_s=10, n=50)
    points = feed(tracker, track)
    assert len(by_segment(points)) == 1
    state = tracker.state(MMSI)
    assert state is not None
    assert (state.observed_ts, state.lat, state.lon) == track[-1]
    assert state.positions == 50
    assert state.flag == "DK"
    assert state.segment == points[0].segment == 1000  # the first point's epoch second


def test_two_transmitters_sharing_an_mmsi_give_two_smooth_segments():
    ship = make_track(55.0, 11.0, course_deg=90, speed_kn=12, start_ts=0, every_s=10, n=60)
    spoofer = make_track(55.9, 11.0, course_deg=270, speed_kn=8, start_ts=5, every_s=10, n=60)
    assert distance_m(55.0, 11.0, 55.9, 11.0) > 99_000
    interleaved = sorted(ship + spoofer)
    points = feed(VesselTracker(), interleaved)
    segments = by_segment(points)
    assert len(segments) == 2
    for segment in segments.values():
        assert len(segment) == 60
        assert max_implied_speed_kn(segment) < 15.0  # smooth: no jump between the two


def test_gps_noise_and_tiny_time_steps_do_not_split_a_track():
    tracker = VesselTracker()
    feed(tracker, [(0.0, 55.0, 11.0), (0.0, 55.003, 11.0), (0.5, 55.0, 11.004)])
    assert len(tracker.segments(MMSI)) == 1


def test_a_far_jump_in_no_time_opens_a_segment_without_dividing_by_zero():
    tracker = VesselTracker()
    points = feed(tracker, [(100.0, 55.0, 11.0), (100.0, 55.2, 11.0)])  # 22 km, same second
    assert points[0].segment != points[1].segment


def test_a_long_gap_makes_a_far_point_possible_again():
    tracker = VesselTracker()
    points = feed(tracker, [(0.0, 55.0, 11.0), (3 * 3600.0, 55.9, 11.0)])  # 100 km in 3 h
    assert points[0].segment == points[1].segment


def test_a_vessel_crossing_the_antimeridian_keeps_one_segment():
    track = make_track(0.5, 179.5, course_deg=90, speed_kn=20, start_ts=0, every_s=60, n=120)
    assert track[0][2] > 0 > track[-1][2]
    points = feed(VesselTracker(), track)
    assert len(by_segment(points)) == 1


def test_late_points_join_the_history_but_do_not_move_the_latest_state_back():
    tracker = VesselTracker()
    feed(tracker, [(1000.0, 55.0, 11.0), (1010.0, 55.001, 11.0)])
    late = feed(tracker, [(990.0, 54.999, 11.0)])[0]
    state = tracker.state(MMSI)
    assert state is not None
    assert state.observed_ts == 1010.0 and state.lat == 55.001
    assert state.positions == 3
    assert late.segment == state.segment


def test_at_most_max_segments_live_and_the_stalest_goes_first():
    tracker = VesselTracker(TrackConfig(max_segments=3))
    far_apart = [(float(i), 50.0 + i, 11.0) for i in range(6)]  # 111 km apart, 1 s apart
    points = feed(tracker, far_apart)
    assert len({p.segment for p in points}) == 6
    assert len(tracker.segments(MMSI)) == 3
    assert tracker.segments(MMSI) == sorted(p.segment for p in points)[-3:]


def test_segment_ids_increase_even_when_opened_in_the_same_second():
    tracker = VesselTracker()
    points = feed(tracker, [(500.0, 50.0, 11.0), (500.2, 52.0, 11.0), (500.4, 54.0, 11.0)])
    assert [p.segment for p in points] == [500, 501, 502]


def test_stale_segments_expire_when_another_segment_is_updated():
    tracker = VesselTracker(TrackConfig(segment_ttl_s=3600.0))
    feed(tracker, [(0.0, 50.0, 11.0), (1.0, 52.0, 11.0)])  # two segments
    feed(tracker, [(7200.0, 52.001, 11.0)])  # continues the second; the first is stale
    assert tracker.segments(MMSI) == [1]


def test_identity_merges_into_the_state_and_statics_report_changes_only():
    tracker = VesselTracker()
    report = StaticReport(
        mmsi=MMSI,
        msg_type=5,
        observed_ts=50.0,
        member="dk",
        source="a",
        name="TEST SHIP",
        ship_type=70,
        to_bow_m=100,
        to_stern_m=20,
    )
    assert tracker.add_static(report)
    assert not tracker.add_static(report)
    feed(tracker, [(60.0, 55.0, 11.0)])
    state = tracker.state(MMSI)
    assert state is not None
    assert (state.name, state.ship_type, state.length_m) == ("TEST SHIP", 70, 120)


def test_take_states_gives_one_state_per_changed_vessel_the_newest():
    tracker = VesselTracker()
    feed(tracker, [(0.0, 55.0, 11.0), (10.0, 55.001, 11.0)])
    feed(tracker, [(0.0, 56.0, 11.0)], mmsi=219000002)
    states = tracker.take_states()
    assert [(s.mmsi, s.observed_ts) for s in states] == [(MMSI, 10.0), (219000002, 0.0)]
    assert tracker.take_states() == []


def test_members_and_sources_accumulate():
    tracker = VesselTracker()
    feed(tracker, [(0.0, 55.0, 11.0)], member="dk", source="a")
    feed(tracker, [(10.0, 55.0, 11.0)], member="no", source="b")
    assert tracker.add_contributor(MMSI, "se", "c")
    assert not tracker.add_contributor(MMSI, "se", "c")
    state = tracker.state(MMSI)
    assert state is not None
    assert state.members == ("dk", "no", "se")
    assert state.sources == ("dk/a", "no/b", "se/c")


def test_sources_are_told_apart_by_member():
    """Two members may each name a source ``ais``: the vessel lists both, so the sharing
    policy can apply each one's own release."""
    tracker = VesselTracker()
    feed(tracker, [(0.0, 55.0, 11.0)], member="dk", source="ais")
    assert tracker.add_contributor(MMSI, "no", "ais")
    state = tracker.state(MMSI)
    assert state is not None and state.sources == ("dk/ais", "no/ais")


def test_idle_vessels_are_evicted_by_data_time():
    tracker = VesselTracker(TrackConfig(vessel_ttl_s=3600.0))
    feed(tracker, [(0.0, 55.0, 11.0)], mmsi=219000001)
    feed(tracker, [(5000.0, 56.0, 11.0)], mmsi=219000002)
    assert tracker.evict() == 1
    assert 219000001 not in tracker and 219000002 in tracker


def test_an_evicted_vessel_still_hands_out_its_last_update():
    """Six days of CSV in one batch: a vessel idle for a day at the end is evicted, but its
    state, changed in this batch, must still reach the store."""
    tracker = VesselTracker(TrackConfig(vessel_ttl_s=3600.0))
    feed(tracker, [(0.0, 55.0, 11.0)], mmsi=219000001)
    feed(tracker, [(5000.0, 56.0, 11.0)], mmsi=219000002)
    tracker.evict()
    assert {s.mmsi for s in tracker.take_states()} == {219000001, 219000002}


def test_a_recalled_state_continues_identity_counts_and_track():
    stored = VesselState(
        mmsi=MMSI,
        segment=777,
        observed_ts=100.0,
        lat=55.0,
        lon=11.0,
        speed_kn=10.0,
        course_deg=90.0,
        heading_deg=90,
        status=0,
        flag="DK",
        name="KNOWN",
        members=("dk",),
        sources=("a",),
        positions=41,
    )
    tracker = VesselTracker(recall={MMSI: stored}.get)
    point = feed(tracker, [(110.0, 55.0005, 11.0)], member="no", source="b")[0]
    state = tracker.state(MMSI)
    assert state is not None
    assert point.segment == 777
    assert (state.name, state.positions, state.members) == ("KNOWN", 42, ("dk", "no"))


def test_snapshot_and_restore_resume_the_same_tracks():
    tracker = VesselTracker()
    feed(tracker, [(0.0, 50.0, 11.0), (1.0, 52.0, 11.0)])
    tracker.add_static(
        StaticReport(mmsi=MMSI, msg_type=5, observed_ts=0.0, member="dk", source="a", name="SHIP")
    )
    restored = VesselTracker()
    restored.restore(tracker.snapshot())
    assert restored.state(MMSI) == tracker.state(MMSI)
    assert restored.segments(MMSI) == tracker.segments(MMSI)
    a = feed(tracker, [(2.0, 50.001, 11.0)])[0]
    b = feed(restored, [(2.0, 50.001, 11.0)])[0]
    assert a == b


def test_fast_constructors_build_equal_values():
    args = (MMSI, 3, 1.0, 55.0, 11.0, None, 90.0, None, "dk", "a", ("r1", "r2"))
    assert new_track_point(*args) == TrackPoint(*args)
    assert hash(new_track_point(*args)) == hash(TrackPoint(*args))
    state_args = (
        MMSI,
        3,
        1.0,
        55.0,
        11.0,
        1.5,
        90.0,
        91,
        0,
        "DK",
        "N",
        "C",
        1234567,
        70,
        "D",
        120,
        ("dk",),
        ("a",),
        9,
        True,
    )
    assert new_vessel_state(*state_args) == VesselState(*state_args)
    with pytest.raises(AttributeError):
        new_vessel_state(*state_args).lat = 0.0  # type: ignore[misc]
