"""Sharing benchmark: what the sharing policy costs the core end-to-end run.

Input: the core benchmark's (``bench_pipeline.py``: the Danish Maritime Authority stream,
repeated with shifted receive times) at ``--lines`` lines (default 1,000,000). Detectors are
off in every run, so the differences are sharing's.

- pyais decode-only over the same lines (the yardstick every benchmark prints).
- core end-to-end: every block from one source, no sharing configured, nobody reading (the
  ``end-to-end, no detectors`` run of ``bench_pipeline.py``).
- sharing on: blocks spread over six sources of four members with every kind of release
  (network, owner only, bilateral, community of interest, delayed, reduced precision) and the
  network agreement; nobody reading. Target: within 20% of the core run (>= 0.80).
- four open streams, without and with the policy: one stream per member, a reader that takes
  every vessel update, event, alert and counter as the SSE hub fans them out and formats
  each message it sends as the stream does (without the socket), first passing them all, then
  through that member's sharing view. The ratio is the
  policy's own cost on live delivery.

Run: ``make bench`` or ``python bench/bench_sharing.py``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_pipeline import DMA, import_everything, load_input, pyais_decode_only, timed

from lookout.api.stream import format_event

MEMBERS = ("AAA-CG", "BBB-CG", "CCC-CG", "DDD-CG")
SOURCES = (  # (member, source, release)
    ("AAA-CG", "coast", "network"),
    ("AAA-CG", "radar", "owner"),
    ("BBB-CG", "coast", "members:CCC-CG"),
    ("CCC-CG", "coast", "community:pair"),
    ("DDD-CG", "patrol", "network"),
    ("DDD-CG", "sat", "network"),
)
AGREEMENT = """
[communities]
pair = ["CCC-CG", "DDD-CG"]

[[sources]]
member = "DDD-CG"
name = "patrol"
delay_s = { "*" = 600 }

[[sources]]
member = "DDD-CG"
name = "sat"
precision_m = { "*" = 5000 }
"""


class Reader:
    """One member's open stream: every message, through its sharing view or passed whole."""

    def __init__(self, runtime: Any, member: str, *, policy: bool) -> None:
        from lookout.api.auth import Actor
        from lookout.api.sharing import StreamView
        from lookout.model.members import Role

        actor = Actor(name=f"{member}-bench", kind="token", member=member, role=Role.VIEWER)
        self.member = member
        self.view = StreamView(runtime, actor) if policy else None
        self.sent = 0
        self.withheld = 0

    def handle(self, kind: str, payload: Any) -> None:
        shown = payload if self.view is None else self.view.message(kind, payload)
        if shown is None:
            self.withheld += 1
        else:
            self.sent += 1
            format_event(kind, shown, self.sent)  # what the stream writes for its client


def end_to_end(
    lines: list[str], *, sharing: bool, streams: str = "none", batch: int = 2000
) -> tuple[float, list[Reader]]:
    """Seconds from the first submission until everything is committed, published to the
    readers and the runtime has stopped. ``streams``: ``none``, ``all`` (readers take every
    message whole) or ``policy`` (through each member's view)."""
    from lookout.model import Lines
    from lookout.pipeline import subjects
    from lookout.service.runtime import Runtime
    from lookout.service.settings import Settings, SourceConfig

    with tempfile.TemporaryDirectory(prefix="lookout-bench-") as tmp:
        agreement = Path(tmp) / "sharing.toml"
        agreement.write_text(AGREEMENT)
        configs = tuple(
            SourceConfig(name=s, member=m, kind="push", key=f"k-{m}-{s}", release=r)
            for m, s, r in SOURCES
        )
        settings = Settings(
            data_dir=Path(tmp) / "data",
            batch_max_lines=batch,
            detectors="none",
            sources=configs if sharing else (),
            sharing_file=agreement if sharing else None,
        )
        runtime = Runtime(settings, max_queued_lines=len(lines) + 1)
        runtime.start()
        readers: list[Reader] = []
        subs = []
        if streams != "none":
            readers = [Reader(runtime, m, policy=streams == "policy") for m in MEMBERS]
            patterns = (subjects.VESSELS, subjects.EVENTS, subjects.ALERTS, subjects.INGEST_STATS)

            def fan_out(subject: str, payload: Any) -> None:  # as the SSE hub does
                kind = KINDS.get(subject.split(".")[1], "stats")
                for reader in readers:
                    reader.handle(kind, payload)

            subs = [runtime.bus.subscribe(p, fan_out) for p in patterns]
        gc.collect()
        started = time.perf_counter()
        futures = []
        for n, i in enumerate(range(0, len(lines), batch)):
            member, source, _ = SOURCES[n % len(SOURCES)] if sharing else ("AAA-CG", "coast", "")
            futures.append(runtime.submit([Lines(lines[i : i + batch], member, source)]))
        for f in futures:
            f.result()
        flush = getattr(runtime.bus, "flush", None)
        if flush is not None:
            flush(120.0)
        runtime.stop()
        elapsed = time.perf_counter() - started
        for sub in subs:
            sub.close()
        return elapsed, readers


KINDS = {"vessel": "vessel", "event": "event", "alert": "alert"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    if not DMA.is_file():
        print(f"benchmark input not found: {DMA}", file=sys.stderr)
        return 2
    import_everything()
    import lookout.api.sharing  # noqa: F401

    lines = load_input(args.lines)
    print(f"input: {len(lines):,} lines; sources: {len(SOURCES)} of {len(MEMBERS)} members")
    t_py, _ = timed(lambda: pyais_decode_only(lines))
    t_core, _ = end_to_end(lines, sharing=False)
    t_on, _ = end_to_end(lines, sharing=True)
    t_all, _ = end_to_end(lines, sharing=True, streams="all")
    t_pol, readers = end_to_end(lines, sharing=True, streams="policy")
    py, core, on, all_, pol = (len(lines) / t for t in (t_py, t_core, t_on, t_all, t_pol))
    print(f"pyais decode-only:                 {py:12,.0f} lines/s")
    print(f"core end-to-end:                   {core:12,.0f} lines/s ({core / py:.2f}x pyais)")
    print(f"sharing on:                        {on:12,.0f} lines/s ({on / py:.2f}x pyais)")
    print(f"4 member streams, no policy:       {all_:12,.0f} lines/s ({all_ / py:.2f}x pyais)")
    print(f"4 member streams, sharing policy:  {pol:12,.0f} lines/s ({pol / py:.2f}x pyais)")
    for r in readers:
        print(f"  stream of {r.member}: {r.sent:,} messages sent, {r.withheld:,} withheld")
    print(f"sharing on / core end-to-end: {on / core:.2f} (target >= 0.80)")
    print(f"streams with policy / without: {pol / all_:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
