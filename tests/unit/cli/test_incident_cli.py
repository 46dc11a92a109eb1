"""``lookout assets``, ``incidents`` and ``evidence`` against a data dir: what they print,
refuse and record in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lookout.cli.main import app
from lookout.model.incidents import Incident
from lookout.storage.audit import AuditLog
from lookout.storage.incidents import IncidentStore


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_assets_are_added_listed_refused_for_another_member_and_removed(tmp_path: Path) -> None:
    data = str(tmp_path)
    rc, out, _ = run(
        "assets",
        "add",
        "--member",
        "VNM-VCG",
        "--mmsi",
        "574000811",
        "--name",
        "CSB 8001",
        "--speed-kn",
        "16",
        "--data-dir",
        data,
    )
    assert rc == 0 and "574000811" in out
    rc, _, err = run(
        "assets",
        "add",
        "--member",
        "JPN-JCG",
        "--mmsi",
        "574000811",
        "--name",
        "other",
        "--data-dir",
        data,
    )
    assert rc == 2 and "asset of VNM-VCG already" in err
    rc, out, _ = run("assets", "list", "--json", "--data-dir", data)
    assert json.loads(out) == [
        {"member": "VNM-VCG", "mmsi": 574000811, "name": "CSB 8001", "speed_kn": 16.0}
    ]
    assert (
        run("assets", "remove", "--member", "VNM-VCG", "--mmsi", "574000811", "--data-dir", data)[0]
        == 0
    )
    assert json.loads(run("assets", "list", "--json", "--data-dir", data)[1]) == []
    audit = AuditLog(tmp_path / "audit.db")
    assert [r.resource for r in audit.records()] == ["asset:574000811"] * 2
    audit.close()


def test_incidents_list_and_show_and_a_missing_one(tmp_path: Path) -> None:
    store = IncidentStore.open(tmp_path)
    store.open_incident(
        Incident(
            id="INC-1",
            member="PHL-PCG",
            opened_by="u",
            opened_ts=1.0,
            occurred_ts=0.0,
            lat=9.7,
            lon=115.9,
            category="laser",
        )
    )
    store.add_entry("INC-1", "comment", member="PHL-PCG", user="u", text="green laser at bridge")
    store.close()
    rc, out, _ = run("incidents", "list", "--json", "--data-dir", str(tmp_path))
    assert rc == 0 and [i["id"] for i in json.loads(out)] == ["INC-1"]
    rc, out, _ = run("incidents", "show", "INC-1", "--data-dir", str(tmp_path))
    assert rc == 0 and json.loads(out)["timeline"][1]["text"] == "green laser at bridge"
    rc, _, err = run("incidents", "show", "INC-2", "--data-dir", str(tmp_path))
    assert rc == 2 and "no incident 'INC-2'" in err


def test_verifying_something_that_is_not_a_bundle_exits_1(tmp_path: Path) -> None:
    fake = tmp_path / "bundle.zip"
    fake.write_bytes(b"PK not really")
    rc, _, err = run("evidence", "verify", str(fake))
    assert rc == 1 and "NOT VERIFIED" in err
    rc, out, _ = run("evidence", "keys", "--json", "--data-dir", str(tmp_path))
    assert rc == 0 and json.loads(out) == []
