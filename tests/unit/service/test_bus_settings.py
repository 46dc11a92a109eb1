"""The bus settings: read from the environment, checked, and the NATS URL's secret hidden."""

from __future__ import annotations

import pytest

from lookout.bus.inprocess import InProcessBus
from lookout.service.runtime import open_bus
from lookout.service.settings import Settings


def test_the_bus_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKOUT_BUS", "NATS")
    monkeypatch.setenv("LOOKOUT_NATS_URL", "nats://a:4222,nats://b:4222")
    monkeypatch.setenv("LOOKOUT_NATS_STREAM_PREFIX", "drill")
    monkeypatch.setenv("LOOKOUT_NATS_REPLICAS", "3")
    s = Settings.from_env()
    assert (s.bus, s.nats_url, s.nats_stream_prefix, s.nats_replicas) == (
        "nats",
        "nats://a:4222,nats://b:4222",
        "drill",
        3,
    )


def test_the_default_bus_is_in_process_and_an_unknown_one_is_refused() -> None:
    bus = open_bus(Settings())
    try:
        assert isinstance(bus, InProcessBus)
    finally:
        bus.close()
    with pytest.raises(ValueError, match="'inprocess' or 'nats'"):
        open_bus(Settings(bus="kafka"))


@pytest.mark.parametrize(
    "url", ["nats://ops:hunter22@nats.example:4222", "nats://tok-hunter22@nats.example:4222"]
)
def test_a_password_or_token_in_the_nats_url_is_not_printed(url: str) -> None:
    shown = repr(Settings(bus="nats", nats_url=url))
    assert "hunter22" not in shown
    assert "nats.example:4222" in shown
