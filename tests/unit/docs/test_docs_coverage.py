"""The reference docs stay true: what the code defines is documented, and the examples in the
docs do what the docs say they do.

- every reject reason is in docs/ingest.md, and each example line there is rejected for that
  reason by the paths the table says count it;
- every bus subject is in docs/architecture.md;
- every source kind is in docs/ingest.md;
- every CLI command has its section in docs/cli.md;
- every "not available" rule and every minimum message length of the decoder is in
  docs/decode.md, and the example object there is what ``lookout decode --json`` prints;
- every relative link between the docs points at an existing file and heading.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import typer

from lookout.ais.tables import MIN_BITS, NOT_AVAILABLE
from lookout.cli.decode import DecodeTotals, decode_lines
from lookout.cli.main import app
from lookout.model import Frame, RejectReason
from lookout.pipeline import subjects
from lookout.pipeline.engine import Pipeline
from lookout.service.sources import KINDS
from lookout.sources.files import iter_jsonl

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
NOW = 1_714_557_600.0  # 2024-05-01T10:00:00Z


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row of ``text`` (separator rows left out)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def numbers(cell: str) -> list[int]:
    """Integers written in a cell: thousands separators and typographic minus allowed."""
    return [int(n) for n in re.findall(r"-?\d+", cell.replace(",", "").replace("−", "-"))]


# -- reject reasons --------------------------------------------------------------------------


def reject_rows() -> dict[str, list[str]]:
    """Reason -> its row (reason, meaning, counted by, example) in docs/ingest.md."""
    rows = {}
    for cells in table_rows(doc("ingest.md")):
        spans = code_spans(cells[0])
        if len(cells) == 4 and len(spans) == 1 and spans[0] in set(RejectReason):
            rows[spans[0]] = cells
    return rows


def test_every_reject_reason_has_a_row_in_the_ingest_doc() -> None:
    assert sorted(set(RejectReason) - reject_rows().keys()) == []


def test_reasons_other_than_blank_lines_and_overflow_have_an_example_line() -> None:
    with_example = {r for r, cells in reject_rows().items() if code_spans(cells[3])}
    assert set(RejectReason) - with_example == {RejectReason.EMPTY, RejectReason.FRAGMENT_OVERFLOW}


def pipeline_rejects(example: str) -> Counter[str]:
    """Reject counts when the server's pipeline ingests ``example`` and the input ends."""
    if example.startswith("{"):
        items = list(iter_jsonl([example], member="PHL-PCG", source="doc"))
    else:
        items = [Frame(example, "PHL-PCG", "doc")]
    pipeline = Pipeline()
    result = pipeline.process(items, now_ts=NOW).merged(pipeline.flush(now_ts=NOW))
    found: Counter[str] = Counter()
    for counts in result.store.counts:
        found.update(counts.rejected)
    return found


def decode_rejects(example: str) -> Counter[str]:
    """Reject counts of ``lookout decode`` on ``example``."""
    totals = DecodeTotals()
    decode_lines([example], "doc", lambda obj: None, totals)
    return totals.rejected


@pytest.mark.parametrize(
    ("reason", "counted_by", "example"),
    [
        (reason, cells[2], code_spans(cells[3])[0])
        for reason, cells in sorted(reject_rows().items())
        if code_spans(cells[3])
    ],
)
def test_each_example_line_is_rejected_for_its_reason(
    reason: str, counted_by: str, example: str
) -> None:
    by_pipeline = counted_by == "all" or "server" in counted_by
    by_decode = counted_by == "all" or "lookout decode" in counted_by
    assert by_pipeline or by_decode, counted_by
    assert pipeline_rejects(example) == (Counter({reason: 1}) if by_pipeline else Counter())
    assert (decode_rejects(example)[reason] == 1) == by_decode


# -- subjects, source kinds, commands ----------------------------------------------------------


def test_every_bus_subject_is_in_the_architecture_doc() -> None:
    text = doc("architecture.md")
    constants = [n for n in subjects.__all__ if n.isupper() and n != "PREFIX"]
    assert len(constants) == 7
    rows = [(code_spans(row[0]), code_spans(row[1])) for row in table_rows(text) if len(row) > 1]
    missing = [
        n for n in constants if not any([n] == a and getattr(subjects, n) in b for a, b in rows)
    ]
    helpers = [n for n in subjects.__all__ if n.islower() and n != "matches"]
    missing += [f"subjects.{n}" for n in helpers if f"`subjects.{n}`" not in text]
    assert missing == []


def test_every_source_kind_is_in_the_ingest_doc() -> None:
    kinds = {
        code_spans(cells[0])[0] for cells in table_rows(doc("ingest.md")) if code_spans(cells[0])
    }
    assert set(KINDS) <= kinds


def test_every_cli_command_has_a_section_in_the_cli_doc() -> None:
    group = typer.main.get_command(app)
    names = list(group.commands)  # type: ignore[attr-defined]
    assert {"serve", "ingest", "decode", "replay", "doctor", "demo"} <= set(names)
    text = doc("cli.md")
    assert [n for n in names if f"\n## `lookout {n}`\n" not in text] == []


# -- decode ------------------------------------------------------------------------------------


def not_available_rows() -> list[tuple[set[int], list[str], str, str]]:
    """(types, fields, "not available" cell, valid-values cell) of docs/decode.md."""
    rows = []
    for cells in table_rows(doc("decode.md")):
        if len(cells) == 5 and re.fullmatch(r"\d+(, \d+)*", cells[0]) and code_spans(cells[1]):
            types = {int(t) for t in cells[0].split(", ")}
            rows.append((types, code_spans(cells[1]), cells[3], cells[4]))
    return rows


def test_every_not_available_rule_of_the_decoder_is_in_the_decode_doc() -> None:
    documented: dict[tuple[int, str], tuple[str, str]] = {}
    for types, fields, na_cell, valid_cell in not_available_rows():
        for msg_type in types:
            for name in fields:
                assert (msg_type, name) not in documented, (msg_type, name)
                documented[(msg_type, name)] = (na_cell, valid_cell)
    expected = {(t, f) for t, rules in NOT_AVAILABLE.items() for f in rules}
    assert set(documented) == expected
    for (msg_type, name), (na_cell, valid_cell) in documented.items():
        rule = NOT_AVAILABLE[msg_type][name]
        if rule.not_available is None:
            assert "none" in na_cell, (msg_type, name)
        else:
            assert rule.not_available in numbers(na_cell), (msg_type, name)
        assert {rule.lo, rule.hi} <= set(numbers(valid_cell)), (msg_type, name)


def test_every_minimum_message_length_is_in_the_decode_doc() -> None:
    lengths = {}
    for cells in table_rows(doc("decode.md")):
        if len(cells) == 3 and cells[0].isdigit() and numbers(cells[2]):
            lengths[int(cells[0])] = numbers(cells[2])[0]
    assert lengths == dict(MIN_BITS)


def first_match(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.DOTALL)
    assert found is not None, pattern
    return found.group(1)


def test_the_example_object_is_what_lookout_decode_prints_for_its_line() -> None:
    text = doc("decode.md")
    section = text[text.index("## The object") :]
    shown = json.loads(first_match(r"```json\n(.+?)\n```", section))
    line = first_match(r"`(\\c:[^`]+)`", section)
    printed: list[dict[str, object]] = []
    decode_lines([line], "doc", printed.append, DecodeTotals())
    assert printed == [shown]
    assert list(printed[0]) == list(shown)  # the key order too


# -- links ---------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize(
    "source", [*sorted(DOCS.glob("*.md")), ROOT / "CHANGELOG.md"], ids=lambda p: p.name
)
def test_relative_links_point_at_existing_files_and_headings(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]+))?\)", text):
        path = (source.parent / target).resolve() if target else source
        if not path.is_file() or (anchor and anchor not in anchors(path)):
            broken.append(f"{target}#{anchor}")
    assert broken == []
