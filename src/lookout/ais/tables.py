"""The AIS standard as data: flag states, code tables, "not available" values, message lengths.

One table per concept; the decoder, the docs and the tests all read these. The authority is
ITU-R M.1371-5 (Technical characteristics for an AIS using TDMA in the VHF maritime mobile
band, Annex 8 "AIS messages") and, for the structure of MMSIs, ITU-R M.585-8 (Assignment and
use of identities in the maritime mobile service, Annex 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "AIS_CLASS_OF_TYPE",
    "EPFD_TYPES",
    "FLAG_OF_MID",
    "MANEUVER_INDICATORS",
    "MAX_MESSAGE_BITS",
    "MIN_BITS",
    "MIN_BITS_24B",
    "NAV_STATUS",
    "NOT_AVAILABLE",
    "POSITIONING_STATES",
    "SHIP_TYPES",
    "ValidRange",
    "flag_of",
    "mid_of",
    "ship_type_name",
]

# --- Flag states --------------------------------------------------------------------------------
# Maritime Identification Digits (MID) -> ISO 3166-1 alpha-2 code of the country or geographical
# area the MID is allocated to. Source: ITU Maritime mobile Access and Retrieval System (MARS),
# "Table of Maritime Identification Digits" (https://www.itu.int/en/ITU-R/terrestrial/fmd/Pages/
# mid.aspx), which implements Appendix 43 of the Radio Regulations.
# Choices where MARS names an area without its own ISO code, or several:
#   204 Azores, 255 Madeira -> PT; 303 Alaska -> US; 306 (Bonaire, Sint Eustatius and Saba,
#   Curacao, Sint Maarten: all parts of the Kingdom of the Netherlands, whose flag their ships
#   fly) -> NL; 501 Adelie Land, 607 Saint Paul and Amsterdam, 618 Crozet, 635 Kerguelen
#   (French Southern and Antarctic Lands) -> TF; 608 Ascension Island -> SH (Saint Helena,
#   Ascension and Tristan da Cunha).
FLAG_OF_MID: Final[Mapping[int, str]] = {
    # Europe
    201: "AL", 202: "AD", 203: "AT", 204: "PT", 205: "BE", 206: "BY", 207: "BG", 208: "VA",
    209: "CY", 210: "CY", 211: "DE", 212: "CY", 213: "GE", 214: "MD", 215: "MT", 216: "AM",
    218: "DE", 219: "DK", 220: "DK", 224: "ES", 225: "ES", 226: "FR", 227: "FR", 228: "FR",
    229: "MT", 230: "FI", 231: "FO", 232: "GB", 233: "GB", 234: "GB", 235: "GB", 236: "GI",
    237: "GR", 238: "HR", 239: "GR", 240: "GR", 241: "GR", 242: "MA", 243: "HU", 244: "NL",
    245: "NL", 246: "NL", 247: "IT", 248: "MT", 249: "MT", 250: "IE", 251: "IS", 252: "LI",
    253: "LU", 254: "MC", 255: "PT", 256: "MT", 257: "NO", 258: "NO", 259: "NO", 261: "PL",
    262: "ME", 263: "PT", 264: "RO", 265: "SE", 266: "SE", 267: "SK", 268: "SM", 269: "CH",
    270: "CZ", 271: "TR", 272: "UA", 273: "RU", 274: "MK", 275: "LV", 276: "EE", 277: "LT",
    278: "SI", 279: "RS",
    # North and Central America, Caribbean
    301: "AI", 303: "US", 304: "AG", 305: "AG", 306: "NL", 307: "AW", 308: "BS", 309: "BS",
    310: "BM", 311: "BS", 312: "BZ", 314: "BB", 316: "CA", 319: "KY", 321: "CR", 323: "CU",
    325: "DM", 327: "DO", 329: "GP", 330: "GD", 331: "GL", 332: "GT", 334: "HN", 336: "HT",
    338: "US", 339: "JM", 341: "KN", 343: "LC", 345: "MX", 347: "MQ", 348: "MS", 350: "NI",
    351: "PA", 352: "PA", 353: "PA", 354: "PA", 355: "PA", 356: "PA", 357: "PA", 358: "PR",
    359: "SV", 361: "PM", 362: "TT", 364: "TC", 366: "US", 367: "US", 368: "US", 369: "US",
    370: "PA", 371: "PA", 372: "PA", 373: "PA", 374: "PA", 375: "VC", 376: "VC", 377: "VC",
    378: "VG", 379: "VI",
    # Asia
    401: "AF", 403: "SA", 405: "BD", 408: "BH", 410: "BT", 412: "CN", 413: "CN", 414: "CN",
    416: "TW", 417: "LK", 419: "IN", 422: "IR", 423: "AZ", 425: "IQ", 428: "IL", 431: "JP",
    432: "JP", 434: "TM", 436: "KZ", 437: "UZ", 438: "JO", 440: "KR", 441: "KR", 443: "PS",
    445: "KP", 447: "KW", 450: "LB", 451: "KG", 453: "MO", 455: "MV", 457: "MN", 459: "NP",
    461: "OM", 463: "PK", 466: "QA", 468: "SY", 470: "AE", 471: "AE", 472: "TJ", 473: "YE",
    475: "YE", 477: "HK", 478: "BA",
    # Oceania and South-East Asia
    501: "TF", 503: "AU", 506: "MM", 508: "BN", 510: "FM", 511: "PW", 512: "NZ", 514: "KH",
    515: "KH", 516: "CX", 518: "CK", 520: "FJ", 523: "CC", 525: "ID", 529: "KI", 531: "LA",
    533: "MY", 536: "MP", 538: "MH", 540: "NC", 542: "NU", 544: "NR", 546: "PF", 548: "PH",
    550: "TL", 553: "PG", 555: "PN", 557: "SB", 559: "AS", 561: "WS", 563: "SG", 564: "SG",
    565: "SG", 566: "SG", 567: "TH", 570: "TO", 572: "TV", 574: "VN", 576: "VU", 577: "VU",
    578: "WF",
    # Africa
    601: "ZA", 603: "AO", 605: "DZ", 607: "TF", 608: "SH", 609: "BI", 610: "BJ", 611: "BW",
    612: "CF", 613: "CM", 615: "CG", 616: "KM", 617: "CV", 618: "TF", 619: "CI", 620: "KM",
    621: "DJ", 622: "EG", 624: "ET", 625: "ER", 626: "GA", 627: "GH", 629: "GM", 630: "GW",
    631: "GQ", 632: "GN", 633: "BF", 634: "KE", 635: "TF", 636: "LR", 637: "LR", 638: "SS",
    642: "LY", 644: "LS", 645: "MU", 647: "MG", 649: "ML", 650: "MZ", 654: "MR", 655: "MW",
    656: "NE", 657: "NG", 659: "NA", 660: "RE", 661: "RW", 662: "SD", 663: "SN", 664: "SC",
    665: "SH", 666: "SO", 667: "SL", 668: "ST", 669: "SZ", 670: "TD", 671: "TG", 672: "TN",
    674: "TZ", 675: "UG", 676: "CD", 677: "TZ", 678: "ZM", 679: "ZW",
    # South America
    701: "AR", 710: "BR", 720: "BO", 725: "CL", 730: "CO", 735: "EC", 740: "FK", 745: "GF",
    750: "GY", 755: "PY", 760: "PE", 765: "SR", 770: "UY", 775: "VE",
}  # fmt: skip


def mid_of(mmsi: int) -> int | None:
    """The MID inside an MMSI, per the formats of ITU-R M.585-8 Annex 1; ``None`` if it has none.

    ``MIDxxxxxx`` ship station, ``0MIDxxxxx`` group of ships, ``00MIDxxxx`` coast station,
    ``111MIDxxx`` SAR aircraft, ``8MIDxxxxx`` handheld VHF with DSC and GNSS, ``98MIDxxxx`` craft
    associated with a parent ship, ``99MIDxxxx`` aid to navigation. ``970``/``972``/``974``
    (AIS-SART, MOB, EPIRB-AIS) carry a manufacturer number, not a MID.
    """
    if not 0 < mmsi <= 999_999_999:
        return None
    digits = f"{mmsi:09d}"
    if digits[0] in "234567":
        mid = digits[0:3]
    elif digits.startswith("00"):
        mid = digits[2:5]
    elif digits[0] == "0":
        mid = digits[1:4]
    elif digits.startswith("111"):
        mid = digits[3:6]
    elif digits[0] == "8":
        mid = digits[1:4]
    elif digits.startswith(("98", "99")):
        mid = digits[2:5]
    else:
        return None
    return int(mid) if mid[0] in "234567" else None


def flag_of(mmsi: int) -> str | None:
    """ISO 3166-1 alpha-2 code of the flag state (MID) of an MMSI, or ``None``.

    ``None`` for MMSIs that carry no MID (AIS-SART, MOB, EPIRB-AIS, malformed) and for MIDs
    that ITU has not allocated.
    """
    mid = mid_of(mmsi)
    return None if mid is None else FLAG_OF_MID.get(mid)


# --- Code tables (M.1371-5 Annex 8) --------------------------------------------------------------
# Enumerated fields keep the transmitted integer in decoded output, reserved values included;
# these tables give their meaning.

NAV_STATUS: Final[Mapping[int, str]] = {
    0: "under way using engine",
    1: "at anchor",
    2: "not under command",
    3: "restricted manoeuvrability",
    4: "constrained by her draught",
    5: "moored",
    6: "aground",
    7: "engaged in fishing",
    8: "under way sailing",
    9: "reserved for future amendment (HSC)",
    10: "reserved for future amendment (WIG)",
    11: "power-driven vessel towing astern (regional use)",
    12: "power-driven vessel pushing ahead or towing alongside (regional use)",
    13: "reserved for future use",
    14: "AIS-SART (active), MOB-AIS, EPIRB-AIS",
    15: "undefined (default)",
}
"""Navigational status (messages 1-3 and 27). 15 is the "not defined" default."""

_HAZARD_SUFFIXES: Final = {
    0: "all ships of this type",
    1: "hazardous category A",
    2: "hazardous category B",
    3: "hazardous category C",
    4: "hazardous category D",
    5: "reserved for future use",
    6: "reserved for future use",
    7: "reserved for future use",
    8: "reserved for future use",
    9: "no additional information",
}
_SHIP_DECADES: Final = {2: "wing in ground (WIG)", 4: "high-speed craft (HSC)", 6: "passenger",
                        7: "cargo", 8: "tanker", 9: "other type"}  # fmt: skip
_SHIP_SPECIAL: Final = {
    0: "not available (default)",
    30: "fishing",
    31: "towing",
    32: "towing, length exceeds 200 m or breadth exceeds 25 m",
    33: "dredging or underwater operations",
    34: "diving operations",
    35: "military operations",
    36: "sailing",
    37: "pleasure craft",
    38: "reserved for future use",
    39: "reserved for future use",
    50: "pilot vessel",
    51: "search and rescue vessel",
    52: "tug",
    53: "port tender",
    54: "anti-pollution equipment",
    55: "law enforcement",
    56: "spare, local vessel",
    57: "spare, local vessel",
    58: "medical transport",
    59: "ship of a State not party to an armed conflict",
}


def _ship_types() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(256):
        if code in _SHIP_SPECIAL:
            table[code] = _SHIP_SPECIAL[code]
        elif code // 10 in _SHIP_DECADES and code < 100:
            table[code] = f"{_SHIP_DECADES[code // 10]}, {_HAZARD_SUFFIXES[code % 10]}"
        elif 100 <= code <= 199:
            table[code] = "reserved for regional use"
        else:
            table[code] = "reserved for future use"
    return table


SHIP_TYPES: Final[Mapping[int, str]] = _ship_types()
"""Type of ship and cargo (messages 5, 19, 24 part B; M.1371-5 Annex 8 §3.3.2), 0-255.

0 is "not available" (kept as 0: enumerated fields carry the transmitted integer)."""


def ship_type_name(code: int) -> str:
    """The M.1371-5 meaning of a ship type code; unknown codes are "reserved for future use"."""
    return SHIP_TYPES.get(code, "reserved for future use")


EPFD_TYPES: Final[Mapping[int, str]] = {
    0: "undefined (default)",
    1: "GPS",
    2: "GLONASS",
    3: "combined GPS/GLONASS",
    4: "Loran-C",
    5: "Chayka",
    6: "integrated navigation system",
    7: "surveyed",
    8: "Galileo",
    **{code: "not used" for code in range(9, 15)},
    15: "internal GNSS",
}
"""Type of electronic position fixing device (messages 4, 5, 11, 19, 21)."""

MANEUVER_INDICATORS: Final[Mapping[int, str]] = {
    0: "not available (default)",
    1: "not engaged in special manoeuvre",
    2: "engaged in special manoeuvre",
    3: "reserved",
}
"""Special manoeuvre indicator (messages 1-3)."""

POSITIONING_STATES: Final[Mapping[int, str]] = {
    61: "positioning system in manual input mode",
    62: "positioning system in estimated (dead reckoning) mode",
    63: "positioning system inoperative",
}
"""Time stamp values 61-63 of messages 1-3, 9, 18, 19 and 21: not a UTC second but the state of
the positioning system. Decoded output keeps them in ``second`` (60, "not available", is null)."""


# --- "Not available" and out-of-range values ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidRange:
    """The transmitted (raw, integer) values of a field that carry a value.

    A raw value in ``lo..hi`` or in ``keep`` is decoded; any other value decodes to ``None``.
    ``not_available`` is the code the standard names "not available" (always outside the
    range; ``None`` if the field has none); values that are neither valid nor
    ``not_available`` are the ones the standard marks "not used" / "should not be used", or
    impossible (a latitude beyond 90 degrees), also null.
    """

    lo: int
    hi: int
    not_available: int | None
    clause: str
    keep: frozenset[int] = frozenset()

    def valid(self, raw: int) -> bool:
        return self.lo <= raw <= self.hi or raw in self.keep


_POS_1_3: Final = "M.1371-5 Annex 8, Message 1/2/3 table"
_LAT = ValidRange(-54_000_000, 54_000_000, 54_600_000, "lat in 1/10 000 min; 91 deg = n/a")
_LON = ValidRange(-108_000_000, 108_000_000, 108_600_000, "lon in 1/10 000 min; 181 deg = n/a")
_LAT10 = ValidRange(-54_000, 54_000, 54_600, "lat in 1/10 min; 91 deg = n/a")
_LON10 = ValidRange(-108_000, 108_000, 108_600, "lon in 1/10 min; 181 deg = n/a")
_CORNERS: Final = {
    "ne_lat": ValidRange(-54_000, 54_000, None, "area corner lat in 1/10 min"),
    "sw_lat": ValidRange(-54_000, 54_000, None, "area corner lat in 1/10 min"),
    "ne_lon": ValidRange(-108_000, 108_000, None, "area corner lon in 1/10 min"),
    "sw_lon": ValidRange(-108_000, 108_000, None, "area corner lon in 1/10 min"),
}
_SOG = ValidRange(0, 1022, 1023, "SOG in 1/10 kn; 1023 = n/a, 1022 = 102.2 kn or more")
_COG = ValidRange(0, 3599, 3600, "COG in 1/10 deg; 3600 = n/a, 3601-4095 not used")
_HDG = ValidRange(0, 359, 511, "true heading in deg; 511 = n/a")
_SECOND_POS = ValidRange(
    0, 59, 60, "time stamp; 60 = n/a, 61-63 positioning system state", frozenset({61, 62, 63})
)
_ROT = ValidRange(-126, 126, -128, "ROT; -128 = n/a, +-127 = turning >5 deg/30 s, no rate")
_BOW = ValidRange(1, 511, 0, "dimension A/B in m; 0 = n/a")
_PORT = ValidRange(1, 63, 0, "dimension C/D in m; 0 = n/a")
_DIMENSIONS: Final = {"to_bow": _BOW, "to_stern": _BOW, "to_port": _PORT, "to_starboard": _PORT}
_POSITION: Final = {"lat": _LAT, "lon": _LON}
_UTC_DATE: Final = {
    "year": ValidRange(1, 9999, 0, "UTC year; 0 = n/a"),
    "month": ValidRange(1, 12, 0, "UTC month; 0 = n/a, 13-15 not used"),
    "day": ValidRange(1, 31, 0, "UTC day; 0 = n/a"),
    "hour": ValidRange(0, 23, 24, "UTC hour; 24 = n/a, 25-31 not used"),
    "minute": ValidRange(0, 59, 60, "UTC minute; 60 = n/a, 61-63 not used"),
    "second": ValidRange(0, 59, 60, "UTC second; 60 = n/a, 61-63 not used"),
}
_ETA: Final = {
    "month": ValidRange(1, 12, 0, "ETA month; 0 = n/a"),
    "day": ValidRange(1, 31, 0, "ETA day; 0 = n/a"),
    "hour": ValidRange(0, 23, 24, "ETA hour; 24 = n/a"),
    "minute": ValidRange(0, 59, 60, "ETA minute; 60 = n/a"),
}
_CLASS_A: Final = {"turn": _ROT, "speed": _SOG, "course": _COG, "heading": _HDG,
                   "second": _SECOND_POS, **_POSITION}  # fmt: skip
_CLASS_B: Final = {"speed": _SOG, "course": _COG, "heading": _HDG, "second": _SECOND_POS,
                   **_POSITION}  # fmt: skip

NOT_AVAILABLE: Final[Mapping[int, Mapping[str, ValidRange]]] = {
    1: _CLASS_A,
    2: _CLASS_A,
    3: _CLASS_A,
    4: {**_UTC_DATE, **_POSITION},
    5: {
        **_DIMENSIONS,
        **_ETA,
        "imo": ValidRange(1, 2**30 - 1, 0, "IMO number; 0 = n/a"),
        "draught": ValidRange(1, 255, 0, "draught in 1/10 m; 0 = n/a"),
    },
    9: {
        "alt": ValidRange(0, 4094, 4095, "altitude in m; 4095 = n/a"),
        "speed": ValidRange(0, 1022, 1023, "SOG in kn; 1023 = n/a"),
        "course": _COG,
        "second": _SECOND_POS,
        **_POSITION,
    },
    11: {**_UTC_DATE, **_POSITION},
    17: {"lat": _LAT10, "lon": _LON10},
    18: _CLASS_B,
    19: {**_CLASS_B, **_DIMENSIONS},
    21: {"second": _SECOND_POS, **_POSITION, **_DIMENSIONS},
    22: _CORNERS,
    23: _CORNERS,
    24: _DIMENSIONS,
    27: {
        "lat": _LAT10,
        "lon": _LON10,
        "speed": ValidRange(0, 62, 63, "SOG in kn; 63 = n/a"),
        "course": ValidRange(0, 359, 511, "COG in deg; 511 = n/a"),
    },
}
"""Per message type, the fields with "not available" codes and their valid raw ranges.

Rules, applied the same way to every type: a raw value outside the valid range decodes to
``None`` (the standard's "not available" code and its "not used" values alike); enumerated
fields (``status``, ``ship_type``, ``epfd``, ``maneuver``, ``aid_type``, ...) are not listed and
keep their integer; text fields that are empty or all ``@`` are ``None`` (see ``decode``).
Types 22 and 23 define no "not available" value for their area corners; corners beyond
+-90 / +-180 degrees are null like every other impossible position.
Sources: M.1371-5 Annex 8, the table of each message (field descriptions quoted in ``clause``).
"""

# --- Station classes ---------------------------------------------------------------------------

AIS_CLASS_OF_TYPE: Final[Mapping[int, str]] = {
    1: "A", 2: "A", 3: "A", 18: "B", 19: "B", 9: "SAR",
}  # fmt: skip
"""The kind of station a position report comes from, by message type (M.1371-5 Annex 8): ``A``
(class A shipborne: types 1, 2, 3), ``B`` (class B shipborne: types 18, 19) or ``SAR`` (a SAR
airborne station: type 9). Type 27 (long-range) is sent by class A and class B alike and
tells nothing; base stations (4) and aids to navigation (21) never become vessels."""

# --- Lengths ------------------------------------------------------------------------------------

MIN_BITS: Final[Mapping[int, int]] = {
    1: 168, 2: 168, 3: 168, 4: 168, 5: 420, 6: 88, 7: 72, 8: 56, 9: 168, 10: 72, 11: 168,
    12: 72, 13: 72, 14: 40, 15: 88, 16: 96, 17: 80, 18: 168, 19: 312, 20: 72, 21: 272,
    22: 168, 23: 160, 24: 160, 25: 40, 26: 60, 27: 96,
}  # fmt: skip
"""Shortest message, in bits, that carries every field of its type (M.1371-5 Annex 8 "number
of bits" of each message). Shorter messages are rejected ``bad_length``; longer ones are decoded
and their surplus bits ignored. Type 5 is 424 bits; 420-423 are accepted (a transmitter that
drops the two fill bits): the destination then loses its last character and ``dte`` is null."""

MIN_BITS_24B: Final = 162
"""Type 24 part B: 168 bits, of which the last 6 are spare."""

MAX_MESSAGE_BITS: Final = 1064
"""The longest AIS message: five slots of a message 26 (M.1371-5 Annex 8, Message 26)."""
