"""OGC API - Features under /ogc: the basic checks of the Core and GeoJSON conformance classes
(landing page, conformance, collections, items with bbox and limit, one item), and the same
sharing view as the REST routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
SPEC = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
SECRET_MMSI = 412_999_001  # seen only by AAA's radar
ZONES = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"aaa-ts",'
    '"name":"AAA territorial sea","regime":"territorial_sea","owners":["AAA-CG"]},"geometry":'
    '{"type":"Polygon","coordinates":[[[116,10],[117,10],[117,11],[116,11],[116,10]]]}}]}'
)


def state(mmsi: int, lat: float, lon: float, source: str) -> VesselState:
    return VesselState(
        mmsi=mmsi, segment=0, observed_ts=NOW - 60, lat=lat, lon=lon, speed_kn=5.0,
        course_deg=10.0, heading_deg=10, status=0, flag="CN", name=f"SHIP-{mmsi}",
        members=(AAA,), sources=(f"{AAA}/{source}",), positions=1,
    )  # fmt: skip


def seed(store: MemoryStore) -> None:
    vessels = [state(412_000_000 + n, 10.0 + n * 0.2, 115.0 + n * 0.4, "ais") for n in range(5)]
    vessels.append(state(SECRET_MMSI, 10.5, 116.5, "radar"))
    track = [
        TrackPoint(v.mmsi, 0, v.observed_ts, v.lat, v.lon, 5.0, 10.0, 10, AAA,
                   v.sources[0].split("/")[1], ())
        for v in vessels
    ]  # fmt: skip
    events = [
        {"id": f"evt-{n}", "kind": "loitering", "status": "confirmed", "ts": NOW - 60 + n,
         "start_ts": NOW - 3600, "mmsi": v.mmsi, "lat": v.lat, "lon": v.lon, "members": [AAA],
         "sources": list(v.sources), "observations": [], "details": {}}
        for n, v in enumerate(vessels)
    ]  # fmt: skip
    store.write(StoreBatch(track=track, vessels=vessels, events=events))


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    folder: Path = tmp_path_factory.mktemp("ogc")
    (folder / "zones.geojson").write_text(ZONES)
    runtimes, out = [], {}
    for member in (AAA, BBB):
        store = MemoryStore()  # one each: a runtime closes its store when it stops
        seed(store)
        settings = Settings(
            data_dir=folder / member, detectors="zone_entry", zones=(folder / "zones.geojson",),
            shore="none", api_tokens={"tok": "ops"}, api_tokens_member=member,
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


def get(client: TestClient, url: str) -> Any:
    r = client.get(url)
    assert r.status_code == 200, (url, r.text)
    return r.json()


def assert_geojson_feature(feature: dict[str, Any]) -> None:
    assert feature["type"] == "Feature"
    assert isinstance(feature["properties"], dict) and "id" in feature
    geometry = feature["geometry"]
    if geometry is not None and geometry["type"] == "Point":
        lon, lat = geometry["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90


def test_landing_page_links_to_definition_conformance_and_collections(
    clients: dict[str, TestClient],
) -> None:
    client = clients[AAA]
    page = get(client, "/ogc")
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    for rel in ("service-desc", "conformance", "data"):
        assert client.get(rels[rel]).status_code == 200, rel
    assert client.get("/ogc", headers={"Authorization": ""}).status_code == 401


def test_conformance_declares_core_and_geojson(clients: dict[str, TestClient]) -> None:
    classes = get(clients[AAA], "/ogc/conformance")["conformsTo"]
    assert {f"{SPEC}/core", f"{SPEC}/geojson"} <= set(classes)


def test_the_f_parameter_ogc_clients_send_is_taken_for_json_only(
    clients: dict[str, TestClient],
) -> None:
    client = clients[AAA]
    assert get(client, "/ogc/collections?f=json")["collections"]
    assert get(client, "/ogc/collections/vessels/items?f=application/geo%2Bjson")["features"]
    assert client.get("/ogc/conformance?f=html").status_code == 422


def test_collections_describe_vessels_events_and_zones(clients: dict[str, TestClient]) -> None:
    client = clients[AAA]
    listed = get(client, "/ogc/collections")["collections"]
    assert [c["id"] for c in listed] == ["vessels", "events", "zones"]
    for c in listed:
        one = get(client, f"/ogc/collections/{c['id']}")
        assert one["id"] == c["id"]
        items = [link for link in one["links"] if link["rel"] == "items"]
        assert items and items[0]["type"] == "application/geo+json"
    assert client.get("/ogc/collections/ships").status_code == 404


def test_items_are_geojson_in_the_bbox(clients: dict[str, TestClient]) -> None:
    client = clients[AAA]
    r = client.get("/ogc/collections/vessels/items?bbox=115.5,10.1,116.3,10.7")
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == len(body["features"])
    for feature in body["features"]:
        assert_geojson_feature(feature)
        lon, lat = feature["geometry"]["coordinates"]
        assert 115.5 <= lon <= 116.3 and 10.1 <= lat <= 10.7
    assert {f["id"] for f in body["features"]} == {412_000_002, 412_000_003}
    zones = get(client, "/ogc/collections/zones/items?bbox=116.2,10.2,116.4,10.4")
    assert [f["id"] for f in zones["features"]] == ["aaa-ts"]
    assert get(client, "/ogc/collections/zones/items?bbox=0,0,1,1")["features"] == []
    assert client.get("/ogc/collections/vessels/items?bbox=1,2,3").status_code == 422


@pytest.mark.parametrize("collection", ["vessels", "events"])
def test_limit_pages_with_next_links_through_every_feature(
    clients: dict[str, TestClient], collection: str
) -> None:
    client = clients[AAA]
    url: str | None = f"/ogc/collections/{collection}/items?limit=2"
    seen: list[Any] = []
    pages = 0
    while url is not None:
        body = get(client, url)
        pages += 1
        assert len(body["features"]) <= 2
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
    assert pages == 3 and len(seen) == 6 == len(set(seen))


def test_one_item_by_id_with_links(clients: dict[str, TestClient]) -> None:
    client = clients[AAA]
    vessel = get(client, "/ogc/collections/vessels/items/412000003")
    assert_geojson_feature(vessel)
    assert vessel["properties"]["name"] == "SHIP-412000003"
    assert {link["rel"] for link in vessel["links"]} == {"self", "collection"}
    assert get(client, "/ogc/collections/events/items/evt-2")["properties"]["kind"] == "loitering"
    assert get(client, "/ogc/collections/zones/items/aaa-ts")["properties"]["regime"] == (
        "territorial_sea"
    )
    for missing in ("vessels/items/999999999", "vessels/items/x1", "events/items/nope",
                    "zones/items/nope"):  # fmt: skip
        assert client.get(f"/ogc/collections/{missing}").status_code == 404


def test_a_member_sees_through_ogc_only_what_is_released_to_it(
    clients: dict[str, TestClient],
) -> None:
    a, b = clients[AAA], clients[BBB]
    seen_a = {f["id"] for f in get(a, "/ogc/collections/vessels/items")["features"]}
    seen_b = {f["id"] for f in get(b, "/ogc/collections/vessels/items")["features"]}
    assert SECRET_MMSI in seen_a and SECRET_MMSI not in seen_b and len(seen_b) == 5
    assert b.get(f"/ogc/collections/vessels/items/{SECRET_MMSI}").status_code == 404
    assert b.get("/ogc/collections/events/items/evt-5").status_code == 404
    events_b = get(b, "/ogc/collections/events/items")["features"]
    assert "evt-5" not in {f["id"] for f in events_b} and len(events_b) == 5
