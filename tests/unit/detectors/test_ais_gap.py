"""``ais_gap``: a vessel silent for 6 h or more (Global Fishing Watch's rule)."""

from __future__ import annotations

import shapely
from pairwise_scenarios import documented_defaults, final
from vessel_scenarios import observation, run_all, run_with_restart

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
