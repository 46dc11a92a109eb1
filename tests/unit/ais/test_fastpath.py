"""The fast path for position reports (types 1, 2, 3, 18, 19)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pyais.messages import MessageType1, MessageType18, MessageType19

from lookout.ais.decode import decode
from lookout.ais.fastpath import PositionReport, decode_position, payload_bits
from lookout.ais.framing import Framer
from lookout.ais.tables import NOT_AVAILABLE
from lookout.ais.types import DecodeError
from lookout.model import RejectReason

# libais test data, typeexamples.nmea lines 2 and 6, with libais's expected values
# (typeexamples.json, single precision).
CLASS_A = "15N1u<PP1FJuvSRHOE6QIwwh0HQ6"
CLASS_B = "B5MiOp0006g4up6:EV403wr5oP06"
# GFW ais-tools type1-bad-bitcount.nmea: a type 1 of 186 bits (31 characters).
LONG_TYPE1 = "13UuUj0P00QgDCLEiGAcOOwl2<0Igw;"


def test_class_a_position_report() -> None:
    report = decode_position(CLASS_A, 0)
    assert report is not None
    assert (report.msg_type, report.mmsi, report.status) == (1, 367033650, 0)
    assert math.isclose(report.lat or 0, 42.79854965209961, abs_tol=1e-5)
    assert math.isclose(report.lon or 0, -70.34690856933594, abs_tol=1e-5)
    assert (report.speed_kn, report.course_deg, report.second) == (8.6, 35.9, 56)
    # heading 511 and ROT -128 are "not available" (libais: 511 and null)
    assert report.heading_deg is None and report.turn is None
    assert report.accuracy is False and report.raim is False


def test_class_b_position_report() -> None:
    report = decode_position(CLASS_B, 0)
    assert report is not None
    assert (report.msg_type, report.mmsi, report.second) == (18, 366764000, 52)
    assert math.isclose(report.lat or 0, 43.07215881347656, abs_tol=1e-5)
    assert math.isclose(report.lon or 0, -70.71106719970703, abs_tol=1e-5)
    assert (report.speed_kn, report.course_deg, report.heading_deg) == (0.0, 0.0, None)
    assert report.raim is True  # libais: "raim": true
    assert report.status is None and report.turn is None  # Class B carries neither


def test_other_types_are_not_for_the_fast_path() -> None:
    assert decode_position("403Ovl@000Htt<tSF0l4Q@100`Pq", 0) is None  # type 4
    assert decode_position("H5MiOp1:uJ0MDhJ0<P4hhDpLE80", 2) is None  # type 24
    assert decode_position("", 0) is None


def test_bits_beyond_the_standard_length_are_ignored() -> None:
    """M.1371-5: message 1 is 168 bits; a longer one is decoded from its first 168."""
    long = decode_position(LONG_TYPE1, 0)
    assert long is not None and long == decode_position(LONG_TYPE1[:28], 0)
    assert long.mmsi == 241133000


@pytest.mark.parametrize(
    ("payload", "fill_bits", "reason"),
    [
        (CLASS_A[:27], 0, RejectReason.BAD_LENGTH),  # 162 bits < 168
        (CLASS_A, 2, RejectReason.BAD_LENGTH),  # 166 bits
        (CLASS_B[:27], 0, RejectReason.BAD_LENGTH),
        ("C" + CLASS_B[1:], 0, RejectReason.BAD_LENGTH),  # type 19 needs 312 bits
        (CLASS_A, 6, RejectReason.BAD_FILL_BITS),
        (CLASS_A, -1, RejectReason.BAD_FILL_BITS),
        (CLASS_A[:10] + "X" + CLASS_A[11:], 0, RejectReason.BAD_PAYLOAD),  # 'X' not in armour
        (CLASS_A[:10] + "é" + CLASS_A[11:], 0, RejectReason.BAD_PAYLOAD),
        (CLASS_A[:10] + "_" + CLASS_A[11:], 0, RejectReason.BAD_PAYLOAD),
        (CLASS_A[:27] + " ", 0, RejectReason.BAD_PAYLOAD),
        ("1000005P?w<tSF0l4Q@>4?wv0UJp", 0, RejectReason.BAD_MMSI),  # DMA stream: MMSI 0
    ],
)
def test_bad_messages_raise_decode_error(
    payload: str, fill_bits: int, reason: RejectReason
) -> None:
    for decoder in (decode_position, decode):
        with pytest.raises(DecodeError) as caught:
            decoder(payload, fill_bits)
        assert caught.value.reason is reason


def test_mmsi_above_nine_digits_is_rejected() -> None:
    for cls in (MessageType1, MessageType18, MessageType19):
        payload, fill = cls.create(mmsi=1_000_000_000).encode()
        with pytest.raises(DecodeError) as caught:
            decode_position(payload, fill)
        assert caught.value.reason is RejectReason.BAD_MMSI


def test_payload_bits_reads_the_six_bit_armour() -> None:
    # '0' = 0, 'W' = 39, '`' = 40, 'w' = 63 (IEC 61162-1 six-bit armour)
    assert payload_bits("0W`w", 0) == (0b000000_100111_101000_111111, 24)
    assert payload_bits("0W`w", 3) == (0b000000_100111_101000_111, 21)
    assert payload_bits("w", 0) == (63, 6)


SCALE = {"lat": 1 / 600_000, "lon": 1 / 600_000, "speed": 0.1, "course": 0.1, "heading": 1,
         "second": 1}  # fmt: skip
REPORT_NAME = {"speed": "speed_kn", "course": "course_deg", "heading": "heading_deg"}


@pytest.mark.parametrize("cls", [MessageType1, MessageType18, MessageType19])
def test_fast_path_nulls_what_the_table_says(cls: type[MessageType1]) -> None:
    """The fast path's inlined limits are those of tables.NOT_AVAILABLE (one source)."""
    msg_type = cls.create(mmsi=1).msg_type
    for name, valid in NOT_AVAILABLE[msg_type].items():
        if name == "turn":  # ROT is encoded through pyais's degrees-per-minute formula
            raws = {-128: -128, -127: -127, 127: 127, -126: -709, 126: 709, 0: 0}
        elif name not in SCALE:
            continue
        else:
            codes = [valid.lo, valid.hi, valid.hi + 1, valid.lo - 1, *valid.keep]
            codes += [] if valid.not_available is None else [valid.not_available]
            raws = {
                code: code * SCALE[name] for code in codes if code >= 0 or name in ("lat", "lon")
            }
        for raw, value in raws.items():
            payload, fill = cls.create(mmsi=548000001, **{name: value}).encode()
            report = decode_position(payload, fill)
            assert report is not None
            got = getattr(report, REPORT_NAME.get(name, name))
            assert (got is None) == (not valid.valid(raw)), (msg_type, name, raw, got)
            assert decode(payload, fill)[name] == got


def test_decode_and_fast_path_agree_on_real_positions(nmea_dir: Path) -> None:
    """The contract output (decode) and the fast path carry the same values."""
    path = nmea_dir / "dma-aislib" / "stream_example.txt"
    framer = Framer(member="test", source=path.name)
    messages, _ = framer.feed_many(path.read_text().splitlines())
    compared = 0
    for message in messages:
        try:
            report = decode_position(message.payload, message.fill_bits)
        except DecodeError:
            continue
        if report is None:
            continue
        fields = decode(message.payload, message.fill_bits)
        assert report == PositionReport(
            fields["msg_type"], fields["mmsi"], fields["lat"], fields["lon"], fields["speed"],
            fields["course"], fields["heading"], fields.get("status"), fields.get("turn"),
            fields["accuracy"], fields["second"], fields["raim"], fields["repeat"],
        )  # fmt: skip
        compared += 1
    assert compared > 2900  # 2,964 single-sentence position reports in the file
