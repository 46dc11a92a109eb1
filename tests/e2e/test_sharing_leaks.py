"""No route leaks: every GET route of the OpenAPI table, called as every member, shows nothing
of another member's data beyond its release.

Four members each own sources with different releases (network, owner only, bilateral, a
community of interest, delayed, reduced precision). Each source's data carries markers that
appear nowhere else (its vessel's MMSI and name, its exact coordinates, its event and detection
ids, its ``MEMBER/NAME``). The expected visibility below is written out by hand from the
releases, not computed by the policy under test. A route the table lists without declaring its
policy (``x-lookout-policy``) fails the suite, and so does a path parameter the test cannot fill.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lookout.api.app import create_app
from lookout.api.auth import Actor
from lookout.api.sharing import POLICY_KEY, StreamView
from lookout.model import Detection, StaticReport, TrackPoint, VesselState
from lookout.model.incidents import Incident
from lookout.model.members import Member, Role
from lookout.pipeline import subjects
from lookout.pipeline.alerts import alert_messages
from lookout.pipeline.ports import StoreBatch
from lookout.pipeline.results import vessel_payload
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig

NOW = 1_780_000_000.0  # 2026-05-28: the data are recent, so delays are measured from them
AAA, BBB, CCC, DDD = "AAA-CG", "BBB-CG", "CCC-CG", "DDD-CG"
MEMBERS = (AAA, BBB, CCC, DDD)

# source -> (member, release, the members that may see it)
SOURCES = {
    "open": (AAA, "network", set(MEMBERS)),
    "radar": (AAA, "owner", {AAA}),
    "bilat": (BBB, f"members:{CCC}", {BBB, CCC}),
    "coi": (CCC, "community:pair", {CCC, DDD}),
    "late": (DDD, "network", {DDD}),  # delayed a year for everyone else: nobody else yet
    "fuzzy": (DDD, "network", set(MEMBERS)),  # exact positions for DDD only
}
SHARING = f"""
[communities]
pair = ["{CCC}", "{DDD}"]

[[sources]]
member = "{DDD}"
name = "late"
delay_s = {{ "*" = 31536000 }}

[[sources]]
member = "{DDD}"
name = "fuzzy"
precision_m = {{ "*" = 10000 }}
"""
ZONE_OWNER = AAA


def mmsi_of(n: int) -> int:
    return 412_770_100 + n


def lat_of(n: int) -> float:
    return round(9.0 + n * 0.1 + 0.0012345, 7)


def markers(name: str) -> list[str]:
    """Strings that only this source's data contain."""
    n = list(SOURCES).index(name)
    member = SOURCES[name][0]
    return [
        str(mmsi_of(n)),
        f"SECRET-{name.upper()}",
        f"{lat_of(n):.7f}"[:9],
        f"evt-{name}",
        f"det-{name}",
        f"{member}/{name}",
        f"obs-{name}",
    ]


def seed(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    """Store every source's data; the bus messages a live server would have published."""
    track, vessels, statics, events, detections = [], [], [], [], []
    for n, (name, (member, _, _)) in enumerate(SOURCES.items()):
        mmsi, lat, lon = mmsi_of(n), lat_of(n), 115.0 + n * 0.1 + 0.0054321
        track.append(
            TrackPoint(mmsi, 0, NOW - 60, lat, lon, 7.5, 90.0, 90, member, name, (f"rx-{name}",))
        )
        vessels.append(
            VesselState(
                mmsi=mmsi, segment=0, observed_ts=NOW - 60, lat=lat, lon=lon, speed_kn=7.5,
                course_deg=90.0, heading_deg=90, status=0, flag="CN",
                name=f"SECRET-{name.upper()}", members=(member,), sources=(f"{member}/{name}",),
                positions=1,
            )
        )  # fmt: skip
        statics.append(
            StaticReport(mmsi, 5, NOW - 120, member, name, name=f"SECRET-{name.upper()}")
        )
        events.append(
            {
                "id": f"evt-{name}", "kind": "loitering", "status": "confirmed", "ts": NOW - 60,
                "start_ts": NOW - 3600, "end_ts": NOW - 60, "mmsi": mmsi, "lat": lat, "lon": lon,
                "members": [member], "sources": [f"{member}/{name}"],
                "observations": [f"obs-{name}-1"], "details": {"duration_s": 3540},
            }
        )  # fmt: skip
        detections.append(Detection(f"det-{name}", NOW - 60, lat, lon, name, member))
    # An incursion into AAA's territorial sea seen only by AAA's radar: every member is alerted
    # (mutual alerting), none but AAA sees the radar behind it.
    events.append(
        {
            "id": "incursion-1", "kind": "zone_entry", "status": "confirmed", "ts": NOW - 30,
            "start_ts": NOW - 30, "mmsi": 412_999_999, "lat": 10.5, "lon": 116.5,
            "zone": "aaa-ts", "members": [AAA], "sources": [f"{AAA}/radar"],
            "observations": ["obs-radar-2"], "details": {"regime": "territorial_sea"},
        }
    )  # fmt: skip
    runtime.store.write(
        StoreBatch(
            track=track, vessels=vessels, statics=statics, events=events, detections=detections
        )
    )
    messages: list[tuple[str, dict[str, Any]]] = [
        (subjects.vessel(v.mmsi), {**vessel_payload(v), "feed": v.sources[0]}) for v in vessels
    ]
    for event in events:
        messages.append((subjects.event(event["kind"]), event))
        messages += alert_messages({**event, "details": {**event["details"], "owners": [AAA]}})
    counts = [
        {"member": m, "source": n, "lines": 1, "accepted": 1, "rejected": {}, "observations": 1,
         "duplicates": 0, "last_received_ts": NOW}
        for n, (m, _, _) in SOURCES.items()
    ]  # fmt: skip
    messages.append((subjects.INGEST_STATS, {"batch": 1, "now_ts": NOW, "sources": counts}))
    return messages


@pytest.fixture(scope="module")
def network(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("sharing")
    (folder / "sharing.toml").write_text(SHARING)
    zones = folder / "zones.geojson"
    zones.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        f'{{"id":"aaa-ts","name":"AAA territorial sea","regime":"territorial_sea",'
        f'"owners":["{ZONE_OWNER}"]}},"geometry":{{"type":"Polygon","coordinates":'
        "[[[116,10],[117,10],[117,11],[116,11],[116,10]]]}}]}"
    )
    settings = Settings(
        data_dir=folder / "data",
        detectors="zone_entry",
        zones=(zones,),
        shore="none",
        sharing_file=folder / "sharing.toml",
        sources=tuple(
            SourceConfig(name=name, member=member, kind="push", key=f"key-{name}", release=rel)
            for name, (member, rel, _) in SOURCES.items()
        ),
    )
    runtime = Runtime(settings)
    runtime.start()
    try:
        MESSAGES[:] = seed(runtime)
        assert runtime.access is not None
        for m in MEMBERS:
            runtime.access.add_member(Member(m, f"{m} coast guard"))
        seed_incident(runtime)
        tokens = {
            m: runtime.access.issue(subject=f"{m.lower()}-officer", member=m,
                                    role=Role.WATCH_OFFICER, ttl_s=900).token
            for m in MEMBERS
        }  # fmt: skip
        with TestClient(create_app(runtime)) as client:
            client.app.state.runtime = runtime  # type: ignore[attr-defined]
            yield client, tokens
    finally:
        runtime.stop()


RADAR_PHOTO = b"photo of " + " ".join(markers("radar")).encode()
"""An attachment of an incident AAA keeps to itself (release owner), as its radar data."""


def seed_incident(runtime: Runtime) -> None:
    """An incident only AAA may see, made of its radar's markers, with an attachment."""
    assert runtime.incidents is not None
    store = runtime.incidents.store
    store.open_incident(
        Incident(
            id="INC-radar",
            member=AAA,
            opened_by="aaa-officer",
            opened_ts=NOW,
            occurred_ts=NOW - 60,
            lat=lat_of(1),
            lon=115.1,
            category="laser",
            vessels=(mmsi_of(1),),
            description=" ".join(markers("radar")),
            events=("evt-radar",),
            release="owner",
        )
    )
    store.add_attachment(
        "INC-radar",
        name="SECRET-RADAR.jpg",
        media_type="image/jpeg",
        content=RADAR_PHOTO,
        member=AAA,
        user="aaa-officer",
    )


MESSAGES: list[tuple[str, dict[str, Any]]] = []
"""What the seeded data would have put on the bus (vessel updates, events, alerts, stats)."""

FILL = {
    "mmsi": [str(mmsi_of(n)) for n in range(len(SOURCES))],
    "event_id": [f"evt-{name}" for name in SOURCES] + ["incursion-1"],
    "code": list(MEMBERS),
    "collection_id": ["vessels", "events", "zones"],
    "feature_id": [str(mmsi_of(n)) for n in range(len(SOURCES))]
    + [f"evt-{name}" for name in SOURCES]
    + ["incursion-1", "aaa-ts"],
    "incident_id": ["INC-radar"],
    "sha256": [hashlib.sha256(RADAR_PHOTO).hexdigest()],
}
QUERIES = {
    "track": ("", "?format=geojson"),
    "/api/v1/vessels": ("", "?at=2026-05-28T20:26:00Z", "?q=SECRET"),  # at: NOW - 40 s
}
"""Query variants of a route (every track route, or one path)."""
KNOWN_POLICIES = {"filtered", "public", "own", "aggregate", "reference", "write", "stream"}


def get_operations(client: TestClient) -> Iterator[tuple[str, str, dict[str, object]]]:
    for path, item in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, op in item.items():
            yield path, method, op


def test_every_route_declares_how_it_applies_the_sharing_policy(
    network: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = network
    undeclared = [
        f"{method.upper()} {path}"
        for path, method, op in get_operations(client)
        if op.get(POLICY_KEY) not in KNOWN_POLICIES
    ]
    assert undeclared == [], f"routes without a sharing policy ({POLICY_KEY}): {undeclared}"


def urls(path: str) -> Iterator[str]:
    names = re.findall(r"{(\w+)}", path)
    if not names:
        yield path
        return
    assert all(n in FILL for n in names), f"teach this test to fill {path}"
    for values in itertools.product(*(FILL[n] for n in names)):
        url = path
        for name, value in zip(names, values, strict=True):
            url = url.replace("{" + name + "}", value)
        yield url


def test_no_route_shows_a_member_what_is_not_released_to_it(
    network: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = network
    called = 0
    for path, method, op in get_operations(client):
        if method != "get" or op.get(POLICY_KEY) in ("public", "stream"):
            continue
        for url in urls(path):
            for member, token in tokens.items():
                for query in QUERIES.get("track" if url.endswith("/track") else url, ("",)):
                    r = client.get(url + query, headers={"Authorization": f"Bearer {token}"})
                    assert r.status_code < 500, (url, r.text)
                    called += 1
                    for name, (_, _, readers) in SOURCES.items():
                        if member in readers and (name != "fuzzy" or member == DDD):
                            continue
                        if name == "fuzzy" and member in readers:
                            hidden = [markers(name)[2]]  # only the exact position is hidden
                        else:
                            hidden = markers(name)
                        # a 404 may repeat what the caller asked for; nothing else
                        leaked = [m for m in hidden if m in r.text and m not in url]
                        assert leaked == [], f"{member} sees {name}'s {leaked} at {url}{query}"
    assert called > 50


def test_each_member_sees_what_is_released_to_it(
    network: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = network
    for member, token in tokens.items():
        auth = {"Authorization": f"Bearer {token}"}
        shown = {v["mmsi"] for v in client.get("/api/v1/vessels", headers=auth).json()["vessels"]}
        expected = {mmsi_of(n) for n, s in enumerate(SOURCES.values()) if member in s[2]}
        assert shown == expected, member
        events = client.get("/api/v1/events", headers=auth).json()["events"]
        incursion = next(e for e in events if e["id"] == "incursion-1")
        assert incursion["redacted"] is (member != AAA)
        assert (f"{AAA}/radar" in incursion["sources"]) is (member == AAA)


def test_the_live_stream_shows_a_member_nothing_that_is_not_released_to_it(
    network: tuple[TestClient, dict[str, str]],
) -> None:
    """Every message of every source, through each member's stream view (what
    ``GET /api/v1/stream`` sends): the same markers never reach the wrong member."""
    client, _ = network
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert len(MESSAGES) > len(SOURCES) * 3
    for member in MEMBERS:
        view = StreamView(
            runtime, Actor(name=member, kind="token", member=member, role=Role.VIEWER)
        )
        sent = []
        for subject, payload in MESSAGES:
            kind = {"vessel": "vessel", "event": "event", "alert": "alert"}.get(
                subject.split(".")[1], "stats"
            )
            shown = view.message(kind, payload)
            if shown is not None:
                sent.append(json.dumps(shown, default=str))
        text = "\n".join(sent)
        for name, (_, _, readers) in SOURCES.items():
            if member in readers and (name != "fuzzy" or member == DDD):
                continue
            hidden = [markers(name)[2]] if name == "fuzzy" and member in readers else markers(name)
            leaked = [m for m in hidden if m in text]
            assert leaked == [], f"{member}'s stream carries {name}'s {leaked}"
        assert "incursion-1" in text  # the mutual alert reached every member
