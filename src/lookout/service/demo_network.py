"""The demo network as data: six members and their receivers around the South China Sea.

``lookout demo`` runs the traffic simulator against these receivers; the CLI, the API and the
docs read the same tables. Sites are real coastal places (coordinates of the town or
headland, rounded); the stations, their ranges and transports are invented for the demo.
Coastal ranges are about 40 nm; the Natuna station stands on Gunung Ranai (959 m) and reaches
further.
Every source built from here is marked ``simulated=True``, so everything it produces shows as
SIMULATED.

Receiver ids go into NMEA tag blocks (``s:``), which allow at most 15 characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lookout.service.settings import SourceConfig
from lookout.sources.simulator import SimReceiver, SimTarget

__all__ = [
    "DEMO_MEMBERS",
    "DemoMember",
    "DemoReceiver",
    "demo_receivers",
    "demo_source_configs",
    "demo_targets",
]


@dataclass(frozen=True, slots=True)
class DemoReceiver:
    """One receiving station. ``kind``: ``coastal``, ``vessel`` (sails ``patrol``, a loop of
    (lat, lon) points, as ship ``patrol_mmsi``) or ``satellite`` (``range_nm`` None: hears
    everywhere, in passes, late). ``transport``: how it feeds Lookout, ``udp`` or ``tcp``.
    ``release``: who its member shares it with (docs/sharing.md)."""

    id: str
    name: str
    lat: float
    lon: float
    range_nm: float | None
    transport: str
    kind: str = "coastal"
    patrol: tuple[tuple[float, float], ...] = ()
    patrol_mmsi: int | None = None
    patrol_name: str = ""
    release: str = "network"


@dataclass(frozen=True, slots=True)
class DemoMember:
    """A member of the demo network: id, full name, ISO 3166 alpha-3 country, receivers."""

    id: str
    name: str
    country: str
    receivers: tuple[DemoReceiver, ...]


DEMO_MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(
        "PHL-PCG",
        "Philippine Coast Guard",
        "PHL",
        (
            DemoReceiver("PCG-SUBIC", "Subic Bay", 14.82, 120.28, 40.0, "udp"),
            DemoReceiver("PCG-PALAWAN", "Puerto Princesa, Palawan", 9.74, 118.73, 40.0, "udp"),
            DemoReceiver(
                "PCG-PAGASA", "Pag-asa Island", 11.054, 114.284, 40.0, "udp", release="owner"
            ),
        ),
    ),
    DemoMember(
        "VNM-VCG",
        "Vietnam Coast Guard",
        "VNM",
        (
            DemoReceiver(
                "VCG-DANANG",
                "Son Tra, Da Nang",
                16.10,
                108.27,
                40.0,
                "tcp",
                release="members:PHL-PCG",
            ),
            DemoReceiver("VCG-VUNGTAU", "Vung Tau", 10.35, 107.07, 40.0, "tcp"),
        ),
    ),
    DemoMember(
        "MYS-MMEA",
        "Malaysian Maritime Enforcement Agency",
        "MYS",
        (
            DemoReceiver(
                "MMEA-KK",
                "Kota Kinabalu, Sabah",
                5.98,
                116.07,
                40.0,
                "udp",
                release="community:asean",
            ),
            DemoReceiver("MMEA-KUCHING", "Santubong, Kuching", 1.72, 110.33, 40.0, "udp"),
        ),
    ),
    DemoMember(
        "IDN-BAKAMLA",
        "Indonesian Maritime Security Agency (Bakamla)",
        "IDN",
        (DemoReceiver("BKL-RANAI", "Gunung Ranai, Natuna Besar", 3.93, 108.38, 65.0, "tcp"),),
    ),
    DemoMember(
        "JPN-JCG",
        "Japan Coast Guard",
        "JPN",
        (
            DemoReceiver(
                "JCG-PATROL",
                "Patrol vessel off Bataan",
                14.60,
                120.05,
                25.0,
                "tcp",
                kind="vessel",
                patrol=((14.75, 119.95), (14.55, 119.70), (14.35, 119.85), (14.45, 120.15)),
                patrol_mmsi=431_004_210,
                patrol_name="JCG PL 21",
                release="members:PHL-PCG,USA-USCG",
            ),
        ),
    ),
    DemoMember(
        "USA-USCG",
        "United States Coast Guard",
        "USA",
        (DemoReceiver("USCG-SAT", "Satellite AIS feed", 0.0, 0.0, None, "tcp", kind="satellite"),),
    ),
)


def demo_receivers(members: Sequence[DemoMember] = DEMO_MEMBERS) -> tuple[SimReceiver, ...]:
    """The receivers as the simulator takes them."""
    return tuple(
        SimReceiver(
            id=r.id,
            member=m.id,
            lat=r.lat,
            lon=r.lon,
            range_nm=r.range_nm,
            patrol=r.patrol,
            patrol_mmsi=r.patrol_mmsi,
            patrol_name=r.patrol_name,
        )
        for m in members
        for r in m.receivers
    )


DEMO_AGREEMENT = """\
# The demo network's sharing agreement (docs/sharing.md), written by `lookout demo`.
[communities]
asean = ["PHL-PCG", "VNM-VCG", "MYS-MMEA", "IDN-BAKAMLA"]

[mutual_alerts]
kinds = ["zone_entry", "swarm", "shadowing", "close_approach", "dark_vessel"]

[[sources]]  # the US satellite feed reaches partners 15 minutes late, positions to 1 km
member = "USA-USCG"
name = "USCG-SAT"
delay_s = { "*" = 900 }
precision_m = { "*" = 1000 }
"""
"""The demo's network agreement: the ASEAN members form a community of interest, incursions,
swarms and harassment in any member's zone are alerted to all, and the satellite feed is
released late and coarse."""


def demo_source_configs(
    members: Sequence[DemoMember] = DEMO_MEMBERS, *, host: str = "127.0.0.1"
) -> tuple[SourceConfig, ...]:
    """One listening source per receiver (``udp`` or ``tcp-server``, port 0 = any free port),
    named after the receiver, marked simulated."""
    return tuple(
        SourceConfig(
            name=r.id,
            member=m.id,
            kind="udp" if r.transport == "udp" else "tcp-server",
            host=host,
            port=0,
            receiver=r.id,
            simulated=True,
            release=r.release,
        )
        for m in members
        for r in m.receivers
    )


def demo_targets(
    bound: Mapping[str, tuple[str, int]], members: Sequence[DemoMember] = DEMO_MEMBERS
) -> dict[str, SimTarget]:
    """Simulator targets from the addresses the sources bound, keyed by receiver id."""
    return {
        r.id: SimTarget(r.transport, *bound[r.id])
        for m in members
        for r in m.receivers
        if r.id in bound
    }
