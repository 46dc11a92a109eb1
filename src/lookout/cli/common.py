"""What every command shares: consoles, one-line user errors, options, settings from flags."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lookout.model import IngestReceipt
from lookout.service.settings import Settings, SourceConfig

__all__ = [
    "DataDirOpt",
    "HostOpt",
    "PortOpt",
    "ReceiptTotals",
    "chunked",
    "count_lines",
    "data_dir_problem",
    "err_console",
    "fail",
    "load_settings",
    "out_console",
    "progress_bar",
    "require_files",
    "summary_table",
]

T = TypeVar("T")

out_console = Console()
err_console = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Directory of the SQLite store (default: $LOOKOUT_DATA_DIR or ./var/lookout).",
        file_okay=False,
    ),
]
HostOpt = Annotated[
    str | None,
    typer.Option(
        "--host", metavar="HOST", help="Listen address (default: $LOOKOUT_HOST or 127.0.0.1)."
    ),
]
PortOpt = Annotated[
    int | None,
    typer.Option(
        "--port",
        metavar="PORT",
        help="Listen port, 0 = any free (default: $LOOKOUT_PORT or 8000).",
        min=0,
        max=65535,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``lookout: error: <message>`` on stderr and exit with ``code`` (no traceback)."""
    err_console.print(f"lookout: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def require_files(paths: list[Path]) -> None:
    """Exit 2 naming the first path that is not a readable file."""
    for path in paths:
        if not path.is_file():
            fail(f"no such file: {path}")


@dataclass(slots=True)
class ReceiptTotals:
    """Receipts summed: what ``ingest`` and ``replay`` report."""

    lines: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    observations: int = 0
    duplicates: int = 0

    def add(self, receipt: IngestReceipt) -> None:
        self.lines += receipt.lines
        self.accepted += receipt.accepted
        self.rejected.update(receipt.rejected)
        self.observations += receipt.observations
        self.duplicates += receipt.duplicates

    def rows(self) -> list[tuple[str, int]]:
        """Summary rows after ``lines``: accepted, each reject reason, observations, duplicates."""
        rejected = [(f"rejected: {reason}", n) for reason, n in sorted(self.rejected.items())]
        return [
            ("accepted", self.accepted),
            *rejected,
            ("observations", self.observations),
            ("duplicates", self.duplicates),
        ]


def summary_table(title: str, rows: Iterable[tuple[str, int | str]]) -> Table:
    """A two-column summary; numbers with thousands separators."""
    table = Table(title=title)
    table.add_column("count")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else value)
    return table


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def count_lines(path: Path) -> int:
    """Lines in a file (for progress bars), counted in 1 MiB blocks."""
    n = 0
    last = b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def progress_bar() -> Progress:
    """The progress bar every long command shows on stderr (gone when done)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=err_console, transient=True)


def data_dir_problem(data_dir: Path) -> str | None:
    """Why the data dir cannot be used (created and written), or ``None`` when it can."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".lookout-probe-"):
            pass
    except OSError as exc:
        return f"data dir {data_dir} is not writable: {exc.strerror or exc}"
    return None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{what} not found: {path}")
    except (OSError, ValueError) as exc:
        fail(f"cannot read {what} {path}: {exc}")


def _sources_from(path: Path) -> tuple[SourceConfig, ...]:
    raw = _read_json(path, "sources file")
    if not isinstance(raw, list):
        fail(f"sources file {path} must hold a JSON list of sources")
    try:
        return tuple(SourceConfig(**entry) for entry in raw)
    except TypeError as exc:
        fail(f"bad source in {path}: {exc}")


def _tokens_from(path: Path) -> dict[str, str]:
    raw = _read_json(path, "tokens file")
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        fail(f"tokens file {path} must hold a JSON object token -> actor name")
    return dict(raw)


def load_settings(
    *,
    data_dir: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    sources_file: Path | None = None,
    tokens_file: Path | None = None,
) -> Settings:
    """Settings from ``LOOKOUT_*`` variables, overridden by the given flags."""
    try:
        settings = Settings.from_env()
    except (OSError, ValueError, TypeError) as exc:
        fail(f"bad LOOKOUT_* environment setting: {exc}")
    return settings.with_overrides(
        data_dir=data_dir,
        host=host,
        port=port,
        sources=_sources_from(sources_file) if sources_file else None,
        api_tokens=_tokens_from(tokens_file) if tokens_file else None,
    )
