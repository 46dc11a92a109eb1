"""Which event versions are alerts, how urgent, and for whom (lookout.pipeline.alerts)."""

from __future__ import annotations

from typing import Any

from lookout.pipeline.alerts import alert_messages, severity_of


def entry(flag: str | None, regime: str = "territorial_sea", owners: Any = ("PHL-PCG",)) -> dict:
    return {
        "id": "zone_entry-412000001-1-scs-ts-PHL",
        "kind": "zone_entry",
        "status": "confirmed",
        "ts": 1.0,
        "mmsi": 412_000_001,
        "mmsis": [412_000_001],
        "zone": "scs-ts-PHL",
        "lat": 15.5,
        "lon": 119.8,
        "details": {
            "regime": regime,
            "owners": list(owners),
            "zone_name": "Philippines territorial sea",
            "flag": flag,
        },
    }


def test_a_foreign_vessel_in_a_territorial_sea_is_a_high_alert_to_its_owner() -> None:
    ((subject, alert),) = alert_messages(entry("CN"))
    assert subject == "lookout.alert.PHL-PCG"
    assert (alert["severity"], alert["member"], alert["event_id"]) == (
        "high", "PHL-PCG", "zone_entry-412000001-1-scs-ts-PHL",
    )  # fmt: skip
    assert alert["title"] == "MMSI 412000001: entered Philippines territorial sea"


def test_a_vessel_at_home_raises_no_alert_and_unknown_flags_count_as_foreign() -> None:
    assert alert_messages(entry("PH")) == []
    assert severity_of(entry(None)) == "high"
    assert severity_of(entry("PH", owners=("XYZ-CG",))) == "high"  # owner state unknown


def test_a_disputed_area_alerts_every_claimant_and_an_eez_entry_is_low() -> None:
    claimants = ("CHN", "PHL-PCG", "VNM-VCG")
    messages = alert_messages(entry("CN", regime="disputed", owners=claimants))
    assert messages == []  # flagged to a claimant's state: at home
    messages = alert_messages(entry("MY", regime="disputed", owners=claimants))
    assert [s for s, _ in messages] == [f"lookout.alert.{c}" for c in claimants]
    assert {a["severity"] for _, a in messages} == {"medium"}
    assert severity_of(entry("CN", regime="eez")) == "low"


def test_events_without_a_zone_go_to_the_network_and_coverage_holes_are_not_alerts() -> None:
    swarm = {"id": "swarm-1-1", "kind": "swarm", "status": "provisional", "ts": 1.0,
             "mmsi": None, "mmsis": list(range(1, 13)), "lat": 10.0, "lon": 114.6}  # fmt: skip
    ((subject, alert),) = alert_messages(swarm)
    assert subject == "lookout.alert.network" and alert["severity"] == "high"
    assert alert["title"].startswith("MMSI 1, MMSI 2, MMSI 3 ...: vessels massing")
    gap = {"id": "ais_gap-5-1", "kind": "ais_gap", "status": "confirmed", "ts": 1.0, "mmsi": 5,
           "details": {"coverage_hole": True}}  # fmt: skip
    assert alert_messages(gap) == []
    gap["details"] = {"coverage_hole": False}
    assert severity_of(gap) == "medium"
