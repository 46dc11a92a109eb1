"""Line blocks (``Lines``) give exactly what one ``Frame`` per line gives, and the rows behind
the store batch are the values the pipeline reports.

Input: the Danish Maritime Authority stream (real data, ``$PGHP`` receive times, two-sentence
type 5 messages), fed in blocks the way the push endpoint and the network sources feed it.
"""

from __future__ import annotations

from pathlib import Path

from lookout.model import Frame, Lines, TrackPoint, VesselState
from lookout.model.rows import TrackRows, VesselRows
from lookout.pipeline import subjects
from lookout.pipeline.engine import BatchResult, Pipeline, Submission
from lookout.pipeline.ports import item_lines

NOW = 1_750_000_000.0


def dma(nmea_dir: Path) -> list[str]:
    return (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()


def run(batches: list[list[object]]) -> list[BatchResult]:
    pipeline = Pipeline()
    results = [pipeline.process([Submission(items)], now_ts=NOW) for items in batches]  # type: ignore[arg-type]
    return [*results, pipeline.flush(now_ts=NOW)]


def summary(results: list[BatchResult]) -> tuple[object, ...]:
    return (
        [list(r.store.track) for r in results],
        [list(r.store.vessels) for r in results],
        [r.store.statics for r in results],
        [r.store.counts for r in results],
        [r.receipts for r in results],
        [r.messages for r in results],
    )


def test_blocks_of_lines_give_what_frames_give(nmea_dir: Path) -> None:
    lines = dma(nmea_dir)
    chunks = [lines[i : i + 700] for i in range(0, len(lines), 700)]
    by_frames = run([[Frame(x, "dk", "dma", 1_276_000_000.0, "rx") for x in c] for c in chunks])
    by_lines = run([[Lines(c, "dk", "dma", 1_276_000_000.0, "rx")] for c in chunks])
    # the same chunks cut in two blocks each: consecutive blocks are framed as one run
    halves = run(
        [[Lines(c[:300], "dk", "dma", 1_276_000_000.0, "rx"), Lines(c[300:], "dk", "dma",
         1_276_000_000.3, "rx")] for c in chunks]
    )  # fmt: skip
    assert summary(by_lines) == summary(by_frames) == summary(halves)
    (receipt,) = by_lines[0].receipts
    assert receipt.lines == 700
    # PROVENANCE.md: 4,051 messages; grep -c of plain position lines of types 1-3/18 ~ 2,900
    assert sum(len(r.store.track) for r in by_lines) > 2800


def test_frames_and_blocks_mixed_in_one_submission(nmea_dir: Path) -> None:
    lines = dma(nmea_dir)[:1000]
    mixed = [Frame(x, "dk", "dma") for x in lines[:10]]
    mixed += [Lines(lines[10:600], "dk", "dma"), Frame(lines[600], "dk", "dma")]
    mixed += [Lines(lines[601:], "dk", "dma")]
    assert item_lines(mixed) == 1000
    assert summary(run([mixed])) == summary(run([[Frame(x, "dk", "dma") for x in lines]]))


def test_a_block_can_be_read_as_frames() -> None:
    block = Lines(["a", "b"], "dk", "s", 5.0, "rx")
    assert block.frames() == [Frame("a", "dk", "s", 5.0, "rx"), Frame("b", "dk", "s", 5.0, "rx")]
    assert item_lines([block, Frame("c", "dk", "s"), Lines([], "dk", "s")]) == 3


def test_the_store_batch_rows_are_the_reported_values(nmea_dir: Path) -> None:
    (result, _) = run([[Lines(dma(nmea_dir)[:2000], "dk", "dma")]])
    track, vessels = result.store.track, result.store.vessels
    assert isinstance(track, TrackRows) and isinstance(vessels, VesselRows)
    points, states = list(track), list(vessels)
    assert points == [TrackPoint(*row) for row in track.rows] and len(points) > 500
    assert states == [VesselState(*row) for row in vessels.rows] and len(states) > 300
    assert track[0] == points[0] and track[-1] == points[-1] and track[2:4] == points[2:4]
    assert track == points and vessels == states and track != points[1:]


def test_vessel_updates_can_be_left_out_for_a_batch(nmea_dir: Path) -> None:
    lines = dma(nmea_dir)[:500]
    quiet = Pipeline().process([Lines(lines, "dk", "dma")], now_ts=NOW, publish_vessels=False)
    loud = Pipeline().process([Lines(lines, "dk", "dma")], now_ts=NOW)
    vessel_messages = [m for m in loud.messages if m[0].startswith("lookout.vessel.")]
    assert len(vessel_messages) == len(loud.store.vessels) > 50
    assert [m for m in quiet.messages if m[0].startswith("lookout.vessel.")] == []
    assert quiet.store.vessels == loud.store.vessels
    first = loud.store.vessels[0]
    subject, payload = vessel_messages[0]
    assert (subject, {k: v for k, v in payload.items() if k not in ("feed", "ais_class")}) == (
        subjects.vessel(first.mmsi), _payload(first),
    )  # fmt: skip
    assert payload["feed"] in first.sources  # the source of the latest position
    assert payload["ais_class"] in ("A", "B", "SAR")  # the station class it was heard as


def _payload(v: VesselState) -> dict[str, object]:
    """The documented vessel update: every field, tuples as lists."""
    fields = {name: getattr(v, name) for name in VesselState.__dataclass_fields__}
    return {k: list(x) if isinstance(x, tuple) else x for k, x in fields.items()}
