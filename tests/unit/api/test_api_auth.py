"""The single permission question and how bearer tokens map to actors."""

from __future__ import annotations

from lookout.api.auth import Actor, authorize, resolve_actor
from lookout.model.members import Role
from lookout.service.settings import Settings, SourceConfig

RADAR = SourceConfig(name="radar-1", member="ph", key="k-radar")
OTHER = SourceConfig(name="ais-2", member="vn", key="k-ais")


class _Runtime:
    settings = Settings(api_tokens_member="PHL-PCG")

    def actor_for_token(self, token: str) -> str | None:
        return {"t-analyst": "analyst"}.get(token)

    def source_for_key(self, key: str) -> SourceConfig | None:
        return {RADAR.key: RADAR, OTHER.key: OTHER}.get(key)


def _user(member: str, role: Role) -> Actor:
    return Actor(name=f"{member}-{role}", kind="token", member=member, role=role)


def test_read_token_names_its_actor_member_and_role_and_ingest_key_names_its_source() -> None:
    runtime = _Runtime()
    analyst = resolve_actor(runtime, "t-analyst")  # type: ignore[arg-type]
    source = resolve_actor(runtime, "k-radar")  # type: ignore[arg-type]
    assert analyst == Actor(name="analyst", kind="token", member="PHL-PCG", role=Role.VIEWER)
    assert source is not None
    assert source.name == "source:ph/radar-1"
    assert source.member == "ph"
    assert resolve_actor(runtime, "nope") is None  # type: ignore[arg-type]


def test_read_tokens_read_and_source_keys_and_roleless_tokens_do_not() -> None:
    analyst = _user("PHL-PCG", Role.VIEWER)
    source = Actor(name="source:ph/radar-1", kind="source", member="ph", source=RADAR)
    assert authorize(analyst, "read", "vessels")
    assert authorize(analyst, "read", "vessel:219000001")
    assert not authorize(source, "read", "vessels")
    assert not authorize(source, "read", "vessel:219000001")
    assert not authorize(Actor(name="x", kind="token"), "read", "vessels")  # deny by default


def test_only_a_source_key_ingests_and_only_into_its_own_source() -> None:
    analyst = _user("ph", Role.NETWORK_ADMIN)
    radar = Actor(name="source:ph/radar-1", kind="source", member="ph", source=RADAR)
    assert not authorize(analyst, "ingest", "source:ph/radar-1")
    assert authorize(radar, "ingest", "source:ph/radar-1")
    assert not authorize(radar, "ingest", "source:vn/ais-2")


def test_member_admins_administer_their_own_member_only() -> None:
    phl_admin = _user("PHL-PCG", Role.MEMBER_ADMIN)
    assert authorize(phl_admin, "administer", "member:PHL-PCG")
    assert not authorize(phl_admin, "administer", "member:VNM-VCG")
    assert not authorize(phl_admin, "administer", "network")
    officer = _user("PHL-PCG", Role.WATCH_OFFICER)
    assert not authorize(officer, "administer", "member:PHL-PCG")
    network = _user("USA-USCG", Role.NETWORK_ADMIN)
    assert authorize(network, "administer", "member:VNM-VCG")
    assert authorize(network, "administer", "network")
    radar = Actor(name="source:ph/radar-1", kind="source", member="PHL-PCG", source=RADAR)
    assert not authorize(radar, "administer", "member:PHL-PCG")
