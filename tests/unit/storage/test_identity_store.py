"""The identity store: what one process writes another sees at its next read; duplicates
and unknown members are refused with a reason; the file is private. Each test runs on both
backends: the SQLite file of a data dir and the tables of a PostgreSQL database."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lookout.model.members import Member, MemberCodeError, Role
from lookout.storage.identity import IdentityError, IdentityStore

PHL = Member("PHL-PCG", "Philippine Coast Guard", "PHL")

OpenStore = Callable[..., IdentityStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> OpenStore:
    """Opens the identity store of one place (a data dir, or a database): two calls give two
    connections to the same data."""
    url = request.getfixturevalue("pg_database_url") if request.param == "postgres" else None

    def opener(clock: Callable[[], float] = time.time) -> IdentityStore:
        return IdentityStore.open(tmp_path, url, clock=clock)

    return opener


def test_a_second_connection_sees_every_change_at_once(open_store: OpenStore) -> None:
    writer = open_store()
    reader = open_store()  # as a server beside the CLI
    try:
        writer.add_member(PHL)
        writer.add_user("phl-officer", "PHL-PCG", Role.WATCH_OFFICER, "hash-1")
        writer.add_source("PHL-PCG", "radar", release="network", key_hash="k1")
        writer.add_signing_key("kid-1", b"s" * 32)
        assert reader.members() == [PHL]
        user = reader.user("phl-officer")
        assert user is not None and (user.member, user.role) == ("PHL-PCG", Role.WATCH_OFFICER)
        source = reader.source_by_key_hash("k1")
        assert source is not None and (source.member, source.name) == ("PHL-PCG", "radar")
        writer.set_source_key("PHL-PCG", "radar", "k2")
        assert reader.source_by_key_hash("k1") is None
        assert reader.source_by_key_hash("k2") is not None
        writer.set_disabled("phl-officer", True)
        disabled = reader.user("phl-officer")
        assert disabled is not None and disabled.disabled_at is not None
        writer.retire_signing_key("kid-1")
        retired = reader.signing_key("kid-1")
        assert retired is not None and retired.retired_at is not None
        assert not reader.is_revoked("jti-1")
        writer.revoke_token("jti-1", expires_at=None, reason="test")
        assert reader.is_revoked("jti-1")
    finally:
        writer.close()
        reader.close()


def test_refusals_name_the_reason(open_store: OpenStore) -> None:
    store = open_store()
    try:
        store.add_member(PHL)
        with pytest.raises(IdentityError, match="member PHL-PCG exists already"):
            store.add_member(PHL)
        with pytest.raises(IdentityError, match="no member VNM-VCG"):
            store.add_user("vnm-officer", "VNM-VCG", Role.VIEWER, "h")
        with pytest.raises(IdentityError, match="no member VNM-VCG"):
            store.add_source("VNM-VCG", "ais", release="owner", key_hash=None)
        with pytest.raises(IdentityError, match="no source PHL-PCG/nothing"):
            store.set_source_key("PHL-PCG", "nothing", None)
        with pytest.raises(IdentityError, match="no user ghost"):
            store.set_disabled("ghost", True)
        store.add_signing_key("kid-1", b"s" * 32)
        store.retire_signing_key("kid-1")
        with pytest.raises(IdentityError, match="no active signing key kid-1"):
            store.retire_signing_key("kid-1")
    finally:
        store.close()


def test_the_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "identity.db"
    IdentityStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_member_codes_and_roles_are_checked() -> None:
    with pytest.raises(MemberCodeError):
        Member("phl pcg", "lower case and a space")
    with pytest.raises(ValueError, match="ISO 3166"):
        Member("PHL-PCG", "x", "Philippines")
    assert Role.parse("watch-officer") is Role.WATCH_OFFICER
    assert Role.NETWORK_ADMIN.includes(Role.MEMBER_ADMIN)
    assert not Role.VIEWER.includes(Role.WATCH_OFFICER)
    with pytest.raises(ValueError, match="one of viewer, watch_officer"):
        Role.parse("admiral")


def test_revocations_of_long_expired_tokens_are_dropped(open_store: OpenStore) -> None:
    now = [1_795_000_000.0]
    store = open_store(clock=lambda: now[0])
    try:
        store.revoke_token("old", expires_at=now[0] + 60, reason="test")
        with pytest.raises(IdentityError, match="revoked already"):
            store.revoke_token("old", expires_at=now[0] + 60, reason="again")
        now[0] += 2 * 86_400
        store.revoke_token("new", expires_at=now[0] + 60, reason="test")
        assert store.is_revoked("new")
        assert not store.is_revoked("old")  # expired a day ago: refused as expired anyway
    finally:
        store.close()
