"""Routing raw lines by vessel partition, and placing partitions on nodes, without servers.

The strongest check: the DMA stream split by the router and run through one pipeline per
partition stores the same track points per vessel, at the same times and from the same
receivers, and counts the same lines, as one pipeline over the whole stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pyais

from lookout.model import (
    Detection,
    Frame,
    Lines,
    Rejection,
    RejectReason,
    ReportRecord,
    TrackPoint,
)
from lookout.pipeline.engine import Pipeline, Submission
from lookout.service.roles.partitions import lease_names, placement, rendezvous
from lookout.service.roles.routing import NO_VESSEL, PartitionRouter, partition_of

BASE_STATION = "!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B"
CLASS_A = "!BSVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"
TYPE5 = (  # two fragments of one type 5 message
    "!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E",
    "!AIVDM,2,2,3,B,1@0000000000000,2*55",
)


def test_a_pghp_line_and_the_fragments_of_a_message_stay_with_its_vessel() -> None:
    router = PartitionRouter(16)
    pghp = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"
    lines = [pghp, CLASS_A, pghp, *TYPE5, pghp, BASE_STATION, "garbage"]
    parts = router.split([Lines(lines, "dk", "dma", 1.0)])
    by_line = {line: p for p, items in parts.items() for item in items for line in item.lines}  # type: ignore[union-attr]
    assert by_line[CLASS_A] == partition_of(pyais.decode(CLASS_A).mmsi, 16)
    assert by_line[TYPE5[0]] == by_line[TYPE5[1]] == partition_of(pyais.decode(*TYPE5).mmsi, 16)
    assert by_line[BASE_STATION] == by_line["garbage"] == NO_VESSEL
    assert sorted(line for items in parts.values() for i in items for line in i.lines) == sorted(  # type: ignore[union-attr]
        lines
    )
    placed = [p for p, items in parts.items() for i in items if pghp in i.lines]  # type: ignore[union-attr]
    assert sorted(placed) == sorted({by_line[CLASS_A], by_line[TYPE5[0]], NO_VESSEL})


def test_a_fragment_split_from_its_first_across_batches_follows_it() -> None:
    router = PartitionRouter(16)
    first = router.split([Lines([TYPE5[0]], "dk", "dma", 1.0)])
    second = router.split([Lines([TYPE5[1]], "dk", "dma", 2.0)])
    assert list(first) == list(second) == [partition_of(pyais.decode(*TYPE5).mmsi, 16)]


def test_records_go_by_mmsi_and_rejections_follow_the_item_before_them() -> None:
    router = PartitionRouter(16)
    record = ReportRecord(mmsi=257_000_000, observed_ts=1.0, lat=60.0, lon=5.0, member="no",
                          source="csv")  # fmt: skip
    bad = Rejection(RejectReason.BAD_MMSI, "csv", "x")
    sar = Detection("S1-1", 1.5e9, 9.7, 115.8, "sar", member="ph", feed="ph/sat")
    parts = router.split([record, bad, sar])
    assert parts[partition_of(257_000_000, 16)] == [record, bad]
    assert parts[NO_VESSEL] == [sar]


def _points(track: Sequence[TrackPoint]) -> list[tuple[int, float, tuple[str, ...]]]:
    """Each point's vessel, time and receivers: a line split from its ``$PGHP`` line would
    lose the time and the receiver that line gives it (it then takes the batch's time)."""
    return [(p.mmsi, p.observed_ts, tuple(p.receivers)) for p in track]


def test_partitioned_pipelines_store_what_one_pipeline_stores(nmea_dir: Path) -> None:
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    batches = [lines[i : i + 500] for i in range(0, len(lines), 500)]
    router = PartitionRouter(8)
    whole, pipelines = Pipeline(), [Pipeline() for _ in range(8)]
    one: Counter[tuple[int, float, tuple[str, ...]]] = Counter()
    split: Counter[tuple[int, float, tuple[str, ...]]] = Counter()
    counted_one: Counter[str] = Counter()
    counted_split: Counter[str] = Counter()
    for n, batch in enumerate(batches):
        items = [Lines(batch, "dk", "dma", 1.7e9 + n)]
        result = whole.process([Submission(items, "k")], now_ts=1.7e9 + n)
        one.update(_points(result.store.track))
        for c in result.store.counts:
            counted_one.update({"lines": c.lines, "accepted": c.accepted, **c.rejected})
        for part, part_items in router.split(items).items():
            result = pipelines[part].process([Submission(part_items, "k")], now_ts=1.7e9 + n)
            split.update(_points(result.store.track))
            for c in result.store.counts:
                counted_split.update({"lines": c.lines, "accepted": c.accepted, **c.rejected})
    assert len({mmsi for mmsi, _, _ in one}) > 100
    assert split == one
    assert counted_split == counted_one


def test_a_joining_node_takes_only_its_share() -> None:
    names = lease_names(64, pairwise=True)
    before = {n: rendezvous(n, ["a", "b"]) for n in names}
    after = {n: rendezvous(n, ["a", "b", "c"]) for n in names}
    moved = [n for n in names if before[n] != after[n]]
    assert all(after[n] == "c" for n in moved)  # nothing moves between the old nodes
    assert 10 < len(moved) < 35  # about a third of 65
    assert {before[n] for n in names} == {"a", "b"}


def test_placement_gives_no_node_more_than_its_share() -> None:
    # Plain rendezvous hashing put all five leases of a 4-partition deployment on one of
    # two nodes; bounded loads split them 3 and 2.
    for partitions in (1, 4, 5, 16):
        names = lease_names(partitions, pairwise=True)
        for nodes in (["a", "b"], ["host-1234", "host-5678"], ["a", "b", "c"]):
            placed = placement(names, nodes)
            assert set(placed) == set(names)
            loads = Counter(placed.values())
            share = -(-len(names) // len(nodes))
            assert max(loads.values()) <= share
            if len(names) >= len(nodes):
                assert set(loads) == set(nodes)
            assert placement(names, list(reversed(nodes))) == placed  # order-free


def test_the_pairwise_lease_goes_beside_the_fewest_partitions() -> None:
    # It decodes the whole input: two partitions on two nodes go one each, not both on the
    # node without it (which had been left to chance, and that node then queued).
    for nodes in (["a", "b"], ["host-1234", "host-5678"], ["x-1", "x-2"], ["a", "b", "c"]):
        for partitions in (2, 3, 5, 16):
            placed = placement(lease_names(partitions, pairwise=True), nodes)
            held = Counter(node for name, node in placed.items() if name != "pairwise")
            counts = [held.get(n, 0) for n in nodes]
            assert max(counts) <= -(-partitions // len(nodes))
            assert held.get(placed["pairwise"], 0) == min(counts)


def test_placement_moves_little_when_a_node_joins_or_leaves() -> None:
    names = lease_names(64, pairwise=True)
    two = placement(names, ["a", "b"])
    three = placement(names, ["a", "b", "c"])
    to_c = [n for n in names if three[n] == "c"]
    assert len(to_c) in (21, 22)  # its share of 65
    between_old = [n for n in names if two[n] != three[n] and three[n] != "c"]
    assert len(between_old) <= 4  # a few shifted by the bounds, not a reshuffle
    back = placement(names, ["a", "c"])  # b leaves
    moved = [n for n in names if back[n] != three[n]]
    assert len(moved) <= 21 + 4


def test_a_pghp_line_ending_a_batch_goes_with_the_next_batchs_first_line() -> None:
    router = PartitionRouter(16)
    pghp = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"
    assert router.split([Lines([BASE_STATION, pghp], "dk", "dma", 1.0)]) == {
        NO_VESSEL: [Lines([BASE_STATION], "dk", "dma", 1.0)]
    }
    assert router.carrying
    other_source = router.split([Lines([CLASS_A], "dk", "other", 2.0)])
    assert pghp not in [line for items in other_source.values() for i in items for line in i.lines]  # type: ignore[union-attr]
    parts = router.split([Lines([CLASS_A], "dk", "dma", 2.0)])
    assert parts == {
        partition_of(pyais.decode(CLASS_A).mmsi, 16): [Lines([pghp, CLASS_A], "dk", "dma", 2.0)]
    }
    assert not router.carrying


def test_held_lines_of_a_quiet_source_are_taken_for_the_no_vessel_partition() -> None:
    router = PartitionRouter(16)
    pghp = "$PGHP,1,2010,6,11,11,46,11,390,231,45,,1,2B*5B"
    router.split([Lines([CLASS_A, pghp], "dk", "dma")], now=10.0)
    router.split([Lines([CLASS_A, pghp], "dk", "ais-2")], now=20.0)
    waiting = router.carried()
    assert waiting == {("dk", "dma", None): ([pghp], 10.0), ("dk", "ais-2", None): ([pghp], 20.0)}
    # at 21 s, with a batch wait of 2 s: only the source quiet since 10 s goes out
    assert router.take_carried(since=21.0 - 2.0) == {
        ("dk", "dma", None): [Lines([pghp], "dk", "dma")]
    }
    assert router.take_carried() == {("dk", "ais-2", None): [Lines([pghp], "dk", "ais-2")]}
    assert not router.carrying
    router.carry(waiting)  # publishing them failed: they wait again
    assert router.carried() == waiting


def test_held_lines_of_a_source_that_changed_from_lines_to_frames_are_not_lost() -> None:
    router = PartitionRouter(16)
    pghp = "$PGHP,1,2010,6,11,11,46,11,390,231,45,,1,2B*5B"
    router.split([Lines([CLASS_A, pghp], "dk", "dma")])
    parts = router.split([Frame(CLASS_A, "dk", "dma", None, None)])
    assert parts[NO_VESSEL] == [Lines([pghp], "dk", "dma")]
    assert not router.carrying


def test_a_keyed_push_splits_alike_each_time_it_is_sent() -> None:
    router = PartitionRouter(16)
    pghp = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"
    router.split([Lines([pghp], "dk", "dma")])  # an unkeyed push's held line waits
    push = [Lines([CLASS_A, pghp], "dk", "dma", 3.0)]
    first, again = router.split(push, carry=False), router.split(push, carry=False)
    assert first == again
    assert first[NO_VESSEL] == [Lines([pghp], "dk", "dma", 3.0)]
    assert router.carried() == {("dk", "dma", None): ([pghp], 0.0)}  # the keyed push left it
