"""The scale-out benchmark's load (bench/bench_scaleout.py): pushes cut on whole messages, so
that its four senders, whose pushes reach the server in no fixed order, never part a
``$PGHP`` receive-time line from its AIS sentence."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from lookout.model import Lines
from lookout.pipeline.engine import Pipeline, Submission

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))

from bench_scaleout import BLOCK, whole_blocks  # noqa: E402

TODAY = 1.8e9  # the pushes' arrival time; the recording is from 2010 (about 1.28e9)


def _arrival_timed(blocks: list[list[str]]) -> int:
    """Positions that took their push's arrival time, the pushes taken in a shuffled order."""
    order = list(range(len(blocks)))
    random.Random(7).shuffle(order)
    pipeline = Pipeline()
    timed_today = 0
    for n in order:
        items = [Lines(blocks[n], "DNK", "load", TODAY)]
        result = pipeline.process([Submission(items, f"k{n}")], now_ts=TODAY)
        timed_today += sum(1 for p in result.store.track if p.observed_ts >= TODAY - 60)
    return timed_today


def test_pushes_end_on_whole_messages_and_keep_every_line_in_order(nmea_dir: Path) -> None:
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    blocks = whole_blocks(lines)
    assert [line for block in blocks for line in block] == lines
    assert all(BLOCK <= len(b) <= BLOCK + 10 for b in blocks[:-1])
    for block in blocks[:-1]:
        last = block[-1].split(",")
        assert block[-1].startswith("!") and last[1] == last[2]


def test_pushes_in_any_order_keep_their_receive_times(nmea_dir: Path) -> None:
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    cut_anywhere = [lines[i : i + BLOCK] for i in range(0, len(lines), BLOCK)]
    assert _arrival_timed(cut_anywhere) > 0  # what the benchmark's load did before
    assert _arrival_timed(whole_blocks(lines)) == 0
