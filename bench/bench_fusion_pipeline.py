"""Pipeline throughput (framing, decode, dedupe, fusion, optionally the SQLite write) vs pyais.

Input: the Danish Maritime Authority stream (``../shared/data/nmea/dma-aislib/
stream_example.txt``: 8,551 lines, half of them ``$PGHP`` receive-time sentences, 4,051
messages). It is repeated ``--copies`` times; copy *k* has its ``$PGHP`` times moved *k* hours
later, so no copy is a duplicate of another (and identity reports repeat, as they do live).

Measured, each over the same lines in the same run:

- ``pipeline``: ``Pipeline.process`` in micro-batches of ``--batch`` lines (default 2,000);
- ``pipeline+sqlite``: the same, each batch then written with ``SqliteStore.write``
  (``--synchronous``, default NORMAL) in a temporary folder, the pipeline recalling stored
  vessels as the service does;
- ``pyais``: ``pyais.stream.IterMessages`` over the lines, decoding every message (framing
  and decoding only: no dedupe, fusion or storage).

Run: ``python bench/bench_fusion_pipeline.py [--copies 10]``. Prints lines per second (best of
``--repeat`` runs, CPU time of this process) and the ratio to pyais.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyais.stream import IterMessages

from lookout.model import Frame
from lookout.pipeline.engine import Pipeline

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/nmea/dma-aislib/stream_example.txt"
)


def _checksum(body: str) -> str:
    value = 0
    for char in body:
        value ^= ord(char)
    return f"{value:02X}"


def shifted(lines: list[str], hours: int) -> list[str]:
    """The lines with every ``$PGHP`` time ``hours`` later (hour field, checksum redone)."""
    out = []
    for line in lines:
        if line.startswith("$PGHP"):
            fields = line[: line.rindex("*")].split(",")
            fields[5] = str(int(fields[5]) + hours)
            body = ",".join(fields)
            line = f"{body}*{_checksum(body[1:])}"
        out.append(line)
    return out


def best_of(repeat: int, run: Callable[[], None]) -> float:
    """Smallest CPU time of ``repeat`` runs, with the garbage collector as in production."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synchronous", default="NORMAL")
    args = parser.parse_args()
    if args.copies > 23:
        parser.error("--copies: at most 23 (copies are shifted by whole hours within a day)")

    base = args.file.read_text().splitlines()
    lines = [line for k in range(args.copies) for line in shifted(base, k)]
    frames = [Frame(line, "dk", "dma") for line in lines]
    batches = [frames[i : i + args.batch] for i in range(0, len(frames), args.batch)]
    raw = [line.encode() for line in lines]
    now_ts = 2_000_000_000.0

    def pipeline_only() -> None:
        pipeline = Pipeline()
        for batch in batches:
            pipeline.process(batch, now_ts=now_ts)

    def with_sqlite() -> None:
        from lookout.storage.sqlite import SqliteStore

        with tempfile.TemporaryDirectory() as folder:
            store = SqliteStore(Path(folder) / "bench.db", synchronous=args.synchronous)
            pipeline = Pipeline(recall=store.vessel)
            for batch in batches:
                store.write(pipeline.process(batch, now_ts=now_ts).store)
            store.close()

    def pyais_decode() -> None:
        for message in IterMessages(raw):
            message.decode()

    print(f"{args.file.name}: {len(base):,} lines x {args.copies} copies = {len(lines):,} lines,"
          f" batches of {args.batch:,}; python {sys.version.split()[0]}")  # fmt: skip
    reference = len(lines) / best_of(args.repeat, pyais_decode)
    print(f"{'pyais (frame + decode)':34s} {reference:>10,.0f} lines/s  1.00x")
    for name, run in [
        ("pipeline", pipeline_only),
        (f"pipeline+sqlite ({args.synchronous})", with_sqlite),
    ]:
        rate = len(lines) / best_of(args.repeat, run)
        print(f"{name:34s} {rate:>10,.0f} lines/s  {rate / reference:.2f}x")


if __name__ == "__main__":
    main()
