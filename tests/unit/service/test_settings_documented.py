"""Every setting is documented in docs/configuration.md with its env variable."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from lookout.service.settings import Settings, SourceConfig

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_every_setting_has_a_row_in_the_configuration_doc() -> None:
    text = DOC.read_text()
    missing = [f.name for f in fields(Settings) if f"| `{f.name}` |" not in text]
    assert missing == [], f"settings missing from {DOC.name}: {missing}"


def test_every_source_field_is_documented() -> None:
    text = DOC.read_text()
    missing = [f.name for f in fields(SourceConfig) if f"| `{f.name}` |" not in text]
    assert missing == [], f"source fields missing from {DOC.name}: {missing}"


def test_env_variables_in_the_doc_are_read_by_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("LOOKOUT_PORT", "9123")
    monkeypatch.setenv("LOOKOUT_BATCH_MAX_LINES", "17")
    monkeypatch.setenv("LOOKOUT_SQLITE_SYNCHRONOUS", "normal")
    s = Settings.from_env()
    assert (s.port, s.batch_max_lines, s.sqlite_synchronous) == (9123, 17, "NORMAL")


def test_secrets_are_not_in_the_repr() -> None:
    s = Settings(
        api_tokens={"tok-secret-123": "ops"},
        sources=(SourceConfig(name="a", member="PHL-PCG", key="key-secret-456"),),
    )
    shown = repr(s)
    assert "tok-secret-123" not in shown
    assert "key-secret-456" not in shown
