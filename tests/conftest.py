"""Shared fixtures: real data from ../shared/data and services, with CI semantics.

Under ``CI=true`` a test whose data or service is missing fails; on a laptop it skips with the
reason.
"""

from __future__ import annotations

import importlib
import os
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
