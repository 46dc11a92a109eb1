"""The framer's vector path: a whole batch of lines framed with numpy, plain lines as columns.

:class:`VectorFraming` is the part of :class:`~lookout.ais.framing.Framer` that takes a batch
after :func:`~lookout.ais.linescan.scan_lines` has classified it: plain ``!..VDM`` lines and
plain ``$PGHP`` lines (most of a feed) become columns of a
:class:`~lookout.ais.types.FramedMessages` without an object per line; every other line goes,
in order, through the framer's scalar paths, with the framer's state brought up to that line
first. The result is the same as framing line by line (tested on every shared file, on
mutated lines and on lines at the edges of "plain").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lookout.ais.linescan import OTHER, PAIR, PGHP, LineScan
from lookout.ais.reassembly import Reassembler
from lookout.ais.types import AisMessage, FramedMessages
from lookout.model import Rejection

__all__ = ["VectorFraming"]


def _pair_payloads(lines: Sequence[str], scan: LineScan) -> list[tuple[str, int]]:
    """Joined payload and fill bits of each plain two-sentence message."""
    return [
        (lines[i][a:b] + lines[i + 1][c:d], fill)
        for i, a, b, c, d, fill in zip(
            scan.pairs.tolist(), scan.pair_payload_start.tolist(),
            scan.pair_payload_end.tolist(), scan.pair_end_payload_start.tolist(),
            scan.pair_end_payload_end.tolist(), scan.pair_fill_bits.tolist(), strict=True,
        )
    ]  # fmt: skip


class _Events:
    """Where :meth:`VectorFraming._events` is in a batch: the line kinds, the plain ``$PGHP``
    lines (index, time, receiver) and how many of them are applied; the messages of the other
    lines as columns (see :class:`~lookout.ais.types.FramedMessages`) and the line each came
    from."""

    __slots__ = ("at", "kind_of", "kinds", "messages", "p_at", "p_done", "p_rx", "p_ts")

    def __init__(
        self,
        kinds: NDArray[np.int8],
        p_at: list[int],
        p_ts: list[float],
        p_rx: list[str | None],
        like: FramedMessages,
    ) -> None:
        self.kinds = kinds
        self.kind_of: list[int] = kinds.tolist()
        self.p_at, self.p_ts, self.p_rx = p_at, p_ts, p_rx
        self.p_done = 0
        self.messages = FramedMessages(like.lines, like.member, like.source)
        self.at: list[int] = []

    def add(self, messages: list[AisMessage], line: int) -> None:
        self.messages.extend(messages)
        self.at += [line] * len(messages)

    def add_pair(
        self, payload: str, fill_bits: int, ts: float | None, rx: str | None, line: int
    ) -> None:
        """The message of the two plain lines ``line`` and ``line + 1``."""
        self.messages.add_columns([payload], [fill_bits], [ts], [rx], [(line, line + 1)])
        self.at.append(line)


def _merge(
    framed: FramedMessages, columns: list[list[Any]], at: list[int], events: _Events
) -> None:
    """Add the plain lines' messages (``columns``: payloads, fill bits, times, receivers, line
    indices; from lines ``at``) and the other lines' (``events``) to ``framed``, in line
    order."""
    extra, extra_at = events.messages, events.at
    if not extra_at:
        framed.add_columns(*columns)
        return
    if not at:
        framed.merge(extra)
        return
    order = np.argsort(np.concatenate((at, extra_at)), kind="stable").tolist()
    pick = itemgetter(*order)
    payloads, fill_bits, times, receivers, origins = columns
    framed.add_columns(
        list(pick(payloads + extra.payloads)),
        list(pick(fill_bits + extra.fill_bits)),
        list(pick(times + extra.received_ts)),
        list(pick(receivers + extra.receivers)),
        [],
    )
    framed.origins += pick(origins + extra.origins)


class VectorFraming:
    """The vector path of :class:`~lookout.ais.framing.Framer` (a mixin: it reads and updates
    the framer's state, declared here, and hands other lines to its scalar paths)."""

    member: str
    source: str
    receiver: str | None
    _parts: Reassembler
    _pghp: tuple[float, str | None] | None
    _carries_times: bool
    _pairs_ok: bool

    def _scalar_line(
        self,
        line: str,
        prefix: bytes,
        line_no: int,
        received_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> int:
        raise NotImplementedError

    def _vector(
        self,
        lines: Sequence[str],
        scan: LineScan,
        raw: NDArray[np.uint8],
        first_line: int,
        received_ts: float | None,
        framed: FramedMessages,
        rejections: list[Rejection],
    ) -> int:
        """The batch after :func:`~lookout.ais.linescan.scan_lines`: plain lines as columns.

        Plain VDM and ``$PGHP`` lines need no per-line work beyond slicing out the payload; a
        plain VDM line takes the time of a plain ``$PGHP`` line just before it. The other
        lines go one by one, in order, through :meth:`_events`. A plain VDM line right after
        such a line goes that way too: its time depends on what that line did with a pending
        ``$PGHP`` time. Returns the lines accepted now.
        """
        kinds = scan.kinds
        after_other = (scan.vdm > 0) & (kinds[np.maximum(scan.vdm - 1, 0)] == OTHER)
        if after_other.any():
            kinds = kinds.copy()
            kinds[scan.vdm[after_other]] = OTHER
        keep = ~after_other
        v_at: list[int] = scan.vdm[keep].tolist()
        p_at: list[int] = scan.pghp.tolist()
        p_rx: list[str | None] = [
            lines[i][a:b] or None
            for i, a, b in zip(
                p_at, scan.pghp_receiver_start.tolist(), scan.pghp_receiver_end.tolist(),
                strict=True,
            )
        ]  # fmt: skip
        payloads = [
            lines[i][a:b]
            for i, a, b in zip(
                v_at, scan.vdm_payload_start[keep].tolist(), scan.vdm_payload_end[keep].tolist(),
                strict=True,
            )
        ]  # fmt: skip
        times, receivers = self._vdm_times(scan.vdm[keep], kinds, scan, p_rx, received_ts)
        columns = [payloads, scan.vdm_fill_bits[keep].tolist(), times, receivers, v_at]
        events = _Events(kinds, p_at, scan.pghp_ts.tolist(), p_rx, framed)
        accepted = self._events(lines, scan, raw, first_line, received_ts, events, rejections)
        _merge(framed, columns, v_at, events)
        return accepted + len(v_at) + len(p_at)

    def _events(
        self,
        lines: Sequence[str],
        scan: LineScan,
        raw: NDArray[np.uint8],
        first_line: int,
        received_ts: float | None,
        events: _Events,
        rejections: list[Rejection],
    ) -> int:
        """The lines the scan left (and plain two-sentence messages), in order, with the
        framer's state (pending ``$PGHP`` time, station clocks) brought up to each first; a
        plain two-sentence message is joined at once when no fragment is pending (see
        :meth:`_pair`). Returns the lines accepted."""
        accepted = 0
        pairs = dict(zip(scan.pairs.tolist(), _pair_payloads(lines, scan), strict=True))
        messages: list[AisMessage] = []
        for i in np.flatnonzero((events.kinds == OTHER) | (events.kinds == PAIR)).tolist():
            self._catch_up(events, i)
            pair = pairs.get(i)
            if pair is not None and self._pair(i, pair, received_ts, events):
                accepted += 2
            else:
                for j in (i, i + 1) if pair is not None else (i,):
                    start = int(scan.starts[j])
                    prefix = np.bitwise_xor.accumulate(raw[start - 1 : start + len(lines[j])])
                    accepted += self._scalar_line(lines[j], prefix.tobytes(), first_line + j + 1,
                                                  received_ts, messages, rejections)  # fmt: skip
            events.add(messages, i)
            messages.clear()
        self._catch_up(events, len(events.kind_of))
        return accepted

    def _catch_up(self, events: _Events, i: int) -> None:
        """Apply the plain ``$PGHP`` lines before line ``i`` to the framer's state."""
        p_next = bisect_left(events.p_at, i, events.p_done)
        if p_next > events.p_done:
            self._carries_times = True
            if None in self._parts.stations:
                self._parts.observe(None, max(events.p_ts[events.p_done : p_next]))
            events.p_done = p_next
        before = events.kind_of[i - 1] if i > 0 else OTHER
        if before != OTHER:
            last = events.p_done - 1
            self._pghp = (events.p_ts[last], events.p_rx[last]) if before == PGHP else None

    def _pair(
        self, line: int, pair: tuple[str, int], received_ts: float | None, events: _Events
    ) -> bool:
        """A plain two-sentence message on two consecutive lines, joined without the
        reassembler, which gives the same message when no fragment is pending and fragments
        live for at least a line and no time (the first sentence takes the pending ``$PGHP``
        time, the message the first sentence's time). ``False``: take the scalar way."""
        if self._parts.pending or not self._pairs_ok:
            return False
        payload, fill_bits = pair
        pghp, self._pghp = self._pghp, None
        carried_ts, rx = pghp if pghp is not None else (None, None)
        if carried_ts is not None:
            self._carries_times = True
        ts = received_ts if carried_ts is None else carried_ts
        events.add_pair(payload, fill_bits, ts, rx or self.receiver, line)
        return True

    def _vdm_times(
        self,
        vdm: NDArray[np.int64],
        kinds: NDArray[np.int8],
        scan: LineScan,
        p_rx: list[str | None],
        received_ts: float | None,
    ) -> tuple[list[float | None], list[str | None]]:
        """Receive time and receiver of each plain VDM line: those of the plain ``$PGHP`` line
        just before it (or of a ``$PGHP`` pending from the previous batch, for the first line),
        else the batch's ``received_ts`` and the framer's receiver."""
        pghp, pghp_ts = scan.pghp, scan.pghp_ts
        ts_list: list[float | None] = [received_ts] * len(vdm)
        rx_list: list[str | None] = [self.receiver] * len(vdm)
        if len(pghp):
            p_index = np.full(len(kinds), -1, dtype=np.int64)
            p_index[pghp] = np.arange(len(pghp))
            j = np.where(vdm > 0, p_index[np.maximum(vdm - 1, 0)], -1)
            has = j >= 0
            times = np.array(ts_list, dtype=object)
            times[has] = pghp_ts[j[has]]
            named = np.empty(len(p_rx), dtype=object)
            named[:] = [rx or self.receiver for rx in p_rx]
            receivers = np.array(rx_list, dtype=object)
            receivers[has] = named[j[has]]
            ts_list, rx_list = times.tolist(), receivers.tolist()
        if len(vdm) and vdm[0] == 0 and self._pghp is not None:  # takes the pending $PGHP
            ts_list[0], rx = self._pghp
            rx_list[0] = rx or self.receiver
            if None in self._parts.stations:
                self._parts.observe(None, ts_list[0])  # type: ignore[arg-type]
        return ts_list, rx_list
