"""Position reports of a whole batch at once, with numpy: the vector form of the fast path.

:func:`decode_positions` decodes the standard 168-bit position reports of a batch (types 1, 2,
3 and 18 with a 28-character payload and no fill bits: nearly every message of a live feed)
in one pass over a ``(messages, 28)`` array of six-bit values, and gives for each one the very
:class:`~lookout.ais.fastpath.PositionReport` that :func:`~lookout.ais.fastpath.decode_position`
returns (the tests compare them on every shared file and on random payloads). Every other
message, and any that :func:`~lookout.ais.fastpath.decode_position` would refuse (a bad MMSI,
a character outside the armour), is left as ``None`` for the scalar decoder to decide.

Field offsets are those of ITU-R M.1371-5 Annex 8 (the Message 1/2/3 and 18 tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from operator import itemgetter
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from lookout.ais.fastpath import _TURN, PositionReport
from lookout.ais.nmea import SIXBIT_ALPHABET

__all__ = [
    "PositionColumns",
    "PositionRow",
    "decode_position_columns",
    "decode_positions",
    "position_rows",
]

Ints = npt.NDArray[np.int64]

_CHARS: Final = 28
_SIXBIT_VALUE: Final = np.full(256, 64, dtype=np.uint8)
_SIXBIT_VALUE[np.frombuffer(SIXBIT_ALPHABET, dtype=np.uint8)] = np.arange(64)
_WORD_WEIGHTS: Final = 64 ** np.arange(9, -1, -1, dtype=np.int64)
"""Ten six-bit values to one 60-bit word, first character highest."""
_new_report: Final = partial(tuple.__new__, PositionReport)

PositionRow = tuple[
    int, int, float | None, float | None, float | None, float | None, int | None, int | None
]
"""The first eight fields of a :class:`~lookout.ais.fastpath.PositionReport`: ``msg_type,
mmsi, lat, lon, speed_kn, course_deg, heading_deg, status`` (what fusion reads)."""

# (offset, width) of the fields, in bits from the start of the message.
_CLASS_A: Final = {
    "mmsi": (8, 30), "status": (38, 4), "turn": (42, 8), "speed": (50, 10),
    "accuracy": (60, 1), "lon": (61, 28), "lat": (89, 27), "course": (116, 12),
    "heading": (128, 9), "second": (137, 6), "raim": (148, 1), "repeat": (6, 2),
}  # fmt: skip
_CLASS_B: Final = {
    "mmsi": (8, 30), "speed": (46, 10), "accuracy": (56, 1), "lon": (57, 28), "lat": (85, 27),
    "course": (112, 12), "heading": (124, 9), "second": (133, 6), "raim": (147, 1),
    "repeat": (6, 2),
}  # fmt: skip


def _field(words: Ints, offset: int, width: int) -> Ints:
    """Bits ``offset .. offset + width`` of each message (``words``: 60 bits per row)."""
    first, last = offset // 60, (offset + width - 1) // 60
    if first == last:
        shift = 60 * (first + 1) - offset - width
        value: Ints = (words[first] >> shift) & ((1 << width) - 1)
        return value
    high = 60 * (first + 1) - offset
    low = width - high
    value = ((words[first] & ((1 << high) - 1)) << low) | (words[last] >> (60 - low))
    return value


def _table(values: list[Any]) -> npt.NDArray[np.object_]:
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table


# The Python value of every raw value of the small fields, as the scalar path computes it.
_SPEED: Final = _table([v / 10 if v != 1023 else None for v in range(1024)])
_COURSE: Final = _table([v / 10 if v < 3600 else None for v in range(4096)])
_HEADING: Final = _table([v if v < 360 else None for v in range(512)])
_SECOND: Final = _table([v if v != 60 else None for v in range(64)])
_INT: Final = _table(list(range(64)))
_BOOL: Final = _table([False, True])
_TURN_VALUES: Final = _table(list(_TURN))


def _degrees(raw: Ints, width: int, limit: int) -> list[float | None]:
    """1/10000 minute to degrees rounded to 6 decimals, as the scalar path: ``None`` beyond
    ``limit`` (91 or 181 degrees: not available)."""
    value = np.where(raw >> (width - 1) == 1, raw - (1 << width), raw)
    degrees: list[float | None] = ((10 * value + 3) // 6 / 1e6).tolist()
    for i in np.flatnonzero(np.abs(value) > limit).tolist():
        degrees[i] = None
    return degrees


class PositionColumns(NamedTuple):
    """Decoded position reports as one list per field (the fields of
    :class:`~lookout.ais.fastpath.PositionReport`, same values): report ``k`` is message
    ``at[k]`` of the batch."""

    at: list[int]
    msg_type: list[int]
    mmsi: list[int]
    lat: list[float | None]
    lon: list[float | None]
    speed_kn: list[float | None]
    course_deg: list[float | None]
    heading_deg: list[int | None]
    status: list[int | None]
    turn: list[float | None]
    accuracy: list[bool]
    second: list[int | None]
    raim: list[bool]
    repeat: list[int]

    def reports(self) -> list[PositionReport]:
        """The reports themselves, in the order of ``at``."""
        return list(map(_new_report, zip(*self[1:], strict=True)))


def _columns(
    index: Ints, words: Ints, types: Ints, layout: dict[str, tuple[int, int]], full: bool
) -> list[list[Any]]:
    """The field columns of messages of one class (``full``: all fields, else the first
    eight, the ones fusion reads)."""
    f = {name: _field(words, *where) for name, where in layout.items()}
    missing = [None] * len(types)
    class_a = "status" in f
    columns = [
        index.tolist(),
        _INT[types].tolist(),
        f["mmsi"].tolist(),
        _degrees(f["lat"], 27, 54_000_000),
        _degrees(f["lon"], 28, 108_000_000),
        _SPEED[f["speed"]].tolist(),
        _COURSE[f["course"]].tolist(),
        _HEADING[f["heading"]].tolist(),
        _INT[f["status"]].tolist() if class_a else missing,
    ]
    if full:
        columns += [
            _TURN_VALUES[f["turn"]].tolist() if class_a else missing,
            _BOOL[f["accuracy"]].tolist(),
            _SECOND[f["second"]].tolist(),
            _BOOL[f["raim"]].tolist(),
            _INT[f["repeat"]].tolist(),
        ]
    return columns


def _decode(payloads: Sequence[str], fill_bits: Sequence[int], full: bool) -> list[list[Any]]:
    """Columns of the reports decoded here: class A, then class B."""
    picked, words, outside = _words(payloads, fill_bits)
    types = words[0] >> 54
    mmsi = _field(words, 8, 30)
    good = (mmsi > 0) & (mmsi <= 999_999_999) & ~outside & (types >= 1)
    columns: list[list[Any]] = [[] for _ in range(14 if full else 9)]
    for wanted, layout in ((types <= 3, _CLASS_A), (types == 18, _CLASS_B)):
        rows = np.flatnonzero(good & wanted)
        if rows.size:
            found = _columns(picked[rows], words[:, rows], types[rows], layout, full)
            for column, values in zip(columns, found, strict=True):
                column += values
    return columns


def decode_position_columns(payloads: Sequence[str], fill_bits: Sequence[int]) -> PositionColumns:
    """The reports decoded here, as columns (see the module docstring for which)."""
    return PositionColumns(*_decode(payloads, fill_bits, full=True))


def decode_positions(
    payloads: Sequence[str], fill_bits: Sequence[int]
) -> list[PositionReport | None]:
    """Per message, its position report decoded here, or ``None`` where the scalar decoder
    must decide (see the module docstring)."""
    out: list[PositionReport | None] = [None] * len(payloads)
    columns = decode_position_columns(payloads, fill_bits)
    for i, report in zip(columns.at, columns.reports(), strict=True):
        out[i] = report
    return out


def position_rows(payloads: Sequence[str], fill_bits: Sequence[int]) -> list[PositionRow | None]:
    """Like :func:`decode_positions`, but each decoded report cut to its first eight fields
    (a plain tuple): less to build when only those are read."""
    out: list[PositionRow | None] = [None] * len(payloads)
    index, *columns = _decode(payloads, fill_bits, full=False)
    for i, row in zip(index, zip(*columns, strict=True), strict=True):
        out[i] = row
    return out


def _words(
    payloads: Sequence[str], fill_bits: Sequence[int]
) -> tuple[Ints, Ints, npt.NDArray[np.bool_]]:
    """The messages with a standard 168-bit payload, their bits as three 60-bit words (rows),
    and which of them have a character outside the armour."""
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    fills = np.fromiter(fill_bits, dtype=np.int64, count=len(payloads))
    picked = np.flatnonzero((lengths == _CHARS) & (fills == 0))
    count = len(picked)
    if count < 2:
        if not count:
            return picked, np.zeros((3, 0), dtype=np.int64), np.zeros(0, dtype=np.bool_)
        text = payloads[int(picked[0])]  # itemgetter returns a tuple only for two or more
    else:
        text = "".join(itemgetter(*picked.tolist())(payloads))
    if text.isascii():
        codes = np.frombuffer(text.encode(), dtype=np.uint8)
    else:  # one code per character; those beyond ASCII are outside the armour too
        codes = np.minimum(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), 255)
    sixbit = _SIXBIT_VALUE[codes].reshape(-1, _CHARS)
    outside = np.zeros(count, dtype=np.bool_)
    if sixbit.max() > 63:
        outside = sixbit.max(axis=1) > 63
    values = np.zeros((count, 30), dtype=np.int64)
    values[:, :_CHARS] = sixbit
    words: Ints = (values.reshape(-1, 3, 10) @ _WORD_WEIGHTS).T.copy()
    return picked, words, outside
