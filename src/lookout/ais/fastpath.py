"""The fast path: position reports (types 1, 2, 3, 18, 19) decoded with shifts and masks.

Position reports are nine messages in ten, so they skip pyais: the armoured payload becomes
one integer in C (``bytes.translate`` onto the base64 alphabet, ``binascii.a2b_base64``,
``int.from_bytes``) and every field is a shift and a mask of that integer. Field offsets are
those of ITU-R M.1371-5 Annex 8 (Message 1/2/3, 18 and 19 tables); "not available" values
become ``None`` per :data:`lookout.ais.tables.NOT_AVAILABLE`.

:mod:`lookout.ais.batchdecode` decodes the standard-length reports of a whole batch at once
with numpy, to the same values; the pipeline uses it and this module for the rest.
"""

from __future__ import annotations

import binascii
import math
from typing import Any, Final, NamedTuple

from lookout.ais.nmea import SIXBIT_ALPHABET
from lookout.ais.tables import MAX_MESSAGE_BITS, MIN_BITS, NOT_AVAILABLE
from lookout.ais.types import DecodeError
from lookout.model import RejectReason

__all__ = [
    "FAST_TYPES",
    "PositionReport",
    "decode_position",
    "payload_bits",
    "position_fields",
    "sixbit_text",
]

FAST_TYPES: Final = frozenset({1, 2, 3, 18, 19})

# The six-bit armour of IEC 61162-1 (the payload field of !AIVDM): characters '0'..'W' carry
# 0..39 and '`'..'w' carry 40..63. Re-mapping them onto the base64 alphabet lets a2b_base64 do
# the 6-to-8-bit repacking in C; every other byte maps to '!', which strict base64 rejects.
_BASE64: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_BASE64: Final = bytes(
    _BASE64[SIXBIT_ALPHABET.index(c)] if c in SIXBIT_ALPHABET else ord("!") for c in range(256)
)
_PAD: Final = (b"", b"A", b"AA", b"AAA")
_a2b: Final = binascii.a2b_base64
_from_bytes: Final = int.from_bytes
_new: Final = tuple.__new__

# Six-bit ASCII for text fields: 0..31 are '@', 'A'..'Z', '[', '\', ']', '^', '_'; 32..63 are
# ' '..'?'. '@' (0) ends a text ("@@@..." = not available).
_SIXBIT_CHARS: Final = "".join(chr(v + 64) if v < 32 else chr(v) for v in range(64))


def _rate_of_turn(raw: int) -> float | None:
    """ROT_AIS (signed) to degrees per minute: ROT = (ROT_AIS / 4.733)^2, signed, rounded to a
    whole degree per minute as pyais does. -128 (not available) and +-127 (turning faster
    than 5 deg per 30 s, no turn indicator: a direction without a rate) are ``None``."""
    if raw in (-128, -127, 127):
        return None
    return math.copysign(round((raw / 4.733) ** 2), raw) if raw else 0.0


# Indexed by the unsigned 8-bit field value.
_TURN: Final = tuple(_rate_of_turn(b - 256 if b > 127 else b) for b in range(256))


class PositionReport(NamedTuple):
    """One decoded position report (types 1, 2, 3, 18, 19). ``None`` = not available.

    ``status`` and ``turn`` (deg/min) exist only in Class A reports (types 1-3), else ``None``.
    ``second`` is the UTC second (0-59) or a positioning-system state 61-63 (see
    :data:`lookout.ais.tables.POSITIONING_STATES`).
    """

    msg_type: int
    mmsi: int
    lat: float | None
    lon: float | None
    speed_kn: float | None
    course_deg: float | None
    heading_deg: int | None
    status: int | None
    turn: float | None
    accuracy: bool
    second: int | None
    raim: bool
    repeat: int


def payload_bits(payload: str, fill_bits: int) -> tuple[int, int]:
    """The armoured payload as ``(value, bit_count)``: the message's bits as one integer.

    Raises :class:`DecodeError` ``bad_fill_bits`` (outside 0-5) or ``bad_payload`` (empty, or
    a character outside the six-bit armour).
    """
    if not 0 <= fill_bits <= 5:
        raise DecodeError(RejectReason.BAD_FILL_BITS, f"fill bits {fill_bits}")
    count = len(payload)
    if not count:
        raise DecodeError(RejectReason.BAD_PAYLOAD, "empty payload")
    pad = -count & 3
    try:
        value = _from_bytes(
            _a2b(payload.encode().translate(_TO_BASE64) + _PAD[pad], strict_mode=True), "big"
        )
    except (UnicodeError, binascii.Error):
        raise DecodeError(
            RejectReason.BAD_PAYLOAD, "character outside the six-bit armour"
        ) from None
    return value >> (6 * pad + fill_bits), 6 * count - fill_bits


def sixbit_text(value: int, chars: int) -> str | None:
    """Six-bit ASCII text held in the low ``chars * 6`` bits of ``value``.

    The text ends at the first ``@``; blanks around it are stripped (the standard pads with
    ``@`` or blanks). Empty text (all ``@``, the standard's "not available") is ``None``.
    """
    table = _SIXBIT_CHARS
    text = "".join([table[(value >> shift) & 63] for shift in range(6 * chars - 6, -6, -6)])
    text = text.partition("@")[0].strip(" ")
    return text or None


def _class_b(value: int, msg_type: int) -> PositionReport:
    """Types 18 and 19, ``value`` holding exactly the 168 / 312 bits of the message."""
    raim = bool((value >> _RAIM_SHIFT[msg_type]) & 1)
    value >>= _CLASS_B_TAIL[msg_type]  # keep the first 143 bits, common to both types
    mmsi = (value >> 105) & 0x3FFFFFFF
    if not 0 < mmsi <= 999_999_999:
        raise DecodeError(RejectReason.BAD_MMSI, f"mmsi {mmsi}")
    lon = (value >> 58) & 0xFFFFFFF
    if lon & 0x8000000:
        lon -= 0x10000000
    lat = (value >> 31) & 0x7FFFFFF
    if lat & 0x4000000:
        lat -= 0x8000000
    speed = (value >> 87) & 0x3FF
    course = (value >> 19) & 0xFFF
    heading = (value >> 10) & 0x1FF
    second = (value >> 4) & 0x3F
    return _new(PositionReport, (
        msg_type,
        mmsi,
        (10 * lat + 3) // 6 / 1e6 if -54_000_000 <= lat <= 54_000_000 else None,
        (10 * lon + 3) // 6 / 1e6 if -108_000_000 <= lon <= 108_000_000 else None,
        speed / 10 if speed != 1023 else None,
        course / 10 if course < 3600 else None,
        heading if heading < 360 else None,
        None,
        None,
        (value >> 86) & 1 == 1,
        second if second != 60 else None,
        raim,
        (value >> 135) & 3,
    ))  # fmt: skip


_FIRST_CHAR_TYPE: Final = {"1": 1, "2": 2, "3": 3, "B": 18, "C": 19}
_CLASS_B_TAIL: Final = {18: 168 - 143, 19: 312 - 143}
# RAIM sits after the type-specific fields: bit 147 (type 18) / bit 305 (type 19).
_RAIM_SHIFT: Final = {18: 20, 19: 6}


def _message(payload: str, fill_bits: int, msg_type: int) -> tuple[int, int]:
    """The message bits, normalised to the standard length of ``msg_type`` (surplus dropped)."""
    value, bits = payload_bits(payload, fill_bits)
    need = MIN_BITS[msg_type]
    if not need <= bits <= MAX_MESSAGE_BITS:
        raise DecodeError(RejectReason.BAD_LENGTH, f"type {msg_type}: {bits} bits")
    return value >> (bits - need), need


def decode_position(payload: str, fill_bits: int) -> PositionReport | None:
    """Decode a position report of type 1, 2, 3, 18 or 19; ``None`` for any other type.

    Raises :class:`DecodeError` ``bad_length`` (shorter than the standard's length), ``bad_mmsi``
    (0 or more than nine digits), ``bad_payload`` or ``bad_fill_bits``. Bits beyond the
    standard's length are ignored. A 28-character payload is read before its type is known,
    so a malformed one raises ``bad_payload`` whatever its type.
    """
    if fill_bits == 0 and len(payload) == 28:  # the common case: 168 bits
        try:
            value = _from_bytes(
                _a2b(payload.encode().translate(_TO_BASE64), strict_mode=True), "big"
            )
        except (UnicodeError, binascii.Error):
            raise DecodeError(RejectReason.BAD_PAYLOAD, "character outside the armour") from None
        msg_type = value >> 162
        if not 0 < msg_type < 4:
            if msg_type == 18:
                return _class_b(value, 18)
            if msg_type == 19:
                raise DecodeError(RejectReason.BAD_LENGTH, "type 19: 168 bits")
            return None
    else:
        found = _FIRST_CHAR_TYPE.get(payload[:1])
        if found is None:
            return None
        msg_type = found
        value, _ = _message(payload, fill_bits, msg_type)
        if msg_type > 3:
            return _class_b(value, msg_type)
    # Types 1-3: ``value`` holds exactly the 168 bits of the message. Positions: raw / 600000
    # degrees rounded to 6 decimals (as pyais) = round(raw * 5 / 3) / 1e6, in integers:
    # 5 * raw / 3 is never a tie, so floor((10 * raw + 3) / 6) is the rounded value.
    mmsi = (value >> 130) & 0x3FFFFFFF
    if not 0 < mmsi <= 999_999_999:
        raise DecodeError(RejectReason.BAD_MMSI, f"mmsi {mmsi}")
    lon = (value >> 79) & 0xFFFFFFF
    if lon & 0x8000000:
        lon -= 0x10000000
    lat = (value >> 52) & 0x7FFFFFF
    if lat & 0x4000000:
        lat -= 0x8000000
    speed = (value >> 108) & 0x3FF
    course = (value >> 40) & 0xFFF
    heading = (value >> 31) & 0x1FF
    second = (value >> 25) & 0x3F
    return _new(PositionReport, (
        msg_type,
        mmsi,
        (10 * lat + 3) // 6 / 1e6 if -54_000_000 <= lat <= 54_000_000 else None,
        (10 * lon + 3) // 6 / 1e6 if -108_000_000 <= lon <= 108_000_000 else None,
        speed / 10 if speed != 1023 else None,
        course / 10 if course < 3600 else None,
        heading if heading < 360 else None,
        (value >> 126) & 0xF,
        _TURN[(value >> 118) & 0xFF],
        (value >> 107) & 1 == 1,
        second if second != 60 else None,
        (value >> 19) & 1 == 1,
        (value >> 160) & 3,
    ))  # fmt: skip


def position_fields(payload: str, fill_bits: int) -> dict[str, Any] | None:
    """All fields of a type 1, 2, 3, 18 or 19 message under pyais's names; ``None`` otherwise.

    Same values as :func:`decode_position`, plus the fields it leaves out (``maneuver``,
    ``radio``, the Class B flags, the type 19 static data). The fast path of
    :func:`lookout.ais.decode.decode`.
    """
    msg_type = _FIRST_CHAR_TYPE.get(payload[:1])
    if msg_type is None:
        return None
    value, _ = _message(payload, fill_bits, msg_type)
    if msg_type < 4:
        p = decode_position(payload, fill_bits)
        assert p is not None  # same first character, so same type
        return {
            "msg_type": msg_type, "repeat": p.repeat, "mmsi": p.mmsi, "status": p.status,
            "turn": p.turn, "speed": p.speed_kn, "accuracy": p.accuracy, "lon": p.lon,
            "lat": p.lat, "course": p.course_deg, "heading": p.heading_deg, "second": p.second,
            "maneuver": (value >> 23) & 3, "raim": p.raim, "radio": value & 0x7FFFF,
        }  # fmt: skip
    p = _class_b(value, msg_type)
    fields = {
        "msg_type": msg_type, "repeat": p.repeat, "mmsi": p.mmsi,
        "reserved_1": (value >> (_CLASS_B_TAIL[msg_type] + 97)) & 0xFF,
        "speed": p.speed_kn, "accuracy": p.accuracy, "lon": p.lon, "lat": p.lat,
        "course": p.course_deg, "heading": p.heading_deg, "second": p.second,
    }  # fmt: skip
    fields.update(_type18_tail(value) if msg_type == 18 else _type19_tail(value))
    return fields


def _type18_tail(value: int) -> dict[str, Any]:
    return {
        "reserved_2": (value >> 27) & 3, "cs": bool((value >> 26) & 1),
        "display": bool((value >> 25) & 1), "dsc": bool((value >> 24) & 1),
        "band": bool((value >> 23) & 1), "msg22": bool((value >> 22) & 1),
        "assigned": bool((value >> 21) & 1), "raim": bool((value >> 20) & 1),
        "radio": value & 0xFFFFF,
    }  # fmt: skip


_TYPE19: Final = NOT_AVAILABLE[19]


def _dimension(name: str, raw: int) -> int | None:
    return raw if _TYPE19[name].valid(raw) else None


def _type19_tail(value: int) -> dict[str, Any]:
    return {
        "reserved_2": (value >> 169) & 0xF,
        "shipname": sixbit_text(value >> 49, 20),
        "ship_type": (value >> 41) & 0xFF,
        "to_bow": _dimension("to_bow", (value >> 32) & 0x1FF),
        "to_stern": _dimension("to_stern", (value >> 23) & 0x1FF),
        "to_port": _dimension("to_port", (value >> 17) & 0x3F),
        "to_starboard": _dimension("to_starboard", (value >> 11) & 0x3F),
        "epfd": (value >> 7) & 0xF,
        "raim": bool((value >> 6) & 1),
        "dte": bool((value >> 5) & 1),
        "assigned": bool((value >> 4) & 1),
    }
