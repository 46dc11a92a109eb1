"""docs/api.md documents every route of the API's OpenAPI schema, its parameters, its error
codes and the fields of its responses; and it documents no route the API does not have."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lookout.api.app import create_app
from lookout.bus.inprocess import InProcessBus
from lookout.service.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
HEADING = re.compile(r"^### `(GET|POST|PUT|PATCH|DELETE) (/\S+)`$", re.MULTILINE)


class FakeRuntime:
    """The smallest ``ApiRuntime``: the schema is built without calling the runtime."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.bus = InProcessBus()

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"building the app must not use the runtime ({name})")


@pytest.fixture(scope="module")
def schema() -> Iterator[dict[str, Any]]:
    runtime = FakeRuntime()
    yield create_app(runtime).openapi()  # type: ignore[arg-type]
    runtime.bus.close()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    ]


def sections() -> dict[str, str]:
    """``"GET /api/v1/vessels"`` -> the text of its ``###`` section in the doc."""
    text = DOC.read_text(encoding="utf-8")
    found = list(HEADING.finditer(text))
    out = {}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        next_part = text.find("\n## ", match.end(), end)
        out[f"{match.group(1)} {match.group(2)}"] = text[
            match.end() : end if next_part < 0 else next_part
        ]
    return out


def test_the_schema_has_the_routes_a_user_relies_on(schema: dict[str, Any]) -> None:
    routes = {f"{m} {p}" for m, p, _ in operations(schema)}
    assert {"GET /api/v1/vessels", "POST /api/v1/ingest/nmea", "GET /api/v1/stream"} <= routes


def test_every_route_has_its_own_section_and_a_row_in_the_route_table(
    schema: dict[str, Any],
) -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = sections()
    missing = [
        f"{m} {p}"
        for m, p, _ in operations(schema)
        if f"{m} {p}" not in documented or f"| `{m} {p}` |" not in text
    ]
    assert missing == [], f"routes missing from {DOC.name}: {missing}"


def test_the_doc_describes_no_route_the_api_lacks(schema: dict[str, Any]) -> None:
    routes = {f"{m} {p}" for m, p, _ in operations(schema)}
    assert set(sections()) - routes == set()


def test_every_parameter_is_named_in_its_routes_section(schema: dict[str, Any]) -> None:
    documented = sections()
    missing = []
    for method, path, op in operations(schema):
        section = documented.get(f"{method} {path}", "")
        for param in op.get("parameters", []):
            if f"`{param['name']}`" not in section:
                missing.append(f"{method} {path}: {param['name']}")
    assert missing == [], f"parameters missing from {DOC.name}: {missing}"


def test_every_error_status_is_in_the_errors_table(schema: dict[str, Any]) -> None:
    text = DOC.read_text(encoding="utf-8")
    errors = text[text.index("## Errors") :]
    codes = {code for _, _, op in operations(schema) for code in op["responses"] if code != "200"}
    assert codes, "the schema declares error responses"
    assert sorted(c for c in codes if f"\n| {c} |" not in errors) == []


def _fields(schema: dict[str, Any], node: Any, seen: set[str]) -> set[str]:
    """Property names reachable from ``node`` through ``$ref``, items and properties."""
    names: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            names |= _fields(schema, schema["components"]["schemas"][ref.rsplit("/", 1)[1]], seen)
        for name, sub in node.get("properties", {}).items():
            names.add(name)
            names |= _fields(schema, sub, seen)
        for key in ("items", "additionalProperties", "anyOf", "allOf"):
            if key in node:
                names |= _fields(schema, node[key], seen)
    elif isinstance(node, list):
        for sub in node:
            names |= _fields(schema, sub, seen)
    return names


def test_every_response_field_is_documented(schema: dict[str, Any]) -> None:
    text = DOC.read_text(encoding="utf-8")
    fields: set[str] = set()
    for _, _, op in operations(schema):
        content = op["responses"].get("200", {}).get("content", {})
        for media in content.values():
            fields |= _fields(schema, media.get("schema", {}), set())
    assert {"mmsi", "observed_at", "statics", "last_received_at"} <= fields
    missing = sorted(f for f in fields if not re.search(rf"[`\"]{re.escape(f)}[`\"]", text))
    assert missing == [], f"response fields missing from {DOC.name}: {missing}"
