"""Exports: vessels and events as GeoJSON, KML and CSV, each through the caller's sharing view."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lookout.api.app import create_app
from lookout.model import TrackPoint, VesselState
from lookout.pipeline.ports import StoreBatch
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig
from lookout.storage.memory import MemoryStore

NOW = 1_780_000_000.0
AAA, BBB = "AAA-CG", "BBB-CG"
KML = "{http://www.opengis.net/kml/2.2}"
RADAR_MMSI = 412_999_001
NAMES = {412_000_001: '=HYPERLINK("http://x")', 412_000_002: "PLAIN", RADAR_MMSI: "SECRET"}


def seed(store: MemoryStore) -> None:
    vessels, track, events = [], [], []
    for n, (mmsi, name) in enumerate(NAMES.items()):
        source = "radar" if mmsi == RADAR_MMSI else "ais"
        lat, lon = 10.0 + n, 115.0 + n
        vessels.append(VesselState(
            mmsi=mmsi, segment=0, observed_ts=NOW - 60, lat=lat, lon=lon, speed_kn=5.0,
            course_deg=10.0, heading_deg=10, status=0, flag="CN", name=name, members=(AAA,),
            sources=(f"{AAA}/{source}",), positions=1,
        ))  # fmt: skip
        track.append(TrackPoint(mmsi, 0, NOW - 60, lat, lon, 5.0, 10.0, 10, AAA, source, ()))
        events.append(
            {"id": f"evt-{mmsi}", "kind": "loitering", "status": "confirmed", "ts": NOW - n,
             "start_ts": NOW - 3600, "mmsi": mmsi, "lat": lat, "lon": lon, "members": [AAA],
             "sources": [f"{AAA}/{source}"], "observations": [], "details": {"duration_s": 60}}
        )  # fmt: skip
    store.write(StoreBatch(track=track, vessels=vessels, events=events))


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    folder: Path = tmp_path_factory.mktemp("export")
    runtimes, out = [], {}
    for member in (AAA, BBB):
        store = MemoryStore()  # one each: a runtime closes its store when it stops
        seed(store)
        settings = Settings(
            data_dir=folder / member, detectors="none", shore="none",
            api_tokens={"tok": "ops"}, api_tokens_member=member,
            sources=(SourceConfig(name="ais", member=AAA, release="network"),
                     SourceConfig(name="radar", member=AAA, release="owner")),
        )  # fmt: skip
        runtime = Runtime(settings, store=store)
        runtime.start()
        runtimes.append(runtime)
        client = TestClient(create_app(runtime))
        client.headers["Authorization"] = "Bearer tok"
        out[member] = client
    yield out
    for runtime in runtimes:
        runtime.stop()


@pytest.mark.parametrize("what", ["vessels", "events"])
def test_geojson_export_holds_what_the_member_may_see(
    clients: dict[str, TestClient], what: str
) -> None:
    for member, expected in ((AAA, 3), (BBB, 2)):
        r = clients[member].get(f"/api/v1/export/{what}.geojson")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/geo+json")
        assert f"lookout-{what}.geojson" in r.headers["content-disposition"]
        body = r.json()
        assert body["type"] == "FeatureCollection" and len(body["features"]) == expected
        assert (str(RADAR_MMSI) in r.text) is (member == AAA)
        assert (f"{AAA}/radar" in r.text) is (member == AAA)


def test_kml_export_is_placemarks_with_positions(clients: dict[str, TestClient]) -> None:
    r = clients[BBB].get("/api/v1/export/vessels.kml")
    assert r.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    root = ET.fromstring(r.content)
    marks = root.findall(f"{KML}Document/{KML}Placemark")
    assert len(marks) == 2 and "SECRET" not in r.text
    coords = [m.findtext(f"{KML}Point/{KML}coordinates") for m in marks]
    assert coords == ["115.0,10.0", "116.0,11.0"]
    assert marks[1].findtext(f"{KML}name") == "PLAIN"
    events = ET.fromstring(clients[AAA].get("/api/v1/export/events.kml").content)
    assert len(events.findall(f"{KML}Document/{KML}Placemark")) == 3


def test_csv_export_has_a_header_and_defuses_formulas(clients: dict[str, TestClient]) -> None:
    r = clients[AAA].get("/api/v1/export/vessels.csv?bbox=114,9,116.5,11.5")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(row["mmsi"]) for row in rows] == [412_000_001, 412_000_002]
    assert rows[0]["name"] == '\'=HYPERLINK("http://x")'  # not a formula in a spreadsheet
    assert rows[1]["sources"] == f"{AAA}/ais"
    events = list(csv.DictReader(io.StringIO(clients[BBB].get("/api/v1/export/events.csv").text)))
    assert [e["id"] for e in events] == ["evt-412000001", "evt-412000002"]
    assert events[0]["details"] == '{"duration_s": 60}'


def test_export_filters_are_checked(clients: dict[str, TestClient]) -> None:
    client = clients[AAA]
    kind = client.get("/api/v1/export/events.csv?kind=zone_entry")
    assert kind.status_code == 200 and kind.text == ""
    assert client.get("/api/v1/export/vessels.csv?bbox=1,2,3").status_code == 422
    bad = "/api/v1/export/events.geojson?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"
    assert client.get(bad).status_code == 422
    assert (
        client.get("/api/v1/export/vessels.csv", headers={"Authorization": ""}).status_code == 401
    )
