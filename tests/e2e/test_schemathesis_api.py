"""Schemathesis (property-based API testing from the OpenAPI schema) against the real app.

The app runs in-process (ASGI) over a real Runtime (SQLite store, in-process bus). Every
operation of ``/openapi.json`` but the endless ``/stream`` is called with generated requests,
positive and negative, authenticated (an API token for reads, a source's ingest key for the
push routes), and every response goes through Schemathesis's default checks: no 5xx, status
codes, content types, headers and bodies as the schema declares them, invalid data refused.

Two checks are narrowed, each for a reason the schema cannot express:

- ``positive_data_acceptance``: a request valid by the schema may still get 422 for a rule
  across parameters (``south <= north`` in a bbox, ``since <= until``, ``start <= end``) or
  for a push body that is text but not a detections CSV. Such 422s must name one of those
  documented rules (:data:`CROSS_FIELD`); any other 422 for valid data fails.
- ``negative_data_rejection`` on the two push routes: their bodies are text, so "a JSON object
  instead of a string" arrives as the text ``{}``, which a push accepts (the line is counted as
  a reject, as every bad line is).

Deterministic: Hypothesis is derandomized and keeps no example database.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pyais import encode_dict
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from lookout.api.app import create_app
from lookout.model import Lines
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig

READ_TOKEN = "t-schemathesis"
SOURCE_KEY = "k-schemathesis"
CROSS_FIELD = (
    (("query", "bbox"), "south must not exceed north"),
    (("query", "since"), "since must not be after until"),
    (("query", "start"), "start must not be after end"),
    (("body",), "not a detections CSV"),
    (("body",), "no detection read"),
)
"""422s that valid-looking data may get: (loc, words of the message)."""
TEXT_BODY_ROUTES = ("/api/v1/ingest/nmea", "/api/v1/ingest/detections")


DATA_DIR = Path(tempfile.gettempdir()) / f"lookout-schemathesis-{uuid.uuid4().hex}"
"""Created when the runtime starts (only if a test here runs), removed after."""
RUNTIME = Runtime(
    Settings(
        data_dir=DATA_DIR,
        api_tokens={READ_TOKEN: "schemathesis"},
        sources=(SourceConfig(name="fuzz", member="PHL-PCG", key=SOURCE_KEY, release="network"),),
        detectors="none",
        shore="none",
        batch_max_wait_ms=5.0,
        rate_requests_per_s=0,  # answers must not depend on how fast this machine is
        push_lines_per_s=0,
    )
)
# Schemathesis's lazy ``from_fixture`` does not run under pytest 9, so the schema is read at
# collection from an app whose runtime starts only in the fixture below.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(RUNTIME)).exclude(
    path="/api/v1/stream"
)


def _seed(runtime: Runtime) -> None:
    """A few vessels (encoded with pyais), so list routes answer with real bodies."""
    lines = [
        line
        for i in range(5)
        for line in encode_dict(
            {"type": 1, "mmsi": 563000001 + i, "lat": 1.2 + i / 10, "lon": 103.8, "speed": 8.0},
            talker_id="AI",
        )
    ]
    block = Lines(lines, "PHL-PCG", "fuzz", time.time(), None)
    receipt = runtime.submit([block]).result(timeout=30)
    assert receipt.observations == 5


@pytest.fixture(scope="module", autouse=True)
def running() -> Iterator[None]:
    RUNTIME.start()
    try:
        _seed(RUNTIME)
        yield
    finally:
        RUNTIME.stop()
        shutil.rmtree(DATA_DIR, ignore_errors=True)


def _token(path: str) -> str:
    return SOURCE_KEY if path.startswith("/api/v1/ingest/") else READ_TOKEN


def _documented_cross_field(response: Any) -> bool:
    """Whether a 422's every issue is one of :data:`CROSS_FIELD`."""
    issues = response.json().get("detail")
    if not isinstance(issues, list) or not issues:
        return False
    return all(
        any(
            tuple(i.get("loc", ())) == loc and words in i.get("msg", "")
            for loc, words in CROSS_FIELD
        )
        for i in issues
    )


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_openapi_schema(case: Any) -> None:
    excluded = [positive_data_acceptance]
    if case.path in TEXT_BODY_ROUTES:
        excluded.append(negative_data_rejection)
    headers = {"Authorization": f"Bearer {_token(case.path)}"}
    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and response.status_code in (400, 413, 415, 422):
        assert response.status_code == 422 and _documented_cross_field(response), (
            f"valid request refused: {case.method} {case.formatted_path} {case.query} -> "
            f"{response.status_code} {response.text[:300]}"
        )
