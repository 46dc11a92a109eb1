"""The batch (numpy) position decoder against the scalar fast path, message by message.

The scalar decoder is itself checked against pyais (``test_fastpath.py`` and the round-trip
property tests), so equality here carries that over to the batch decoder.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from lookout.ais.batchdecode import decode_position_columns, decode_positions, position_rows
from lookout.ais.fastpath import decode_position
from lookout.ais.framing import Framer
from lookout.ais.nmea import SIXBIT_ALPHABET
from lookout.ais.types import DecodeError

ARMOUR = SIXBIT_ALPHABET.decode()
FILES = [
    "dma-aislib/stream_example.txt",
    "dma-aislib/decode_encode_messages.txt",
    "kystverket/Ais1000Lines.nm4",
    "libais/test/data/test.aivdm",
    "gfw-ais-tools/mixed_types.nmea",
    "pyais/tests/nmea_data_sample.txt",
]


def scalar(payload: str, fill_bits: int) -> object:
    try:
        return decode_position(payload, fill_bits)
    except DecodeError as error:
        return error.reason


def is_standard(payload: str, fill_bits: int) -> bool:
    """A 168-bit report of type 1, 2, 3 or 18: what the batch decoder takes on."""
    return len(payload) == 28 and fill_bits == 0 and payload[0] in "123B"


def check_batch(payloads: list[str], fills: list[int]) -> int:
    """Every report decoded in batch equals the scalar one (the same types, too); every
    standard report the scalar decoder accepts is decoded in batch. Returns how many."""
    decoded = 0
    for payload, fill_bits, report in zip(
        payloads, fills, decode_positions(payloads, fills), strict=True
    ):
        expected = scalar(payload, fill_bits)
        if report is None:
            assert not (is_standard(payload, fill_bits) and isinstance(expected, tuple))
            continue
        decoded += 1
        assert report == expected
        assert [type(x) for x in report] == [type(x) for x in expected]  # type: ignore[attr-defined]
    return decoded


@pytest.mark.parametrize("name", FILES)
def test_batch_reports_equal_the_scalar_ones_on_shared_files(nmea_dir: Path, name: str) -> None:
    framed, _ = Framer(member="m", source="s").frame((nmea_dir / name).read_text().splitlines())
    decoded = check_batch(framed.payloads, framed.fill_bits)
    assert decoded == sum(map(pyais_accepts, framed.payloads, framed.fill_bits))


def pyais_accepts(payload: str, fill_bits: int) -> bool:
    """A standard report with an MMSI of one to nine digits, by pyais's reading of it."""
    if not is_standard(payload, fill_bits):
        return False
    msg_type = 18 if payload[0] == "B" else int(payload[0])
    message = MSG_CLASS[msg_type].from_vector(bit_vector(payload.encode(), fill_bits))
    return 0 < message.mmsi <= 999_999_999


def test_batch_reports_equal_the_scalar_ones_on_random_payloads() -> None:
    rng = random.Random(7)
    payloads, fills = [], []
    for _ in range(20_000):
        head = rng.choice("123B" * 8 + "0C5H@w")
        body = "".join(rng.choice(ARMOUR) for _ in range(27))
        payload = head + body
        roll = rng.random()
        if roll < 0.05:  # a character outside the armour, ASCII or not
            k = rng.randrange(28)
            payload = payload[:k] + rng.choice("XYZ[]^_!,*\\ é²") + payload[k + 1 :]
        elif roll < 0.1:
            payload = payload[: rng.randrange(28)] + payload[28:]
        payloads.append(payload)
        fills.append(rng.choice([0] * 9 + [2]))
    assert check_batch(payloads, fills) > 10_000


def test_columns_rows_and_reports_are_the_same_decoding() -> None:
    payloads = ["13@ndhOP1a0kOqPOhN83Q001P000", "B3aDQ=@00@DlsNU<EMEQ3wR5oP06", "5" * 28, "1" * 27]
    fills = [0, 0, 0, 0]
    columns = decode_position_columns(payloads, fills)
    reports = decode_positions(payloads, fills)
    assert columns.at == [0, 1]
    assert columns.reports() == [reports[0], reports[1]]
    assert reports[2:] == [None, None]
    rows = position_rows(payloads, fills)
    assert rows == [reports[0][:8], reports[1][:8], None, None]  # type: ignore[index]


def test_an_empty_batch_and_a_batch_of_one() -> None:
    assert decode_positions([], []) == []
    (report,) = decode_positions(["13@ndhOP1a0kOqPOhN83Q001P000"], [0])
    assert report == decode_position("13@ndhOP1a0kOqPOhN83Q001P000", 0)
