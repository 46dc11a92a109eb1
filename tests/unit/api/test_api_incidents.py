"""Incidents over the API: who sees them (their release; every member once assistance is
requested), assistance reaching every member's stream, responses, attachments and assets."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lookout.api.app import create_app
from lookout.api.auth import Actor
from lookout.api.sharing import StreamView
from lookout.model import TrackPoint, VesselState
from lookout.model.incidents import Asset
from lookout.model.members import Member, Role
from lookout.pipeline import subjects
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig

PHL, VNM, JPN = "PHL-PCG", "VNM-VCG", "JPN-JCG"
SHOAL = (9.73, 115.87)  # Second Thomas Shoal (Ayungin), approximately
ASSET = 574_000_123


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime, dict[str, dict[str, str]]]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        detectors="none",
        shore="none",
        max_attachment_bytes=1000,
        sources=(SourceConfig(name="ais", member=VNM, kind="push", key="k", release="network"),),
    )
    runtime = Runtime(settings)
    runtime.start()
    assert runtime.access is not None and runtime.incidents is not None
    auth = {}
    for code in (PHL, VNM, JPN):
        runtime.access.add_member(Member(code, f"{code} coast guard"))
        token = runtime.access.issue(
            subject=f"{code.lower()}-officer", member=code, role=Role.WATCH_OFFICER, ttl_s=900
        ).token
        auth[code] = {"Authorization": f"Bearer {token}"}
    viewer = runtime.access.issue(subject="v", member=JPN, role=Role.VIEWER, ttl_s=900).token
    auth["viewer"] = {"Authorization": f"Bearer {viewer}"}
    now = time.time()
    runtime.store.write(
        StoreBatch(
            track=[TrackPoint(ASSET, 0, now - 60, 10.4, 114.4, 0.0, 0.0, 0, VNM, "ais", ())],
            vessels=[
                VesselState(
                    mmsi=ASSET,
                    segment=0,
                    observed_ts=now - 60,
                    lat=10.4,
                    lon=114.4,
                    speed_kn=0.0,
                    course_deg=0.0,
                    heading_deg=0,
                    status=0,
                    flag="VN",
                    name="CSB 8001",
                    members=(VNM,),
                    sources=(f"{VNM}/ais",),
                    positions=1,
                )
            ],
        )
    )
    runtime.incidents.store.add_asset(Asset(member=VNM, mmsi=ASSET, name="CSB 8001"))
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, auth
    runtime.stop()


def open_incident(client: TestClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {
        "category": "water_cannon",
        "severity": "high",
        "lat": SHOAL[0],
        "lon": SHOAL[1],
        "vessels": [548_783_040],
        "description": "water cannon against resupply boat",
        **body,
    }
    r = client.post("/api/v1/incidents", json=payload, headers=auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


def ids(client: TestClient, auth: dict[str, str]) -> set[str]:
    return {i["id"] for i in client.get("/api/v1/incidents", headers=auth).json()["incidents"]}


def test_an_incident_is_seen_only_by_the_members_its_release_names(api) -> None:  # type: ignore[no-untyped-def]
    client, _, auth = api
    own = open_incident(client, auth[PHL])["id"]
    shared = open_incident(client, auth[PHL], release=f"members:{JPN}")["id"]
    assert ids(client, auth[PHL]) == {own, shared}
    assert ids(client, auth[JPN]) == {shared}
    assert ids(client, auth[VNM]) == set()
    assert client.get(f"/api/v1/incidents/{own}", headers=auth[VNM]).status_code == 404
    r = client.post(f"/api/v1/incidents/{own}/comments", json={"text": "x"}, headers=auth[VNM])
    assert r.status_code == 404
    r = client.post(
        "/api/v1/incidents", json={"category": "laser", "lat": 1, "lon": 1}, headers=auth["viewer"]
    )
    assert r.status_code == 403


def test_an_assistance_request_reaches_every_members_stream_and_responses_are_recorded(api) -> None:  # type: ignore[no-untyped-def]
    client, runtime, auth = api
    got: list[dict[str, Any]] = []
    sub = runtime.bus.subscribe(subjects.ALERTS, lambda _s, payload: got.append(payload))
    incident = open_incident(client, auth[PHL])["id"]
    client.post(
        f"/api/v1/incidents/{incident}/comments", json={"text": "PHL eyes only"}, headers=auth[PHL]
    )
    r = client.post(
        f"/api/v1/incidents/{incident}/assistance", json={"text": "need escort"}, headers=auth[PHL]
    )
    assert r.status_code == 200 and r.json()["kind"] == "assistance_request"
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    sub.close()
    (alert,) = got
    for member in (VNM, JPN):  # what GET /api/v1/stream sends each of them
        view = StreamView(
            runtime, Actor(name=member, kind="token", member=member, role=Role.WATCH_OFFICER)
        )
        shown = view.message("alert", alert)
        assert shown is not None and shown["kind"] == "assistance_request"
        assert shown["incident"] == incident and "need escort" in str(shown["event"])
    seen = client.get(f"/api/v1/incidents/{incident}", headers=auth[VNM]).json()
    assert seen["incident"]["redacted"] is True
    assert "PHL eyes only" not in str(seen)
    r = client.post(
        f"/api/v1/incidents/{incident}/assistance/responses",
        headers=auth[VNM],
        json={"response": "en_route", "asset_mmsi": ASSET, "eta_at": "2030-01-01T06:00:00Z"},
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/incidents/{incident}/assistance/responses",
        headers=auth[JPN],
        json={"response": "cannot", "text": "no ship nearby"},
    )
    assert r.status_code == 200
    timeline = client.get(f"/api/v1/incidents/{incident}", headers=auth[PHL]).json()["timeline"]
    answers = [
        (e["member"], e["data"].get("response"))
        for e in timeline
        if e["kind"] == "assistance_response"
    ]
    assert answers == [(VNM, "en_route"), (JPN, "cannot")]
    assert timeline[-2]["data"]["eta_at"] == "2030-01-01T06:00:00Z"
    r = client.post(
        f"/api/v1/incidents/{incident}/status", json={"status": "closed"}, headers=auth[VNM]
    )
    assert r.status_code == 403


def test_attachments_are_size_limited_and_served_to_full_viewers_only(api) -> None:  # type: ignore[no-untyped-def]
    client, _, auth = api
    incident = open_incident(client, auth[PHL])["id"]
    photo = b"\xff\xd8\xff\xe0" + b"p" * 500
    url = f"/api/v1/incidents/{incident}/attachments"
    r = client.post(
        url + "?filename=cannon.jpg",
        content=photo,
        headers={**auth[PHL], "Content-Type": "image/jpeg"},
    )
    assert r.status_code == 200, r.text
    sha = hashlib.sha256(photo).hexdigest()
    assert r.json()["data"]["sha256"] == sha
    r = client.post(url, files={"file": ("clip.mp4", b"v" * 300, "video/mp4")}, headers=auth[PHL])
    assert r.status_code == 200, r.text
    too_big = client.post(
        url + "?filename=big.bin",
        content=b"x" * 1001,
        headers={**auth[PHL], "Content-Type": "application/octet-stream"},
    )
    assert too_big.status_code == 413
    got = client.get(f"{url}/{sha}", headers=auth[PHL])
    assert got.content == photo and got.headers["content-type"] == "image/jpeg"
    client.post(f"/api/v1/incidents/{incident}/assistance", json={}, headers=auth[PHL])
    assert client.get(f"{url}/{sha}", headers=auth[VNM]).status_code == 404


def test_the_nearest_assets_come_with_distance_and_eta_along_sea_lanes(api) -> None:  # type: ignore[no-untyped-def]
    client, _, auth = api
    incident = open_incident(client, auth[PHL])["id"]
    (asset,) = client.get(f"/api/v1/incidents/{incident}/assets", headers=auth[PHL]).json()[
        "assets"
    ]
    assert (asset["member"], asset["mmsi"], asset["speed_kn"]) == (VNM, ASSET, 15.0)
    assert 150_000 < asset["distance_m"] < 200_000  # (10.4, 114.4) to the shoal: ~175 km
    assert asset["sea_distance_m"] >= asset["distance_m"]
    assert asset["eta_s"] == pytest.approx(asset["sea_distance_m"] / (15 * 1852 / 3600), abs=2)


def test_a_sea_lane_is_used_unless_it_is_a_gap_in_the_lane_network() -> None:
    from lookout.service.incidents import sea_distance_m

    near, route = sea_distance_m(11.0, 117.0, *SHOAL)  # open sea north-east of the shoal
    assert route == "searoute" and 185_000 < near < 260_000
    gap, route = sea_distance_m(10.38, 114.36, *SHOAL)  # across the Dangerous Ground
    assert route == "great_circle" and 170_000 < gap < 200_000


def test_the_evidence_route_gives_a_bundle_signed_by_the_callers_member(api) -> None:  # type: ignore[no-untyped-def]
    from lookout.service.evidence import verify

    client, runtime, auth = api
    incident = open_incident(client, auth[PHL])["id"]
    r = client.get(f"/api/v1/incidents/{incident}/evidence", headers=auth[PHL])
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    checked = verify(r.content)
    assert (checked.member, checked.incident) == (PHL, incident)
    assert (
        client.get(f"/api/v1/incidents/{incident}/evidence", headers=auth[VNM]).status_code == 404
    )
    assert runtime.audit is not None
    assert ("evidence", f"incident:{incident}") in {
        (rec.action, rec.resource) for rec in runtime.audit.records()
    }


def test_a_member_cannot_answer_with_another_members_asset(api) -> None:  # type: ignore[no-untyped-def]
    client, _, auth = api
    incident = open_incident(client, auth[PHL])["id"]
    client.post(f"/api/v1/incidents/{incident}/assistance", json={}, headers=auth[PHL])
    r = client.post(
        f"/api/v1/incidents/{incident}/assistance/responses",
        headers=auth[JPN],
        json={"response": "en_route", "asset_mmsi": ASSET},
    )
    assert r.status_code == 409 and "asset of VNM-VCG" in r.text
