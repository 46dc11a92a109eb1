"""Our decoder against pyais, on every real NMEA file and on crafted messages.

pyais is a dependency, not the oracle: ITU-R M.1371-5 is. Every field agrees with pyais except
the documented departures below, each with its own test naming the clause of the standard.
The explanation of a difference is computed here from pyais's own output and the standard's
values (written out in this file), never from our decoder's tables.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pyais
import pytest
from pyais.messages import (
    MessageType1,
    MessageType4,
    MessageType5,
    MessageType9,
    MessageType14,
    MessageType15,
    MessageType17,
    MessageType18,
    MessageType19,
    MessageType21,
    MessageType22Broadcast,
    MessageType23,
    MessageType24PartB,
    MessageType27,
    MessageType28,
)

from lookout.ais.contract import to_contract
from lookout.ais.decode import decode
from lookout.ais.framing import Framer
from lookout.ais.types import AisMessage, DecodeError
from lookout.model import RejectReason

# --- The standard's values, as pyais scales them (ITU-R M.1371-5 Annex 8) -----------------------

POSITION = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}  # 91 / 181 = not available
SOG = (0.0, 102.2)  # 102.3 = not available
COG = (0.0, 359.9)  # 360.0 = not available, above: not used
DIMENSIONS = {"to_bow": (1, 511), "to_stern": (1, 511), "to_port": (1, 63), "to_starboard": (1, 63)}
UTC = {"year": (1, 9999), "month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59),
       "second": (0, 59)}  # fmt: skip
POSITION_SECOND = (0, 59)  # 60 = n/a; 61-63 positioning system states, kept
POSITIONING_STATES = {61, 62, 63}
CLASS_A = {**POSITION, "speed": SOG, "course": COG, "heading": (0, 359),
           "second": POSITION_SECOND, "turn": (-709.0, 709.0)}  # fmt: skip
CLASS_B = {**POSITION, "speed": SOG, "course": COG, "heading": (0, 359),
           "second": POSITION_SECOND}  # fmt: skip
VALID_RANGES: dict[int, dict[str, tuple[float, float]]] = {
    1: CLASS_A, 2: CLASS_A, 3: CLASS_A, 4: {**UTC, **POSITION}, 11: {**UTC, **POSITION},
    5: {**DIMENSIONS, "imo": (1, 2**30 - 1), "draught": (0.1, 25.5), "month": (1, 12),
        "day": (1, 31), "hour": (0, 23), "minute": (0, 59)},
    9: {**POSITION, "alt": (0, 4094), "speed": (0, 1022), "course": COG,
        "second": POSITION_SECOND},
    18: CLASS_B, 19: {**CLASS_B, **DIMENSIONS}, 24: DIMENSIONS,
    21: {**POSITION, **DIMENSIONS, "second": POSITION_SECOND},
    27: {**POSITION, "speed": (0, 62), "course": (0, 359)},
}  # fmt: skip
TENTH_MINUTE_FIELDS = {  # (field, width in bits); pyais leaves these in minutes
    17: {"lon": 18, "lat": 17},
    22: {"ne_lon": 18, "ne_lat": 17, "sw_lon": 18, "sw_lat": 17},
    23: {"ne_lon": 18, "ne_lat": 17, "sw_lon": 18, "sw_lat": 17},
}
SENTENCE = re.compile(r"![A-Z-]{2}VD[MO],[^\\]*?\*[0-9A-Fa-f]{2}")


def standard_text(text: str | None) -> str | None:
    """Text per the standard: up to the first '@', blanks stripped, empty = not available."""
    if text is None:
        return None
    return text.partition("@")[0].strip() or None


def in_range(msg_type: int, name: str, value: Any) -> bool:
    lo, hi = VALID_RANGES[msg_type][name]
    if name == "turn":  # -128 n/a; +-127 no rate (Annex 8 Message 1 table, ROT)
        return value not in (-128.0, -127.0, 127.0) and lo <= value <= hi
    if name == "second" and value in POSITIONING_STATES and msg_type not in (4, 11):
        return True
    return lo <= value <= hi


def explain(msg_type: int, name: str, ours: Any, theirs: Any, bits: int, msg: Any) -> str | None:
    """Which documented departure explains ``ours != theirs`` (``None``: none does)."""
    if msg_type in TENTH_MINUTE_FIELDS and name in TENTH_MINUTE_FIELDS[msg_type]:
        width = TENTH_MINUTE_FIELDS[msg_type][name]
        raw = round(theirs * 10)
        if raw >= 1 << (width - 1):  # pyais reads type 17 unsigned
            raw -= 1 << width
        limit = 54_000 if name.endswith("lat") else 108_000
        expected = raw / 600 if abs(raw) <= limit else None
        same = ours == expected or (
            ours is not None and expected is not None and abs(ours - expected) < 1e-6
        )
        return "tenth_minutes" if same else None
    spec = {p[0]: p for p in type(msg).decoder_plan()}
    if isinstance(theirs, str) or (theirs is None and isinstance(ours, str)):
        if ours == standard_text(theirs):
            return "text"
        # A last group of fewer than 6 bits is fill, not a character (pyais reads one).
        offset, width = spec[name][1:3]
        partial = min(width, bits - offset) % 6 != 0
        return "text" if partial and ours == standard_text(theirs[:-1]) else None
    if isinstance(theirs, Enum) and isinstance(ours, int) and not isinstance(theirs, float):
        return "reserved_code" if type(theirs)(ours) == theirs else None
    if ours is None and theirs is not None:
        if name in VALID_RANGES.get(msg_type, {}) and not in_range(msg_type, name, theirs):
            return "not_available"
        if name in spec and spec[name][1] + spec[name][2] > bits:
            return "truncated"
    return None


# --- Framing and decoding every file once --------------------------------------------------------


@dataclass
class FileResult:
    messages: int = 0
    compared: int = 0
    departures: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    unexplained: list[str] = field(default_factory=list)


def pyais_decode(message: AisMessage) -> Any:
    sentences: list[str] = []
    for line in message.lines:
        for sentence in SENTENCE.findall(line):
            sentence = sentence.replace("!--", "!AI", 1)  # pyais wants a letter talker
            if sentence not in sentences:
                sentences.append(sentence)
    return pyais.decode(*sentences)


def check_rejection(error: DecodeError, theirs: Any, bits: int) -> bool:
    """Is our rejection justified by pyais's own reading of the message?"""
    if error.reason is RejectReason.UNKNOWN_TYPE:
        return theirs.msg_type in (0, 28)  # M.1371-5 defines messages 1 to 27
    if error.reason is RejectReason.BAD_MMSI:
        return not 0 < theirs.mmsi <= 999_999_999  # M.585: nine digits
    if error.reason is RejectReason.BAD_LENGTH:  # pyais too found fields missing
        return any(value is None for value in theirs.asdict().values())
    return False


def compare(message: AisMessage, result: FileResult) -> None:
    bits = 6 * len(message.payload) - message.fill_bits
    try:
        theirs = pyais_decode(message)
    except Exception:
        with pytest.raises(DecodeError):
            decode(message.payload, message.fill_bits)
        result.rejected["both"] += 1
        return
    try:
        ours = to_contract(decode(message.payload, message.fill_bits), received_ts=None,
                           source=None)  # fmt: skip
    except DecodeError as error:
        result.rejected[error.reason.value] += 1
        if not check_rejection(error, theirs, bits):
            result.unexplained.append(f"{message.payload}: rejected {error}")
        return
    expected = theirs.asdict()
    assert set(ours) - {"received_at", "source"} == set(expected), message.payload
    result.compared += 1
    for name, value in expected.items():
        value = value.hex() if isinstance(value, bytes) else value
        mine = ours[name]
        if (mine == value and type(mine) is type(value)) or _close(mine, value):
            continue
        departure = explain(ours["msg_type"], name, mine, value, bits, theirs)
        if name in ("name", "full_name") and ours["msg_type"] == 21:
            departure = "text" if mine == standard_text(theirs.full_name) else None
        if departure is None:
            result.unexplained.append(f"{message.payload}: {name} ours={mine!r} pyais={value!r}")
        else:
            result.departures[departure] += 1


def _close(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs or (isinstance(theirs, Enum) and ours == theirs)
    if isinstance(ours, float) and isinstance(theirs, float | int):
        return math.isclose(ours, theirs, abs_tol=1e-9)
    return isinstance(ours, int) and isinstance(theirs, int) and ours == int(theirs)


@pytest.fixture(scope="module")
def results(nmea_dir: Path) -> dict[str, FileResult]:
    out: dict[str, FileResult] = {}
    for path in sorted(nmea_dir.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".json") or "LICENSE" in path.name:
            continue
        if path.name.startswith(("NOTICE", "PROVENANCE")):
            continue
        framer = Framer(member="test", source=path.name)
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        messages, _ = framer.feed_many(lines)
        framer.flush()
        result = out[str(path.relative_to(nmea_dir))] = FileResult(messages=len(messages))
        for message in messages:
            compare(message, result)
    return out


def test_every_message_pyais_decodes_agrees_except_documented_departures(
    results: dict[str, FileResult],
) -> None:
    unexplained = {name: r.unexplained[:5] for name, r in results.items() if r.unexplained}
    assert not unexplained


def test_every_file_with_messages_is_compared(results: dict[str, FileResult]) -> None:
    for name, result in results.items():
        decided = result.compared + sum(result.rejected.values())
        assert decided == result.messages, name
    counts = {name: r.compared for name, r in results.items()}
    assert counts["dma-aislib/stream_example.txt"] >= 4000  # 4,051 messages per PROVENANCE
    assert counts["kystverket/Ais1000Lines.nm4"] == 877  # "877 decodable messages"
    assert sum(counts.values()) > 6000


def test_departures_seen_in_real_data(results: dict[str, FileResult]) -> None:
    seen: Counter[str] = Counter()
    for result in results.values():
        seen.update(result.departures)
    # Real feeds are full of "not available" codes; the other departures occur in the
    # libais and GFW edge-case files.
    assert set(seen) == {"not_available", "text", "reserved_code", "tenth_minutes", "truncated"}


# --- Each departure, by itself, on crafted messages ------------------------------------------


ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


def patched(message: Any, **raw: int) -> tuple[str, int]:
    """``message`` encoded by pyais, then the named fields set to raw integers."""
    payload, fill = message.encode()
    bits = "".join(f"{ARMOUR.index(c):06b}" for c in payload)
    plan = {p[0]: p for p in type(message).decoder_plan()}
    for name, value in raw.items():
        _, offset, width, *_ = plan[name]
        code = f"{value & ((1 << width) - 1):0{width}b}"
        bits = bits[:offset] + code + bits[offset + width :]
    return "".join(ARMOUR[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6)), fill


def ours(message: Any) -> dict[str, Any]:
    payload, fill_bits = message.encode()
    return decode(payload, fill_bits)


MMSI = 548123456  # a Philippine ship station


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        # Annex 8, Message 1/2/3 table: lat 91 deg, lon 181 deg, SOG 1023 (102.3 kn),
        # COG 3600 (360.0), true heading 511, time stamp 60: "not available".
        (MessageType1, {"lat": 91}, "lat"),
        (MessageType1, {"lon": 181}, "lon"),
        (MessageType1, {"speed": 102.3}, "speed"),
        (MessageType1, {"course": 360.0}, "course"),
        (MessageType1, {"heading": 511}, "heading"),
        (MessageType1, {"second": 60}, "second"),
        # COG 3601-4095 and heading 360-510: "should not be used"; lat beyond +-90.
        (MessageType1, {"course": 409.5}, "course"),
        (MessageType1, {"heading": 400}, "heading"),
        (MessageType1, {"lat": -95.0}, "lat"),
        # Message 18 and 19 tables: the same codes.
        (MessageType18, {"lat": 91, "lon": 181}, "lat"),
        (MessageType18, {"heading": 511}, "heading"),
        (MessageType19, {"speed": 102.3}, "speed"),
        # Message 5 table: IMO 0, draught 0, dimensions 0, ETA month 0 / day 0 / hour 24 /
        # minute 60 "not available".
        (MessageType5, {"imo": 0}, "imo"),
        (MessageType5, {"draught": 0}, "draught"),
        (MessageType5, {"to_bow": 0}, "to_bow"),
        (MessageType5, {"to_starboard": 0}, "to_starboard"),
        (MessageType5, {"month": 0}, "month"),
        (MessageType5, {"hour": 24}, "hour"),
        (MessageType5, {"minute": 60}, "minute"),
        # Message 4 table: year 0, hour 24, minute 60, second 60 "not available".
        (MessageType4, {"year": 0}, "year"),
        (MessageType4, {"hour": 24}, "hour"),
        (MessageType4, {"second": 60}, "second"),
        # Message 9 table: altitude 4095, SOG 1023 (knots) "not available".
        (MessageType9, {"alt": 4095}, "alt"),
        (MessageType9, {"speed": 1023}, "speed"),
        # Message 21 table: dimensions 0 "not available"; time stamp 60.
        (MessageType21, {"to_stern": 0}, "to_stern"),
        (MessageType21, {"second": 60}, "second"),
        # Message 24 part B: dimensions 0.
        (MessageType24PartB, {"partno": 1, "to_port": 0}, "to_port"),
        # Message 27 table: lat 91, lon 181 (1/10 min), SOG 63, COG 511 "not available".
        (MessageType27, {"lat": 91, "lon": 181}, "lon"),
        (MessageType27, {"speed": 63}, "speed"),
        (MessageType27, {"course": 511}, "course"),
        # Message 17 table: 91 / 181 deg when the DGNSS service is not available.
        (MessageType17, {"lat": 91 * 60, "lon": 181 * 60}, "lat"),
    ],
)
def test_not_available_values_are_null(cls: Any, kwargs: dict[str, Any], name: str) -> None:
    """M.1371-5 Annex 8, each message's table: "not available" (and "not used") is null."""
    assert ours(cls.create(mmsi=MMSI, **kwargs))[name] is None


def test_positioning_system_states_stay_in_second() -> None:
    """Annex 8 Message 1 table, time stamp: 61 manual input, 62 dead reckoning, 63 inoperative
    are states of the positioning system, kept (only 60, "not available", is null)."""
    for state in (61, 62, 63):
        assert ours(MessageType1.create(mmsi=MMSI, second=state))["second"] == state
    assert ours(MessageType1.create(mmsi=MMSI, second=59))["second"] == 59


def test_rate_of_turn_without_a_rate_is_null() -> None:
    """Annex 8 Message 1 table, ROT: -128 "no turn information available"; +127 / -127
    "turning right / left at more than 5 deg per 30 s (no TI available)": a direction, not a
    rate in degrees per minute (pyais gives 127.0 / -127.0), so null."""
    for raw in (-128, 127, -127):
        assert ours(MessageType1.create(mmsi=MMSI, turn=raw))["turn"] is None
    # ROT_AIS = 4.733 sqrt(ROT): 126 is (126 / 4.733)^2 = 708.7 -> 709 deg/min to the right.
    assert ours(MessageType1.create(mmsi=MMSI, turn=709))["turn"] == 709.0


def test_reserved_codes_are_kept_as_transmitted() -> None:
    """Annex 8: ship type 1-19 and 100-255 "reserved", EPFD 9-14 "not used", station type
    10-15 "reserved", reporting interval 12-15 "reserved" are transmitted integers; pyais folds
    them into a default member of its enums (and its encoder too, so the bits are set here)."""
    payload, fill = patched(MessageType5.create(mmsi=MMSI), ship_type=39, epfd=12)
    fields = decode(payload, fill)
    assert (fields["ship_type"], fields["epfd"]) == (39, 12)
    theirs = pyais.decode(f"!AIVDM,1,1,,A,{payload},{fill}*00")
    assert (theirs.ship_type, theirs.epfd) == (0, 0)
    assert decode(*patched(MessageType5.create(mmsi=MMSI), ship_type=150))["ship_type"] == 150
    payload, fill = patched(MessageType23.create(mmsi=MMSI), station_type=14, interval=13,
                            ship_type=200)  # fmt: skip
    fields = decode(payload, fill)
    assert (fields["station_type"], fields["interval"], fields["ship_type"]) == (14, 13, 200)


def test_type17_position_in_signed_degrees() -> None:
    """Annex 8 Message 17 table: longitude 18 bits and latitude 17 bits "in 1/10 min (+-180 deg,
    East = positive, West = negative)"; pyais gives unsigned minutes."""
    # 121.5 deg W, 14.25 deg S in 1/10 min: -72900, -8550.
    fields = ours(MessageType17.create(mmsi=MMSI, lon=-7290.0, lat=-855.0))
    assert (fields["lon"], fields["lat"]) == (-121.5, -14.25)


@pytest.mark.parametrize("cls", [MessageType22Broadcast, MessageType23])
def test_area_corners_in_degrees(cls: Any) -> None:
    """Annex 8 Messages 22 and 23 tables: area corners "in 1/10 min"; pyais gives minutes."""
    # Scarborough Shoal box: 15.25 N 117.9 E to 14.95 N 117.6 E.
    message = cls.create(mmsi=MMSI, ne_lon=7074.0, ne_lat=915.0, sw_lon=7056.0, sw_lat=897.0)
    fields = ours(message)
    assert (fields["ne_lon"], fields["ne_lat"]) == (117.9, 15.25)
    assert (fields["sw_lon"], fields["sw_lat"]) == (117.6, 14.95)


def test_text_stops_at_first_at_sign() -> None:
    """Annex 8 Table 47 (6-bit ASCII): '@' (0) pads a text field; "@@@..." is "not available".
    Text ends at the first '@' (pyais keeps text after an inner '@'); blanks are stripped."""
    assert ours(MessageType5.create(mmsi=MMSI, shipname="SIERRA@MADRE"))["shipname"] == "SIERRA"
    assert ours(MessageType5.create(mmsi=MMSI, callsign=" DUXA "))["callsign"] == "DUXA"
    assert ours(MessageType5.create(mmsi=MMSI, destination=""))["destination"] is None
    assert ours(MessageType14.create(mmsi=MMSI, text="MAYDAY@@X"))["text"] == "MAYDAY"


def test_type21_name_includes_the_name_extension() -> None:
    """Annex 8 Message 21 table: "Name extension ... combined with the parameter Name at the
    end of that parameter, when more than 20 characters are needed"."""
    fields = ours(MessageType21.create(mmsi=993456789, name="SECOND THOMAS SHOAL ", name_ext="LT"))
    assert fields["name"] == fields["full_name"] == "SECOND THOMAS SHOAL LT"
    assert fields["name_ext"] == "LT"


def test_field_the_message_carries_only_in_part_is_null() -> None:
    """Annex 8 Message 15 table: 88, 110 or 160 bits. In a 104-bit message the second
    interrogation's offset is cut short: null (pyais gives the stray bits as a number)."""
    payload, _ = MessageType15.create(mmsi=MMSI, mmsi1=MMSI, type1_1=5, type1_2=3).encode()
    payload = payload[: 104 // 6 + 1]  # 108 bits, 4 fill -> 104
    fields = decode(payload, 4)
    assert fields["type1_2"] == 3 and fields["offset1_2"] is None


@pytest.mark.parametrize("msg_type", [0, 28, 63])
def test_types_outside_1_to_27_are_unknown(msg_type: int) -> None:
    """M.1371-5 Annex 8 defines messages 1 to 27 (pyais decodes 0 as type 1 and 28 from
    M.1371-6)."""
    payload, fill = MessageType28.create(mmsi=MMSI).encode()
    first = chr(msg_type + 48 if msg_type < 40 else msg_type + 56)
    with pytest.raises(DecodeError) as caught:
        decode(first + payload[1:], fill)
    assert caught.value.reason is RejectReason.UNKNOWN_TYPE


@pytest.mark.parametrize(("cls", "chars"), [(MessageType27, 15), (MessageType5, 67),
                                            (MessageType1, 27), (MessageType18, 20)])  # fmt: skip
def test_short_messages_are_rejected(cls: Any, chars: int) -> None:
    """Annex 8 "number of bits" of each message: 96 (27), 424 (5), 168 (1, 18). A shorter
    message is rejected ``bad_length`` (pyais decodes what is there and gives None for the rest).
    """
    payload, _ = cls.create(mmsi=MMSI).encode()
    with pytest.raises(DecodeError) as caught:
        decode(payload[:chars], 0)
    assert caught.value.reason is RejectReason.BAD_LENGTH


@pytest.mark.parametrize("mmsi", [0, 1_000_000_000, 2**30 - 1])
def test_mmsi_outside_nine_digits_is_rejected(mmsi: int) -> None:
    """ITU-R M.585 Annex 1: an MMSI is nine digits; 0 is no identity."""
    for cls in (MessageType1, MessageType5, MessageType18):
        with pytest.raises(DecodeError) as caught:
            ours(cls.create(mmsi=mmsi))
        assert caught.value.reason is RejectReason.BAD_MMSI
