"""Line framing shared by the network sources: split byte streams, count, chunk to the sink.

See :mod:`lookout.sources.network` for what the counters mean to an operator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lookout.model import Lines
from lookout.pipeline.ports import FrameSink, StopSignal
from lookout.sources.delivery import submit_with_retry

__all__ = ["POLL_S", "FeedStats", "FrameChunk", "LineSplitter", "split_lines"]

POLL_S = 0.1
"""Longest wait in ``select`` between two looks at the stop signal, seconds."""


@dataclass(slots=True)
class FeedStats:
    """Counters of one network source (read by the service for ``/sources`` and logs)."""

    lines: int = 0
    bytes: int = 0
    submitted_lines: int = 0
    empty_lines: int = 0
    oversize_lines: int = 0
    partial_lines: int = 0
    lost_lines: int = 0
    datagrams: int = 0
    connections: int = 0
    clients: int = 0
    refused_clients: int = 0
    connect_failures: int = 0
    last_received_ts: float | None = None


class LineSplitter:
    """Splits a byte stream into lines at ``\\n`` (a trailing ``\\r`` is removed).

    Keeps the unfinished last line for the next ``feed``; a line longer than ``max_line_bytes``
    is dropped up to its end and counted in ``stats.oversize_lines``.
    """

    __slots__ = ("_discarding", "_partial", "max_line_bytes", "stats")

    def __init__(self, stats: FeedStats, max_line_bytes: int = 1024) -> None:
        self.stats = stats
        self.max_line_bytes = max_line_bytes
        self._partial = ""
        self._discarding = False

    def feed(self, data: bytes) -> list[str]:
        parts = (self._partial + data.decode("latin-1")).split("\n")
        tail = parts.pop()
        if self._discarding and parts:
            del parts[0]  # the end of an oversize line
            self._discarding = False
        if self._discarding:
            tail = ""
        elif len(tail) > self.max_line_bytes:
            self.stats.oversize_lines += 1
            self._discarding = True
            tail = ""
        self._partial = tail
        return split_lines(parts, self.max_line_bytes, self.stats)

    def close(self) -> None:
        """The stream ended: an unfinished line is counted as partial and dropped."""
        if self._partial:
            self.stats.partial_lines += 1
        self._partial = ""
        self._discarding = False


def split_lines(parts: list[str], max_line_bytes: int, stats: FeedStats) -> list[str]:
    """Strip ``\\r``, drop and count empty and oversize lines."""
    lines = []
    for part in parts:
        line = part.rstrip("\r")
        if not line:
            stats.empty_lines += 1
        elif len(line) > max_line_bytes:
            stats.oversize_lines += 1
        else:
            lines.append(line)
    return lines


class FrameChunk:
    """Lines waiting for the sink, one :class:`~lookout.model.Lines` block per read; closes at
    ``max_lines`` lines or ``max_wait_s`` after the first."""

    def __init__(
        self,
        sink: FrameSink,
        stop: StopSignal,
        stats: FeedStats,
        max_lines: int,
        max_wait_s: float,
        label: str,
    ) -> None:
        self.sink = sink
        self.stop = stop
        self.stats = stats
        self.max_lines = max_lines
        self.max_wait_s = max_wait_s
        self.label = label
        self.blocks: list[Lines] = []
        self.lines = 0
        self.deadline = 0.0

    def add(self, lines: list[str], member: str, source: str, receiver: str | None) -> None:
        if not lines:
            return
        now = time.time()
        stats = self.stats
        stats.lines += len(lines)
        stats.last_received_ts = now
        if not self.blocks:
            self.deadline = time.monotonic() + self.max_wait_s
        self.blocks.append(Lines(lines, member, source, now, receiver))
        self.lines += len(lines)
        if self.lines >= self.max_lines:
            self.flush()

    def timeout(self) -> float:
        """How long ``select`` may wait before the chunk is due."""
        if not self.blocks:
            return POLL_S
        return min(POLL_S, max(0.0, self.deadline - time.monotonic()))

    def flush_if_due(self) -> None:
        if self.blocks and time.monotonic() >= self.deadline:
            self.flush()

    def flush(self) -> None:
        blocks, lines = self.blocks, self.lines
        self.blocks, self.lines = [], 0
        if not blocks:
            return
        if submit_with_retry(self.sink, blocks, self.stop, self.label):
            self.stats.submitted_lines += lines
        else:
            self.stats.lost_lines += lines
