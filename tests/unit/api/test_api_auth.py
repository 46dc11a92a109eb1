"""The single permission question and how bearer tokens map to actors."""

from __future__ import annotations

from lookout.api.auth import Actor, authorize, resolve_actor
from lookout.service.settings import SourceConfig

RADAR = SourceConfig(name="radar-1", member="ph", key="k-radar")
OTHER = SourceConfig(name="ais-2", member="vn", key="k-ais")


class _Runtime:
    def actor_for_token(self, token: str) -> str | None:
        return {"t-analyst": "analyst"}.get(token)

    def source_for_key(self, key: str) -> SourceConfig | None:
        return {RADAR.key: RADAR, OTHER.key: OTHER}.get(key)


def test_read_token_names_its_actor_and_ingest_key_names_its_source() -> None:
    runtime = _Runtime()
    analyst = resolve_actor(runtime, "t-analyst")  # type: ignore[arg-type]
    source = resolve_actor(runtime, "k-radar")  # type: ignore[arg-type]
    assert analyst == Actor(name="analyst", kind="token")
    assert source is not None
    assert source.name == "source:ph/radar-1"
    assert source.member == "ph"
    assert resolve_actor(runtime, "nope") is None  # type: ignore[arg-type]


def test_read_tokens_read_and_source_keys_do_not() -> None:
    analyst = Actor(name="analyst", kind="token")
    source = Actor(name="source:ph/radar-1", kind="source", member="ph", source=RADAR)
    assert authorize(analyst, "read", "vessels")
    assert authorize(analyst, "read", "vessel:219000001")
    assert not authorize(source, "read", "vessels")
    assert not authorize(source, "read", "vessel:219000001")


def test_only_a_source_key_ingests_and_only_into_its_own_source() -> None:
    analyst = Actor(name="analyst", kind="token")
    radar = Actor(name="source:ph/radar-1", kind="source", member="ph", source=RADAR)
    assert not authorize(analyst, "ingest", "source:ph/radar-1")
    assert authorize(radar, "ingest", "source:ph/radar-1")
    assert not authorize(radar, "ingest", "source:vn/ais-2")
