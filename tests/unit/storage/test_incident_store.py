"""The incident store: incidents and timelines survive a reopen, attachments are kept once by
their SHA-256, an asset belongs to one member. Each test runs on both backends: the SQLite
file (and attachment files) of a data dir and the tables of a PostgreSQL database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from lookout.model.incidents import Asset, Incident, IncidentError
from lookout.storage.incidents import MIGRATIONS, IncidentStore
from lookout.storage.postgis_sql import pg_migrations

OpenStore = Callable[[], IncidentStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> OpenStore:
    """Opens the incident store of one place (a data dir, or a database)."""
    url = request.getfixturevalue("pg_database_url") if request.param == "postgres" else None
    return lambda: IncidentStore.open(tmp_path, url)


def draft(**changes: object) -> Incident:
    fields: dict[str, object] = {
        "id": "INC-1",
        "member": "PHL-PCG",
        "opened_by": "phl-officer",
        "opened_ts": 100.0,
        "occurred_ts": 90.0,
        "lat": 9.73,
        "lon": 115.87,
        "category": "water_cannon",
        "vessels": (412_000_001,),
        "description": "water cannon against resupply boat",
    }
    fields.update(changes)
    return Incident(**fields)  # type: ignore[arg-type]


def test_an_incident_and_its_timeline_survive_reopening_the_store(open_store: OpenStore) -> None:
    store = open_store()
    store.open_incident(draft())
    store.add_entry("INC-1", "comment", member="PHL-PCG", user="phl-officer", text="photos follow")
    store.add_entry(
        "INC-1", "status", member="PHL-PCG", user="phl-officer", data={"status": "closed"}
    )
    store.close()
    again = open_store()
    newest = len(MIGRATIONS) if again.db.dialect == "sqlite" else pg_migrations()[-1].version
    assert again.schema_version == newest
    incident = again.incident("INC-1")
    assert incident is not None and incident.status == "closed"
    assert incident.vessels == (412_000_001,)
    timeline = again.entries("INC-1")
    assert [(e.seq, e.kind) for e in timeline] == [(1, "opened"), (2, "comment"), (3, "status")]
    assert timeline[1].text == "photos follow"
    again.close()


def test_an_unknown_category_or_incident_is_refused(open_store: OpenStore) -> None:
    store = open_store()
    with pytest.raises(IncidentError, match="category"):
        store.open_incident(draft(category="rudeness"))
    with pytest.raises(IncidentError, match="no incident"):
        store.add_entry("INC-404", "comment", member="PHL-PCG", user="u", text="x")
    store.close()


def test_an_attachment_is_stored_once_by_its_hash(open_store: OpenStore, tmp_path: Path) -> None:
    store = open_store()
    store.open_incident(draft())
    store.open_incident(draft(id="INC-2"))
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 10
    a = store.add_attachment(
        "INC-1",
        name="cannon.jpg",
        media_type="image/jpeg",
        content=photo,
        member="PHL-PCG",
        user="phl-officer",
    )
    store.add_attachment(
        "INC-2",
        name="same.jpg",
        media_type="image/jpeg",
        content=photo,
        member="PHL-PCG",
        user="phl-officer",
    )
    assert a.sha256 == hashlib.sha256(photo).hexdigest() and a.size_bytes == len(photo)
    if store.db.dialect == "sqlite":
        assert [p.name for p in (tmp_path / "attachments").iterdir()] == [a.sha256]
        assert store.blob_path(a.sha256).read_bytes() == photo
    else:
        assert not (tmp_path / "attachments").exists()
        assert store.db.read("SELECT sha256 FROM attachment_blobs") == [(a.sha256,)]
    assert store.blob(a.sha256) == photo
    assert store.attachment("INC-1", a.sha256) is not None
    assert store.entries("INC-1")[-1].kind == "attachment"
    with pytest.raises(IncidentError):
        store.blob("../identity.db")
    store.close()


def test_an_asset_belongs_to_one_member(open_store: OpenStore) -> None:
    store = open_store()
    store.add_asset(Asset(member="VNM-VCG", mmsi=574_000_001, name="CSB 8001", speed_kn=16.0))
    with pytest.raises(IncidentError, match="VNM-VCG"):
        store.add_asset(Asset(member="JPN-JCG", mmsi=574_000_001, name="other"))
    store.add_asset(Asset(member="VNM-VCG", mmsi=574_000_001, name="CSB 8002"))
    assert [(a.member, a.name) for a in store.assets()] == [("VNM-VCG", "CSB 8002")]
    store.remove_asset("VNM-VCG", 574_000_001)
    assert store.assets() == []
    store.close()
