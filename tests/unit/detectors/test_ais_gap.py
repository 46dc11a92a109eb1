"""``ais_gap``: a vessel silent for 6 h or more (Global Fishing Watch's rule)."""

from __future__ import annotations

import json

import numpy as np
import shapely
from pairwise_scenarios import documented_defaults, final
from vessel_scenarios import observation, run_all, run_with_restart

from lookout.detectors.coverage import Coverage
from lookout.detectors.gap import AisGapConfig, AisGapDetector
from lookout.geo.shore import PolygonShore

M = 563_000_001
T0 = 1_700_000_000.0
H = 3600.0


def reports(*hours: float, lat: float = 10.0, lon: float = 115.0) -> list:
    return [observation(M, T0 + h * H, lat, lon + 0.01 * i) for i, h in enumerate(hours)]


def test_a_silence_of_six_hours_is_a_gap_published_provisional_then_confirmed() -> None:
    obs = reports(0, 0.5, 7.5, 8)  # silent from 0.5 h to 7.5 h
    others = [observation(M + 1, T0 + h * H, 0.0, 0.0) for h in (7, 7.1)]  # the watermark
    events = run_all(AisGapDetector(), [*obs, *others])
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    provisional, confirmed = events
    assert provisional["id"] == confirmed["id"] == f"ais_gap-{M}-{int(T0 + 0.5 * H)}"
    assert provisional["ts"] <= T0 + 7.1 * H and provisional["end_ts"] is None
    assert provisional["details"]["ongoing"] is True
    assert confirmed["start_ts"] == T0 + 0.5 * H and confirmed["end_ts"] == T0 + 7.5 * H
    assert confirmed["mmsi"] == M and confirmed["mmsis"] == [M]
    assert confirmed["details"]["duration_s"] == 7 * H
    assert confirmed["details"]["thresholds"]["min_gap_s"] == 6 * H
    assert confirmed["observations"] == [obs[1].key, obs[2].key]
    assert confirmed["details"]["suspected_disabling"] is None  # no shore data


def test_five_hours_fifty_nine_minutes_of_silence_is_no_gap() -> None:
    assert run_all(AisGapDetector(), reports(0, 5 + 59 / 60, 6)) == []


def test_the_end_of_the_input_does_not_make_a_silence() -> None:
    """The input stops 2 h after the last report: nothing is known to be silent."""
    obs = [*reports(0, 1), observation(M + 1, T0 + 3 * H, 0.0, 0.0)]
    assert run_all(AisGapDetector(), obs) == []


def test_long_gaps_far_from_shore_are_suspected_disabling() -> None:
    shore = PolygonShore([shapely.box(100.0, 0.0, 105.0, 20.0)])  # land west of 105 E
    far, near = 115.0, 105.5  # about 1,100 km and 55 km from the coast
    gaps = {}
    for lon, hours in ((far, 13), (far, 11), (near, 13)):
        events = run_all(AisGapDetector(shore=shore), reports(0, hours, lon=lon))
        gaps[(lon, hours)] = final(events)[0]["details"]["suspected_disabling"]
    assert gaps == {(far, 13): True, (far, 11): False, (near, 13): False}


def test_a_gap_where_nobody_receives_is_a_coverage_hole() -> None:
    def receiving(lat: float, lon: float, ts: float) -> bool:
        return lon < 115.005  # the start is covered, the end is not

    events = run_all(AisGapDetector(receiving_near=receiving), reports(0, 8))
    details = final(events)[0]["details"]
    assert details["receiving_near_start"] is True and details["receiving_near_end"] is False
    assert details["coverage_hole"] is True and details["filled_by_other_member"] is None


def test_a_late_report_inside_a_gap_retracts_it() -> None:
    detector = AisGapDetector()
    others = [observation(M + 1, T0 + h * H, 0.0, 0.0) for h in (7, 7.1)]
    events = run_all(detector, [*reports(0, 8), *others])
    late = observation(M, T0 + 4 * H, 10.0, 115.0, member="VNM")
    events += detector.on_observation(late)
    assert [e["status"] for e in events] == ["provisional", "confirmed", "retracted"]
    assert len({e["id"] for e in events}) == 1


def test_snapshot_and_restore_give_the_same_events() -> None:
    obs = reports(0, 1, 8, 9, 20, 21)
    whole = run_all(AisGapDetector(), obs)
    assert run_with_restart(lambda: AisGapDetector(), obs, 3) == whole
    assert len(final(whole)) == 2


def test_documented_defaults_match_the_config() -> None:
    assert documented_defaults("ais_gap") == AisGapConfig().values()


# -- coverage: was the network receiving other vessels near the ends? ---------------------


def neighbours(lat: float, lon: float, hours: range, mmsi: int = M + 100) -> list:
    """Another vessel received every 20 minutes at (lat, lon) during ``hours``."""
    return [
        observation(mmsi, T0 + h * H / 3, lat, lon) for h in range(hours.start * 3, hours.stop * 3)
    ]


def test_a_gap_where_others_were_received_at_both_ends_is_no_coverage_hole() -> None:
    shore = PolygonShore([shapely.box(100.0, 0.0, 105.0, 20.0)])
    others = neighbours(10.2, 115.3, range(-2, 16))  # about 40 km away, all along
    events = run_all(AisGapDetector(shore=shore), [*reports(0, 13), *others])
    details = final(events)[0]["details"]
    assert details["receiving_near_start"] is True and details["receiving_near_end"] is True
    assert details["coverage_hole"] is False
    assert details["suspected_disabling"] is True


def test_a_gap_where_nobody_near_was_received_is_a_coverage_hole() -> None:
    shore = PolygonShore([shapely.box(100.0, 0.0, 105.0, 20.0)])
    far = neighbours(12.0, 117.0, range(-2, 16))  # about 300 km away: the network works there
    events = run_all(AisGapDetector(shore=shore), [*reports(0, 13), *far])
    details = final(events)[0]["details"]
    assert details["receiving_near_start"] is False and details["receiving_near_end"] is False
    assert details["coverage_hole"] is True
    assert details["suspected_disabling"] is False  # a hole says nothing about the vessel


def test_receiving_stops_near_the_end_only() -> None:
    others = neighbours(10.1, 115.1, range(-2, 3))  # a receiver that fails after 3 h
    elsewhere = neighbours(-30.0, 20.0, range(-2, 16), mmsi=M + 200)  # the network is up
    events = run_all(AisGapDetector(), [*reports(0, 13), *others, *elsewhere])
    details = final([e for e in events if e["mmsi"] == M])[0]["details"]
    assert (details["receiving_near_start"], details["receiving_near_end"]) == (True, False)
    assert details["coverage_hole"] is True


def test_the_vessel_itself_and_an_input_of_one_vessel_say_nothing_about_coverage() -> None:
    details = final(run_all(AisGapDetector(), reports(0, 1, 8, 9)))[0]["details"]
    assert details["receiving_near_start"] is None and details["receiving_near_end"] is None
    assert details["coverage_hole"] is None


def test_coverage_near_the_start_is_remembered_for_a_gap_of_days() -> None:
    others = neighbours(10.1, 115.1, range(-2, 8))  # only around the start
    far = neighbours(-30.0, 20.0, range(70, 74), mmsi=M + 200)  # keeps the watermark moving
    events = run_all(AisGapDetector(), [*reports(0, 72), *others, *far])
    events = [e for e in events if e["mmsi"] == M]
    assert [e["status"] for e in events] == ["provisional", "confirmed"]
    assert events[0]["details"]["receiving_near_start"] is True
    assert events[1]["details"]["receiving_near_start"] is True  # 3 days later: still known
    assert events[1]["details"]["receiving_near_end"] is False


def test_coverage_is_bounded_by_event_time() -> None:
    coverage = Coverage()
    for hour in range(24 * 10):
        for k in range(50):
            coverage.record(M + k, 10.0 + k * 0.5, 115.0, T0 + hour * H)
    assert coverage.cells() <= 50 * 50  # 2 days and a little of 50 cells each
    assert coverage.receiving_near(10.0, 115.0, T0, exclude_mmsi=M) is None  # dropped
    assert coverage.receiving_near(10.0, 115.0, T0 + 239 * H, exclude_mmsi=M) is True
    assert coverage.receiving_near(10.0, 115.0, T0 + 239 * H, exclude_mmsi=M + 1) is True
    coverage.record(M, 10.0, 115.0, T0)  # far too late: not kept
    assert coverage.receiving_near(10.0, 115.0, T0, exclude_mmsi=M + 1) is None


def test_coverage_cells_reach_across_the_antimeridian_and_about_fifty_km() -> None:
    coverage = Coverage()
    coverage.record(M + 1, 0.0, 179.9, T0)
    coverage.record(M + 2, 40.0, 0.0, T0)
    coverage.record(M + 2, 40.0, 0.0, T0 + 3 * H)
    near = coverage.receiving_near
    assert near(0.0, -179.9, T0 + 1800, exclude_mmsi=M) is True  # 22 km across the line
    assert near(0.4, 179.9, T0 - 3000, exclude_mmsi=M) is True  # 44 km north, 50 min before
    assert near(2.0, 179.9, T0, exclude_mmsi=M) is False  # 220 km
    assert near(0.0, 179.9, T0 + 3 * H, exclude_mmsi=M) is False  # 3 h later
    assert near(0.0, 179.9, T0, exclude_mmsi=M + 1) is False  # only the vessel itself
    assert near(0.0, 179.9, T0 + 6 * H, exclude_mmsi=M) is None  # nobody received anywhere


def test_snapshot_and_restore_keep_the_coverage() -> None:
    obs = [*reports(0, 1, 8, 9, 20, 21), *neighbours(10.1, 115.1, range(-1, 22))]
    whole = run_all(AisGapDetector(), obs)
    assert any(e["details"]["receiving_near_start"] for e in whole)
    for split in (10, 30, 60):
        assert run_with_restart(lambda: AisGapDetector(), obs, split) == whole


def test_a_batch_gives_what_one_observation_at_a_time_gives() -> None:
    """The batch screen (steady reporters skip update(), the coverage is recorded with numpy)
    against the scalar path. A reappearance after a gap asks the coverage mid-batch, which
    must hold the positions before it in the batch and none after it."""
    steady = [observation(M + k, T0 + h * H, 10.0 + 0.1 * k, 115.0) for k in (1, 2) for h in (6, 7)]
    quiet = [observation(m, T0 + h * H, 10.0, 115.0) for m in (M, M + 9) for h in (0, 0.5)]
    far, farther = (-30.0, 60.0), (-40.0, 20.0)
    batch = [
        observation(M + 3, T0 + 7.4 * H, *far),  # a new vessel, before M, near M's end
        observation(M + 1, T0 + 7.4 * H, 10.1, 115.0),  # steady: the fast path
        observation(M, T0 + 7.5 * H, *far),  # back after 7 h: confirmed, asks the coverage
        observation(M + 9, T0 + 7.5 * H, *farther),  # back too, nobody near before it
        observation(M + 4, T0 + 7.5 * H, *farther),  # near M + 9's end, but after it
        observation(M, T0 + 1 * H, 10.0, 115.0),  # late, inside M's gap: retracts it
        observation(M + 2, T0 + 7.6 * H, 10.2, 115.0),
    ]
    one, many = AisGapDetector(), AisGapDetector()
    for d in (one, many):
        d.on_observations([*quiet, *steady])
        d.advance(T0 + 7 * H)  # the silences are published provisional
    by_one = [e for o in batch for e in one.on_observation(o)]
    by_batch = many.on_observations(batch)
    assert [e["status"] for e in by_batch] == ["confirmed", "confirmed", "retracted", "confirmed"]
    assert [e["details"]["receiving_near_end"] for e in by_batch] == [True, False, True, True]
    assert by_batch == by_one
    assert many.snapshot() == one.snapshot()
    assert many.advance(T0 + 20 * H) == one.advance(T0 + 20 * H)


def test_coverage_recorded_in_bulk_is_coverage_recorded_one_by_one() -> None:
    rows = [
        (M + k % 7, T0 + (k * 977) % (60 * H), 10.0 + (k % 13) * 0.3, 179.5 + (k % 5) * 0.3)
        for k in range(300)
    ]
    rows += [(M, T0, 95.0, 0.0), (M + 1, T0 - 10 * 24 * H, 0.0, 0.0)]  # odd, and too old
    one, bulk = Coverage(), Coverage()
    for mmsi, ts, lat, lon in rows:
        one.record(mmsi, lat, lon, ts)
    for part in (rows[:100], rows[100:]):
        mmsi, ts, lat, lon = (np.array(column) for column in zip(*part, strict=True))
        bulk.record_many(mmsi, lat, lon, ts)
    assert bulk.snapshot() == one.snapshot()


def test_a_state_keeps_its_snapshot_form_while_its_last_position_is_an_observation() -> None:
    detector = AisGapDetector()
    detector.on_observations([observation(M, T0, 10.0, 115.0)])
    detector.on_observations([observation(M, T0 + 60, 10.0, 115.5)])  # the fast path
    restored = AisGapDetector()
    restored.restore(json.loads(json.dumps(detector.snapshot())))
    assert restored.state(M) == detector.state(M)
    assert restored.snapshot() == detector.snapshot()
