"""Round trips: position reports encoded by pyais, decoded by our fast path and by pyais.

For every field the two agree, after the "not available" mapping of ITU-R M.1371-5 Annex 8
(Message 1, 18 and 19 tables), which is written out here: lat beyond +-90 and lon beyond
+-180 (91 / 181 = not available), SOG 102.3 kn, COG 360 and above, heading 360 and above,
time stamp 60, ROT -128 / +-127 (no rate), dimensions 0 and empty text are null.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS, MessageType1, MessageType18, MessageType19

from lookout.ais.batchdecode import decode_positions
from lookout.ais.decode import decode
from lookout.ais.fastpath import decode_position
from lookout.ais.types import DecodeError

SIXBIT = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?"


def edges(low: int, high: int, *special: int) -> st.SearchStrategy[int]:
    """Integers in ``low..high``, with the bounds and the standard's codes drawn often."""
    return st.one_of(st.sampled_from([low, high, *special]), st.integers(low, high))


MMSI = edges(1, 999_999_999, 548_123_456, 5_481_234, 111_548_123, 995_481_234)
LAT = edges(-(2**26), 2**26 - 1, 91 * 600_000, -90 * 600_000, 90 * 600_000, -1, 0, 1)
LON = edges(-(2**27), 2**27 - 1, 181 * 600_000, -180 * 600_000, 180 * 600_000, -1, 0, 1)
COMMON = {
    "mmsi": MMSI,
    "repeat": edges(0, 3),
    "lat": LAT.map(lambda raw: raw / 600_000),
    "lon": LON.map(lambda raw: raw / 600_000),
    "speed": edges(0, 1023, 1022).map(lambda raw: raw / 10),
    "course": edges(0, 4095, 3599, 3600, 3601).map(lambda raw: raw / 10),
    "heading": edges(0, 511, 359, 360, 510),
    "second": edges(0, 63, 59, 60, 61, 62, 63),
    "accuracy": st.booleans(),
    "raim": st.booleans(),
}
CLASS_A = {
    **COMMON,
    "msg_type": st.sampled_from([1, 2, 3]),
    "status": edges(0, 15),
    # degrees per minute, incl. the raw codes -128 and +-127 that pyais passes through
    "turn": st.one_of(st.sampled_from([-128, -127, 127, 0, 709, -709]), st.floats(-700, 700)),
    "maneuver": edges(0, 3),
    "radio": edges(0, 2**19 - 1),
}
CLASS_B = {
    **COMMON,
    "reserved_1": edges(0, 255),
    "reserved_2": edges(0, 3),
    **{flag: st.booleans() for flag in ("cs", "display", "dsc", "band", "msg22", "assigned")},
    "radio": edges(0, 2**20 - 1),
}
TEXT = st.text(SIXBIT, max_size=20)
TYPE19 = {
    **COMMON,
    "reserved_1": edges(0, 255),
    "shipname": TEXT,
    "ship_type": edges(0, 99),
    "to_bow": edges(0, 511),
    "to_stern": edges(0, 511),
    "to_port": edges(0, 63),
    "to_starboard": edges(0, 63),
    "epfd": edges(0, 15),
    "dte": st.booleans(),
    "assigned": st.booleans(),
}


def standard(name: str, value: Any) -> Any:
    """pyais's value after M.1371-5's "not available" mapping."""
    if name == "lat":
        return value if -90 <= value <= 90 else None
    if name == "lon":
        return value if -180 <= value <= 180 else None
    if name == "speed":
        return None if value == 102.3 else value
    if name in ("course", "heading"):
        return value if value < 360 else None
    if name == "second":
        return None if value == 60 else value
    if name == "turn":
        return None if value in (-128.0, -127.0, 127.0) else value
    if name in ("to_bow", "to_stern", "to_port", "to_starboard"):
        return value or None
    if name == "shipname":
        return value.partition("@")[0].strip() or None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def check(message: Any) -> None:
    payload, fill = message.encode()
    theirs = MSG_CLASS[message.msg_type].from_vector(bit_vector(payload.encode(), fill))
    expected = {name: standard(name, value) for name, value in theirs.asdict().items()}
    assert decode(payload, fill) == expected
    report = decode_position(payload, fill)
    assert report is not None
    assert (report.msg_type, report.mmsi, report.repeat) == (
        expected["msg_type"], expected["mmsi"], expected["repeat"],
    )  # fmt: skip
    assert (report.lat, report.lon) == (expected["lat"], expected["lon"])
    assert (report.speed_kn, report.course_deg, report.heading_deg) == (
        expected["speed"], expected["course"], expected["heading"],
    )  # fmt: skip
    assert (report.second, report.accuracy, report.raim) == (
        expected["second"], expected["accuracy"], expected["raim"],
    )  # fmt: skip
    assert (report.status, report.turn) == (expected.get("status"), expected.get("turn"))
    batch = decode_positions([payload, payload], [fill, fill])
    if message.msg_type == 19:  # 312 bits: left to the scalar decoder
        assert batch == [None, None]
    else:
        assert batch == [report, report]


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.fixed_dictionaries(CLASS_A))
def test_class_a_round_trip(fields: dict[str, Any]) -> None:
    check(MessageType1.create(**fields))


@FAST
@given(st.fixed_dictionaries(CLASS_B))
def test_type18_round_trip(fields: dict[str, Any]) -> None:
    check(MessageType18.create(**fields))


@FAST
@given(st.fixed_dictionaries(TYPE19))
def test_type19_round_trip(fields: dict[str, Any]) -> None:
    check(MessageType19.create(**fields))


ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.text(ARMOUR, max_size=180),
        st.text(max_size=40),
        # a valid type character first, to reach every decoder
        st.tuples(st.sampled_from(ARMOUR[:28]), st.text(ARMOUR, max_size=180)).map("".join),
    ),
    st.integers(-1, 7),
)
def test_any_payload_decodes_or_raises_decode_error(payload: str, fill_bits: int) -> None:
    """Bad input gets a reason, never another exception (types 1-27, pyais or fast path)."""
    try:
        fields = decode(payload, fill_bits)
    except DecodeError:
        return
    assert 1 <= fields["msg_type"] <= 27 and 0 < fields["mmsi"] <= 999_999_999
    assert json.loads(json.dumps(fields)) == fields  # plain JSON values
    try:
        decode_position(payload, fill_bits)
    except DecodeError:
        raise AssertionError("decode accepted what decode_position rejects") from None


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.text(ARMOUR, min_size=28, max_size=28),
                st.tuples(st.sampled_from("123B"), st.text(ARMOUR, min_size=27, max_size=27)).map(
                    "".join
                ),
                st.text(min_size=28, max_size=28),
                st.text(ARMOUR, max_size=40),
            ),
            st.sampled_from([0, 0, 0, 2, 6]),
        ),
        max_size=30,
    )
)
def test_the_batch_decoder_gives_the_scalar_reports(messages: list[tuple[str, int]]) -> None:
    """Whatever it decodes, the batch decoder decodes exactly as ``decode_position``; every
    standard-length type 1-3 or 18 report the scalar decoder accepts, it decodes too."""
    payloads, fills = [p for p, _ in messages], [f for _, f in messages]
    for payload, fill_bits, report in zip(
        payloads, fills, decode_positions(payloads, fills), strict=True
    ):
        try:
            expected = decode_position(payload, fill_bits)
        except DecodeError:
            expected = None
        standard = len(payload) == 28 and fill_bits == 0 and payload[0] in "123B"
        assert report == (expected if standard else None)
