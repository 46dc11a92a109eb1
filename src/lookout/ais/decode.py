"""Decode one AIS message into flat fields: the fast path for position reports, pyais for the rest.

:func:`decode` returns ``{field: value}`` under pyais's field names (spare fields left out), with
ITU-R M.1371-5 as the authority where pyais and the standard differ:

- "Not available" and out-of-range values are ``None`` (:data:`lookout.ais.tables.NOT_AVAILABLE`).
- Enumerated fields (``status``, ``ship_type``, ``epfd``, ``aid_type``, ``station_type``, ...)
  carry the transmitted integer, reserved codes included (pyais folds some reserved codes into
  a default member of its enums).
- Positions are signed decimal degrees in every type; pyais gives types 17, 22 and 23 in
  minutes (and type 17 unsigned). Rounded to 6 decimals like pyais's other positions.
- Text stops at the first ``@`` and loses trailing blanks; empty text is ``None``. Type 21
  ``name`` is the full name (name field followed by the name extension).
- A numeric field the message carries only in part is ``None``; binary data (``data`` and
  other ``bytes`` fields of pyais) is a lower-case hex string, left-aligned and zero-padded
  to whole bytes as pyais gives it.
- Application-specific fields of types 6 and 8 (DAC/FID variants) are otherwise passed as
  pyais decodes them.

Errors are :class:`~lookout.ais.types.DecodeError` with the reject reason, never another
exception.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final

from pyais.bit_vector import bit_vector
from pyais.messages import BYTES, MSG_CLASS, STR, Payload

from lookout.ais.fastpath import (
    FAST_TYPES,
    PositionReport,
    decode_position,
    payload_bits,
    position_fields,
    sixbit_text,
)
from lookout.ais.tables import (
    MAX_MESSAGE_BITS,
    MIN_BITS,
    MIN_BITS_24B,
    NOT_AVAILABLE,
    ValidRange,
    flag_of,
)
from lookout.ais.types import DecodeError
from lookout.model import RejectReason

__all__ = ["PositionReport", "decode", "decode_position", "flag_of"]

# Fields in 1/10 minute of arc that pyais leaves in minutes (M.1371-5 Annex 8: Message 17
# "Longitude/Latitude ... in 1/10 min", Messages 22 and 23 area corners "in 1/10 min").
_TENTH_MINUTE_FIELDS: Final[dict[int, frozenset[str]]] = {
    17: frozenset({"lon", "lat"}),
    22: frozenset({"ne_lon", "ne_lat", "sw_lon", "sw_lat"}),
    23: frozenset({"ne_lon", "ne_lat", "sw_lon", "sw_lat"}),
}
_NAME_BITS: Final = 120  # type 21 name field, at bit 43
_NAME_EXT_AT: Final = 272  # type 21 name extension, to the end of the message


def decode(payload: str, fill_bits: int) -> dict[str, Any]:
    """Decode one complete message (the joined payload of all its sentences).

    Raises :class:`DecodeError`: ``unknown_type`` (0 or above 27), ``bad_length`` (shorter than
    its type, or longer than five slots), ``bad_mmsi`` (0 or more than nine digits),
    ``bad_payload`` / ``bad_fill_bits`` and ``decode_error`` (pyais could not decode it).
    """
    fields = position_fields(payload, fill_bits)  # the fast path: types 1, 2, 3, 18, 19
    if fields is not None:
        return fields
    value, bits = payload_bits(payload, fill_bits)
    if bits < 6:
        raise DecodeError(RejectReason.BAD_LENGTH, f"{bits} bits")
    msg_type = value >> (bits - 6)
    if not 1 <= msg_type <= 27:
        raise DecodeError(RejectReason.UNKNOWN_TYPE, f"type {msg_type}")
    assert msg_type not in FAST_TYPES  # their payloads start with "1", "2", "3", "B", "C"
    if not MIN_BITS[msg_type] <= bits <= MAX_MESSAGE_BITS:
        raise DecodeError(RejectReason.BAD_LENGTH, f"type {msg_type}: {bits} bits")
    mmsi = (value >> (bits - 38)) & 0x3FFFFFFF
    if not 0 < mmsi <= 999_999_999:
        raise DecodeError(RejectReason.BAD_MMSI, f"mmsi {mmsi}")
    message = _pyais_message(payload, fill_bits, msg_type)
    if msg_type == 24 and getattr(message, "partno", 0) == 1 and bits < MIN_BITS_24B:
        raise DecodeError(RejectReason.BAD_LENGTH, f"type 24 part B: {bits} bits")
    fields = _fields(message, value, bits, msg_type)
    if msg_type == 21:  # pyais also gives ``full_name``: the same full name
        fields["name"] = fields["full_name"] = _full_name(value, bits)
    return fields


def _pyais_message(payload: str, fill_bits: int, msg_type: int) -> Payload:
    try:
        message: Payload = MSG_CLASS[msg_type].from_vector(bit_vector(payload.encode(), fill_bits))
    except Exception as exc:  # pyais raises many kinds; every one is a decode error here
        raise DecodeError(RejectReason.DECODE_ERROR, f"pyais: {exc!r}") from exc
    return message


def _fields(message: Payload, value: int, bits: int, msg_type: int) -> dict[str, Any]:
    """Every non-spare field of ``message``, re-read from the raw bits where the standard says."""
    cls = type(message)
    spec = cls.field_dict()
    rules = NOT_AVAILABLE.get(msg_type, {})
    degrees = _TENTH_MINUTE_FIELDS.get(msg_type, frozenset())
    fields: dict[str, Any] = {}
    for name, offset, width, signed, kind, _ in cls.decoder_plan():
        if spec[name].metadata["is_spare"]:
            continue
        if offset >= bits:
            fields[name] = None
            continue
        available = min(width, bits - offset)
        raw = (value >> (bits - offset - available)) & ((1 << available) - 1)
        if kind == STR:
            fields[name] = sixbit_text(raw >> (available % 6), available // 6)
        elif kind == BYTES:
            fields[name] = getattr(message, name).hex()
        elif available < width:
            fields[name] = None
        else:
            fields[name] = _number(message, name, raw, width, signed or name in degrees,
                                   rules.get(name), name in degrees)  # fmt: skip
    return fields


def _number(
    message: Payload,
    name: str,
    raw: int,
    width: int,
    signed: bool,
    rule: ValidRange | None,
    tenth_minutes: bool,
) -> Any:
    if signed and raw >> (width - 1):
        raw -= 1 << width
    if rule is not None and not rule.valid(raw):
        return None
    if tenth_minutes:
        # raw / 600 degrees rounded to 6 decimals = floor((10000 * raw + 3) / 6) / 1e6
        # (5000 * raw / 3 is never a tie; the same integer rounding as the fast path).
        return (10_000 * raw + 3) // 6 / 1e6
    decoded = getattr(message, name)
    if isinstance(decoded, Enum):
        return raw  # the transmitted code, reserved values included
    return decoded


def _full_name(value: int, bits: int) -> str | None:
    """Type 21: the 20-character name followed by the name extension (whole characters)."""
    ext_chars = max(0, min(88, bits - _NAME_EXT_AT)) // 6
    name_raw = (value >> (bits - 43 - _NAME_BITS)) & ((1 << _NAME_BITS) - 1)
    ext_raw = (value >> (bits - _NAME_EXT_AT - 6 * ext_chars)) & ((1 << (6 * ext_chars)) - 1)
    return sixbit_text((name_raw << (6 * ext_chars)) | ext_raw, 20 + ext_chars)
