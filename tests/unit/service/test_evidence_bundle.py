"""Evidence bundles: what a member may see goes in, signed; any changed byte, a changed
manifest or a swapped signature fails verification, naming the problem."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from lookout.model import TrackPoint
from lookout.model.incidents import Incident
from lookout.pipeline.ports import StoreBatch
from lookout.service.evidence import BundleError, SigningKeys, export, verify
from lookout.sharing import Policy, Release
from lookout.storage.incidents import IncidentStore
from lookout.storage.memory import MemoryStore

T0 = 1_748_736_000.0  # 2025-06-01T00:00:00Z
PHL, VNM = "PHL-PCG", "VNM-VCG"
BOAT, CUTTER = 548_783_040, 412_338_855


def point(mmsi: int, minute: int, member: str, source: str) -> TrackPoint:
    return TrackPoint(
        mmsi,
        0,
        T0 + 60 * minute,
        9.7 + minute * 1e-3,
        115.8,
        6.0,
        90.0,
        90,
        member,
        source,
        (f"rx-{source}",),
        T0 + 60 * minute + 2,
    )


@pytest.fixture()
def world(tmp_path: Path) -> tuple[IncidentStore, MemoryStore, Policy, SigningKeys]:
    picture = MemoryStore()
    track = [point(BOAT, m, PHL, "patrol") for m in range(0, 60, 10)]
    track += [point(CUTTER, m, VNM, "radar") for m in range(5, 60, 10)]  # VNM's own, unshared
    track.append(point(CUTTER, 500, PHL, "patrol"))  # hours later: outside the excerpt
    event = {
        "id": "shadowing-1",
        "kind": "shadowing",
        "status": "confirmed",
        "ts": T0 + 3000,
        "start_ts": T0,
        "mmsis": [CUTTER, BOAT],
        "lat": 9.7,
        "lon": 115.8,
        "members": [PHL],
        "sources": [f"{PHL}/patrol"],
        "observations": [],
        "details": {"distance_m": 1200.0, "duration_s": 7200.0},
    }
    picture.write(StoreBatch(track=track, events=[event]))
    policy = Policy({(PHL, "patrol"): Release(scope="network"), (VNM, "radar"): Release()})
    incidents = IncidentStore.open(tmp_path)
    incidents.open_incident(
        Incident(
            id="INC-1",
            member=PHL,
            opened_by="phl-officer",
            opened_ts=T0 + 3600,
            occurred_ts=T0 + 1800,
            lat=9.7,
            lon=115.8,
            category="dangerous_manoeuvre",
            vessels=(BOAT, CUTTER),
            events=("shadowing-1",),
        )
    )
    incidents.add_attachment(
        "INC-1",
        name="bridge photo.jpg",
        media_type="image/jpeg",
        content=b"\xff\xd8photo",
        member=PHL,
        user="phl-officer",
    )
    return incidents, picture, policy, SigningKeys.of(tmp_path)


def files_of(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_the_bundle_holds_what_the_member_may_see_and_verifies(world) -> None:  # type: ignore[no-untyped-def]
    incidents, picture, policy, keys = world
    bundle, checked = export(
        incidents, picture, policy, keys, member=PHL, incident_id="INC-1", now=T0 + 7200
    )
    assert verify(bundle) == checked
    assert (checked.member, checked.incident) == (PHL, "INC-1")
    files = files_of(bundle)
    provenance = json.loads(files["provenance.json"])
    assert {(p["member"], p["source"]) for p in provenance} == {(PHL, "patrol")}  # no VNM radar
    assert len(provenance) == 6 and provenance[0]["receivers"] == ["rx-patrol"]
    features = json.loads(files["tracks.geojson"])["features"]
    assert sum(f["properties"]["kind"] == "observation" for f in features) == 6
    assert files["tracks.kml"].count(b"<Placemark>") == 1 + 1 + 6  # incident, line, points
    (event,) = json.loads(files["events.json"])
    assert event["details"]["distance_m"] == 1200.0
    assert any(n.startswith("attachments/") and n.endswith("bridge_photo.jpg") for n in files)
    manifest = json.loads(files["manifest.json"])
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json", "manifest.sig"}


def test_the_signing_key_is_private_and_listed_with_its_fingerprint(world) -> None:  # type: ignore[no-untyped-def]
    incidents, picture, policy, keys = world
    _, checked = export(incidents, picture, policy, keys, member=PHL, incident_id="INC-1")
    (listed,) = keys.list()
    assert (listed.member, listed.fingerprint) == (PHL, checked.fingerprint)
    assert stat.S_IMODE((keys.folder / f"{PHL}.key").stat().st_mode) == 0o600


def test_a_member_gets_no_bundle_of_an_incident_it_may_not_see(world) -> None:  # type: ignore[no-untyped-def]
    incidents, picture, policy, keys = world
    with pytest.raises(BundleError, match="no incident"):
        export(incidents, picture, policy, keys, member=VNM, incident_id="INC-1")


def test_one_changed_byte_in_any_file_fails_verification(world) -> None:  # type: ignore[no-untyped-def]
    incidents, picture, policy, keys = world
    bundle, _ = export(incidents, picture, policy, keys, member=PHL, incident_id="INC-1")
    files = files_of(bundle)
    for name, data in files.items():
        changed = bytearray(data)
        changed[len(changed) // 2] ^= 0x01
        with pytest.raises(BundleError) as failed:
            verify(zipped({**files, name: bytes(changed)}))
        expected = "bad signature" if name.startswith("manifest.") else f"changed file: {name}"
        assert expected in str(failed.value), name


def test_a_changed_manifest_an_extra_file_or_a_swapped_signature_fail(world) -> None:  # type: ignore[no-untyped-def]
    incidents, picture, policy, keys = world
    bundle, _ = export(incidents, picture, policy, keys, member=PHL, incident_id="INC-1")
    files = files_of(bundle)
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = [f for f in manifest["files"] if f["path"] != "events.json"]
    relisted = json.dumps(manifest).encode()
    with pytest.raises(BundleError, match="bad signature"):
        verify(zipped({**files, "manifest.json": relisted}))
    with pytest.raises(BundleError, match=r"not in the manifest: extra\.txt"):
        verify(zipped({**files, "extra.txt": b"planted"}))
    incidents.open_incident(
        Incident(
            id="INC-2",
            member=VNM,
            opened_by="vnm-officer",
            opened_ts=T0,
            occurred_ts=T0,
            lat=9.0,
            lon=115.0,
            category="incursion",
        )
    )
    other, _ = export(incidents, picture, policy, keys, member=VNM, incident_id="INC-2")
    swapped = {**files, "manifest.sig": files_of(other)["manifest.sig"]}
    with pytest.raises(BundleError, match="bad signature"):
        verify(zipped(swapped))
    with pytest.raises(BundleError, match="not a readable bundle"):
        verify(b"not a zip")
    with pytest.raises(BundleError, match="signed with key"):
        verify(bundle, expect_fingerprint="00" * 32)


def test_once_assistance_is_asked_another_member_exports_its_own_redacted_view(world) -> None:  # type: ignore[no-untyped-def]
    incidents, picture, policy, keys = world
    incidents.add_entry("INC-1", "comment", member=PHL, user="phl-officer", text="PHL only")
    incidents.add_entry("INC-1", "assistance_request", member=PHL, user="phl-officer")
    bundle, checked = export(
        incidents, picture, policy, keys, member=VNM, incident_id="INC-1", now=T0 + 7200
    )
    assert checked.member == VNM
    files = files_of(bundle)
    record = json.loads(files["incident.json"])
    assert record["redacted"] is True and record["incident"]["events"] == []
    assert "PHL only" not in files["incident.json"].decode()
    assert json.loads(files["events.json"]) == []
    assert not any(n.startswith("attachments/") for n in files)
    sources = {(p["member"], p["source"]) for p in json.loads(files["provenance.json"])}
    assert sources == {(PHL, "patrol"), (VNM, "radar")}  # VNM sees its own radar too
