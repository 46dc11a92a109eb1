"""Batch classification of NMEA lines with numpy: the framer's vector path.

:func:`scan_lines` looks at a whole batch at once and picks out the kinds of line that make up
most of a feed, checked as completely as :func:`lookout.ais.nmea.parse_line` would:

- **plain VDM** (:data:`VDM`): ``!ccVDM,1,1,s,c,payload,f*hh`` (or ``VDO``), no tag block and
  nothing after the checksum: a valid talker, one sentence of one, a sequence id of at most
  one digit, a channel of at most one letter or digit, a non-empty six-bit payload, fill bits
  0-5 and a matching checksum;
- **plain pairs** (:data:`PAIR` then :data:`PAIR_END`): two consecutive lines like the above
  but ``2,1`` and ``2,2``, with the same sequence id and channel: the two sentences of one
  message (a type 5, in practice);
- **plain $PGHP** (:data:`PGHP`): ``$PGHP,1,yyyy,m,d,h,m,s,ms,...*hh`` with exactly fourteen
  fields, one ``*``, no ``\\``, a two-character last field before the checksum, date and time
  fields of one to four ASCII digits forming a valid UTC time and a matching checksum.

Every other line is :data:`OTHER` and is left to the scalar paths of the framer, which decide
about it. A line of another kind here is one the general parser accepts with exactly the
values computed here (the framer's tests compare the paths on every shared file
and on mutated lines). Lines with characters outside ASCII are always ``OTHER``.

The batch is one text, ``"\\n" + "\\n".join(lines)``; positions below are offsets in it.
Checksums are XOR reductions of its ranges, six-bit payloads range checks of its bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["OTHER", "PADDING", "PAIR", "PAIR_END", "PGHP", "VDM", "LineScan", "scan_lines"]

OTHER: Final = 0
VDM: Final = 1
PGHP: Final = 2
PAIR: Final = 3
PAIR_END: Final = 4

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bytes = npt.NDArray[np.uint8]
Words = npt.NDArray[np.unsignedinteger[Any]]

_COMMA, _STAR, _BACKSLASH, _NEWLINE = 44, 42, 92, 10
PADDING: Final = 8
"""Zero bytes after the batch text (see :func:`scan_lines`)."""
_MIN_VDM = len("!AIVDM,1,1,,,0,0*hh")
_MIN_PGHP = len("$PGHP,1,2000,1,1,0,0,0,0,,,,,xx*hh")


def _table(chars: bytes | str) -> npt.NDArray[np.bool_]:
    table = np.zeros(256, dtype=np.bool_)
    table[list(chars.encode() if isinstance(chars, str) else chars)] = True
    return table


_TALKER: Final = _table("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_DIGIT: Final = _table("0123456789")
_CHANNEL: Final = _table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_HEX_VALUE: Final = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate("0123456789ABCDEF"):
    _HEX_VALUE[ord(_c)] = _HEX_VALUE[ord(_c.lower())] = _i

_DAYS_IN_MONTH: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0])
_DAYS_BEFORE_MONTH: Final = np.concatenate(([0], np.cumsum(_DAYS_IN_MONTH[:-1])))


class LineScan(NamedTuple):
    """What :func:`scan_lines` found. Arrays of the first three kinds are per batch line.

    ``vdm`` lists the batch indices of plain VDM lines, with their payload bounds and fill bits
    in the ``vdm_*`` arrays (payload bounds relative to the line). ``pairs`` lists the first
    lines of plain two-sentence messages (:data:`PAIR`, the next line is :data:`PAIR_END`),
    with the payload bounds of both lines and the fill bits of the second. ``pghp`` lists the
    plain ``$PGHP`` lines with their receive time and the bounds of their base-station field.
    """

    kinds: npt.NDArray[np.int8]
    starts: Ints
    """Offset of each line in the batch text."""
    vdm: Ints
    vdm_payload_start: Ints
    vdm_payload_end: Ints
    vdm_fill_bits: Ints
    pairs: Ints
    pair_payload_start: Ints
    pair_payload_end: Ints
    pair_end_payload_start: Ints
    pair_end_payload_end: Ints
    pair_fill_bits: Ints
    pghp: Ints
    pghp_ts: Floats
    pghp_receiver_start: Ints
    pghp_receiver_end: Ints


def _line_bounds(lines: Sequence[str], text: Bytes) -> tuple[Ints, Ints]:
    """Start offsets of the lines in the batch text, and their lengths: from the line breaks
    between them, unless a line holds a line break of its own."""
    breaks = np.flatnonzero(text == _NEWLINE)
    if len(breaks) == len(lines):
        starts = breaks + 1
        ends = np.empty_like(starts)
        ends[:-1] = breaks[1:]
        ends[-1] = len(text) - PADDING
        return starts, ends - starts
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    starts = np.empty(len(lines), dtype=np.int64)
    starts[0] = 1
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    starts[1:] += 1
    return starts, lengths


def _any_in(mask: Bytes, low: Ints, high: Ints) -> npt.NDArray[np.bool_]:
    """Whether ``mask`` (0/1 bytes) is set anywhere in ``[low, high)``, per range; the
    ranges must be non-empty, ordered and not overlapping."""
    if not len(low):
        return np.zeros(0, dtype=np.bool_)
    bounds = np.empty(2 * len(low), dtype=np.int64)
    bounds[0::2], bounds[1::2] = low, high
    found: npt.NDArray[np.bool_] = np.bitwise_or.reduceat(mask, bounds)[0::2] != 0
    return found


def _checksums_ok(text: Bytes, starts: Ints, ends: Ints) -> npt.NDArray[np.bool_]:
    """Per line: ``*hh`` at ``end - 3`` equals the XOR of ``text[start + 1:end - 3]``
    (meaningful for lines of at least five characters)."""
    bounds = np.empty(2 * len(starts), dtype=np.int64)
    bounds[0::2] = starts + 1
    bounds[1::2] = np.maximum(ends - 3, starts + 1)
    xor = np.bitwise_xor.reduceat(text, bounds)[0::2]
    hi, lo = _HEX_VALUE[text[ends - 2]], _HEX_VALUE[text[ends - 1]]
    ok: npt.NDArray[np.bool_] = (hi >= 0) & (lo >= 0) & (hi * 16 + lo == xor)
    return ok


def _words(text: Bytes, size: int) -> Words:
    """An unaligned view of ``text``: element ``k`` is ``text[k:k + size]`` as a little-endian
    unsigned integer (one gather reads several bytes of a line)."""
    dtype = np.dtype(f"<u{size}")
    view: Words = np.ndarray((len(text) - size + 1,), dtype, buffer=text, strides=(1,))
    return view


def _le(pattern: bytes) -> int:
    return int.from_bytes(pattern, "little")


_VDM_HEAD: Final = _le(b"!\0\0VD\0,0")
_VDM_HEAD_MASK: Final = _le(b"\xff\0\0\xff\xff\0\xff\xfc")
"""``!ccVDx,n``: the talker ``cc``, sentence letter ``x`` and count ``n`` (``0``-``3`` pass
this mask) are checked on their own."""
_PGHP_HEAD: Final = _le(b"$PGHP,1,")


def _vdm(text: Bytes, w8: Words, starts: Ints, lengths: Ints) -> tuple[Ints, ...]:
    """Plain VDM lines of one sentence of one or of two: indices, payload bounds (absolute),
    fill bits, sentence count, sentence number, and a key of sequence id and channel.

    Fields are found at fixed places: ``!ccVDM,1,1,`` is eleven characters, the sequence id
    and channel one or none each, then the payload up to the comma five characters before
    the end (``,f*hh``). Other commas would sit in a field whose characters are checked.
    """
    ends = starts + lengths
    cand = np.flatnonzero(
        (lengths >= _MIN_VDM) & (text[starts] == ord("!")) & (text[ends - 3] == _STAR)
        & (text[ends - 5] == _COMMA)
    )  # fmt: skip
    s, e = starts[cand], ends[cand]
    head = w8[s]
    letter = (head >> 40) & 0xFF
    seq_digit = _DIGIT[text[s + 11]] & (text[s + 12] == _COMMA)
    c3 = np.where(seq_digit, s + 12, s + 11)
    chan = _CHANNEL[text[c3 + 1]] & (text[c3 + 2] == _COMMA)
    c4 = np.where(chan, c3 + 2, c3 + 1)
    fill = text[e - 4] - np.uint8(48)
    total = ((head >> 56) & 0xFF).astype(np.int64) - 48
    number = text[s + 9].astype(np.int64) - 48
    ok = (
        ((head & _VDM_HEAD_MASK) == _VDM_HEAD)
        & (text[s + 8] == _COMMA) & (number >= 1) & (number <= total) & (total <= 2)
        & (text[s + 10] == _COMMA)
        & _TALKER[(head >> 8) & 0xFF] & _TALKER[(head >> 16) & 0xFF]
        & ((letter == ord("M")) | (letter == ord("O")))
        & (seq_digit | (text[s + 11] == _COMMA))
        & (chan | (text[c3 + 1] == _COMMA))
        & (c4 + 1 < e - 5)
        & (fill <= 5)
    )  # fmt: skip
    key = (c3 - s) * 65536 + text[s + 11].astype(np.int64) * 256 + text[c3 + 1]
    cand, c4, e, fill, total, number, key = (x[ok] for x in (cand, c4, e, fill, total, number, key))
    sixbit = text - np.uint8(48)
    not_sixbit = ((sixbit > 39) & (sixbit < 48)) | (sixbit > 71)
    clean = ~_any_in(not_sixbit.view(np.uint8), c4 + 1, e - 5)
    return tuple(x[clean] for x in (cand, c4 + 1, e - 5, fill.astype(np.int64), total, number, key))


def _numbers(w4: Words, commas: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Values of the fields between consecutive ``commas`` (columns), each one to four ASCII
    digits; and whether every field of a row is such a number.

    Four characters at a time: the field's last four bytes as one integer, the bytes before
    the field replaced by ``0``, checked to be digits and summed in place (SWAR).
    """
    widths = np.clip(np.diff(commas, axis=1) - 1, 0, 5)
    x = (w4[commas[:, 1:] - 4] & _KEEP[widths]) | _ZEROS[widths]
    digits_ok = ((x & _HIGH_NIBBLES) == _DIGIT_ZEROS) & (
        ((x + _SIX) & _HIGH_NIBBLES) == _DIGIT_ZEROS
    )
    ok = np.all(digits_ok & (widths >= 1) & (widths <= 4), axis=1)
    d = x & _LOW_NIBBLES
    pairs = (d * np.uint32(10) + (d >> np.uint32(8))) & np.uint32(0x00FF00FF)
    values = (pairs * np.uint32(100) + (pairs >> np.uint32(16))) & np.uint32(0xFFFF)
    return values.astype(np.int64), ok


# Per field width 0..5: the bytes of the field's last four kept, the others set to "0".
_KEEP: Final = np.array([0, 0xFF000000, 0xFFFF0000, 0xFFFFFF00, 0xFFFFFFFF, 0], dtype=np.uint32)
_ZEROS: Final = np.uint32(0x30303030) & ~_KEEP
_HIGH_NIBBLES, _LOW_NIBBLES = np.uint32(0xF0F0F0F0), np.uint32(0x0F0F0F0F)
_DIGIT_ZEROS, _SIX = np.uint32(0x30303030), np.uint32(0x06060606)


def _epoch_seconds(fields: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Epoch seconds of columns (year, month, day, hour, minute, second); validity."""
    year, month, day, hour, minute, second = fields.T
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month = np.clip(month, 0, 13)
    days_in_month = _DAYS_IN_MONTH[month] + (leap & (month == 2))
    ok = (
        (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days_in_month)
        & (hour <= 23) & (minute <= 59) & (second <= 59)
    )  # fmt: skip
    y = year - 1  # days from 0001-01-01 (proleptic Gregorian) to 1970-01-01: 719,162
    days = y * 365 + y // 4 - y // 100 + y // 400 - 719162
    days += _DAYS_BEFORE_MONTH[month] + (leap & (month > 2)) + day - 1
    return days * 86400 + hour * 3600 + minute * 60 + second, ok


def _pghp(
    text: Bytes, w8: Words, w4: Words, starts: Ints, lengths: Ints
) -> tuple[Ints, Floats, Ints, Ints]:
    """Plain $PGHP lines: indices, receive times and base-station field bounds (absolute)."""
    ends = starts + lengths
    cand = np.flatnonzero(
        (lengths >= _MIN_PGHP) & (text[starts] == ord("$")) & (text[ends - 3] == _STAR)
        & (text[ends - 6] == _COMMA)
    )  # fmt: skip
    cand = cand[w8[starts[cand]] == _PGHP_HEAD]
    if not len(cand):  # a feed without Gatehouse times: no need to look for commas
        return cand, np.zeros(0), cand, cand
    s, e = starts[cand], ends[cand]
    commas = np.flatnonzero(text == _COMMA)
    first = np.searchsorted(commas, s)
    ok = np.searchsorted(commas, e) - first == 13
    specials = ((text == _STAR) | (text == _BACKSLASH)).view(np.uint8)
    ok &= ~_any_in(specials, s, e - 3)
    cand, first = cand[ok], first[ok]
    c = commas[first[:, None] + np.arange(13)]
    values, ok = _numbers(w4, c[:, 1:9])
    seconds, time_ok = _epoch_seconds(values[:, :6])
    ok &= time_ok & (values[:, 6] <= 999)
    ts = seconds[ok].astype(np.float64) + values[ok, 6].astype(np.float64) / 1000.0
    return cand[ok], ts, c[ok, 10] + 1, c[ok, 11]


def _pairs(vdm: Ints, total: Ints, number: Ints, key: Ints) -> Ints:
    """Positions in ``vdm`` of sentence 1 of 2 followed, on the next line, by its sentence 2
    (same sequence id and channel)."""
    follows = (vdm[1:] == vdm[:-1] + 1) & (key[1:] == key[:-1])
    first: Ints = np.flatnonzero(
        follows & (total[:-1] == 2) & (number[:-1] == 1) & (number[1:] == 2)
    )
    return first


def scan_lines(lines: Sequence[str], text: Bytes, ascii_only: Sequence[bool] | None) -> LineScan:
    """Classify every line of a batch (at least one); see the module docstring.

    ``text`` is ``("\\n" + "\\n".join(lines))`` encoded with one byte per character and
    followed by exactly :data:`PADDING` zero bytes. ``ascii_only`` says which lines are ASCII
    (``None``: all of them); the others are ``OTHER``.
    """
    starts, lengths = _line_bounds(lines, text)
    if ascii_only is not None:
        lengths = np.where(np.asarray(ascii_only, dtype=np.bool_), lengths, 0)
    checked = _checksums_ok(text, starts, starts + lengths)
    w8 = _words(text, 8)
    vdm, p_start, p_end, fill, total, number, key = _vdm(text, w8, starts, lengths)
    ok = checked[vdm]
    vdm, p_start, p_end, fill, total, number, key = (
        x[ok] for x in (vdm, p_start, p_end, fill, total, number, key)
    )
    pairs = _pairs(vdm, total, number, key)
    single = total == 1
    pghp, ts, r_start, r_end = _pghp(text, w8, _words(text, 4), starts, lengths)
    pghp_ok = checked[pghp]
    pghp, ts, r_start, r_end = pghp[pghp_ok], ts[pghp_ok], r_start[pghp_ok], r_end[pghp_ok]
    kinds = np.zeros(len(lines), dtype=np.int8)
    kinds[vdm[single]] = VDM
    kinds[vdm[pairs]] = PAIR
    kinds[vdm[pairs + 1]] = PAIR_END
    kinds[pghp] = PGHP
    p_start -= starts[vdm]
    p_end -= starts[vdm]
    return LineScan(
        kinds, starts, vdm[single], p_start[single], p_end[single], fill[single],
        vdm[pairs], p_start[pairs], p_end[pairs], p_start[pairs + 1], p_end[pairs + 1],
        fill[pairs + 1], pghp, ts, r_start - starts[pghp], r_end - starts[pghp],
    )  # fmt: skip
