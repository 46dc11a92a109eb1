"""Which partition a raw line belongs to: the hash of its vessel's MMSI (docs/deployment.md).

An ingest node routes *raw lines*, not decoded observations: it reads just enough of each line
to know its vessel (the MMSI in the first 38 bits of the first sentence's payload) and the
process node owning that vessel's partition frames and decodes it as before. What stays
together:

- ``$PGHP`` lines, blank lines and comments go with the next AIS line of the same run (a
  ``$PGHP`` line gives the next line its time and receiver). Those at the very end of a
  batch wait for the next batch of the same source (member, source, receiver), where they go
  with its first AIS line: a stream cut into pushes or reads anywhere keeps each line's time
  (sent at once to a partition, the ``$PGHP`` would lose its line, which would then take its
  batch's arrival time). At most :data:`MAX_CARRIED` lines wait per source; the ingest node
  sends those whose source went quiet to :data:`NO_VESSEL` after one batch wait. A keyed
  push is split on its own (``carry=False``: sent again, it must split the same way), so a
  ``$PGHP`` line at its very end goes to :data:`NO_VESSEL` and its line takes the push's
  arrival time: end a keyed push on a whole sentence;
- the fragments of a multi-sentence message go where its fragment 1 went: the router keeps,
  per source, receiver and sequence id (or tag-block group), the partition of each open
  message until its last fragment, also across batches (a bounded memory,
  :data:`MAX_OPEN_MESSAGES`);
- lines with no vessel go to the fixed partition :data:`NO_VESSEL` (0), where they are framed,
  counted and rejected or accepted exactly as before: lines that do not parse, base stations
  (4), aids to navigation (21), types that carry no vessel position or identity, invalid
  MMSIs, a fragment whose fragment 1 this router never saw, waiting lines beyond
  :data:`MAX_CARRIED` and those sent after their source went quiet;
- a :class:`~lookout.model.Rejection` goes with the item just before it (its member is that
  item's), a :class:`~lookout.model.Detection` (no MMSI) to :data:`NO_VESSEL`, a
  :class:`~lookout.model.ReportRecord` by its MMSI.

Reading the MMSI needs no checksum: a corrupted line is routed by what it says and rejected
by the node that frames it. Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from lookout.ais.nmea import NmeaError, parse_line
from lookout.model import Frame, Lines, Rejection, ReportRecord
from lookout.pipeline.ports import SourceItem

__all__ = [
    "MAX_CARRIED",
    "MAX_OPEN_MESSAGES",
    "NO_VESSEL",
    "VESSEL_TYPES",
    "PartitionRouter",
    "partition_of",
    "payload_mmsi",
    "vessel_mmsis",
]

NO_VESSEL = 0
"""The partition of lines that belong to no vessel."""

MAX_OPEN_MESSAGES = 4096
"""Multi-sentence messages whose partition the router remembers until their last fragment."""

MAX_CARRIED = 64
"""Lines held at the end of a batch (``$PGHP``, blank, comment) that wait, per source, for its
next batch; older ones go to :data:`NO_VESSEL`."""

VESSEL_TYPES = frozenset({1, 2, 3, 5, 9, 18, 19, 24, 27})
"""AIS message types that carry a vessel's position or identity (as the pipeline uses them)."""

_HELD = -1
_MASK32 = 0xFFFFFFFF


def partition_of(mmsi: int, partitions: int) -> int:
    """The partition of a vessel: a multiplicative (Fibonacci) hash of the MMSI, so that
    neighbouring MMSIs (one fleet, one MID) spread over the partitions."""
    return (((mmsi * 2654435761) & _MASK32) * partitions) >> 32


def vessel_mmsis(items: Sequence[SourceItem]) -> set[int]:
    """The MMSIs of the vessels the items' single sentences and first fragments name (a
    quick look: lines in other shapes are skipped), and of their records."""
    found: set[int] = set()
    for item in items:
        if isinstance(item, ReportRecord):
            found.add(item.mmsi)
            continue
        lines = (
            item.lines
            if isinstance(item, Lines)
            else (item.line,)
            if isinstance(item, Frame)
            else ()
        )
        for line in lines:
            start = line.find("!")
            if start < 0:
                continue
            fields = line[start:].split(",", 6)
            if len(fields) == 7 and fields[2] == "1":
                mmsi = payload_mmsi(fields[5])
                if mmsi is not None:
                    found.add(mmsi)
    return found


def payload_mmsi(payload: str) -> int | None:
    """The MMSI of a vessel message's armoured payload, or ``None`` (too short, a character
    outside the six-bit alphabet, a type in no vessel's picture, MMSI out of range)."""
    if len(payload) < 7:
        return None
    bits = 0
    for char in payload[:7]:
        value = ord(char) - 48
        if value > 40:
            value -= 8
        if not 0 <= value <= 63:
            return None
        bits = (bits << 6) | value
    if bits >> 36 not in VESSEL_TYPES:
        return None
    mmsi = (bits >> 4) & 0x3FFFFFFF
    return mmsi if 1 <= mmsi <= 999_999_999 else None


class PartitionRouter:
    """Splits items into per-partition item lists; keeps open multi-sentence messages."""

    def __init__(self, partitions: int) -> None:
        if partitions < 1:
            raise ValueError(f"partitions must be at least 1, not {partitions}")
        self.partitions = partitions
        self._open: dict[Hashable, int] = {}
        self._carried: dict[tuple[Any, ...], tuple[list[Any], float]] = {}
        """Per source: the held lines (or frames) that ended its last batch, and that
        batch's ``now``."""
        self._now = 0.0

    def split(
        self, items: Sequence[SourceItem], *, carry: bool = True, now: float = 0.0
    ) -> dict[int, list[SourceItem]]:
        """The items of each partition that has any, each list in the order given.
        ``carry=False``: a batch of its own (a keyed push, which must split the same way
        when it is sent again): it neither takes the held lines waiting for its source nor
        leaves its own trailing ones waiting (they go to :data:`NO_VESSEL`). ``now`` (any
        clock of the caller's) dates the lines left waiting, for :meth:`take_carried`."""
        self._now = now
        parts: dict[int, list[SourceItem]] = {}
        last = NO_VESSEL
        i, n = 0, len(items)
        while i < n:
            item = items[i]
            if isinstance(item, Lines):
                last = self._lines(item, parts, carry)
            elif isinstance(item, Frame):
                j = i + 1
                while j < n and _same_run(items[j], item):
                    j += 1
                last = self._frames(items[i:j], parts, carry)  # type: ignore[arg-type]
                i = j
                continue
            elif isinstance(item, ReportRecord):
                last = self._of(item.mmsi)
                parts.setdefault(last, []).append(item)
            elif isinstance(item, Rejection):
                parts.setdefault(last, []).append(item)
            else:
                parts.setdefault(NO_VESSEL, []).append(item)
                last = NO_VESSEL
            i += 1
        return parts

    @property
    def carrying(self) -> bool:
        """Whether held lines wait for a source's next batch."""
        return bool(self._carried)

    def carried(self) -> dict[tuple[Any, ...], tuple[list[Any], float]]:
        """A copy of what waits now and since when, per source (to :meth:`carry` back
        after a failure)."""
        return {o: (list(run), since) for o, (run, since) in self._carried.items()}

    def carry(
        self, carried: dict[tuple[Any, ...], tuple[list[Any], float]], *, only: bool = False
    ) -> None:
        """Make ``carried`` (from :meth:`carried`) what waits for those sources again;
        ``only``: and nothing for the others (a batch whose publishing failed is undone)."""
        if only:
            self._carried.clear()
        for origin, (run, since) in carried.items():
            self._carried[origin] = (list(run), since)

    def take_carried(
        self, *, since: float | None = None
    ) -> dict[tuple[Any, ...], list[SourceItem]]:
        """The waiting held lines (or frames) per source, as items for :data:`NO_VESSEL`:
        their sources sent nothing more for a while (they are counted there, as a batch's
        own would be). ``since``: only those left waiting by a batch no later than that."""
        out: dict[tuple[Any, ...], list[SourceItem]] = {}
        for origin, (run, left_at) in list(self._carried.items()):
            if since is None or left_at <= since:
                del self._carried[origin]
                out[origin] = _as_items(origin, run)
        return out

    def _take(
        self, origin: tuple[Any, ...], frames: bool, parts: dict[int, list[SourceItem]]
    ) -> list[Any]:
        """The held lines waiting for ``origin`` to go in front of its batch (lines of the
        other kind, Lines before Frames or the reverse, go to NO_VESSEL instead)."""
        run, _ = self._carried.pop(origin, ([], 0.0))
        if not run:
            return []
        if isinstance(run[0], Frame) != frames:
            parts.setdefault(NO_VESSEL, []).extend(_as_items(origin, run))
            return []
        return run

    def _of(self, mmsi: int | None) -> int:
        if mmsi is None or not 1 <= mmsi <= 999_999_999:
            return NO_VESSEL
        return partition_of(mmsi, self.partitions)

    def _lines(self, item: Lines, parts: dict[int, list[SourceItem]], carry: bool) -> int:
        origin = (item.member, item.source, item.receiver)
        carried = self._take(origin, False, parts) if carry else None
        lines = [*carried, *item.lines] if carried else item.lines
        routes = self._carry(origin, lines, self.route(lines, origin), carry)
        by_part: dict[int, list[str]] = {}
        for line, part in zip(lines, routes, strict=False):
            by_part.setdefault(part, []).append(line)
        whole = len(by_part) == 1 and len(routes) == len(item.lines) and not carried
        for part, sub_lines in by_part.items():
            sub = Lines(sub_lines, item.member, item.source, item.received_ts, item.receiver)
            parts.setdefault(part, []).append(item if whole else sub)
        return routes[-1] if routes else NO_VESSEL

    def _frames(
        self, frames: Sequence[Frame], parts: dict[int, list[SourceItem]], carry: bool
    ) -> int:
        first = frames[0]
        origin = (first.member, first.source, first.receiver)
        carried = self._take(origin, True, parts) if carry else None
        run = [*carried, *frames] if carried else list(frames)
        routes = self._carry(origin, run, self.route([f.line for f in run], origin), carry)
        for frame, part in zip(run, routes, strict=False):
            parts.setdefault(part, []).append(frame)
        return routes[-1] if routes else NO_VESSEL

    def _carry(
        self, origin: tuple[Any, ...], run: Sequence[Any], routes: list[int], carry: bool
    ) -> list[int]:
        """The routes of ``run`` but its trailing held lines, which wait for the source's
        next batch (beyond :data:`MAX_CARRIED` of them, the oldest go to NO_VESSEL; all of
        them without ``carry``)."""
        end = len(routes)
        while end and routes[end - 1] == _HELD:
            end -= 1
        if end == len(routes):
            return routes
        if not carry:
            return [NO_VESSEL if r == _HELD else r for r in routes]
        keep = max(end, len(routes) - MAX_CARRIED)
        self._carried[origin] = (list(run[keep:]), self._now)
        return [NO_VESSEL if r == _HELD else r for r in routes[:keep]]

    def route(self, lines: Sequence[str], origin: tuple[Any, ...]) -> list[int]:
        """The partition of each of ``lines`` of one source (``origin``: member, source,
        receiver); held lines (``$PGHP``, blank, comment) take the next AIS line's, and
        those with none after them are ``-1``."""
        out = [_HELD] * len(lines)
        held: list[int] = []
        for i, line in enumerate(lines):
            part = self._classify(line, origin)
            if part == _HELD:
                held.append(i)
                continue
            out[i] = part
            for h in held:
                out[h] = part
            held.clear()
        return out

    def _classify(self, line: str, origin: tuple[Any, ...]) -> int:
        text = line.strip()
        if not text or text[0] == "#" or text.startswith("$PGHP"):
            return _HELD
        fields = text.split(",")
        station: str | None = None
        group: str | None = None
        if text[0] == "!" and len(fields) == 7:
            total, number, seq, channel, payload = fields[1:6]
        else:
            try:
                parsed = parse_line(text)
            except NmeaError:
                return NO_VESSEL
            if parsed.is_pghp:
                return _HELD
            if not parsed.sentences:
                return NO_VESSEL
            first = parsed.sentences[0]
            if len(parsed.sentences) == first.total:
                return self._of(payload_mmsi(first.payload))
            total, number = str(first.total), str(first.number)
            seq, channel, payload = first.seq_id, first.channel, first.payload
            station, group = parsed.receiver, first.group_id
        if total == "1":
            return self._of(payload_mmsi(payload))
        key = ("g", group) if group else ("s", *origin, station, seq, channel)
        if number == "1":
            part = self._of(payload_mmsi(payload))
            self._open.pop(key, None)
            self._open[key] = part
            if len(self._open) > MAX_OPEN_MESSAGES:
                del self._open[next(iter(self._open))]
            return part
        part = self._open.get(key, NO_VESSEL)
        if number == total:
            self._open.pop(key, None)
        return part


def _as_items(origin: tuple[Any, ...], run: list[Any]) -> list[SourceItem]:
    """Held lines (or frames) of ``origin`` as items of their own."""
    if run and isinstance(run[0], Frame):
        return list(run)
    member, source, receiver = origin
    return [Lines(run, member, source, None, receiver)]


def _same_run(item: SourceItem, first: Frame) -> bool:
    return (
        isinstance(item, Frame)
        and item.member == first.member
        and item.source == first.source
        and item.receiver == first.receiver
    )
