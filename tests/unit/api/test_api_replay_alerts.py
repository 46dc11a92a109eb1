"""The web app's API: the picture as it was (``GET /vessels?at=``), search (``q``), alerts
acknowledged and escalated once for a whole member, and refreshing an access token."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lookout.api.app import create_app
from lookout.api.auth import Actor
from lookout.api.sharing import StreamView
from lookout.model import TrackPoint, VesselState
from lookout.model.members import Member, Role
from lookout.pipeline import subjects
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig

PHL, VNM = "PHL-PCG", "VNM-VCG"
SHIP, OTHER = 412_000_001, 563_000_002
NOW = time.time()


def state(mmsi: int, ts: float, lat: float, lon: float, name: str, feed: str) -> VesselState:
    member = feed.split("/")[0]
    return VesselState(
        mmsi, 0, ts, lat, lon, 10.0, 90.0, 90, 0, None, name=name, callsign=f"CS{mmsi % 1000}",
        members=(member,), sources=(feed,), positions=3,
    )  # fmt: skip


def point(mmsi: int, ts: float, lat: float, member: str, source: str) -> TrackPoint:
    return TrackPoint(mmsi, 0, ts, lat, 115.0, 10.0, 90.0, 90, member, source, ("rx",))


EVENT = {
    "id": "zone_entry-412000001-1-scs-ts-PHL", "kind": "zone_entry", "status": "confirmed",
    "ts": NOW - 100, "start_ts": NOW - 100, "mmsi": SHIP, "mmsis": [SHIP], "zone": "scs-ts-PHL",
    "lat": 15.5, "lon": 119.8, "sources": [f"{PHL}/ais"], "members": [PHL],
    "details": {"regime": "territorial_sea", "owners": [PHL], "flag": "CN"},
}  # fmt: skip
ALERT = f"{EVENT['id']}@{PHL}"


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime, dict[str, dict[str, str]]]]:
    settings = Settings(
        data_dir=tmp_path / "data", detectors="none", shore="none",
        api_tokens={"static-token": "wall"}, api_tokens_member=PHL,
        sources=(
            SourceConfig(name="ais", member=PHL, kind="push", key="k1", release="network"),
            SourceConfig(name="radar", member=PHL, kind="push", key="k2", release="owner"),
        ),
    )  # fmt: skip
    runtime = Runtime(settings)
    runtime.start()
    assert runtime.access is not None
    auth: dict[str, dict[str, str]] = {}
    for code in (PHL, VNM):
        runtime.access.add_member(Member(code, f"{code} coast guard"))
    for who, code, role in (
        ("phl-a", PHL, Role.WATCH_OFFICER), ("phl-b", PHL, Role.WATCH_OFFICER),
        ("vnm-a", VNM, Role.WATCH_OFFICER), ("phl-viewer", PHL, Role.VIEWER),
    ):  # fmt: skip
        token = runtime.access.issue(subject=who, member=code, role=role, ttl_s=900).token
        auth[who] = {"Authorization": f"Bearer {token}"}
    runtime.store.write(
        StoreBatch(
            track=[
                point(SHIP, NOW - 8000, 10.0, PHL, "ais"),
                point(SHIP, NOW - 3700, 10.5, PHL, "radar"),
                point(SHIP, NOW - 60, 11.0, PHL, "ais"),
                point(OTHER, NOW - 60, 12.0, PHL, "ais"),
            ],
            vessels=[
                state(SHIP, NOW - 60, 11.0, 115.0, "HAI YANG 1", f"{PHL}/ais"),
                state(OTHER, NOW - 60, 12.0, 115.0, "BINH MINH", f"{PHL}/ais"),
            ],
            events=[EVENT],
        )
    )
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, auth
    runtime.stop()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# -- the picture as it was ---------------------------------------------------------------


def test_the_picture_an_hour_ago_shows_where_a_vessel_was_then(api: Any) -> None:
    client, _, auth = api
    then = client.get("/api/v1/vessels", params={"at": iso(NOW - 3600)}, headers=auth["phl-a"])
    assert then.status_code == 200, then.text
    vessels = then.json()["vessels"]
    assert [(v["mmsi"], v["lat"], v["sources"]) for v in vessels] == [
        (SHIP, 10.5, [f"{PHL}/radar"])
    ]
    assert vessels[0]["name"] == "HAI YANG 1"  # identity as known now
    now = client.get("/api/v1/vessels", headers=auth["phl-a"]).json()["vessels"]
    assert {v["mmsi"]: v["lat"] for v in now} == {SHIP: 11.0, OTHER: 12.0}


def test_the_past_picture_leaves_out_sources_not_released_to_the_caller(api: Any) -> None:
    """PHL's radar is its own: VNM's picture of an hour ago does not have the radar point,
    and the public AIS point of two hours ago is older than the lookback."""
    client, _, auth = api
    then = client.get("/api/v1/vessels", params={"at": iso(NOW - 3600)}, headers=auth["vnm-a"])
    assert then.status_code == 200
    assert then.json()["vessels"] == []
    earlier = client.get(
        "/api/v1/vessels", params={"at": iso(NOW - 7900)}, headers=auth["vnm-a"]
    ).json()["vessels"]
    assert [(v["mmsi"], v["lat"], v["sources"]) for v in earlier] == [(SHIP, 10.0, [f"{PHL}/ais"])]


def test_search_finds_vessels_by_mmsi_name_or_call_sign(api: Any) -> None:
    client, _, auth = api

    def found(q: str) -> list[int]:
        r = client.get("/api/v1/vessels", params={"q": q}, headers=auth["vnm-a"])
        assert r.status_code == 200, r.text
        return [v["mmsi"] for v in r.json()["vessels"]]

    assert found("4120") == [SHIP]
    assert found("binh") == [OTHER]
    assert found(f"cs{OTHER % 1000}") == [OTHER]
    assert found("nothing like it") == []


# -- alerts --------------------------------------------------------------------------------


def test_an_acknowledgement_is_seen_by_the_members_other_users_only(api: Any) -> None:
    client, runtime, auth = api
    heard: list[tuple[str, Mapping[str, Any]]] = []
    got = threading.Event()

    def on(subject: str, payload: Mapping[str, Any]) -> None:
        heard.append((subject, payload))
        got.set()

    runtime.bus.subscribe(subjects.ALERT_STATES, on)
    before = client.get("/api/v1/alerts", headers=auth["phl-b"]).json()["alerts"]
    assert [(a["id"], a["acknowledged_by"]) for a in before] == [(ALERT, None)]
    r = client.post(f"/api/v1/alerts/{ALERT}/ack", headers=auth["phl-a"])
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == "phl-a"
    again = client.post(f"/api/v1/alerts/{ALERT}/ack", headers=auth["phl-b"]).json()
    assert again["acknowledged_by"] == "phl-a"  # the first acknowledgement stands
    client.post(f"/api/v1/alerts/{ALERT}/escalate", headers=auth["phl-b"])
    (alert,) = client.get("/api/v1/alerts", headers=auth["phl-b"]).json()["alerts"]
    assert (alert["acknowledged_by"], alert["escalated_by"]) == ("phl-a", "phl-b")
    assert alert["acknowledged_at"] is not None and alert["severity"] == "high"
    assert client.get("/api/v1/alerts", headers=auth["vnm-a"]).json()["alerts"] == []
    assert got.wait(2)
    assert heard[0][0] == subjects.alert_state(PHL)
    assert heard[0][1]["acknowledged_by"] == "phl-a"
    assert len(heard) == 2  # the repeated acknowledgement published nothing
    assert runtime.audit is not None
    records = [r for r in runtime.audit.records() if r.action == "alert"]
    assert [(r.actor, r.resource) for r in records] == [
        ("phl-a", f"alert:{ALERT}"),
        ("phl-b", f"alert:{ALERT}"),
    ]


def test_only_watch_officers_act_on_alerts_they_can_see(api: Any) -> None:
    client, _, auth = api
    viewer = client.post(f"/api/v1/alerts/{ALERT}/ack", headers=auth["phl-viewer"])
    assert viewer.status_code == 403
    unknown = client.post("/api/v1/alerts/nothing@PHL-PCG/ack", headers=auth["phl-a"])
    assert unknown.status_code == 404
    hidden = {**EVENT, "id": "zone_entry-hidden", "sources": [f"{PHL}/radar"]}
    api[1].store.write(StoreBatch(events=[hidden]))
    withheld = client.post(f"/api/v1/alerts/zone_entry-hidden@{PHL}/ack", headers=auth["vnm-a"])
    assert withheld.status_code == 404


# -- token refresh -----------------------------------------------------------------------


def test_a_valid_access_token_is_refreshed_and_a_revoked_one_is_not(api: Any) -> None:
    client, runtime, auth = api
    r = client.post("/api/v1/auth/refresh", headers=auth["phl-a"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["member"], body["role"]) == (PHL, "watch_officer")
    fresh = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/api/v1/auth/me", headers=fresh).json()
    assert (me["actor"], me["member"]) == ("phl-a", PHL)
    runtime.access.revoke(body["access_token"])
    assert client.post("/api/v1/auth/refresh", headers=fresh).status_code == 401
    static = {"Authorization": "Bearer static-token"}
    assert client.post("/api/v1/auth/refresh", headers=static).status_code == 403
    assert runtime.audit is not None
    assert any(r.action == "login" and '"refreshed"' in r.detail for r in runtime.audit.records())


def test_the_stream_tells_only_the_members_own_users_of_an_alert_state(api: Any) -> None:
    _, runtime, _ = api
    state = {"id": ALERT, "event_id": EVENT["id"], "member": PHL, "acknowledged_by": "phl-a"}

    def shown(member: str) -> object:
        actor = Actor(name="x", kind="token", member=member, role=Role.VIEWER)
        return StreamView(runtime, actor).message("alert_state", state)

    assert shown(PHL) == state
    assert shown(VNM) is None
