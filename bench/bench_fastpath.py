"""Fast-path decode of position reports against pyais, on the same messages in the same run.

Input: the single-sentence position reports (types 1, 2, 3, 18, 19) of the Danish Maritime
Authority stream (``../shared/data/nmea/dma-aislib/stream_example.txt``, 2,961 of its 4,051
messages), decoded repeatedly for about ``--seconds`` each:

- ``decode_position(payload, fill_bits)``: our fast path (payload already framed);
- ``decode(payload, fill_bits)``: our full field dict (the ``lookout decode --json`` fields);
- ``pyais.decode(sentence)``: pyais on the whole sentence, its usual entry point;
- pyais from the payload: ``MSG_CLASS[type].from_vector(bit_vector(...))``, no NMEA parsing.

Run: ``python bench/bench_fastpath.py``. Prints messages per second and the ratios.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyais
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from lookout.ais.decode import decode, decode_position
from lookout.ais.types import DecodeError

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LOOKOUT_SHARED_DATA", ROOT.parent / "shared" / "data"))
DMA = DATA / "nmea" / "dma-aislib" / "stream_example.txt"


def position_reports(path: Path) -> list[tuple[str, str, int]]:
    """(sentence, payload, fill bits) of every decodable single-sentence position report."""
    out = []
    for line in path.read_text().splitlines():
        fields = line.split(",")
        if len(fields) != 7 or not fields[0].endswith("VDM") or fields[1] != "1":
            continue
        payload, fill = fields[5], int(fields[6][0])
        try:
            if decode_position(payload, fill) is not None:
                out.append((line, payload, fill))
        except DecodeError:
            continue
    return out


def rate(run: Callable[[], Any], count: int, seconds: float) -> float:
    """Best messages per second over repeated passes for about ``seconds``."""
    best, deadline = 0.0, time.perf_counter() + seconds
    gc.collect()
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        run()
        best = max(best, count / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    reports = position_reports(DMA)
    payloads = [(p, f) for _, p, f in reports]
    sentences = [s for s, _, _ in reports]

    def fast() -> None:
        for payload, fill in payloads:
            decode_position(payload, fill)

    def full() -> None:
        for payload, fill in payloads:
            decode(payload, fill)

    def pyais_sentence() -> None:
        for sentence in sentences:
            pyais.decode(sentence)

    def pyais_payload() -> None:
        for payload, fill in payloads:
            bits = bit_vector(payload.encode(), fill)
            MSG_CLASS[bits.get(0, 6)].from_vector(bits)

    n = len(payloads)
    print(f"{n} position reports from {DMA.name}, best of {args.seconds:.0f} s each")
    results = {
        "fast path decode_position": rate(fast, n, args.seconds),
        "decode (full fields)": rate(full, n, args.seconds),
        "pyais.decode(sentence)": rate(pyais_sentence, n, args.seconds),
        "pyais from payload": rate(pyais_payload, n, args.seconds),
    }
    base = results["pyais.decode(sentence)"]
    for name, value in results.items():
        print(f"{name:28s} {value:>12,.0f} msg/s  {value / base:5.2f}x pyais.decode")
    ratio = results["fast path decode_position"] / results["pyais from payload"]
    print(f"fast path vs pyais from payload: {ratio:.2f}x")


if __name__ == "__main__":
    main()
