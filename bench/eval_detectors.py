"""``make eval``: the detectors scored on the project's own exercise suite.

For each seed: ``lookout scenario all --seed N`` builds the suite (every scenario, positive
cases and near misses) in a temporary directory, ``lookout detect`` runs over it with its zones
and satellite detections (both as subprocesses: the commands a user runs), and the final events
are matched to the labels (``lookout.sources.scenario_match``: same kind, same vessel(s), time
spans overlapping within the tolerance). Prints TP/FP/FN/precision/recall/F1 per kind over all
seeds, what was missed or fired wrongly, and ends with ``min per-kind F1: X.XX``.

    .venv/bin/python bench/eval_detectors.py [--seeds 5] [--first-seed 1] [--jobs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lookout.sources.scenario_match import (
    DEFAULT_TOLERANCE_S,
    Score,
    final_events,
    read_jsonl,
    score,
)

BIN = Path(sys.executable).parent
LOOKOUT = str(BIN / "lookout")


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"eval: {what} failed with exit code {done.returncode}")


def run_seed(seed: int, root: Path, tolerance_s: float) -> tuple[int, Score, float]:
    """Build, detect and score one seed; returns (seed, score, seconds)."""
    began = time.perf_counter()
    out = root / f"seed-{seed}"
    _run([LOOKOUT, "scenario", "all", "--seed", str(seed), "--out", str(out)], f"scenario {seed}")
    events_path = out / "events.jsonl"
    command = [LOOKOUT, "detect", str(out / "exercise.nmea"), "--zones", str(out / "zones.geojson")]
    if (out / "detections.csv").exists():
        command += ["--detections", str(out / "detections.csv")]
    _run([*command, "--out", str(events_path)], f"detect {seed}")
    labels = read_jsonl((out / "labels.jsonl").read_text(encoding="utf-8"))
    events = final_events(read_jsonl(events_path.read_text(encoding="utf-8")))
    return seed, score(labels, events, tolerance_s=tolerance_s), time.perf_counter() - began


def _brief(record: dict[str, Any]) -> str:
    who = record.get("mmsis") or record.get("mmsi")
    note = record.get("note") or record.get("details", {}).get("reason", "")
    return f"{record['kind']} {who} {record.get('start')}..{record.get('end')} {note}"


def report(total: Score, seeds: list[int], seconds: float) -> None:
    print(f"detector evaluation on the exercise suite, seeds {seeds} ({seconds:.0f} s)")
    print()
    header = f"{'kind':18} {'TP':>4} {'FP':>4} {'FN':>4} {'near misses':>11} {'fired':>5}"
    print(header + f" {'precision':>9} {'recall':>6} {'F1':>5}")
    for kind in sorted(total.kinds):
        s = total.kinds[kind]
        print(
            f"{kind:18} {s.tp:4d} {s.fp:4d} {s.fn:4d} {s.silent:11d} {s.near_misses_fired:5d}"
            f" {s.precision:9.2f} {s.recall:6.2f} {s.f1:5.2f}"
        )
    for label in total.missed:
        print(f"missed: {_brief(label)}")
    for label, _ in total.near_misses_fired:
        print(f"near miss fired: {_brief(label)}")
    for event in total.unexplained:
        print(f"unexplained event: {_brief(event)}")
    print()
    print(f"min per-kind F1: {total.min_f1():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    parser.add_argument("--first-seed", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="seeds run at once (default 2)")
    parser.add_argument("--tolerance-s", type=float, default=DEFAULT_TOLERANCE_S)
    parser.add_argument("--keep", type=Path, help="keep the exercises and events here")
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    root = args.keep or Path(tempfile.mkdtemp(prefix="lookout-eval-"))
    began = time.perf_counter()
    total = Score()
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_seed, s, root, args.tolerance_s) for s in seeds]
            for future in futures:
                seed, result, seconds = future.result()
                print(
                    f"seed {seed}: {seconds:.0f} s, min F1 {result.min_f1():.2f}", file=sys.stderr
                )
                total.add(result)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    report(total, seeds, time.perf_counter() - began)


if __name__ == "__main__":
    main()
