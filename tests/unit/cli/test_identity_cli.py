"""``lookout members``, ``users``, ``sources``, ``keys`` and ``token`` against a data dir:
what they print, what a server on the same data dir then accepts, and the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lookout.cli.main import app
from lookout.model.members import Role
from lookout.service.access import Access, TokenError
from lookout.storage.audit import verify

PASSWORD = "a long demo password"


def run(data: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--data-dir", str(data)], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    for code, name in (("PHL-PCG", "Philippine Coast Guard"), ("VNM-VCG", "Vietnam Coast Guard")):
        code_rc = run(folder, "members", "add", code, "--name", name, "--country", code[:3])
        assert code_rc[0] == 0, code_rc
    return folder


def test_members_list_json_and_a_duplicate_is_one_line_error(data: Path) -> None:
    rc, out, _ = run(data, "members", "list", "--json")
    assert rc == 0
    assert [m["code"] for m in json.loads(out)] == ["PHL-PCG", "VNM-VCG"]
    rc, _, err = run(data, "members", "add", "PHL-PCG", "--name", "again")
    assert rc == 2
    assert err.strip() == "lookout: error: member PHL-PCG exists already"


def test_a_user_added_logs_in_until_disabled(data: Path) -> None:
    rc, out, _ = run(
        data,
        "users", "add", "phl-officer", "--member", "PHL-PCG", "--role", "watch_officer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert rc == 0 and PASSWORD not in out
    access = Access.open(data)
    try:
        user = access.login("phl-officer", PASSWORD)
        assert user is not None and user.role is Role.WATCH_OFFICER
        rc, out, _ = run(data, "users", "passwd", "phl-officer")
        generated = out.split("password: ")[1].split()[0]
        assert access.login("phl-officer", PASSWORD) is None
        assert access.login("phl-officer", generated) is not None
        assert run(data, "users", "disable", "phl-officer")[0] == 0
        assert access.login("phl-officer", generated) is None
    finally:
        access.close()
    rc, out, _ = run(data, "users", "list", "--json")
    assert json.loads(out) == [
        {"username": "phl-officer", "member": "PHL-PCG", "role": "watch_officer", "disabled": True}
    ]
    rc, _, err = run(data, "users", "add", "x-officer", "--member", "NOPE", "--role", "viewer")
    assert rc == 2 and "no member NOPE" in err


def test_a_source_key_printed_is_accepted_until_rotated_or_revoked(data: Path) -> None:
    rc, out, _ = run(
        data, "sources", "add", "--member", "PHL-PCG", "--name", "radar",
        "--release", "members:VNM-VCG",
    )  # fmt: skip
    assert rc == 0
    key = out.split("ingest key: ")[1].split()[0]
    access = Access.open(data)
    try:
        assert access.source_for_key(key) is not None
        rc, out, _ = run(data, "sources", "rotate-key", "--member", "PHL-PCG", "--name", "radar")
        new_key = out.split("ingest key: ")[1].split()[0]
        assert access.source_for_key(key) is None
        assert access.source_for_key(new_key) is not None
        run(data, "sources", "revoke-key", "--member", "PHL-PCG", "--name", "radar")
        assert access.source_for_key(new_key) is None
    finally:
        access.close()
    rc, out, _ = run(data, "sources", "list", "--json")
    (listed,) = json.loads(out)
    assert (listed["release"], listed["key"]) == ("members:VNM-VCG", False)
    rc, _, err = run(
        data, "sources", "add", "--member", "PHL-PCG", "--name", "x", "--release", "all"
    )
    assert rc == 2 and "release 'all'" in err


def test_token_prints_a_bearer_token_that_keys_retire_and_revoke_end(data: Path) -> None:
    rc, out, err = run(
        data, "token", "--member", "VNM-VCG", "--role", "member_admin", "--ttl", "60"
    )
    assert rc == 0 and "jti " in err
    token = out.strip()
    access = Access.open(data)
    try:
        claims = access.verify(token)
        assert (claims.member, claims.role) == ("VNM-VCG", Role.MEMBER_ADMIN)
        assert claims.expires_at - claims.issued_at == pytest.approx(60, abs=1)
        assert run(data, "keys", "revoke", claims.jti)[0] == 0
        with pytest.raises(TokenError, match="revoked"):
            access.verify(token)
        assert run(data, "keys", "rotate")[0] == 0
        second = run(data, "token", "--member", "PHL-PCG")[1].strip()
        keys = json.loads(run(data, "keys", "list", "--json")[1])
        assert [k["signing"] for k in keys] == [False, True]
        assert access.verify(second).kid == keys[1]["kid"]
        assert "secret" not in json.dumps(keys)
        assert run(data, "keys", "retire", keys[1]["kid"])[0] == 0
        with pytest.raises(TokenError, match="retired key"):
            access.verify(second)
    finally:
        access.close()
    rc, _, err = run(data, "token", "--member", "MYS-MMEA")
    assert rc == 2 and "no member MYS-MMEA" in err


def test_every_change_is_in_an_intact_audit_chain(data: Path) -> None:
    run(data, "sources", "add", "--member", "PHL-PCG", "--name", "radar", "--release", "owner")
    result = verify(data / "audit.db")
    assert result.intact, result.problems
    assert result.records == 3  # two members, one source
