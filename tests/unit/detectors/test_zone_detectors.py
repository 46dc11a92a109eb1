"""zone_entry / zone_exit on tiny tracks: what fires, when, and with which measured values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from lookout.ais.tables import flag_of
from lookout.detectors.base import Detector, create_detector, detector_types
from lookout.detectors.zones import ZoneEntryDetector, ZoneExitDetector, zone_detectors
from lookout.geo.zones import Regime, Zone, ZoneIndex, split_antimeridian
from lookout.model import Observation

MMSI = 548_000_001
T0 = 1_700_000_000.0

# A territorial sea around a reef inside a disputed area, plus an EEZ across the antimeridian.
DISPUTED = Zone(
    "spratly", "Spratly area", Regime.DISPUTED, ("PHL-PCG", "CHN"), box(114, 8, 116, 10)
)
REEF_TS = Zone(
    "reef-ts", "Reef TS", Regime.TERRITORIAL_SEA, ("PHL-PCG",), Point(115, 9).buffer(0.2)
)
FIJI = Zone("fji", "Fiji EEZ", Regime.EEZ, ("FJI",), split_antimeridian(box(175, -20, 182, -15)))
ZONES = ZoneIndex([DISPUTED, REEF_TS, FIJI])


def make_track(
    points: list[tuple[float, float] | tuple[float, float, float]],
    *,
    mmsi: int = MMSI,
    step_s: float = 600.0,
    member: str = "PHL-PCG",
) -> list[Observation]:
    """Positions (lat, lon[, speed_kn]) of one vessel, ``step_s`` apart from T0."""
    track = []
    for i, point in enumerate(points):
        lat, lon = point[0], point[1]
        speed = point[2] if len(point) > 2 else 8.0
        track.append(
            Observation(
                mmsi=mmsi,
                msg_type=1,
                observed_ts=T0 + i * step_s,
                lat=lat,
                lon=lon,
                speed_kn=speed,
                course_deg=90.0,
                heading_deg=90,
                status=0,
                member=member,
                source=f"{member}-rx",
                receivers=(f"{member}-rx",),
                received_ts=T0 + i * step_s + 1.0,
                key=f"{mmsi}-{i}",
            )
        )
    return track


def run(detector: Detector[Any], track: list[Observation]) -> list[dict[str, Any]]:
    return [event for obs in track for event in detector.on_observation(obs)]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """(kind, zone, minutes after T0) per event."""
    return [(e["kind"], e["zone"], (e["ts"] - T0) / 60.0) for e in events]


def test_entering_a_zone_fires_once_at_the_first_position_inside_with_its_values():
    track = make_track([(9.5, 113.5), (9.5, 113.8, 11.5), (9.5, 114.3, 12.0), (9.5, 114.5)])
    events = run(ZoneEntryDetector(ZONES), track)
    assert len(events) == 1
    event = events[0]
    assert event == {
        "kind": "zone_entry",
        "ts": T0 + 1200.0,
        "status": "confirmed",
        "id": f"zone_entry-{MMSI}-{int(T0 + 1200)}-spratly",
        "mmsi": MMSI,
        "mmsis": [MMSI],
        "zone": "spratly",
        "start_ts": T0 + 1200.0,
        "end_ts": T0 + 1200.0,
        "lat": 9.5,
        "lon": 114.3,
        "observations": [f"{MMSI}-1", f"{MMSI}-2"],
        "members": ["PHL-PCG"],
        "sources": ["PHL-PCG/PHL-PCG-rx"],
        "details": {
            "zone_name": "Spratly area",
            "regime": "disputed",
            "owners": ["PHL-PCG", "CHN"],
            "approximate": False,
            "flag": flag_of(MMSI),
            "speed_kn": 12.0,
            "course_deg": 90.0,
            "previous_ts": T0 + 600.0,
            "previous_lat": 9.5,
            "previous_lon": 113.8,
            "interval_s": 600.0,
            "thresholds": {"boundary_tolerance_m": 0.0},
        },
    }
    json.dumps(event)  # events are JSON-able


def test_a_vessel_first_seen_inside_has_no_entry_but_exits_and_re_enters():
    track = make_track([(9.5, 114.5), (9.5, 114.6), (9.5, 116.5), (9.5, 115.8), (9.5, 115.7)])
    entry, exit_ = ZoneEntryDetector(ZONES), ZoneExitDetector(ZONES)
    events = [e for obs in track for d in (entry, exit_) for e in d.on_observation(obs)]
    assert summary(events) == [("zone_exit", "spratly", 20.0), ("zone_entry", "spratly", 30.0)]
    exit_event = events[0]
    assert (exit_event["lat"], exit_event["lon"]) == (9.5, 116.5)  # first position outside
    before = exit_event["details"]
    assert (before["previous_lat"], before["previous_lon"]) == (9.5, 114.6)  # last inside


def test_a_position_on_the_boundary_is_inside():
    track = make_track([(9.0, 113.0), (9.0, 114.0), (9.0, 113.9)])  # 114.0: the western edge
    assert summary(run(ZoneEntryDetector(ZONES), track)) == [("zone_entry", "spratly", 10.0)]
    assert summary(run(ZoneExitDetector(ZONES), track)) == [("zone_exit", "spratly", 20.0)]


def test_a_territorial_sea_inside_a_disputed_area_fires_both_entries():
    stepwise = make_track([(9.0, 113.5), (9.0, 114.5), (9.0, 114.95), (9.0, 114.97)])
    assert summary(run(ZoneEntryDetector(ZONES), stepwise)) == [
        ("zone_entry", "spratly", 10.0),
        ("zone_entry", "reef-ts", 20.0),
    ]
    jump = make_track([(9.0, 113.5), (9.0, 115.0)])  # one report from open sea to the reef
    events = run(ZoneEntryDetector(ZONES), jump)
    assert summary(events) == [("zone_entry", "spratly", 10.0), ("zone_entry", "reef-ts", 10.0)]
    assert [e["details"]["regime"] for e in events] == ["disputed", "territorial_sea"]
    assert [e["details"]["owners"] for e in events] == [["PHL-PCG", "CHN"], ["PHL-PCG"]]


def test_crossing_the_antimeridian_inside_a_zone_is_no_crossing_of_it():
    inside = make_track([(-17.0, 179.8), (-17.0, 179.99), (-17.0, -179.9), (-17.0, -179.5)])
    detectors = zone_detectors(ZONES)
    assert [e for d in detectors for e in run(d, inside)] == []
    into_east = make_track([(-17.0, -176.0), (-17.0, -178.5)], mmsi=2)  # enters from the east
    into_west = make_track([(-17.0, 174.0), (-17.0, 175.5)], mmsi=3)  # enters from the west
    out_east = make_track([(-17.0, 179.9), (-17.0, -179.9), (-17.0, -177.5)], mmsi=4)
    entry, exit_ = detectors
    assert summary(run(entry, into_east)) == [("zone_entry", "fji", 10.0)]
    assert summary(run(entry, into_west)) == [("zone_entry", "fji", 10.0)]
    assert summary(run(exit_, out_east)) == [("zone_exit", "fji", 20.0)]


def test_a_late_position_is_ignored_rather_than_crossing_back():
    a, b, c = make_track([(9.0, 113.5), (9.0, 114.5), (9.0, 114.6)])
    late = make_track([(9.0, 113.6)])[0]  # observed at T0, after b arrived
    entry, exit_ = zone_detectors(ZONES)
    events = [e for obs in (a, b, late, c) for d in (entry, exit_) for e in d.on_observation(obs)]
    assert summary(events) == [("zone_entry", "spratly", 10.0)]


def test_each_vessel_has_its_own_state_and_the_event_names_both_members():
    one = make_track([(9.0, 113.5), (9.0, 114.5)], mmsi=1)
    two = make_track([(9.0, 114.5), (9.0, 114.6)], mmsi=2)
    mixed = [one[0], two[0], one[1], two[1]]
    assert [e["mmsi"] for e in run(ZoneEntryDetector(ZONES), mixed)] == [1]
    seen_by_vnm = make_track([(9.0, 113.5)], member="VNM")[0]
    handover = [seen_by_vnm, make_track([(9.0, 113.5), (9.0, 114.5)])[1]]
    (event,) = run(ZoneEntryDetector(ZONES), handover)
    assert event["members"] == ["PHL-PCG", "VNM"]


def test_the_detectors_are_registered_and_publish_their_parameters():
    assert detector_types()["zone_entry"] is ZoneEntryDetector
    assert detector_types()["zone_exit"] is ZoneExitDetector
    default = create_detector("zone_entry")
    assert default.thresholds() == {"zone_count": 0.0, "boundary_tolerance_m": 0.0}
    assert run(default, make_track([(9.0, 113.5), (9.0, 114.5)])) == []  # no zones: silent
    assert ZoneExitDetector(ZONES).thresholds()["zone_count"] == 3.0


def test_snapshot_and_restore_give_the_same_results():
    track = make_track([(9.0, 113.5), (9.0, 114.5), (9.0, 115.0), (9.0, 116.5), (9.0, 114.9)])
    for kind in (ZoneEntryDetector, ZoneExitDetector):
        unbroken = kind(ZONES)
        before = run(unbroken, track[:2])
        after = run(unbroken, track[2:])
        assert after != []  # the part after the restore has crossings to reproduce
        saved = kind(ZONES)
        run(saved, track[:2])
        restored = kind(ZONES)
        restored.restore(json.loads(json.dumps(saved.snapshot())))
        assert run(restored, track[2:]) == after
        assert before + after == run(kind(ZONES), track)


positions = st.tuples(st.floats(7.5, 10.5), st.floats(113.5, 116.5))


@settings(max_examples=80, deadline=None)
@given(points=st.lists(positions, min_size=1, max_size=25), cut=st.integers(0, 25))
def test_every_crossing_is_real_and_restoring_anywhere_changes_nothing(points, cut):
    track = make_track(points)
    for kind, inside_now in ((ZoneEntryDetector, True), (ZoneExitDetector, False)):
        events = run(kind(ZONES), track)
        for e in events:  # checked against shapely on the zone itself
            geometry = ZONES.get(e["zone"]).geometry
            now = shapely.intersects_xy(geometry, e["lon"], e["lat"])
            was = e["details"]
            before = shapely.intersects_xy(geometry, was["previous_lon"], was["previous_lat"])
            assert (now, before) == (inside_now, not inside_now)
        first = kind(ZONES)
        head = run(first, track[:cut])
        second = kind(ZONES)
        second.restore(json.loads(json.dumps(first.snapshot())))
        assert head + run(second, track[cut:]) == events


DOC = Path(__file__).resolve().parents[3] / "docs" / "zones.md"


def documented(section: str) -> set[str]:
    """The code spans in the first column of the table under ``### <section>`` in zones.md."""
    text = DOC.read_text(encoding="utf-8").split(f"### {section}\n", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([^`]+)`", cell)}


def test_the_event_fields_and_thresholds_are_the_documented_ones():
    (event,) = run(ZoneEntryDetector(ZONES), make_track([(9.0, 113.5), (9.0, 114.5)]))
    fields = set(event) - {"kind", "ts", "status"}
    assert fields | set(event["details"]) == documented("Event fields")
    assert set(ZoneExitDetector(ZONES).thresholds()) == documented("Thresholds")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-91.0, 91.0, allow_nan=False),
            st.floats(-200.0, 200.0, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_batch_screen_only_clears_positions_that_are_in_no_zone(points):
    track = make_track([(lat, lon) for lat, lon in points])
    clear = ZONES.clear_of_zones(track)
    assert len(clear) == len(track)
    for obs, nothing in zip(track, clear, strict=True):
        if nothing:
            assert ZONES.ids_at(obs.lat, obs.lon) == ()


def test_a_batch_gives_the_same_crossings_and_state_as_one_position_at_a_time():
    # far outside, then into the reef's territorial sea inside the disputed area, a late
    # position from outside, out again, and a second vessel that stays far away
    path = [(1.0, 100.0), (9.5, 113.0), (9.0, 115.0), (9.5, 115.5), (9.5, 117.0), (2.0, 101.0)]
    track = make_track(path)
    late = make_track([(9.5, 117.5)], step_s=0.0)[0]  # at T0: older than everything after it
    other = make_track([(1.0, 100.0), (1.1, 100.1)], mmsi=MMSI + 1)
    batch = [track[0], other[0], track[1], track[2], late, track[3], other[1], *track[4:]]
    for kind in ("zone_entry", "zone_exit"):
        one = (ZoneEntryDetector if kind == "zone_entry" else ZoneExitDetector)(ZONES)
        many = (ZoneEntryDetector if kind == "zone_entry" else ZoneExitDetector)(ZONES)
        singly = [event for obs in batch for event in one.on_observation(obs)]
        assert many.on_observations(batch) == singly
        assert singly, kind
        assert many.snapshot() == one.snapshot()
