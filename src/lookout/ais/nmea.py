"""NMEA 0183 / 4.0 line conventions: checksums, tag blocks, VDM/VDO fields and receive times.

This module parses one line into what it carries; the :class:`~lookout.ais.framing.Framer`
keeps the state between lines (pending ``$PGHP`` time, partial messages).

Line grammar (one input line)::

    [ "\\" tag-block "*hh" "\\" ] sentence "*hh" [ trailer ]

- **Sentence**: ``!ccVDM`` / ``!ccVDO`` with any two-character talker ``cc`` (letters, digits
  or ``-``, e.g. ``AI``, ``BS``, ``AB``, ``--``) and exactly seven fields; ``$PGHP`` (Gatehouse
  receive time); any other well-formed sentence is ``unsupported_sentence``.
- **Checksums** are enforced: the sentence's ``*hh`` and the tag block's ``*hh`` (two hex
  digits, either case). A sentence or tag block without ``*`` is ``missing_checksum``.
- **Tag block** (NMEA 4.0): the checksum covers the text between ``\\`` and ``*``; a
  checksum that matches only without the ``g:`` field is accepted too, because the Norwegian
  Coastal Administration's open feed computes it so (all 246 grouped lines of
  ``kystverket/Ais1000Lines.nm4``). ``c:`` receive time in Unix seconds, read as milliseconds
  when it is above 1e11; ``s:`` source station, which becomes the receiver; ``g:n-t-id``
  sentence group, whose id keys the reassembly of a multi-sentence message. Other fields
  (``n:``, ``t:``, ``T:``, ``q:``, ...) are checked for ``key:value`` shape and ignored. A line
  that holds only a tag block is ``bad_framing``.
- **Several [tag block +] sentence parts on one line**: the form written by Global Fishing
  Watch's ``join_multipart`` (all the sentences of one message concatenated). Accepted when
  the parts are exactly the sentences ``1..N`` of one ``N``-sentence message; any other
  combination is ``bad_framing``, and so is a literal ``\\r\\n`` escape joining two
  sentences (``dma-aislib/ais250.txt``).
- **Trailer after the checksum**: the USCG NAIS form ``,d-109,S2105,...,r003669946,
  1325394060,...`` is accepted: the first field starting with ``r`` or ``b`` is the receiver
  and the first all-digit field after it is the receive time (Unix seconds). Any other text
  after the checksum (e.g. a stray quote) is ``bad_framing``: the checksum does not cover it
  and we cannot tell what it means, so the line is counted rather than guessed at. A trailer
  without a receiver field carries nothing we use (two lines of ``stream_example.txt`` end in
  a bare epoch that disagrees with their ``$PGHP`` time by ~20 s).
- **$PGHP** (Gatehouse) ``$PGHP,1,yyyy,m,d,h,m,s,ms,country,region,base-mmsi,online,cs*hh``
  carries the receive time (UTC) and the receiving base station's MMSI (the receiver) of the
  message on the next line.

Blank lines are ``empty`` and lines starting with ``#`` are ``comment``: both are counted as
rejects, so every input line is accepted or rejected with a reason.

The records built per line (:class:`TagBlock`, :class:`Sentence`, :class:`ParsedLine`) are
named tuples, not frozen dataclasses: they are as immutable and several times cheaper to
build, which matters at a few microseconds per line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import reduce
from itertools import accumulate
from operator import xor
from typing import NamedTuple

from lookout.model import RejectReason

__all__ = [
    "BAD_PAYLOAD_CHAR",
    "CHANNELS",
    "FILL_BITS",
    "FRAGMENT_DIGITS",
    "MS_THRESHOLD",
    "SEQ_IDS",
    "SIXBIT_ALPHABET",
    "NmeaError",
    "ParsedLine",
    "Sentence",
    "TagBlock",
    "checksum",
    "hex_value",
    "is_valid_address",
    "is_valid_payload",
    "parse_line",
    "parse_pghp_time",
    "parse_tag_block",
    "parse_uscg_trailer",
    "prefix_xor",
]

SIXBIT_ALPHABET: bytes = bytes(range(48, 88)) + bytes(range(96, 120))
"""The armoured AIS payload alphabet (ITU-R M.1371 / IEC 61162-1): ASCII 48-87 and 96-119."""
BAD_PAYLOAD_CHAR = re.compile("[^0-W`-w]").search
"""Finds the first character outside :data:`SIXBIT_ALPHABET` (one C-level scan)."""

MS_THRESHOLD = 1e11
"""A tag block ``c:`` value above this is milliseconds (1e11 s is in the year 5138)."""

FILL_BITS = frozenset("012345")
SEQ_IDS = frozenset(["", *"0123456789"])
CHANNELS = frozenset(["", *"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"])
"""Radio channel field: empty or one ASCII letter or digit (``A``/``B`` in practice)."""
FRAGMENT_DIGITS = frozenset("123456789")
VDM_VDO = frozenset(["VDM", "VDO"])
_TALKER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def _hex_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for value in range(256):
        digits = f"{value:02X}"
        hi, lo = digits[0], digits[1]
        for a in {hi, hi.lower()}:
            for b in {lo, lo.lower()}:
                table[a + b] = value
    return table


_HEX = _hex_table()


class NmeaError(ValueError):
    """A line that cannot be accepted; ``reason`` is how it is counted."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class TagBlock(NamedTuple):
    """The fields of an NMEA 4.0 tag block that Lookout uses."""

    received_ts: float | None = None
    station: str | None = None
    group_number: int | None = None
    group_total: int | None = None
    group_id: str | None = None


class Sentence(NamedTuple):
    """One VDM/VDO sentence: fragment ``number`` of ``total`` of an AIS message."""

    address: str
    """``!AIVDM``, ``!BSVDO``, ..."""
    total: int
    number: int
    seq_id: str
    channel: str
    payload: str
    fill_bits: int
    group_id: str | None = None

    @property
    def talker(self) -> str:
        return self.address[1:3]


class ParsedLine(NamedTuple):
    """What one accepted line carries.

    ``sentences`` is empty for a ``$PGHP`` line (``is_pghp``), one sentence for an ordinary
    line, or all the sentences of one message for a joined line. ``received_ts`` and
    ``receiver`` are what the line itself carries (tag block, USCG trailer, ``$PGHP``).
    """

    sentences: tuple[Sentence, ...]
    received_ts: float | None = None
    receiver: str | None = None
    is_pghp: bool = False


def checksum(text: str) -> int:
    """XOR of the characters of ``text`` (the part between ``!``/``$`` and ``*``)."""
    return reduce(xor, text.encode("ascii", "replace"), 0)


def prefix_xor(text: str) -> bytes:
    """``p[k]`` = XOR of ``text[:k]``, so the checksum of ``text[a:b]`` is ``p[a] ^ p[b]``."""
    return bytes(accumulate(text.encode("ascii", "replace"), xor, initial=0))


def hex_value(hh: str) -> int | None:
    """Two hex digits (either case) to their value; ``None`` for anything else."""
    return _HEX.get(hh)


def is_valid_payload(payload: str) -> bool:
    """Non-empty and every character in the six-bit alphabet."""
    return bool(payload) and BAD_PAYLOAD_CHAR(payload) is None


def is_valid_address(address: str) -> bool:
    """``!ccVDM`` / ``!ccVDO`` with a two-character talker of letters, digits or ``-``."""
    return (
        len(address) == 6
        and address[0] == "!"
        and address[3:] in VDM_VDO
        and address[1] in _TALKER_CHARS
        and address[2] in _TALKER_CHARS
    )


def _is_ascii_digits(text: str) -> bool:
    """``str.isdigit`` also accepts digits such as "²" that ``int()`` refuses."""
    return text.isascii() and text.isdigit()


def _parse_ts(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise NmeaError(RejectReason.BAD_TAG_BLOCK, f"bad time {text!r}") from None
    if not 0.0 <= value < 1e14 or not _is_ascii_digits(text.replace(".", "", 1)):
        raise NmeaError(RejectReason.BAD_TAG_BLOCK, f"bad time {text!r}")
    return value / 1000.0 if value > MS_THRESHOLD else value


def _parse_group(text: str) -> tuple[int, int, str]:
    number, _, rest = text.partition("-")
    total, _, group_id = rest.partition("-")
    if not (_is_ascii_digits(number) and _is_ascii_digits(total) and group_id):
        raise NmeaError(RejectReason.BAD_TAG_BLOCK, f"bad group {text!r}")
    n, t = int(number), int(total)
    if not 1 <= n <= t:
        raise NmeaError(RejectReason.BAD_TAG_BLOCK, f"bad group {text!r}")
    return n, t, group_id


def _checksum_without_group(fields: str) -> int | None:
    """Checksum of a tag block's fields leaving out ``g:`` (the Kystverket feed's way)."""
    kept = [f for f in fields.split(",") if not f.startswith("g:")]
    return checksum(",".join(kept)) if kept and kept != fields.split(",") else None


def parse_tag_block(content: str, prefix: bytes | None = None, base: int = 0) -> TagBlock:
    """Parse the text between the two backslashes of a tag block, checksum included.

    ``prefix``/``base`` give the checksum of ``content[a:b]`` as
    ``prefix[base + a] ^ prefix[base + b]`` (computed here when not given).
    """
    star = content.rfind("*")
    if star < 0:
        raise NmeaError(RejectReason.MISSING_CHECKSUM, "tag block without *hh")
    if prefix is None:
        prefix, base = prefix_xor(content), 0
    expected = hex_value(content[star + 1 :])
    if expected is None or (
        expected != prefix[base] ^ prefix[base + star]
        and expected != _checksum_without_group(content[:star])
    ):
        raise NmeaError(RejectReason.BAD_CHECKSUM, "tag block checksum")
    received_ts: float | None = None
    station: str | None = None
    group: tuple[int, int, str] | None = None
    for field in content[:star].split(","):
        key, sep, value = field.partition(":")
        if not sep or not key or not value:
            raise NmeaError(RejectReason.BAD_TAG_BLOCK, f"bad field {field!r}")
        if key == "c":
            received_ts = _parse_ts(value)
        elif key == "s":
            station = value
        elif key == "g":
            group = _parse_group(value)
    if group is None:
        return TagBlock(received_ts, station)
    return TagBlock(received_ts, station, *group)


def parse_uscg_trailer(trailer: str) -> tuple[str | None, float | None]:
    """``,d-109,S2105,t...,T...,r003669946,1325394060,...`` to ``(receiver, received_ts)``."""
    receiver: str | None = None
    for field in trailer.split(","):
        if receiver is None:
            if len(field) > 1 and field[0] in "rb":
                receiver = field
        elif _is_ascii_digits(field):
            return receiver, float(field)
    return receiver, None


def parse_pghp_time(fields: list[str]) -> float:
    """Receive time (epoch seconds UTC) of ``$PGHP,1,yyyy,m,d,h,m,s,ms,...`` split on commas."""
    try:
        year, month, day, hour, minute, second, ms = (int(f) for f in fields[2:9])
        stamp = datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError:
        raise NmeaError(RejectReason.BAD_FRAMING, "bad $PGHP time") from None
    if not 0 <= ms < 1000:
        raise NmeaError(RejectReason.BAD_FRAMING, "bad $PGHP milliseconds")
    return stamp + ms / 1000.0


def _parse_vdm(fields: list[str], group_id: str | None) -> Sentence:
    if len(fields) != 7:
        raise NmeaError(RejectReason.BAD_FRAMING, f"{len(fields)} fields, expected 7")
    address, total, number, seq_id, channel, payload, fill = fields
    if total not in FRAGMENT_DIGITS or number not in FRAGMENT_DIGITS or number > total:
        raise NmeaError(RejectReason.BAD_FRAMING, f"fragment {number!r} of {total!r}")
    if seq_id not in SEQ_IDS or channel not in CHANNELS:
        raise NmeaError(RejectReason.BAD_FRAMING, "bad sequence id or channel")
    if fill not in FILL_BITS:
        raise NmeaError(RejectReason.BAD_FILL_BITS, f"fill bits {fill!r}")
    if not is_valid_payload(payload):
        raise NmeaError(RejectReason.BAD_PAYLOAD, "empty" if not payload else "bad character")
    return Sentence(address, int(total), int(number), seq_id, channel, payload, int(fill), group_id)


def _sentence_fields(line: str, start: int, end: int, prefix: bytes, base: int) -> list[str]:
    """Fields of the sentence ``line[start:end]`` (from ``!``/``$`` to ``*hh``), checked."""
    star = end - 3
    if star <= start or line[star] != "*":
        if "*" in line[start:end]:
            raise NmeaError(RejectReason.BAD_CHECKSUM, "malformed *hh")
        raise NmeaError(RejectReason.MISSING_CHECKSUM)
    expected = hex_value(line[star + 1 : end])
    if expected is None or expected != prefix[base + start + 1] ^ prefix[base + star]:
        raise NmeaError(RejectReason.BAD_CHECKSUM)
    return line[start:star].split(",")


def _sentence_end(line: str, start: int, end: int) -> int:
    """End of the sentence starting at ``start``: after ``*hh``, or at the next part."""
    limit = line.find("\\", start, end)
    limit = end if limit < 0 else limit
    star = line.find("*", start, limit)
    return limit if star < 0 else min(star + 3, limit)


def _parse_part(
    line: str, start: int, end: int, prefix: bytes, base: int
) -> tuple[TagBlock | None, list[str], int]:
    """One ``[\\tag\\]sentence*hh`` part: its tag block, sentence fields and end position."""
    tag: TagBlock | None = None
    if line[start] == "\\":
        close = line.find("\\", start + 1, end)
        if close < 0:
            raise NmeaError(RejectReason.BAD_TAG_BLOCK, "unterminated tag block")
        if close - start == 2 and line[start + 1] in "rn":
            raise NmeaError(RejectReason.BAD_FRAMING, "escaped line break inside the line")
        tag = parse_tag_block(line[start + 1 : close], prefix, base + start + 1)
        start = close + 1
        if start >= end:
            raise NmeaError(RejectReason.BAD_FRAMING, "tag block without a sentence")
    if line[start] not in "!$":
        raise NmeaError(RejectReason.BAD_FRAMING, "not an NMEA sentence")
    stop = _sentence_end(line, start, end)
    return tag, _sentence_fields(line, start, stop, prefix, base), stop


def _check_joined(sentences: list[Sentence]) -> None:
    count = len(sentences)
    for i, sentence in enumerate(sentences, 1):
        if sentence.total != count or sentence.number != i:
            raise NmeaError(
                RejectReason.BAD_FRAMING, f"{count} sentences on one line are not one message"
            )


def _parse_pghp(fields: list[str]) -> ParsedLine:
    if len(fields) < 14:
        raise NmeaError(RejectReason.BAD_FRAMING, "$PGHP with too few fields")
    if fields[1] != "1":
        raise NmeaError(RejectReason.UNSUPPORTED_SENTENCE, f"$PGHP type {fields[1]!r}")
    return ParsedLine((), parse_pghp_time(fields), fields[11] or None, is_pghp=True)


def _content_bounds(line: str) -> tuple[int, int]:
    """Start and end of ``line`` without surrounding whitespace; rejects blanks and comments."""
    stripped = line.strip()
    if not stripped:
        raise NmeaError(RejectReason.EMPTY)
    if stripped[0] == "#":
        raise NmeaError(RejectReason.COMMENT)
    start = len(line) - len(line.lstrip())
    return start, start + len(stripped)


def parse_line(line: str, prefix: bytes | None = None, base: int = 0) -> ParsedLine:
    """Parse one input line; raise :class:`NmeaError` with the reject reason.

    ``prefix``/``base``: checksums of ``line[a:b]`` as ``prefix[base + a] ^ prefix[base + b]``
    (a batch computes them once for all its lines); computed here when not given.
    """
    start, end = _content_bounds(line)
    if prefix is None:
        prefix, base = prefix_xor(line), 0
    sentences: list[Sentence] = []
    received_ts: float | None = None
    receiver: str | None = None
    while start < end:
        tag, fields, stop = _parse_part(line, start, end, prefix, base)
        is_pghp = fields[0] == "$PGHP"
        if not is_pghp and not is_valid_address(fields[0]):
            raise NmeaError(RejectReason.UNSUPPORTED_SENTENCE, fields[0][:8])
        if stop < end and line[stop] == ",":
            receiver, received_ts = parse_uscg_trailer(line[stop + 1 : end])
            stop = end
        elif stop < end and line[stop] not in "\\!":
            raise NmeaError(RejectReason.BAD_FRAMING, "text after the checksum")
        if is_pghp:
            if sentences or stop < end:
                raise NmeaError(RejectReason.BAD_FRAMING, "$PGHP joined with other sentences")
            return _parse_pghp(fields)
        if tag is not None:
            received_ts = tag.received_ts if received_ts is None else received_ts
            receiver = tag.station if receiver is None else receiver
        sentences.append(_parse_vdm(fields, tag.group_id if tag else None))
        start = stop
    if len(sentences) > 1:
        _check_joined(sentences)
    return ParsedLine(tuple(sentences), received_ts, receiver)
