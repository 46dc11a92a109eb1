"""Shared fixtures: real data from ../shared/data and services, with CI semantics.

Under ``CI=true`` a test whose data or service is missing fails; on a laptop it skips with the
reason.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LOOKOUT_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> None:
    """Skip on a laptop, fail in CI."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def import_or_missing(module: str, reason: str) -> Any:
    """Import ``module`` for a test module; when it is not installed, skip the module on a
    laptop and fail in CI (``make test`` installs every extra)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if IN_CI:
            raise
        pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder ``../shared/data`` (see its README and PROVENANCE files)."""
    if not (SHARED_DATA / "README.md").is_file():
        missing(f"real data not found at {SHARED_DATA} (set LOOKOUT_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def nmea_dir(shared_data: Path) -> Path:
    return shared_data / "nmea"


POSTGRES_TEST_ADMIN_URL = os.environ.get(
    "LOOKOUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A role that may create databases (and the postgis extension): the local server's
``postgres`` role, as in tests/contract/backends.py."""


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    """A database with the PostGIS extension that :func:`pg_database_url` copies (creating
    the extension takes seconds; copying a template does not)."""
    import uuid

    try:
        import psycopg
        from psycopg import conninfo
    except ImportError:
        missing("psycopg is not installed: pip install 'lookout[postgres]'")
    name = f"lookout_test_tpl_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_TEST_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {POSTGRES_TEST_ADMIN_URL} ({exc})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        try:
            url = conninfo.make_conninfo(POSTGRES_TEST_ADMIN_URL, dbname=name)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION postgis")
        except psycopg.errors.FeatureNotSupported as exc:
            missing(f"PostGIS is not installed on the server: {exc} (make test installs it)")
        yield name
    finally:
        with psycopg.connect(POSTGRES_TEST_ADMIN_URL, autocommit=True, connect_timeout=5) as a:
            a.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database_url(_pg_template: str) -> Iterator[str]:
    """A new PostgreSQL database with PostGIS for this test (dropped after it, failed or not);
    missing PostgreSQL skips on a laptop and fails under CI=true."""
    import uuid

    import psycopg
    from psycopg import conninfo

    name = f"lookout_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_TEST_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template}"')
    try:
        yield conninfo.make_conninfo(POSTGRES_TEST_ADMIN_URL, dbname=name)
    finally:
        with psycopg.connect(POSTGRES_TEST_ADMIN_URL, autocommit=True, connect_timeout=5) as a:
            a.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
