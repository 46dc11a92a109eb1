"""The micro-batch closing rule, with the clock injected.

A batch closes when it holds ``max_lines`` lines or when its first item has waited
``max_wait_s``: the per-call cost of the pipeline is paid once per batch, while the time from
ingest to alert stays bounded by ``max_wait_s``. The batcher never reads a clock; its caller
passes ``now_ts`` (the service thread passes the real time, tests a fake one).

Typical loop (the service's ingest thread)::

    while running:
        item = queue.get(timeout=batcher.time_left(clock()))
        if item is None:                      # timed out
            if batcher.due(clock()):
                commit(batcher.take())
            continue
        closed = batcher.add(item, len(item.frames), clock())
        if closed is not None:
            commit(closed)

An item is never split: one item larger than ``max_lines`` forms a batch of its own.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

T = TypeVar("T")


class MicroBatcher(Generic[T]):
    """Collects items into batches of about ``max_lines`` lines or ``max_wait_s`` seconds."""

    __slots__ = ("_items", "_lines", "_opened_ts", "max_lines", "max_wait_s")

    def __init__(self, max_lines: int = 2000, max_wait_s: float = 0.05) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        if max_wait_s < 0:
            raise ValueError("max_wait_s must not be negative")
        self.max_lines = max_lines
        self.max_wait_s = max_wait_s
        self._items: list[T] = []
        self._lines = 0
        self._opened_ts: float | None = None

    def __repr__(self) -> str:
        return (
            f"MicroBatcher(max_lines={self.max_lines}, max_wait_s={self.max_wait_s}, "
            f"open={len(self._items)} items/{self._lines} lines)"
        )

    def __len__(self) -> int:
        """Items in the open batch."""
        return len(self._items)

    @property
    def lines(self) -> int:
        """Lines in the open batch."""
        return self._lines

    def add(self, item: T, lines: int, now_ts: float) -> list[T] | None:
        """Add an item of ``lines`` lines; returns the closed batch when it reached ``max_lines``.

        The batch's age counts from its first item.
        """
        if not self._items:
            self._opened_ts = now_ts
        self._items.append(item)
        self._lines += lines
        if self._lines >= self.max_lines:
            return self.take()
        return None

    def due(self, now_ts: float) -> bool:
        """Whether the open batch is non-empty and its first item has waited ``max_wait_s``."""
        return self._opened_ts is not None and now_ts - self._opened_ts >= self.max_wait_s

    def time_left(self, now_ts: float) -> float | None:
        """Seconds until the open batch is due (0 when overdue), ``None`` when there is none."""
        if self._opened_ts is None:
            return None
        return max(0.0, self._opened_ts + self.max_wait_s - now_ts)

    def take(self) -> list[T]:
        """Close the open batch (possibly empty) and return its items, in arrival order."""
        items = self._items
        self._items = []
        self._lines = 0
        self._opened_ts = None
        return items
