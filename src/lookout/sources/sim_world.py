"""The demo world of the traffic simulator: South China Sea ports, lanes, grounds and fleets.

Plain data plus a seeded fleet generator. Port points are the anchorage or approach just off
each port, at sea (each checked against a 1 km land mask); the lanes between them are computed
by ``searoute`` in :mod:`lookout.sources.simulator`. Reef and shoal positions are those of
``shared/data/geo/scs-reference-points`` (Wikipedia / CSIS AMTI). Vessel names and call signs
are generated from word lists and digits: they are plausible, not real ships.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AREAS",
    "FLAGS",
    "GROUPS",
    "LANES",
    "PORTS",
    "WAYPOINT_LANES",
    "Area",
    "Flag",
    "Group",
    "Port",
    "VesselSpec",
    "make_fleet",
]


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    lat: float
    lon: float


PORTS: dict[str, Port] = {
    p.name: p
    for p in (
        Port("MANILA", 14.52, 120.80),
        Port("SUBIC BAY", 14.70, 120.10),
        Port("BATANGAS", 13.66, 120.98),
        Port("PUERTO PRINCESA", 9.70, 118.80),
        Port("HO CHI MINH CITY", 10.25, 107.15),
        Port("DA NANG", 16.15, 108.30),
        Port("HAIPHONG", 20.60, 107.00),
        Port("SINGAPORE", 1.22, 103.85),
        Port("KOTA KINABALU", 6.05, 115.95),
        Port("KUCHING", 1.80, 110.45),
        Port("BINTULU", 3.30, 113.00),
        Port("MUARA", 5.10, 115.00),
        Port("HONG KONG", 22.15, 114.20),
        Port("KAOHSIUNG", 22.50, 120.20),
        Port("LAEM CHABANG", 13.00, 100.80),
        Port("SIHANOUKVILLE", 10.55, 103.40),
        Port("XIAMEN", 24.35, 118.15),
        Port("SANYA", 18.15, 109.45),
    )
}

LANES: tuple[tuple[str, str, float], ...] = (
    ("HONG KONG", "SINGAPORE", 6.0),
    ("KAOHSIUNG", "SINGAPORE", 3.0),
    ("XIAMEN", "SINGAPORE", 2.0),
    ("MANILA", "HONG KONG", 3.0),
    ("MANILA", "SINGAPORE", 2.0),
    ("MANILA", "HO CHI MINH CITY", 1.5),
    ("SUBIC BAY", "KAOHSIUNG", 1.0),
    ("SUBIC BAY", "HONG KONG", 1.0),
    ("BATANGAS", "SINGAPORE", 1.5),
    ("MANILA", "PUERTO PRINCESA", 1.0),
    ("HONG KONG", "HO CHI MINH CITY", 2.0),
    ("HAIPHONG", "SINGAPORE", 1.5),
    ("DA NANG", "HONG KONG", 1.0),
    ("SANYA", "SINGAPORE", 1.0),
    ("KOTA KINABALU", "HONG KONG", 1.0),
    ("KOTA KINABALU", "MANILA", 1.0),
    ("MUARA", "SINGAPORE", 1.0),
    ("BINTULU", "KAOHSIUNG", 1.5),
    ("KUCHING", "SINGAPORE", 1.0),
    ("LAEM CHABANG", "SINGAPORE", 1.0),
    ("LAEM CHABANG", "HONG KONG", 1.5),
    ("SIHANOUKVILLE", "HONG KONG", 0.5),
    ("HO CHI MINH CITY", "SINGAPORE", 1.5),
)
"""Sea lanes (port, port, relative traffic). Port Klang is left out: its approach through
the Klang islands reads as land on a 1 km mask, and it lies outside the South China Sea."""

# fmt: off
_SULU_APPROACH = ((13.0, 120.3), (12.3, 120.5), (11.5, 120.6), (10.6, 120.3), (10.0, 119.45),
                  (9.8, 119.0))
WAYPOINT_LANES: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {
    ("MANILA", "PUERTO PRINCESA"): ((14.30, 120.60), (14.0, 120.5), (13.6, 120.55),
                                    (13.58, 120.2), *_SULU_APPROACH),
    ("BATANGAS", "PUERTO PRINCESA"): ((13.58, 120.95), (13.58, 120.2), *_SULU_APPROACH),
}
# fmt: on
"""Lanes the ``searoute`` network draws badly (it has no node near Puerto Princesa): the
points between the two ports, (lat, lon), west of Mindoro and across the Sulu Sea."""


@dataclass(frozen=True, slots=True)
class Area:
    """A circle (annulus when ``inner_nm`` > 0) where vessels loiter, anchor or patrol."""

    name: str
    lat: float
    lon: float
    radius_nm: float
    inner_nm: float = 0.0


AREAS: dict[str, Area] = {
    a.name: a
    for a in (
        Area("scarborough_shoal", 15.183, 117.767, 12.0, 3.0),
        Area("scarborough_patrol", 15.183, 117.767, 11.0, 8.0),
        Area("second_thomas_shoal", 9.733, 115.867, 8.0, 2.0),
        Area("whitsun_reef", 9.99389, 114.6575, 2.5),
        Area("reed_bank", 11.40, 116.90, 15.0),
        Area("palawan_west", 10.20, 117.90, 10.0),
        Area("gulf_of_tonkin", 19.80, 107.70, 20.0),
        Area("paracels", 16.20, 111.30, 18.0),
        Area("natuna_north", 5.30, 108.70, 25.0),
        Area("natuna_patrol", 4.60, 108.90, 18.0, 10.0),
        Area("mekong_offshore", 8.30, 105.80, 18.0),
        Area("luconia_shoals", 5.20, 112.70, 12.0),
        Area("quang_nam_coast", 15.85, 108.80, 10.0),
        Area("subi_reef", 10.95, 114.10, 6.0, 1.0),
    )
}


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag state: ISO 3166 alpha-3 code and the call-sign prefix of its ITU series."""

    country: str
    callsign_prefix: str


# fmt: off
FLAGS: dict[int, Flag] = {
    548: Flag("PHL", "DU"), 574: Flag("VNM", "XV"), 533: Flag("MYS", "9M"),
    525: Flag("IDN", "PK"), 431: Flag("JPN", "JD"), 338: Flag("USA", "WD"),
    366: Flag("USA", "WD"), 367: Flag("USA", "WD"), 368: Flag("USA", "WD"),
    369: Flag("USA", "WD"), 412: Flag("CHN", "BO"), 413: Flag("CHN", "BO"),
    414: Flag("CHN", "BO"), 563: Flag("SGP", "9V"), 564: Flag("SGP", "9V"),
    565: Flag("SGP", "9V"), 566: Flag("SGP", "9V"), 477: Flag("HKG", "VR"),
    351: Flag("PAN", "3E"), 352: Flag("PAN", "3F"), 370: Flag("PAN", "3E"),
    636: Flag("LBR", "A8"), 538: Flag("MHL", "V7"), 416: Flag("TWN", "BR"),
    440: Flag("KOR", "DS"), 567: Flag("THA", "HS"),
}
"""Maritime Identification Digits (ITU) of the region and of the big open registries."""

MERCHANT_MIDS = (351, 352, 370, 636, 538, 563, 564, 566, 477, 412, 413, 414, 431, 548,
                 574, 533, 525, 416, 440, 567, 366, 369)
# fmt: on


@dataclass(frozen=True, slots=True)
class Group:
    """One kind of traffic: how it moves, where, under which flags, with which ships.

    ``behaviour``: ``transit`` (sails a lane between two ports, moors, sails back), ``loiter``
    (slow random legs inside ``area``: fishing), ``patrol`` (a loop around ``area``) or
    ``anchored`` (swings at anchor inside ``area``).
    """

    name: str
    weight: float
    behaviour: str
    mids: tuple[int, ...]
    ship_types: tuple[int, ...]
    speed_kn: tuple[float, float]
    length_m: tuple[int, int]
    style: str
    area: str | None = None
    lanes: tuple[tuple[str, str, float], ...] = ()
    class_b_share: float = 0.0


# fmt: off
_PHL_FERRY_LANES = (("MANILA", "PUERTO PRINCESA", 1.0), ("BATANGAS", "PUERTO PRINCESA", 1.0))
_FISH = (30,)
_CG = (55,)
GROUPS: tuple[Group, ...] = (
    # name, weight, behaviour, flags (MIDs), ship types, speed kn, length m, name style, area
    Group("merchant", 0.45, "transit", MERCHANT_MIDS, (70, 70, 71, 74, 79, 80, 80, 81, 84),
          (11.0, 19.0), (90, 330), "merchant", lanes=LANES),
    Group("ferry", 0.03, "transit", (548,), (60, 69), (13.0, 18.0), (60, 140), "ferry",
          lanes=_PHL_FERRY_LANES),
    Group("fishing_scarborough", 0.05, "loiter", (548, 548, 412), _FISH, (1.0, 4.0), (12, 35),
          "fishing", "scarborough_shoal", class_b_share=0.6),
    Group("fishing_reed_bank", 0.03, "loiter", (548,), _FISH, (1.0, 4.0), (12, 30), "fishing",
          "reed_bank", class_b_share=0.7),
    Group("fishing_palawan", 0.02, "loiter", (548,), _FISH, (1.0, 4.0), (12, 30), "fishing",
          "palawan_west", class_b_share=0.7),
    Group("fishing_tonkin", 0.05, "loiter", (574, 574, 412), _FISH, (1.5, 5.0), (15, 40),
          "fishing", "gulf_of_tonkin", class_b_share=0.5),
    Group("fishing_quang_nam", 0.03, "loiter", (574,), _FISH, (1.5, 5.0), (15, 35), "fishing",
          "quang_nam_coast", class_b_share=0.6),
    Group("fishing_paracels", 0.04, "loiter", (412, 412, 574), _FISH, (1.5, 5.0), (20, 45),
          "fishing", "paracels", class_b_share=0.4),
    Group("fishing_natuna", 0.04, "loiter", (574, 574, 525), _FISH, (1.5, 5.0), (15, 40),
          "fishing", "natuna_north", class_b_share=0.5),
    Group("fishing_mekong", 0.03, "loiter", (574,), _FISH, (1.5, 5.0), (15, 35), "fishing",
          "mekong_offshore", class_b_share=0.6),
    Group("fishing_luconia", 0.02, "loiter", (533, 412), _FISH, (1.5, 5.0), (15, 40),
          "fishing", "luconia_shoals", class_b_share=0.4),
    Group("militia_whitsun", 0.07, "anchored", (412, 413, 412), _FISH, (0.0, 0.3), (35, 60),
          "fishing", "whitsun_reef"),
    Group("militia_subi", 0.02, "loiter", (412, 413), _FISH, (0.5, 3.0), (35, 60), "fishing",
          "subi_reef"),
    Group("militia_second_thomas", 0.02, "loiter", (412, 413), _FISH, (0.5, 3.0), (35, 60),
          "fishing", "second_thomas_shoal"),
    Group("ccg_scarborough", 0.010, "patrol", (412, 413), _CG, (8.0, 14.0), (90, 165), "cg",
          "scarborough_patrol"),
    Group("pcg_scarborough", 0.004, "patrol", (548,), _CG, (10.0, 15.0), (44, 97), "cg",
          "scarborough_patrol"),
    Group("ccg_second_thomas", 0.007, "patrol", (412,), _CG, (8.0, 12.0), (90, 130), "cg",
          "second_thomas_shoal"),
    Group("pcg_second_thomas", 0.004, "patrol", (548,), _CG, (10.0, 14.0), (44, 97), "cg",
          "second_thomas_shoal"),
    Group("bakamla_natuna", 0.004, "patrol", (525,), _CG, (10.0, 16.0), (48, 110), "cg",
          "natuna_patrol"),
    Group("mmea_luconia", 0.004, "patrol", (533,), _CG, (10.0, 15.0), (45, 90), "cg",
          "luconia_shoals"),
    Group("ccg_luconia", 0.003, "patrol", (412,), _CG, (8.0, 12.0), (90, 130), "cg",
          "luconia_shoals"),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class VesselSpec:
    """One simulated vessel: identity, ship, and how it moves (``group`` names the Group)."""

    mmsi: int
    name: str
    callsign: str
    imo: int
    ship_type: int
    length_m: int
    beam_m: int
    draught_m: float
    class_b: bool
    group: str
    behaviour: str
    speed_kn: float
    area: str | None = None
    lane: tuple[str, str] | None = None


# fmt: off
_WORDS_A = ("PACIFIC", "ORIENT", "GOLDEN", "OCEAN", "JADE", "EVER", "GLORY", "ASIAN", "BLUE",
            "SILVER", "GRAND", "GREAT", "BRIGHT", "ROYAL", "UNITY", "NORTHERN", "EASTERN",
            "CORAL", "LUCKY", "MORNING", "SUNRISE", "CELESTIAL", "SOUTHERN", "OCEANIC")
_WORDS_B = ("PEARL", "HARMONY", "SPIRIT", "VOYAGER", "PIONEER", "FORTUNE", "HORIZON",
            "TRADER", "EXPRESS", "DRAGON", "PHOENIX", "LOTUS", "BRIDGE", "CROWN", "BREEZE",
            "WAVE", "STAR", "ENDEAVOUR", "PROSPERITY", "VENTURE", "GRACE", "MERIDIAN")
_FIL_WORDS = ("MALAYA", "BAGWIS", "LAWIN", "TAGUMPAY", "DALISAY", "HIYAS", "BITUIN", "ALON",
              "AMIHAN", "HABAGAT", "LIWAYWAY", "MAGITING", "SAMPAGUITA", "PAGASA", "DIWA")
_MALAY_WORDS = ("BERSATU", "CAHAYA", "GEMILANG", "HARAPAN", "KENARI", "MUTIARA", "PERKASA",
                "SINAR", "TERANG", "WIRA", "SETIA", "BAHARI")
_CHN_PREFIX = ("MIN LONG YU", "YUE ZHAN YU", "QIONG YU", "YUE DIAN YU", "MIN JIN YU",
               "GUI BEI YU", "QIONG SAN SHA YU")
_VNM_PROVINCE = ("QNG", "BD", "KH", "BTH", "TG", "QNA")
# fmt: on


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def vessel_name(rng: random.Random, style: str, mid: int) -> str:
    """A plausible AIS name (at most 20 characters of the six-bit alphabet)."""
    country = FLAGS[mid].country
    if style == "cg":
        cg = {
            "CHN": f"HAI JING {_digits(rng, 4)}",
            "PHL": f"BRP {rng.choice(_FIL_WORDS)}",
            "VNM": f"CSB {_digits(rng, 4)}",
            "MYS": f"KM {rng.choice(_MALAY_WORDS)}",
            "IDN": f"KN {rng.choice(_MALAY_WORDS)} {_digits(rng, 3)}",
        }
        return cg.get(country, f"PATROL {_digits(rng, 3)}")
    if style == "fishing":
        if country == "CHN":
            return f"{rng.choice(_CHN_PREFIX)} {_digits(rng, 5)}"[:20]
        if country == "VNM":
            return f"{rng.choice(_VNM_PROVINCE)} {_digits(rng, 5)} TS"
        if country == "PHL":
            return f"FB {rng.choice(_FIL_WORDS)} {rng.randint(1, 9)}"
        return f"KM {rng.choice(_MALAY_WORDS)} {_digits(rng, 2)}"
    if style == "ferry":
        return f"MV {rng.choice(_FIL_WORDS)} {rng.randint(1, 12)}"
    if country == "JPN":
        return f"{rng.choice(_WORDS_B)} MARU"[:20]
    return f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)}"[:20]


def imo_number(rng: random.Random) -> int:
    """A seven-digit IMO number with a valid check digit (weights 7..2 on the first six)."""
    head = rng.randint(910_000, 989_999)
    check = sum(int(d) * w for d, w in zip(str(head), range(7, 1, -1), strict=True)) % 10
    return head * 10 + check


def _counts(total: int, groups: Sequence[Group]) -> list[int]:
    """Split ``total`` vessels over ``groups`` by weight (largest remainder)."""
    weight = sum(g.weight for g in groups)
    exact = [total * g.weight / weight for g in groups]
    counts = [int(x) for x in exact]
    order = sorted(range(len(groups)), key=lambda i: counts[i] - exact[i])
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _spec(rng: random.Random, group: Group, mmsi: int, mid: int) -> VesselSpec:
    length = rng.randint(*group.length_m)
    class_b = rng.random() < group.class_b_share
    lane = None
    if group.lanes:
        a, b, _ = rng.choices(group.lanes, weights=[w for *_, w in group.lanes])[0]
        lane = (a, b)
    return VesselSpec(
        mmsi=mmsi,
        name=vessel_name(rng, group.style, mid),
        callsign=FLAGS[mid].callsign_prefix
        + "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=3))
        + _digits(rng, 1),
        imo=imo_number(rng) if group.style in ("merchant", "ferry") else 0,
        ship_type=rng.choice(group.ship_types),
        length_m=length,
        beam_m=max(3, round(length / rng.uniform(5.5, 7.5))),
        draught_m=round(min(16.0, max(1.5, length / rng.uniform(18.0, 24.0))), 1),
        class_b=class_b,
        group=group.name,
        behaviour=group.behaviour,
        speed_kn=round(rng.uniform(*group.speed_kn), 1),
        area=group.area,
        lane=lane,
    )


def make_fleet(
    count: int, rng: random.Random, groups: Sequence[Group] = GROUPS
) -> list[VesselSpec]:
    """``count`` vessels split over ``groups`` by weight, with unique MMSIs."""
    taken: set[int] = set()
    fleet: list[VesselSpec] = []
    for group, n in zip(groups, _counts(count, groups), strict=True):
        for _ in range(n):
            mid = rng.choice(group.mids)
            mmsi = mid * 1_000_000 + rng.randint(100_000, 999_999)
            while mmsi in taken:
                mmsi = mid * 1_000_000 + rng.randint(100_000, 999_999)
            taken.add(mmsi)
            fleet.append(_spec(rng, group, mmsi, mid))
    return fleet
