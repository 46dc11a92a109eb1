"""Core pipeline benchmark: pyais decode-only vs our fast path vs the whole pipeline.

Input: the Danish Maritime Authority stream (``../shared/data/nmea/dma-aislib/stream_example.txt``,
8,551 lines: 4,051 Gatehouse ``$PGHP`` receive-time sentences and 4,500 VDM sentences)
repeated until at least ``--lines`` lines (default 1,000,000). Each copy's ``$PGHP`` receive
times are shifted by one hour per copy (checksums recomputed), so copies are not duplicates of
each other for the cross-receiver dedupe.

Printed, all from this run on this input (modules are imported before any clock starts):
- pyais decode-only: ``pyais.stream.ByteStream`` over every line, ``.decode()`` each message.
- fast-path decode: our framer plus fast-path decoder on the position reports (types 1, 2, 3,
  18, 19), against pyais on exactly the same lines.
- end-to-end: framing, decode, validation, dedupe, fusion and SQLite commits (WAL,
  ``synchronous=FULL``), through the same ingest runtime the server uses, fed blocks of
  2,000 lines (``Lines``) as the network sources and the push endpoint do; once with no
  detector and once with every detector on, as a server runs them by default (the installed
  land mask and ports; the South China Sea region pack's zones when it is built), in the
  detection process beside the ingest thread as a server runs them by default
  (``detection_process``; docs/architecture.md).
- a third run with every detector on the ingest thread (``detection_process = false``),
  timing each detector: the seconds it spent (its ``on_observations`` and ``advance``
  calls) per million input lines, and how much longer that run took than the one without
  detectors (the rest is the pipeline's own share: an observation per position for the
  detectors, the thinned streams, the events stored). Detectors that share a tick feed
  (``encounter`` and ``swarm``) share its work: the first of them to get a batch or a
  watermark, ``encounter``, is timed for it.

Run: ``make bench`` (or ``python bench/bench_pipeline.py --lines 1000000``).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import xor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LOOKOUT_SHARED_DATA", ROOT.parent / "shared" / "data"))
DMA = DATA / "nmea" / "dma-aislib" / "stream_example.txt"
# First armoured payload character of types 1, 2, 3, 18 and 19 (six-bit value + 48).
POSITION_TYPES = frozenset("123BC")


def nmea_checksum(body: str) -> str:
    return f"{reduce(xor, body.encode('ascii'), 0):02X}"


def shift_pghp(line: str, hours: int) -> str:
    """``$PGHP,1,yyyy,m,d,h,m,s,ms,...*hh`` with its time moved ``hours`` later."""
    body = line[1 : line.index("*")]
    f = body.split(",")
    t = datetime(int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]), int(f[7]), tzinfo=UTC)
    t += timedelta(hours=hours)
    f[2:8] = [str(t.year), str(t.month), str(t.day), str(t.hour), str(t.minute), str(t.second)]
    new_body = ",".join(f)
    return f"${new_body}*{nmea_checksum(new_body)}"


def load_input(min_lines: int) -> list[str]:
    base = [ln.rstrip("\r\n") for ln in DMA.read_text().splitlines() if ln.strip()]
    lines: list[str] = []
    copy = 0
    while len(lines) < min_lines:
        if copy == 0:
            lines.extend(base)
        else:
            lines.extend(shift_pghp(ln, copy) if ln.startswith("$PGHP") else ln for ln in base)
        copy += 1
    return lines


def position_lines(lines: list[str]) -> list[str]:
    """Single-sentence VDM lines whose first payload character is a position type."""
    out = []
    for ln in lines:
        if ln.startswith("!") and ",1,1," in ln:
            payload = ln.split(",")[5]
            if payload and payload[0] in POSITION_TYPES:
                out.append(ln)
    return out


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    started = time.perf_counter()
    n = fn()
    return time.perf_counter() - started, n


def pyais_decode_only(lines: list[str]) -> int:
    from pyais.stream import ByteStream

    decoded = 0
    for msg in ByteStream(ln.encode() for ln in lines):
        try:
            msg.decode()
            decoded += 1
        except Exception:  # pyais raises several types on bad input; count only
            continue
    return decoded


def fast_path_decode(lines: list[str], batch: int = 2000) -> int:
    """Frame each batch and decode every field of its position reports into Python values:
    the standard-length ones all at once (numpy, one list per field), any others one by one
    (a ``PositionReport`` each)."""
    from lookout.ais.batchdecode import decode_position_columns
    from lookout.ais.fastpath import decode_position
    from lookout.ais.framing import Framer
    from lookout.ais.types import DecodeError

    framer = Framer(member="bench", source="bench")
    decoded = 0
    for i in range(0, len(lines), batch):
        framed, _ = framer.frame(lines[i : i + batch])
        payloads, fill_bits = framed.payloads, framed.fill_bits
        columns = decode_position_columns(payloads, fill_bits)
        decoded += len(columns.at)
        for k in set(range(len(payloads))).difference(columns.at):
            try:
                if decode_position(payloads[k], fill_bits[k]) is not None:
                    decoded += 1
            except DecodeError:
                continue
    return decoded


def end_to_end(
    lines: list[str],
    batch: int = 2000,
    detectors: str = "all",
    seconds: dict[str, float] | None = None,
    detection_process: bool = True,
) -> tuple[float, int]:
    """Seconds from the first submission until everything is committed and the runtime has
    stopped (its store closed), and the track points stored. Starting the runtime (opening
    the database, starting the writer process) is not timed. With ``seconds``, the suite is
    built as the server builds it and each detector's calls are timed into it, by kind (on
    the ingest thread: timed detectors cannot move to another process)."""
    from lookout.model import Lines
    from lookout.service.runtime import Runtime
    from lookout.service.settings import Settings

    with tempfile.TemporaryDirectory(prefix="lookout-bench-") as tmp:
        region = "scs" if detectors != "none" and _region_pack_built() else None
        settings = Settings(
            data_dir=Path(tmp),
            batch_max_lines=batch,
            detectors=detectors,
            region=region,
            detection_process=detection_process and seconds is None,
        )
        suite = None if seconds is None else timed_suite(settings, seconds)
        runtime = Runtime(settings, max_queued_lines=len(lines) + 1, detectors=suite)
        runtime.start()
        gc.collect()
        started = time.perf_counter()
        futures = []
        for i in range(0, len(lines), batch):
            futures.append(runtime.submit([Lines(lines[i : i + batch], "bench", "dma")]))
        observations = sum(f.result().observations for f in futures)
        runtime.stop()
        return time.perf_counter() - started, observations


def timed_suite(settings: Any, seconds: dict[str, float]) -> list[Any]:
    """The server's detector suite for ``settings``, each detector's ``on_observations``
    and ``advance`` timed into ``seconds[kind]`` (one clock read per call, per batch)."""
    from lookout.service.detect_setup import setup_from_settings
    from lookout.service.detection import build_detectors

    suite = build_detectors(setup_from_settings(settings))
    for detector in suite:
        seconds[detector.kind] = 0.0
        for name in ("on_observations", "advance"):
            setattr(detector, name, _timed_call(getattr(detector, name), detector.kind, seconds))
    return suite


def _timed_call(call: Callable[[Any], Any], kind: str, seconds: dict[str, float]) -> Any:
    def timed_call(arg: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(arg)
        finally:
            seconds[kind] += time.perf_counter() - started

    return timed_call


def _region_pack_built() -> bool:
    from lookout.sources.region_pack import available_packs

    return "scs" in available_packs()


def import_everything() -> None:
    """Import what the measured functions use before any clock starts (a first import may
    compile the sources: a one-time cost, not decoding speed)."""
    import pyais.stream  # noqa: F401

    import lookout.ais.batchdecode
    import lookout.ais.fastpath
    import lookout.ais.framing
    import lookout.service.runtime
    import lookout.service.settings
    import lookout.storage.sqlite_process  # noqa: F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    if not DMA.is_file():
        print(f"benchmark input not found: {DMA}", file=sys.stderr)
        return 2
    import_everything()
    lines = load_input(args.lines)
    positions = position_lines(lines)
    print(f"input: {DMA.relative_to(DATA)} x{len(lines) // 8551 + 1}: {len(lines):,} lines")
    print(f"position-report subset: {len(positions):,} lines")

    t_py, n_py = timed(lambda: pyais_decode_only(lines))
    t_pyp, n_pyp = timed(lambda: pyais_decode_only(positions))
    t_fp, n_fp = timed(lambda: fast_path_decode(positions))
    t_bare, n_bare = end_to_end(lines, detectors="none")
    t_e2e, n_e2e = end_to_end(lines, detectors="all")
    seconds: dict[str, float] = {}
    t_thread, n_thread = end_to_end(lines, detectors="all", seconds=seconds)

    py_rate = len(lines) / t_py
    pyp_rate = len(positions) / t_pyp
    fp_rate = len(positions) / t_fp
    e2e_rate = len(lines) / t_e2e
    bare_rate = len(lines) / t_bare
    print(f"pyais decode-only:            {py_rate:12,.0f} lines/s ({n_py:,} messages)")
    print(f"pyais on position reports:    {pyp_rate:12,.0f} lines/s ({n_pyp:,} messages)")
    print(f"fast-path on position reports:{fp_rate:12,.0f} lines/s ({n_fp:,} messages)")
    print(f"end-to-end, no detectors:     {bare_rate:12,.0f} lines/s ({n_bare:,} track points)")
    print(f"end-to-end, all detectors:    {e2e_rate:12,.0f} lines/s ({n_e2e:,} track points)")
    thread_rate = len(lines) / t_thread
    print(
        f"... detectors on the ingest thread:{thread_rate:9,.0f} lines/s "
        f"({n_thread:,} track points)"
    )
    print(f"fast-path decode / pyais: {fp_rate / pyp_rate:.2f}x")
    print(f"end-to-end without detectors / pyais decode-only: {bare_rate / py_rate:.2f}x")
    print(f"end-to-end / pyais decode-only: {e2e_rate / py_rate:.2f}x")
    print(f"... detectors on the ingest thread / pyais decode-only: {thread_rate / py_rate:.2f}x")
    print_detector_seconds(seconds, len(lines), t_thread - t_bare)
    return 0


def print_detector_seconds(seconds: dict[str, float], lines: int, extra_s: float) -> None:
    """Seconds each detector took in the run with all detectors on the ingest thread (its
    ``on_observations`` and ``advance`` calls), per million input lines."""
    per_million = 1e6 / lines
    total = sum(seconds.values())
    print(
        f"detectors, seconds per 1M lines (detectors on the ingest thread): "
        f"{total * per_million:.2f} "
        f"in the detectors, {extra_s * per_million:.2f} more than without detectors"
    )
    for kind, spent in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"  {kind:<20}{spent * per_million:8.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
