"""Splitting network byte streams into lines: partial lines, CRLF, oversize lines, counts."""

from __future__ import annotations

import threading

from lookout.model import Frame, Lines
from lookout.sources.framing import FeedStats, FrameChunk, LineSplitter

VDM = "!AIVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"


def test_a_line_split_across_reads_is_joined_and_crlf_removed() -> None:
    splitter = LineSplitter(FeedStats())
    assert splitter.feed(VDM[:10].encode()) == []
    assert splitter.feed((VDM[10:] + "\r\n" + VDM[:5]).encode()) == [VDM]
    assert splitter.feed((VDM[5:] + "\n").encode()) == [VDM]


def test_many_lines_in_one_read_come_out_in_order() -> None:
    lines = [f"{VDM}{i}" for i in range(50)]
    splitter = LineSplitter(FeedStats())
    assert splitter.feed(("\r\n".join(lines) + "\r\n").encode()) == lines


def test_an_oversize_line_is_dropped_and_counted_and_the_stream_recovers() -> None:
    stats = FeedStats()
    splitter = LineSplitter(stats, max_line_bytes=100)
    # 300 bytes without a newline, arriving in three reads: never buffered beyond the limit
    for _ in range(3):
        assert splitter.feed(b"x" * 100) == []
    assert stats.oversize_lines == 1
    assert splitter.feed(b"yyy\n" + VDM.encode() + b"\n") == [VDM]
    assert stats.oversize_lines == 1


def test_an_oversize_line_inside_one_read_is_dropped_between_good_ones() -> None:
    stats = FeedStats()
    splitter = LineSplitter(stats, max_line_bytes=100)
    data = f"{VDM}\n{'z' * 101}\n{VDM}\n".encode()
    assert splitter.feed(data) == [VDM, VDM]
    assert stats.oversize_lines == 1


def test_empty_lines_are_counted_not_returned() -> None:
    stats = FeedStats()
    assert LineSplitter(stats).feed(f"\r\n\n{VDM}\n\n".encode()) == [VDM]
    assert stats.empty_lines == 3


def test_a_connection_ending_mid_line_counts_the_partial_line() -> None:
    stats = FeedStats()
    splitter = LineSplitter(stats)
    splitter.feed(VDM[:20].encode())
    splitter.close()
    assert stats.partial_lines == 1


def test_non_ascii_bytes_reach_the_decoder_instead_of_breaking_the_feed() -> None:
    lines = LineSplitter(FeedStats()).feed(b"!AIVDM,\xff\xfe,0*00\n")
    assert lines == ["!AIVDM,\xff\xfe,0*00"]


def _frames(item: Frame | Lines) -> list[Frame]:
    """A network source submits one ``Lines`` block per read: its lines as frames."""
    return item.frames() if isinstance(item, Lines) else [item]


class _Sink:
    def __init__(self, refusals: int = 0) -> None:
        self.batches: list[list[Frame]] = []
        self.refusals = refusals

    def submit(self, items: object, *, key: str | None = None) -> None:
        if self.refusals:
            self.refusals -= 1
            raise RuntimeError("queue full")
        self.batches.append([f for item in items for f in _frames(item)])  # type: ignore[attr-defined]


def test_a_chunk_is_submitted_when_it_reaches_max_lines() -> None:
    sink, stats = _Sink(), FeedStats()
    chunk = FrameChunk(sink, threading.Event(), stats, 3, 60.0, "m/s")
    chunk.add([VDM] * 2, "m", "s", "1.2.3.4:5")
    assert sink.batches == []
    chunk.add([VDM] * 2, "m", "s", "1.2.3.4:5")
    assert [len(b) for b in sink.batches] == [4]
    frame = sink.batches[0][0]
    assert (frame.line, frame.member, frame.source, frame.receiver) == (VDM, "m", "s", "1.2.3.4:5")
    assert frame.received_ts is not None
    assert stats.lines == stats.submitted_lines == 4


def test_a_refused_chunk_is_retried_until_the_sink_takes_it() -> None:
    sink, stats = _Sink(refusals=2), FeedStats()
    chunk = FrameChunk(sink, threading.Event(), stats, 1, 60.0, "m/s")
    chunk.add([VDM], "m", "s", None)
    assert [len(b) for b in sink.batches] == [1]
    assert stats.lost_lines == 0


def test_a_chunk_refused_at_stop_is_counted_as_lost() -> None:
    sink, stats = _Sink(refusals=99), FeedStats()
    stop = threading.Event()
    stop.set()
    chunk = FrameChunk(sink, stop, stats, 1, 60.0, "m/s")
    chunk.add([VDM, VDM], "m", "s", None)
    assert sink.batches == []
    assert stats.lost_lines == 2
