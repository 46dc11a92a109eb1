"""The standard as data: flag states (MID), code tables, "not available" values."""

from __future__ import annotations

import pytest
from pyais.constants import COUNTRY_MAPPING

from lookout.ais.tables import (
    EPFD_TYPES,
    FLAG_OF_MID,
    MIN_BITS,
    NAV_STATUS,
    NOT_AVAILABLE,
    SHIP_TYPES,
    flag_of,
    mid_of,
    ship_type_name,
)


@pytest.mark.parametrize(
    ("mid", "flag"),
    [
        # ITU MARS, Table of Maritime Identification Digits
        (563, "SG"), (564, "SG"), (565, "SG"), (566, "SG"),  # Singapore
        (548, "PH"),  # Philippines
        (574, "VN"),  # Viet Nam
        (533, "MY"),  # Malaysia
        (525, "ID"),  # Indonesia
        (431, "JP"), (432, "JP"),  # Japan
        (338, "US"), (366, "US"), (367, "US"), (368, "US"), (369, "US"),  # United States
        (412, "CN"), (413, "CN"), (414, "CN"),  # China
        (416, "TW"), (440, "KR"), (441, "KR"), (445, "KP"), (477, "HK"), (453, "MO"),
        (514, "KH"), (515, "KH"), (567, "TH"), (506, "MM"), (508, "BN"), (550, "TL"),
        (351, "PA"), (636, "LR"), (538, "MH"), (273, "RU"),
    ],
)  # fmt: skip
def test_mid_table(mid: int, flag: str) -> None:
    assert FLAG_OF_MID[mid] == flag
    assert flag_of(mid * 1_000_000 + 123456) == flag


@pytest.mark.parametrize(
    ("mmsi", "flag"),
    [
        (548123456, "PH"),  # MIDxxxxxx: ship station
        (5481234, "PH"),  # 00MIDxxxx: coast station (005481234)
        (3669713, "US"),  # 003669713: USCG coast station in the libais data
        (54812345, "PH"),  # 0MIDxxxxx: group of ships (054812345)
        (111548123, "PH"),  # 111MIDxxx: SAR aircraft
        (854812345, "PH"),  # 8MIDxxxxx: handheld VHF with DSC and GNSS
        (985481234, "PH"),  # 98MIDxxxx: craft associated with a parent ship
        (995481234, "PH"),  # 99MIDxxxx: aid to navigation
        (970123456, None),  # AIS-SART: manufacturer id, no MID
        (972123456, None),  # MOB
        (974123456, None),  # EPIRB-AIS
        (0, None),
        (1_000_000_000, None),  # ten digits
        (200123456, None),  # MID 200 is not allocated
        (123456789, None),  # no format starts with a lone 1
        (1234567, None),  # 001234567: "123" is no MID (first digit 2-7)
    ],
)  # fmt: skip
def test_flag_of_mmsi_formats(mmsi: int, flag: str | None) -> None:
    """ITU-R M.585-8 Annex 1: where the MID sits in each kind of MMSI."""
    assert flag_of(mmsi) == flag


def test_mid_of_formats() -> None:
    assert mid_of(548123456) == mid_of(5481234) == mid_of(111548123) == 548
    assert mid_of(970123456) is None


# Where pyais's MID table (a different source) and ITU MARS differ, MARS wins:
MARS_DIFFERS = {
    306: ("NL", "CW"),  # one MID for Bonaire/Sint Eustatius/Saba, Curacao and Sint Maarten
    501: ("TF", "AQ"),  # Adelie Land: French Southern and Antarctic Lands
    618: ("TF", "AQ"),  # Crozet Archipelago
    635: ("TF", "AQ"),  # Kerguelen Islands
    608: ("SH", "IO"),  # Ascension Island (IO is the British Indian Ocean Territory)
    740: ("FK", "UK"),  # Falkland Islands (UK is no ISO 3166 code)
}


def test_mid_table_agrees_with_pyais_except_where_mars_differs() -> None:
    for mid, (iso, _name) in COUNTRY_MAPPING.items():
        if mid in MARS_DIFFERS:
            assert (FLAG_OF_MID[mid], iso) == MARS_DIFFERS[mid]
        else:
            assert FLAG_OF_MID[mid] == iso, mid
    # MIDs pyais lacks: Timor-Leste (550) and South Sudan (638).
    assert set(FLAG_OF_MID) - set(COUNTRY_MAPPING) == {550, 638}


def test_flags_are_iso_alpha2() -> None:
    for mid, code in FLAG_OF_MID.items():
        assert 201 <= mid <= 775 and len(code) == 2 and code.isupper(), mid


def test_code_tables_match_libais_texts() -> None:
    """Independent wording from libais's expected output (typeexamples.json)."""
    assert SHIP_TYPES[80].lower() == "tanker, all ships of this type"
    assert SHIP_TYPES[72].lower() == "cargo, hazardous category b"
    assert NAV_STATUS[0].lower() == "under way using engine"
    assert NAV_STATUS[1] == "at anchor" and NAV_STATUS[7] == "engaged in fishing"
    assert EPFD_TYPES[1] == "GPS" and EPFD_TYPES[4] == "Loran-C"


def test_ship_types_cover_every_code() -> None:
    """M.1371-5 Annex 8 §3.3.2: 0 not available, 1-19 reserved, 20-99 by decade, 100-199
    regional, 200-255 reserved."""
    assert set(SHIP_TYPES) == set(range(256))
    assert SHIP_TYPES[0].startswith("not available")
    assert SHIP_TYPES[30] == "fishing" and SHIP_TYPES[52] == "tug"
    assert SHIP_TYPES[35] == "military operations" and SHIP_TYPES[55] == "law enforcement"
    assert SHIP_TYPES[5] == SHIP_TYPES[255] == "reserved for future use"
    assert SHIP_TYPES[150] == "reserved for regional use"
    assert ship_type_name(999) == "reserved for future use"
    assert set(NAV_STATUS) == set(range(16)) and set(EPFD_TYPES) == set(range(16))


def test_not_available_codes_are_the_standards() -> None:
    """The codes of M.1371-5 Annex 8 (Message 1 table; Message 27: 1A838h and D548h)."""
    pos = NOT_AVAILABLE[1]
    assert pos["lat"].not_available == 91 * 600_000 and pos["lon"].not_available == 181 * 600_000
    assert (pos["speed"].not_available, pos["course"].not_available) == (1023, 3600)
    assert (pos["heading"].not_available, pos["second"].not_available) == (511, 60)
    assert pos["turn"].not_available == -128
    assert NOT_AVAILABLE[27]["lon"].not_available == 0x1A838
    assert NOT_AVAILABLE[27]["lat"].not_available == 0xD548
    assert NOT_AVAILABLE[9]["alt"].not_available == 4095
    for fields in NOT_AVAILABLE.values():
        for valid in fields.values():
            assert valid.lo <= valid.hi
            assert valid.not_available is None or not valid.valid(valid.not_available)


def test_standard_message_lengths() -> None:
    """Annex 8 "number of bits": 168 for 1-4, 9, 11, 18; 312 for 19; 96 for 27; 80 for 17."""
    for msg_type in (1, 2, 3, 4, 9, 11, 18):
        assert MIN_BITS[msg_type] == 168
    assert (MIN_BITS[19], MIN_BITS[27], MIN_BITS[17], MIN_BITS[21]) == (312, 96, 80, 272)
    assert set(MIN_BITS) == set(range(1, 28))
