"""Access tokens, passwords and ingest keys: a token is accepted only when it is HS256 under a
known, unretired key, correctly signed, unexpired, unrevoked, of an enabled user; every
refusal says why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import jwt
import pytest
from argon2 import PasswordHasher

from lookout.model.members import Member, Role
from lookout.service.access import Access, IdentityError, TokenError
from lookout.storage.audit import AuditLog

NOW = 1_795_000_000.0
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(tmp_path: Path, clock: Clock) -> Access:
    audit = AuditLog(tmp_path / "audit.db")
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    acc = Access.open(tmp_path, audit=audit, clock=clock, hasher=fast)
    acc.add_member(Member("PHL-PCG", "Philippine Coast Guard", "PHL"))
    acc.add_member(Member("VNM-VCG", "Vietnam Coast Guard", "VNM"))
    acc.add_user("phl-officer", "PHL-PCG", Role.WATCH_OFFICER, PASSWORD)
    return acc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict[str, object], payload: dict[str, object], secret: bytes) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
    sig = hmac.new(secret, head.encode(), hashlib.sha256).digest() if secret else b""
    return head + "." + _b64(sig)


def _issue(access: Access, ttl_s: float = 900.0) -> str:
    issued = access.issue(
        subject="phl-officer", member="PHL-PCG", role=Role.WATCH_OFFICER, ttl_s=ttl_s
    )
    return issued.token


def _refused(access: Access, token: str) -> str:
    with pytest.raises(TokenError) as caught:
        access.verify(token)
    return str(caught.value)


def test_a_fresh_token_carries_its_member_role_and_expiry(access: Access) -> None:
    claims = access.verify(_issue(access))
    assert (claims.subject, claims.member, claims.role) == (
        "phl-officer",
        "PHL-PCG",
        Role.WATCH_OFFICER,
    )
    assert claims.expires_at == NOW + 900


def test_an_expired_token_is_refused(access: Access, clock: Clock) -> None:
    token = _issue(access, ttl_s=60)
    clock.now += 59
    access.verify(token)
    clock.now += 1
    assert _refused(access, token) == "token expired"


def test_a_forged_payload_breaks_the_signature(access: Access) -> None:
    head, payload, sig = _issue(access).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"], claims["member"] = "network_admin", "VNM-VCG"
    forged = f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"
    assert _refused(access, forged) == "bad token signature"


def test_alg_none_and_rs256_headers_are_refused(access: Access) -> None:
    key = access.current_key()
    payload = jwt.decode(_issue(access), options={"verify_signature": False})
    none = _token({"alg": "none", "typ": "JWT", "kid": key.kid}, payload, b"")
    assert _refused(access, none) == "token algorithm 'none' not accepted (HS256)"
    # RS256 header over an HMAC of the shared secret: the classic RS/HS confusion
    confused = _token({"alg": "RS256", "kid": key.kid}, payload, key.secret)
    assert "'RS256' not accepted" in _refused(access, confused)


def test_a_signature_with_another_secret_is_refused(access: Access) -> None:
    key = access.current_key()
    payload = jwt.decode(_issue(access), options={"verify_signature": False})
    wrong = _token({"alg": "HS256", "kid": key.kid}, payload, b"x" * 32)
    assert _refused(access, wrong) == "bad token signature"
    assert _refused(access, "not-a-token.at.all") == "malformed token"


def test_unknown_and_retired_keys_are_refused_rotated_keys_still_verify(
    access: Access,
) -> None:
    payload = jwt.decode(_issue(access), options={"verify_signature": False})
    unknown = _token({"alg": "HS256", "kid": "nope"}, payload, b"x" * 32)
    assert _refused(access, unknown) == "token signed with an unknown key"
    old_token = _issue(access)
    old_kid = access.current_key().kid
    new_kid = access.rotate_key().kid
    assert access.verify(_issue(access)).kid == new_kid  # the new key signs now
    assert access.verify(old_token).kid == old_kid  # the old one still verifies
    access.retire_key(old_kid)
    assert _refused(access, old_token) == f"token signed with retired key {old_kid}"


def test_a_revoked_token_is_refused_by_whole_token_or_jti(access: Access) -> None:
    first, second = _issue(access), _issue(access)
    jti = access.revoke(first)
    assert _refused(access, first) == "token revoked"
    access.verify(second)
    access.revoke(access.verify(second).jti)
    assert _refused(access, second) == "token revoked"
    assert jti != access.verify(_issue(access)).jti


def test_a_disabled_users_tokens_and_logins_are_refused(access: Access) -> None:
    token = _issue(access)
    assert access.login("phl-officer", PASSWORD) is not None
    access.disable_user("phl-officer")
    assert _refused(access, token) == "user disabled"
    assert access.login("phl-officer", PASSWORD) is None


def test_logins_are_checked_and_audited(access: Access) -> None:
    assert access.login("phl-officer", "wrong password!") is None
    assert access.login("nobody", PASSWORD) is None
    user = access.login("phl-officer", PASSWORD)
    assert user is not None and user.member == "PHL-PCG"
    assert access.audit is not None
    logins = [
        (r.actor, r.resource, json.loads(r.detail)["result"])
        for r in access.audit.records()
        if r.action == "login"
    ]
    assert logins == [
        ("phl-officer", "user:phl-officer", "wrong password"),
        ("anonymous", "user:nobody", "unknown user"),
        ("phl-officer", "user:phl-officer", "ok"),
    ]
    assert PASSWORD not in "".join(r.detail for r in access.audit.records())


def test_short_passwords_unknown_members_and_bad_lifetimes_are_refused(access: Access) -> None:
    with pytest.raises(IdentityError, match="at least 12 characters"):
        access.add_user("vnm-officer", "VNM-VCG", Role.VIEWER, "short")
    with pytest.raises(IdentityError, match="no member MYS-MMEA"):
        access.issue(subject="s", member="MYS-MMEA", role=Role.VIEWER, ttl_s=60)
    with pytest.raises(IdentityError, match="lifetime"):
        access.issue(subject="s", member="PHL-PCG", role=Role.VIEWER, ttl_s=0)


def test_ingest_keys_rotate_and_revoke(access: Access) -> None:
    key = access.add_source("PHL-PCG", "radar", "members:VNM-VCG")
    found = access.source_for_key(key)
    assert found is not None and (found.name, found.release) == ("radar", "members:VNM-VCG")
    new_key = access.rotate_source_key("PHL-PCG", "radar")
    assert access.source_for_key(key) is None
    assert access.source_for_key(new_key) is not None
    access.revoke_source_key("PHL-PCG", "radar")
    assert access.source_for_key(new_key) is None
    assert access.releases() == [("PHL-PCG", "radar", "members:VNM-VCG")]
    with pytest.raises(ValueError, match="release 'everyone'"):
        access.add_source("PHL-PCG", "ais", "everyone")


def test_token_ids_are_hex_so_the_cli_never_reads_one_as_an_option(access: Access) -> None:
    # A jti starting with '-' made `lookout keys revoke JTI` fail as an unknown option.
    jtis = {access.verify(_issue(access)).jti for _ in range(200)}
    assert len(jtis) == 200
    assert all(len(j) == 32 and set(j) <= set("0123456789abcdef") for j in jtis)
