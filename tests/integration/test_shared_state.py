"""Two API nodes on two machines share one PostgreSQL database (issue 6): what one node
changes, the other sees at its next read. Users, signing keys and revocations (a token
revoked through one node is refused by the other), incidents with their attachments, alert
acknowledgements, and one audit chain that both append to at once and that still verifies.
Each node has its own data dir, which holds none of this."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import import_or_missing
from lookout.cli.main import app
from lookout.model.incidents import Incident
from lookout.model.members import Member, Role
from lookout.service.access import Access, TokenError
from lookout.storage.alert_states import AlertStateStore
from lookout.storage.audit import AuditLog, verify_database
from lookout.storage.incidents import IncidentStore

psycopg = import_or_missing("psycopg", "psycopg is not installed: pip install 'lookout[postgres]'")

PHL = Member("PHL-PCG", "Philippine Coast Guard", "PHL")
PASSWORD = "a long shared password"
LOCAL_FILES = ("identity.db", "audit.db", "incidents.db", "alert-states.db", "attachments")


@pytest.fixture
def nodes(tmp_path: Path) -> tuple[Path, Path]:
    """The data dirs of two nodes (as on two machines)."""
    return tmp_path / "node-a", tmp_path / "node-b"


def test_users_keys_and_revocations_are_shared(
    nodes: tuple[Path, Path], pg_database_url: str
) -> None:
    a_dir, b_dir = nodes
    audit_a, audit_b = AuditLog.open(a_dir, pg_database_url), AuditLog.open(b_dir, pg_database_url)
    a = Access.open(a_dir, pg_database_url, audit=audit_a, actor="node-a")
    b = Access.open(b_dir, pg_database_url, audit=audit_b, actor="node-b")
    try:
        a.add_member(PHL)
        a.add_user("phl-officer", "PHL-PCG", Role.WATCH_OFFICER, PASSWORD)
        user = b.login("phl-officer", PASSWORD)
        assert user is not None and user.member == "PHL-PCG"
        a.rotate_key()
        issued = a.issue(subject="phl-officer", member="PHL-PCG", role=Role.WATCH_OFFICER,
                         ttl_s=600)  # fmt: skip
        assert b.verify(issued.token).member == "PHL-PCG"  # b knows a's signing key
        b.revoke(issued.token, reason="device lost")
        with pytest.raises(TokenError, match="revoked"):
            a.verify(issued.token)
        b.disable_user("phl-officer")
        assert a.login("phl-officer", PASSWORD) is None
    finally:
        for closing in (a, b, audit_a, audit_b):
            closing.close()
    assert verify_database(pg_database_url).intact
    for folder in nodes:
        assert not [name for name in LOCAL_FILES if (folder / name).exists()]


def test_incidents_attachments_and_acknowledgements_are_shared(
    nodes: tuple[Path, Path], pg_database_url: str
) -> None:
    a_dir, b_dir = nodes
    incidents_a = IncidentStore.open(a_dir, pg_database_url)
    incidents_b = IncidentStore.open(b_dir, pg_database_url)
    alerts_a = AlertStateStore.open(a_dir, pg_database_url)
    alerts_b = AlertStateStore.open(b_dir, pg_database_url)
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 400
    try:
        incidents_a.open_incident(
            Incident(id="INC-20260101-abcdef", member="PHL-PCG", opened_by="phl-officer",
                     opened_ts=100.0, occurred_ts=90.0, lat=9.73, lon=115.87,
                     category="water_cannon", vessels=(412_000_001,),
                     description="water cannon against resupply boat")
        )  # fmt: skip
        added = incidents_a.add_attachment(
            "INC-20260101-abcdef", name="cannon.jpg", media_type="image/jpeg", content=photo,
            member="PHL-PCG", user="phl-officer",
        )  # fmt: skip
        seen = incidents_b.incident("INC-20260101-abcdef")
        assert seen is not None and seen.vessels == (412_000_001,)
        assert incidents_b.attachments("INC-20260101-abcdef") == [added]
        content = incidents_b.blob(added.sha256)
        assert content == photo and hashlib.sha256(content).hexdigest() == added.sha256
        incidents_b.add_entry(
            "INC-20260101-abcdef", "comment", member="VNM-VCG", user="vnm-officer", text="seen"
        )
        timeline = incidents_a.entries("INC-20260101-abcdef")
        assert [(e.seq, e.kind, e.user) for e in timeline] == [
            (1, "opened", "phl-officer"), (2, "attachment", "phl-officer"),
            (3, "comment", "vnm-officer"),
        ]  # fmt: skip

        _, changed = alerts_a.mark("alert-1", "PHL-PCG", "ev-1", "acknowledged", "ana", 100.0)
        assert changed
        state, changed = alerts_b.mark("alert-1", "PHL-PCG", "ev-1", "acknowledged", "ben", 101.0)
        assert not changed and state.acknowledged_by == "ana"
        assert [s.alert_id for s in alerts_b.states("PHL-PCG")] == ["alert-1"]
    finally:
        for closing in (incidents_a, incidents_b, alerts_a, alerts_b):
            closing.close()
    for folder in nodes:
        assert not [name for name in LOCAL_FILES if (folder / name).exists()]


def test_one_audit_chain_from_two_nodes_appending_at_once_verifies(
    nodes: tuple[Path, Path], pg_database_url: str
) -> None:
    logs = [AuditLog.open(folder, pg_database_url) for folder in nodes]
    per_thread = 40

    def append_many(log: AuditLog, name: str) -> None:
        for n in range(per_thread):
            log.append(name, "denied", f"/api/v1/vessels/{n}", {"status": 403})

    threads = [
        threading.Thread(target=append_many, args=(log, f"{folder.name}-{t}"))
        for log, folder in zip(logs, nodes, strict=True)
        for t in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = logs[0].records()
    for log in logs:
        log.close()
    assert [r.seq for r in records] == list(range(1, 4 * per_thread + 1))
    assert {r.actor for r in records} == {"node-a-0", "node-a-1", "node-b-0", "node-b-1"}
    result = verify_database(pg_database_url)
    assert result.intact and result.records == 4 * per_thread

    with psycopg.connect(pg_database_url, autocommit=True) as conn:  # a superuser's edit
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE audit SET resource = '/api/v1/nothing' WHERE seq = 17")
    assert verify_database(pg_database_url).problems == [
        "record 17: altered (its hash does not match)"
    ]


def test_the_cli_of_any_node_acts_on_the_shared_database(
    nodes: tuple[Path, Path], pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOKOUT_STORE", "postgis")
    monkeypatch.setenv("LOOKOUT_DATABASE_URL", pg_database_url)
    a_dir, b_dir = nodes

    def run(folder: Path, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, [*args, "--data-dir", str(folder)])
        return result.exit_code, result.stdout

    assert run(a_dir, "members", "add", "PHL-PCG", "--name", "PCG", "--country", "PHL")[0] == 0
    rc, out = run(b_dir, "members", "list", "--json")
    assert rc == 0 and [m["code"] for m in json.loads(out)] == ["PHL-PCG"]
    rc, out = run(b_dir, "audit", "verify")
    assert rc == 0 and "1 records, chain intact" in out
    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE audit SET actor = 'mallory'")
    rc, out = run(a_dir, "audit", "verify")
    assert rc == 1 and "record 1: altered" in out
    assert not (a_dir / "identity.db").exists() and not (a_dir / "audit.db").exists()


def test_two_api_nodes_answer_alike_for_tokens_and_incidents(
    nodes: tuple[Path, Path], pg_database_url: str
) -> None:
    from fastapi.testclient import TestClient

    from lookout.api.app import create_app
    from lookout.service.roles.api import ApiNode
    from lookout.service.settings import Settings

    setup = Access.open(nodes[0], pg_database_url)  # as `lookout members add`, `users add`
    setup.add_member(PHL)
    setup.add_user("phl-officer", "PHL-PCG", Role.WATCH_OFFICER, PASSWORD)
    setup.close()
    runtimes = [
        ApiNode(Settings(data_dir=folder, role="api", store="postgis",
                         database_url=pg_database_url, detectors="none", shore="none"))
        for folder in nodes
    ]  # fmt: skip
    with (
        TestClient(create_app(runtimes[0], manage_runtime=True)) as a,
        TestClient(create_app(runtimes[1], manage_runtime=True)) as b,
    ):
        login = {"username": "phl-officer", "password": PASSWORD}
        token = a.post("/api/v1/auth/login", json=login).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert b.get("/api/v1/auth/me", headers=auth).status_code == 200
        assert runtimes[1].incidents is not None
        runtimes[1].incidents.store.open_incident(
            Incident(id="INC-20260101-000001", member="PHL-PCG", opened_by="phl-officer",
                     opened_ts=100.0, occurred_ts=90.0, lat=9.73, lon=115.87,
                     category="water_cannon", description="opened through node b")
        )  # fmt: skip
        seen = a.get("/api/v1/incidents/INC-20260101-000001", headers=auth)
        assert seen.status_code == 200, seen.text
        assert runtimes[1].access is not None
        runtimes[1].access.revoke(token, reason="device lost")
        refused = a.get("/api/v1/auth/me", headers=auth)
        assert refused.status_code == 401 and "revoked" in refused.text
