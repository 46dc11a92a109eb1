"""Choosing the store by settings, and the PostGIS connection string kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookout.service.runtime import open_store
from lookout.service.settings import Settings
from lookout.storage.sqlite_process import SqliteProcessStore


def test_the_database_url_comes_from_the_env_or_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LOOKOUT_DATABASE_URL", raising=False)
    secret_file = tmp_path / "dsn"
    secret_file.write_text("postgresql://lookout:from-file@db:5432/lookout\n")
    monkeypatch.setenv("LOOKOUT_STORE", "PostGIS")
    monkeypatch.setenv("LOOKOUT_DATABASE_URL_FILE", str(secret_file))
    settings = Settings.from_env()
    assert settings.store == "postgis"
    assert settings.database_url == "postgresql://lookout:from-file@db:5432/lookout"
    monkeypatch.setenv("LOOKOUT_DATABASE_URL", "postgresql://lookout@db/other")
    assert Settings.from_env().database_url == "postgresql://lookout@db/other"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://lookout:pa55-w0rd@db.example:5432/lookout",
        "postgresql://lookout@db.example/lookout?sslmode=require&password=pa55-w0rd",
        "host=db.example dbname=lookout user=lookout password=pa55-w0rd",
        "host=db.example password='pa55-w0rd with spaces' dbname=lookout",
    ],
)
def test_a_password_in_the_database_url_is_never_printed(url: str) -> None:
    shown = repr(Settings(store="postgis", database_url=url))
    assert "pa55-w0rd" not in shown
    assert "db.example" in shown  # where it goes is still shown


def test_a_postgis_store_without_a_database_url_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="database_url"):
        open_store(Settings(store="postgis"))
    with pytest.raises(ValueError, match="'sqlite' or 'postgis'"):
        open_store(Settings(store="mysql"))


def test_the_default_store_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path))
    try:
        assert isinstance(store, SqliteProcessStore)
        assert (tmp_path / "lookout.db").exists()
    finally:
        store.close()
