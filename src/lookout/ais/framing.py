"""The :class:`Framer`: raw lines of one source in, complete :class:`AisMessage` s out.

Line conventions are documented in :mod:`lookout.ais.nmea`, reassembly rules in
:mod:`lookout.ais.reassembly`. What the framer adds:

- **Counting.** Every line is counted once in ``stats.lines`` and, once its fate is known,
  once in ``stats.accepted`` or in ``stats.rejected[reason]``. A fragment's fate is known
  when its message completes (accepted) or it is dropped (rejected); until then it is
  ``pending``. So ``lines == accepted + sum(rejected) + pending`` at all times, and after
  :meth:`Framer.flush` ``pending == 0``. ``$PGHP`` lines are accepted (they carry metadata);
  blank lines and comments are rejected as ``empty`` / ``comment``.
- **Receive time.** ``AisMessage.received_ts`` is the time the line carried (tag block
  ``c:``, USCG trailer, or the ``$PGHP`` line just before it), else the ``received_ts`` given
  to :meth:`Framer.feed` (the frame's arrival), else ``None``. A multi-sentence message takes
  the carried time of its first fragment (later fragments' when the first has none), else the
  first fragment's arrival time.
- **$PGHP** applies to the very next line that is not blank or a comment; if that line is not
  an accepted AIS sentence, the time is discarded. For a multi-sentence message it precedes
  fragment 1, and the message takes it as its first-fragment time.
- **Receiver**: tag block ``s:``, USCG ``r``/``b`` field, ``$PGHP`` base-station MMSI, else
  the framer's ``receiver``.
- **Event time.** A line's carried time advances the clock of its station, which expires
  partial messages after ``partial_ttl_s``. Arrival times (``received_ts``) drive that clock
  only while the source's lines carry no times of their own: a recording pushed today with
  2010 ``$PGHP`` times must not expire its fragments by today's clock. ``partial_ttl_lines``
  bounds partials by line count when no times are known (see :mod:`lookout.ais.reassembly`).

Speed: :meth:`Framer.frame` (the pipeline's entry; :meth:`Framer.feed_many` gives the same
messages as objects) takes one of three paths, which give the same results (tested on every
shared file, on 200,000 mutated lines and on lines at the edges of each path's checks):

- a batch of at least ``_vector_min_lines`` lines is classified with numpy
  (:mod:`lookout.ais.linescan`): plain single-sentence ``!..VDM`` lines, plain two-sentence
  messages and plain ``$PGHP`` lines become columns without an object per line
  (:mod:`lookout.ais.framing_vector`); the other lines go one by one as below;
- a smaller batch goes line by line (:meth:`Framer._fast`): plain lines inline, tag-block,
  USCG and fragment lines on a short path (tag blocks cached), with the checksums of the whole
  batch from one running XOR;
- anything the fast tests do not fully accept goes through :func:`lookout.ais.nmea.parse_line`
  (:meth:`Framer._general`), which decides.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from lookout.ais.framing_vector import VectorFraming
from lookout.ais.linescan import PADDING, scan_lines
from lookout.ais.nmea import (
    BAD_PAYLOAD_CHAR,
    CHANNELS,
    FRAGMENT_DIGITS,
    SEQ_IDS,
    NmeaError,
    ParsedLine,
    Sentence,
    parse_line,
    parse_pghp_time,
    parse_tag_block,
    parse_uscg_trailer,
)
from lookout.ais.reassembly import Dropped, Fragment, Reassembler
from lookout.ais.types import AisMessage, FramedMessages, make_message
from lookout.model import Rejection, RejectReason

__all__ = ["Framer", "FramerStats"]

_CACHE_SIZE = 4096
_Tag = tuple[float | None, str | None, str | None]
_HEX = {f"{v:02X}": v for v in range(256)} | {f"{v:02x}": v for v in range(256)}
"""Checksum digits as almost every line writes them; other spellings go the general way."""
_TAILS = {f"{fill}*{hh}": (fill, v) for fill in range(6) for hh, v in _HEX.items()}
"""The last VDM field ``fill*hh`` to (fill bits, checksum)."""
_MS = {str(ms): ms / 1000.0 for ms in range(1000)}
"""``$PGHP`` millisecond fields as written (no leading zeros); others go the general way."""


@dataclass(slots=True)
class FramerStats:
    """Running counts of one framer (see the module docstring for the invariant)."""

    lines: int = 0
    accepted: int = 0
    messages: int = 0
    """Complete AIS messages emitted."""
    rejected: dict[RejectReason, int] = field(default_factory=dict)
    pending: int = 0
    """Fragments waiting for the rest of their message."""

    def snapshot(self) -> FramerStats:
        """An independent copy."""
        return FramerStats(
            self.lines, self.accepted, self.messages, dict(self.rejected), self.pending
        )


_make_message = make_message


_PADDING = b"\0" * PADDING
"""Zero bytes after the batch text, so the scanner may look a few bytes past a line."""


def _batch_text(lines: Sequence[str]) -> tuple[bool, NDArray[np.uint8]]:
    """Whether the lines are all ASCII, and ``"\\n" + "\\n".join(lines)`` as bytes, one per
    character (others count as ``?``), followed by zero bytes."""
    text = "\n" + "\n".join(lines)
    return text.isascii(), np.frombuffer(text.encode("ascii", "replace") + _PADDING, np.uint8)


def _prefix(raw: NDArray[np.uint8]) -> bytes:
    """Running XOR ``p`` of the batch text: a line at offset ``o`` has ``xor(line[a:b]) ==
    p[o - 1 + a] ^ p[o - 1 + b]``."""
    return np.bitwise_xor.accumulate(raw).tobytes()


class Framer(VectorFraming):
    """Turns raw lines of one source into complete AisMessages or Rejections."""

    _use_fast_path: ClassVar[bool] = True
    _vector_min_lines: ClassVar[int] = 24
    """Batches of at least this many lines are classified with numpy first (:meth:`_vector`);
    smaller ones go line by line (:meth:`_fast`), where numpy's per-call cost would dominate."""

    def __init__(
        self,
        *,
        member: str,
        source: str,
        receiver: str | None = None,
        max_partials: int = 1024,
        partial_ttl_s: float = 120.0,
        partial_ttl_lines: int = 2000,
    ) -> None:
        self.member = member
        self.source = source
        self.receiver = receiver
        self.stats = FramerStats()
        self._parts = Reassembler(
            max_fragments=max_partials, ttl_s=partial_ttl_s, ttl_lines=partial_ttl_lines
        )
        self._pairs_ok = partial_ttl_lines >= 1 and partial_ttl_s >= 0
        """Whether a fragment survives until the next line (see :meth:`_pair`)."""
        self._pghp: tuple[float, str | None] | None = None
        self._carries_times = False
        self._pghp_seconds: dict[tuple[str, ...], float] = {}
        self._tags: dict[str, _Tag] = {}
        self._talkers: dict[str, str] = {}
        """Addresses (``!AIVDM``) already seen valid, to their talker (``AI``)."""

    @property
    def pending(self) -> int:
        """Fragments buffered now."""
        return self._parts.pending

    def feed(self, line: str, received_ts: float | None = None) -> list[AisMessage | Rejection]:
        """Frame one line; rejections (including expired fragments) come first."""
        messages, rejections = self.feed_many([line], received_ts)
        return [*rejections, *messages]

    def flush(self) -> list[Rejection]:
        """End of input: every pending fragment becomes an ``orphan_fragment`` rejection."""
        rejections: list[Rejection] = []
        self._report(self._parts.drain(), rejections)
        self.stats.pending = self._parts.pending
        return rejections

    def feed_many(
        self, lines: Sequence[str], received_ts: float | None = None
    ) -> tuple[list[AisMessage], list[Rejection]]:
        """Frame a batch of lines; ``received_ts`` applies to all of them.

        Lines are best given without their line ending: ``"\\r\\n"`` is accepted but takes
        the general path. :meth:`frame` gives the same messages as columns, faster.
        """
        framed, rejections = self.frame(lines, received_ts)
        return framed.messages(), rejections

    def frame(
        self, lines: Sequence[str], received_ts: float | None = None
    ) -> tuple[FramedMessages, list[Rejection]]:
        """Frame a batch of lines (the hot path): the messages as columns, and the rejections.

        The same messages as :meth:`feed_many`, without building an :class:`AisMessage` for
        each plain single-sentence line.
        """
        framed = FramedMessages(lines, self.member, self.source)
        rejections: list[Rejection] = []
        stats = self.stats
        first_line = stats.lines
        stats.lines += len(lines)
        if received_ts is not None and not self._carries_times:
            self._parts.observe(None, received_ts)
        accepted = 0
        if not lines:
            pass
        elif not self._use_fast_path:
            _, raw = _batch_text(lines)
            accepted = self._all_general(lines, _prefix(raw), first_line, received_ts, framed,
                                         rejections)  # fmt: skip
        elif len(lines) >= self._vector_min_lines:
            all_ascii, raw = _batch_text(lines)
            scan = scan_lines(lines, raw, None if all_ascii else [x.isascii() for x in lines])
            accepted = self._vector(lines, scan, raw, first_line, received_ts, framed,
                                    rejections)  # fmt: skip
        else:
            _, raw = _batch_text(lines)
            messages: list[AisMessage] = []
            accepted = self._fast(lines, _prefix(raw), first_line, received_ts, messages,
                                  rejections)  # fmt: skip
            framed.extend(messages)
        stats.accepted += accepted
        stats.messages += len(framed)
        self._report(self._parts.expire(stats.lines), rejections)
        stats.pending = self._parts.pending
        return framed, rejections

    def _all_general(
        self,
        lines: Sequence[str],
        prefix: bytes,
        first_line: int,
        received_ts: float | None,
        framed: FramedMessages,
        rejections: list[Rejection],
    ) -> int:
        """Every line through :meth:`_general` (the reference the other paths must equal)."""
        messages: list[AisMessage] = []
        accepted, offset = 0, 1
        for i, line in enumerate(lines):
            accepted += self._general(line, prefix, offset - 1, first_line + i + 1, received_ts,
                                      messages, rejections)  # fmt: skip
            offset += len(line) + 1
        framed.extend(messages)
        return accepted

    def _fast(
        self,
        lines: Sequence[str],
        prefix: bytes,
        first_line: int,
        received_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> int:
        """The batch loop: plain single-sentence ``!..VDM`` and ``$PGHP`` lines inline.

        Tag-block and USCG-trailer lines and fragments go to :meth:`_fast_vdm`; any line the
        fast tests do not fully accept goes to :meth:`_general`, which decides. Returns the
        number of lines accepted directly (fragments are counted on completion).
        """
        make, member, source, receiver = _make_message, self.member, self.source, self.receiver
        talkers, hexes, tails, ms_values = self._talkers, _HEX, _TAILS, _MS
        seq_ids, channels, bad_char = SEQ_IDS, CHANNELS, BAD_PAYLOAD_CHAR
        seconds, append, observe = self._pghp_seconds, messages.append, self._parts.observe
        watched, fast_vdm, general = self._parts.stations, self._fast_vdm, self._general
        accepted, offset = 0, 1
        for i, line in enumerate(lines):
            n = len(line)
            if n > 18:
                head = line[0]
                if head == "!" and line[n - 3] == "*":
                    f = line.split(",")
                    if (
                        len(f) == 7
                        and f[1] == "1"
                        and f[2] == "1"
                        and (talker := talkers.get(f[0]))
                        and (tail := tails.get(f[6]))
                        and tail[1] == prefix[offset] ^ prefix[offset + n - 4]
                        and f[3] in seq_ids
                        and f[4] in channels
                        and f[5]
                        and not bad_char(f[5])
                    ):
                        pghp, self._pghp = self._pghp, None
                        ts, rx = pghp if pghp is not None else (received_ts, None)
                        if (
                            ts is not None
                            and None in watched
                            and (pghp is not None or not self._carries_times)
                        ):
                            observe(None, ts)
                        append(
                            make(f[5], tail[0], f[4], talker, ts, member, source,
                                 rx or receiver, (line,))
                        )  # fmt: skip
                        accepted += 1
                        offset += n + 1
                        continue
                elif head == "$":
                    f = line.split(",")
                    if (
                        len(f) == 14
                        and f[0] == "$PGHP"
                        and f[1] == "1"
                        and len(f[13]) == 5
                        and hexes.get(f[13][3:]) == prefix[offset] ^ prefix[offset + n - 4]
                        and f[8] in ms_values
                        and line.count("*") == 1
                        and "\\" not in line
                        and (second := seconds.get(key := tuple(f[2:8])) or self._pghp_second(key))
                    ):
                        ts = second + ms_values[f[8]]
                        self._pghp = (ts, f[11] or None)
                        self._carries_times = True
                        if None in watched:
                            observe(None, ts)
                        accepted += 1
                        offset += n + 1
                        continue
                if head == "!" or head == "\\":
                    taken = fast_vdm(line, offset, prefix, first_line + i + 1, received_ts,
                                     messages, rejections)  # fmt: skip
                    if taken >= 0:
                        accepted += taken
                        offset += n + 1
                        continue
            accepted += general(line, prefix, offset - 1, first_line + i + 1, received_ts,
                                messages, rejections)  # fmt: skip
            offset += n + 1
        return accepted

    def _scalar_line(
        self,
        line: str,
        prefix: bytes,
        line_no: int,
        received_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> int:
        """One line the vector scan left: :meth:`_fast_vdm` if it can, else :meth:`_general`.

        ``prefix`` is the running XOR of the line with one character before it.
        """
        if len(line) > 18 and line[0] in "!\\":
            taken = self._fast_vdm(line, 1, prefix, line_no, received_ts, messages, rejections)
            if taken >= 0:
                return taken
        return self._general(line, prefix, 0, line_no, received_ts, messages, rejections)

    def _pghp_second(self, key: tuple[str, ...]) -> float | None:
        """Epoch second of ``$PGHP`` date/time fields (cached); ``None`` if invalid."""
        try:
            second = parse_pghp_time(["$PGHP", "1", *key, "0"])
        except NmeaError:
            return None
        if len(self._pghp_seconds) >= _CACHE_SIZE:
            self._pghp_seconds.clear()
        self._pghp_seconds[key] = second
        return second

    def _tag(self, content: str, prefix: bytes, base: int) -> _Tag | None:
        """A tag block's (time, station, group id), cached; ``None`` if it is not valid."""
        tag = self._tags.get(content)
        if tag is None:
            try:
                block = parse_tag_block(content, prefix, base)
            except NmeaError:
                return None
            if len(self._tags) >= _CACHE_SIZE:
                self._tags.clear()
            tag = self._tags[content] = (block.received_ts, block.station, block.group_id)
        return tag

    def _fast_vdm(
        self,
        line: str,
        offset: int,
        prefix: bytes,
        line_no: int,
        received_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> int:
        """A ``[\\tag\\]!..VDM...*hh[,uscg trailer]`` line without surprises.

        Returns the lines accepted now (0 or 1), or -1 to let :meth:`_general` decide.
        """
        start, end, carried_ts, station, group_id = 0, len(line), None, None, None
        if line[0] == "\\":
            close = line.find("\\", 1)
            tag = self._tag(line[1:close], prefix, offset) if close > 0 else None
            if tag is None or line[close + 1 : close + 2] != "!":
                return -1
            carried_ts, station, group_id = tag
            start = close + 1
        elif line[end - 3] != "*":
            end = line.find("*") + 3
            if end < 3 or line[end : end + 1] != "," or line[-1].isspace():
                return -1
            station, carried_ts = parse_uscg_trailer(line[end + 1 :])
        f = line[start:end].split(",")
        if not (
            len(f) == 7
            and f[0] in self._talkers
            and (tail := _TAILS.get(f[6]))
            and tail[1] == prefix[offset + start] ^ prefix[offset + end - 4]
            and f[3] in SEQ_IDS
            and f[4] in CHANNELS
            and f[1] in FRAGMENT_DIGITS
            and f[2] in FRAGMENT_DIGITS
            and f[2] <= f[1]
            and f[5]
            and not BAD_PAYLOAD_CHAR(f[5])
        ):
            return -1
        sentence = Sentence(f[0], int(f[1]), int(f[2]), f[3], f[4], f[5], tail[0], group_id)
        parsed = ParsedLine((sentence,), carried_ts, station)
        return self._emit(parsed, line, line_no, received_ts, messages, rejections)

    def _general(
        self,
        line: str,
        prefix: bytes,
        base: int,
        line_no: int,
        received_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> int:
        """Frame any line; returns 1 if the line was accepted now, else 0."""
        try:
            parsed = parse_line(line, prefix, base)
        except NmeaError as error:
            if error.reason not in (RejectReason.EMPTY, RejectReason.COMMENT):
                self._pghp = None
            self._reject(error.reason, line, error.detail, rejections)
            return 0
        if parsed.is_pghp:
            self._pghp = None
            if parsed.received_ts is not None:
                self._pghp = (parsed.received_ts, parsed.receiver)
                self._carries_times = True
                self._parts.observe(None, parsed.received_ts)
            return 1
        self._talkers.update((s.address, s.talker) for s in parsed.sentences)
        return self._emit(parsed, line, line_no, received_ts, messages, rejections)

    def _emit(
        self,
        parsed: ParsedLine,
        line: str,
        line_no: int,
        received_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> int:
        """Emit the message of an accepted AIS line, or hand its fragment to reassembly.

        Returns 1 if the line was accepted now, 0 if it went to reassembly.
        """
        pghp, self._pghp = self._pghp, None
        carried_ts, rx, station = parsed.received_ts, parsed.receiver, parsed.receiver
        if pghp is not None:
            carried_ts = pghp[0] if carried_ts is None else carried_ts
            rx = pghp[1] if rx is None else rx
        line_ts = received_ts if carried_ts is None else carried_ts
        if carried_ts is not None:
            self._carries_times = True
            self._parts.observe(station, carried_ts)
        elif received_ts is not None and not self._carries_times:
            self._parts.observe(station, received_ts)
        sentences = parsed.sentences
        first = sentences[0]
        if first.total == len(sentences):
            payload = first.payload if first.total == 1 else "".join(s.payload for s in sentences)
            messages.append(
                _make_message(payload, sentences[-1].fill_bits, first.channel, first.talker,
                              line_ts, self.member, self.source, rx or self.receiver, (line,))
            )  # fmt: skip
            return 1
        fragment = Fragment(
            first.number, first.total, first.payload, first.fill_bits, first.channel,
            first.talker, line, carried_ts, received_ts, rx,
        )  # fmt: skip
        key = self._key(first, station)
        self._add_fragment(key, station, fragment, line_no, line_ts, messages, rejections)
        return 0

    def _add_fragment(
        self,
        key: Hashable,
        station: str | None,
        fragment: Fragment,
        line_no: int,
        line_ts: float | None,
        messages: list[AisMessage],
        rejections: list[Rejection],
    ) -> None:
        done, dropped = self._parts.add(key, station, fragment, line_no, line_ts)
        self._report(dropped, rejections)
        if done is not None:
            messages.append(self._join(done))
            self.stats.accepted += len(done)

    @staticmethod
    def _key(sentence: Sentence, station: str | None) -> Hashable:
        if sentence.group_id is not None:
            return ("g", sentence.group_id)
        return ("s", station, sentence.seq_id, sentence.channel)

    def _join(self, fragments: list[Fragment]) -> AisMessage:
        """One message from its fragments, in order."""
        first = fragments[0]
        ts = next((f.carried_ts for f in fragments if f.carried_ts is not None), first.frame_ts)
        rx = next((f.receiver for f in fragments if f.receiver is not None), self.receiver)
        return _make_message(
            "".join(f.payload for f in fragments), fragments[-1].fill_bits, first.channel,
            first.talker, ts, self.member, self.source, rx, tuple(f.line for f in fragments),
        )  # fmt: skip

    def _reject(
        self, reason: RejectReason, line: str, detail: str, rejections: list[Rejection]
    ) -> None:
        rejected = self.stats.rejected
        rejected[reason] = rejected.get(reason, 0) + 1
        rejections.append(Rejection(reason, self.source, line, detail))

    def _report(self, dropped: list[Dropped], rejections: list[Rejection]) -> None:
        for d in dropped:
            self._reject(d.reason, d.fragment.line, d.detail, rejections)
