"""The sharing policy: labels from releases, delays, precision, partial views, mutual alerts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lookout.geo.distance import distance_m
from lookout.model import StaticReport, TrackPoint, VesselState
from lookout.sharing import (
    NETWORK,
    Agreement,
    Label,
    Policy,
    Release,
    ReleaseError,
    ZoneInfo,
    coarsen,
    most_restrictive,
)

PHL, VNM, MYS, JPN = "PHL-PCG", "VNM-VCG", "MYS-MMEA", "JPN-JCG"
NOW = 1_700_000_000.0


def policy(**extra: Release) -> Policy:
    releases = {
        (PHL, "coast"): Release.parse("network"),
        (PHL, "radar"): Release.parse("owner"),
        (VNM, "coast"): Release.parse(f"members:{PHL}"),
        (MYS, "coast"): Release.parse("community:asean"),
        (JPN, "patrol"): Release(scope="network", delay_s={"*": 3600}, precision_m={VNM: 5000}),
    }
    releases.update({(PHL, name): rel for name, rel in extra.items()})
    agreement = Agreement(communities={"asean": frozenset({PHL, VNM, MYS})})
    zones = {
        "phl-ts": ZoneInfo(frozenset({PHL}), "territorial_sea"),
        "high-seas": ZoneInfo(frozenset(), "watch_area"),
    }
    return Policy(releases, agreement, zones)


def point(member: str, source: str, ts: float, lat: float = 10.0, lon: float = 115.0) -> TrackPoint:
    return TrackPoint(
        mmsi=412_000_001, segment=0, observed_ts=ts, lat=lat, lon=lon, speed_kn=8.0,
        course_deg=90.0, heading_deg=90, member=member, source=source, receivers=("rx-1",),
    )  # fmt: skip


def test_release_texts_round_trip_and_bad_ones_say_why() -> None:
    for text in ("network", "owner", f"members:{PHL},{VNM}", "community:asean"):
        assert Release.parse(text).text == text
    for bad in ("everyone", "members:", "community:", "owner:x"):
        with pytest.raises(ReleaseError, match=r"release|member"):
            Release.parse(bad)
    with pytest.raises(ReleaseError, match=">= 0"):
        Release(scope="network", delay_s={"*": -1})


def test_labels_follow_each_sources_release_and_unknown_sources_stay_home() -> None:
    p = policy()
    assert p.label(PHL, "coast") == NETWORK
    assert p.label(PHL, "radar").readers == {PHL}
    assert p.label(VNM, "coast").readers == {VNM, PHL}
    assert p.label(MYS, "coast").readers == {PHL, VNM, MYS}
    assert p.label(JPN, "unregistered").readers == {JPN}
    assert not NETWORK.allows(None)


def test_a_fused_object_carries_the_most_restrictive_label() -> None:
    a, b = Label(frozenset({PHL, VNM})), Label(frozenset({VNM, MYS}))
    assert most_restrictive([a, NETWORK, b]).readers == {VNM}
    assert most_restrictive([]) == NETWORK


def test_a_delayed_release_waits_for_everyone_but_its_owner() -> None:
    p = policy()
    seen = NOW - 1800  # half an hour ago; JPN's patrol is released after an hour
    assert p.may_see(JPN, JPN, "patrol", seen, NOW)
    assert not p.may_see(PHL, JPN, "patrol", seen, NOW)
    assert p.may_see(PHL, JPN, "patrol", seen, NOW + 1800)


def test_reduced_precision_moves_a_position_no_more_than_its_grid() -> None:
    p = policy()
    exact = point(JPN, "patrol", NOW - 7200, lat=9.7312, lon=115.8731)
    shown = p.point_view(VNM, exact, NOW)
    assert shown is not None and (shown.lat, shown.lon) != (exact.lat, exact.lon)
    assert distance_m(exact.lat, exact.lon, shown.lat, shown.lon) <= 5000
    assert shown.receivers == ()  # receiver sites are as precise as the position
    assert p.point_view(PHL, exact, NOW) == exact  # PHL gets it exact


def test_a_vessel_seen_only_partly_shows_its_latest_visible_point_and_identity() -> None:
    p = policy()
    track = [point(PHL, "coast", NOW - 600, lat=10.0), point(PHL, "radar", NOW - 60, lat=10.2)]
    state = VesselState(
        mmsi=412_000_001, segment=0, observed_ts=NOW - 60, lat=10.2, lon=115.0, speed_kn=8.0,
        course_deg=90.0, heading_deg=90, status=0, flag="CHN", name="SECRET NAME",
        members=(PHL,), sources=(f"{PHL}/coast", f"{PHL}/radar"), positions=2,
    )  # fmt: skip
    statics = [
        StaticReport(412_000_001, 5, NOW - 900, member=PHL, source="coast", name="PUBLIC NAME"),
        StaticReport(412_000_001, 5, NOW - 30, member=PHL, source="radar", name="SECRET NAME"),
    ]
    assert p.vessel_view(PHL, state, NOW, lambda: track, lambda: statics) == state
    seen = p.vessel_view(VNM, state, NOW, lambda: track, lambda: statics)
    assert seen is not None
    assert (seen.lat, seen.name, seen.sources, seen.positions) == (
        10.0, "PUBLIC NAME", (f"{PHL}/coast",), 1,
    )  # fmt: skip
    only_radar = [track[1]]
    assert p.vessel_view(VNM, state, NOW, lambda: only_radar, lambda: statics) is None


def test_an_incursion_into_a_members_waters_reaches_everyone_without_the_radar_behind_it() -> None:
    p = policy()
    event = {
        "id": "zone_entry-1", "kind": "zone_entry", "zone": "phl-ts", "ts": NOW,
        "sources": [f"{PHL}/radar", f"{PHL}/coast"], "members": [PHL],
        "observations": ["k1", "k2"], "details": {"distance_m": 1200},
    }  # fmt: skip
    assert p.event_view(PHL, event, NOW) == {**event, "label": f"members:{PHL}"}
    seen = p.event_view(MYS, event, NOW)
    assert seen is not None and seen["redacted"]
    assert seen["sources"] == [f"{PHL}/coast"] and seen["observations"] == []
    assert seen["details"] == {"distance_m": 1200}
    loitering = {**event, "kind": "loitering"}
    assert p.event_view(MYS, loitering, NOW) is None
    outside = {**event, "zone": "high-seas"}
    assert p.event_view(MYS, outside, NOW) is None


def test_a_swarm_is_placed_in_the_zone_that_holds_it() -> None:
    """Swarms and harassment name no zone: the policy finds the zone at their position."""
    zones = {"phl-ts": ZoneInfo(frozenset({PHL}), "territorial_sea")}
    inside = {"kind": "swarm", "lat": 10.0, "lon": 115.0, "sources": [f"{PHL}/radar"]}
    p = Policy(
        {(PHL, "radar"): Release()}, zones=zones,
        zones_at=lambda lat, lon: ["phl-ts"] if lat < 11 else [],
    )  # fmt: skip
    assert p.mutual(inside)
    assert not p.mutual({**inside, "lat": 12.0})
    seen = p.event_view(VNM, {**inside, "id": "s", "ts": NOW}, NOW)
    assert seen is not None and seen["redacted"] and seen["sources"] == []


def test_an_event_naming_only_members_takes_their_most_restrictive_source() -> None:
    p = policy()
    event = {"id": "e", "kind": "loitering", "ts": NOW, "members": [PHL]}
    assert p.event_label(event).readers == {PHL}  # PHL has an owner-only radar
    assert p.event_view(None, event, NOW) is None


MEMBERS = st.sampled_from([PHL, VNM, MYS, JPN])
RELEASES = st.one_of(
    st.just(Release.parse("network")),
    st.just(Release.parse("owner")),
    st.frozensets(MEMBERS, min_size=1).map(lambda m: Release(scope="members", members=m)),
    st.just(Release.parse("community:asean")),
    st.floats(0, 7200).map(lambda d: Release(scope="network", delay_s={"*": d})),
)


@given(
    releases=st.dictionaries(st.tuples(MEMBERS, st.sampled_from(["a", "b"])), RELEASES),
    owner=MEMBERS,
    source=st.sampled_from(["a", "b", "c"]),
    viewer=st.one_of(st.none(), MEMBERS),
    age_s=st.floats(0, 10_000),
)
def test_nothing_is_shown_beyond_its_label_or_before_its_delay(
    releases: dict[tuple[str, str], Release], owner: str, source: str, viewer: str | None,
    age_s: float,
) -> None:  # fmt: skip
    p = Policy(releases, Agreement(communities={"asean": frozenset({PHL, VNM, MYS})}))
    shown = p.point_view(viewer, point(owner, source, NOW - age_s), NOW)
    if viewer == owner:
        assert shown is not None
        return
    release = releases.get((owner, source), Release())
    if shown is not None:
        assert viewer is not None and p.label(owner, source).allows(viewer)
        assert age_s >= release.delay_for(owner, viewer)
        assert release.scope != "owner"


def test_coarsen_keeps_exact_positions_when_no_precision_is_agreed() -> None:
    assert coarsen(9.123456, 115.654321, 0) == (9.123456, 115.654321)
