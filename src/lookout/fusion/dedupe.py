"""Recognise copies of one radio transmission heard by several receivers.

One AIS transmission heard by receivers of several members reaches Lookout several times with
the same armoured payload. The key is the payload with its fill bits (see :func:`message_key`);
two copies are the same transmission when their receive times are at most ``window_s`` apart
(default 60 s). The same payload legitimately repeats later (a moored ship's class B report
is identical every three minutes), so an older entry never swallows a new transmission.

Memory is bounded by time and by count, with two generations: entries live in the current
generation; when the data-time watermark given to :meth:`Deduplicator.advance` (once per
batch) passes the generation's start by ``window_s`` (or the generation holds
``max_entries / 2`` entries), the current generation becomes the previous one and the old
previous one is dropped. Every entry is therefore kept for at least
``window_s`` of data time (unless the count cap forces an early rotation, counted in
``early_rotations``) and at most about twice that. A copy delivered later than that (a
satellite feed minutes behind) counts as a new observation.

The caller records a transmission once its first copy is accepted, with a ``tag`` saying what
it became (the pipeline stores where the first copy's track point is), so a duplicate can be
attributed to it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

__all__ = ["Deduplicator", "message_key"]


def message_key(payload: str, fill_bits: int) -> Hashable:
    """The dedupe key of an AIS message: its armoured payload, plus fill bits when not 0."""
    return payload if fill_bits == 0 else (payload, fill_bits)


class Deduplicator:
    """Remembers recent transmissions by key; see the module docstring.

    Per message: :meth:`seen` (is ``key`` a copy of a transmission within the window?) and,
    for a new transmission once it is accepted, :meth:`add`. An entry is a pair
    ``(first_ts, tag)``. Per batch: :meth:`advance` with the data-time watermark, which rotates
    the generations. A hot loop may inline :meth:`seen` and :meth:`add` on :attr:`current` and
    :attr:`previous` (look up current, then previous; store into current) between two calls of
    :meth:`advance`.
    """

    __slots__ = (
        "_generation_start_ts",
        "_half_cap",
        "current",
        "early_rotations",
        "max_entries",
        "previous",
        "window_s",
    )

    def __init__(self, window_s: float = 60.0, max_entries: int = 1_000_000) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        if max_entries < 2:
            raise ValueError("max_entries must be at least 2")
        self.window_s = window_s
        self.max_entries = max_entries
        self._half_cap = max_entries // 2
        self.current: dict[Hashable, tuple[float, Any]] = {}
        self.previous: dict[Hashable, tuple[float, Any]] = {}
        self._generation_start_ts: float | None = None
        self.early_rotations = 0

    def __len__(self) -> int:
        return len(self.current) + len(self.previous)

    def seen(self, key: Hashable, ts: float) -> tuple[float, Any] | None:
        """The entry ``(first_ts, tag)`` of an earlier copy received within the window, or None."""
        entry = self.current.get(key)
        if entry is None:
            entry = self.previous.get(key)
            if entry is None:
                return None
        delta_s = ts - entry[0]
        if -self.window_s <= delta_s <= self.window_s:
            return entry
        return None

    def add(self, key: Hashable, ts: float, tag: Any = None) -> None:
        """Record the first copy of a transmission received at ``ts``."""
        self.current[key] = (ts, tag)

    def advance(self, watermark_ts: float | None) -> None:
        """Rotate the generations when data time passed a window (or the count cap is hit)."""
        if watermark_ts is None:
            return
        start = self._generation_start_ts
        if start is None:
            self._generation_start_ts = watermark_ts
        elif watermark_ts - start > self.window_s:
            self._rotate(watermark_ts)
        elif len(self.current) >= self._half_cap:
            self.early_rotations += 1
            self._rotate(watermark_ts)

    def _rotate(self, ts: float) -> None:
        self.previous = self.current
        self.current = {}
        self._generation_start_ts = ts
