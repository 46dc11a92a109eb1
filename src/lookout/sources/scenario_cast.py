"""The cast of an exercise: vessel identities, seeded places and times, and label helpers.

Pure and seeded: a :class:`Stage` hands one scenario its random generator (derived from the
exercise seed and the scenario's name, so adding a scenario does not change the others), its
time window, and unique MMSIs with plausible names from the simulator's word lists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from lookout.geo.distance import destination
from lookout.sources.scenario_tracks import ExerciseVessel, Label, Part, Route
from lookout.sources.sim_world import FLAGS, VesselSpec, imo_number, vessel_name

__all__ = ["Stage", "place"]

HOUR = 3600.0

_STYLE_TYPES = {"merchant": 70, "tanker": 80, "fishing": 30, "cg": 55, "ferry": 60}


def place(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """The point ``km`` kilometres from (lat, lon) on ``bearing_deg``."""
    return destination(lat, lon, bearing_deg, km * 1000.0)


@dataclass(slots=True)
class Stage:
    """One scenario's share of an exercise: name, randomness, window, MMSIs, and the part it
    is filling (vessels, labels, detections, zones)."""

    scenario: str
    rng: random.Random
    start_ts: float
    end_ts: float
    taken: set[int]
    part: Part = field(default_factory=Part)

    def t(self, hours: float) -> float:
        """A time ``hours`` after the start of the exercise, whole seconds."""
        return float(int(self.start_ts + hours * HOUR))

    def jitter_site(self, lat: float, lon: float, km: float = 2.0) -> tuple[float, float]:
        """The site moved by up to ``km`` in a random direction (differs per seed)."""
        return place(lat, lon, self.rng.uniform(0.0, 360.0), self.rng.uniform(0.0, km))

    def spec(
        self, mid: int, style: str, *, class_b: bool = False, ship_type: int = 0
    ) -> VesselSpec:
        """A new vessel of flag ``mid`` with a unique MMSI and a plausible identity."""
        rng = self.rng
        mmsi = mid * 1_000_000 + rng.randint(100_000, 999_999)
        while mmsi in self.taken:
            mmsi = mid * 1_000_000 + rng.randint(100_000, 999_999)
        self.taken.add(mmsi)
        name_style = "merchant" if style == "tanker" else style
        length = rng.randint(30, 60) if style in ("fishing", "cg") else rng.randint(90, 220)
        return VesselSpec(
            mmsi=mmsi,
            name=vessel_name(rng, name_style, mid),
            callsign=FLAGS[mid].callsign_prefix
            + "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=4)),
            imo=imo_number(rng) if style in ("merchant", "tanker", "ferry") else 0,
            ship_type=ship_type or _STYLE_TYPES[style],
            length_m=length,
            beam_m=max(4, length // 6),
            draught_m=round(max(2.0, min(14.0, length / 20.0)), 1),
            class_b=class_b,
            group=f"exercise:{self.scenario}",
            behaviour="exercise",
            speed_kn=0.0,
        )

    def vessel(
        self,
        episode: str,
        spec: VesselSpec,
        route: Route,
        *,
        interval_s: int = 60,
        silences: list[tuple[float, float]] | None = None,
        clone: tuple[Route, float, float] | None = None,
        wild: list[tuple[int, float, float]] | None = None,
        renamed: tuple[float, VesselSpec] | None = None,
    ) -> ExerciseVessel:
        """Add a vessel to the part; ``episode`` groups vessels meant to meet each other."""
        vessel = ExerciseVessel(
            spec=spec,
            route=route,
            group=f"{self.scenario}:{episode}",
            interval_s=interval_s,
            silences=silences or [],
            clone=clone,
            wild=wild or [],
            renamed=renamed,
        )
        self.part.vessels.append(vessel)
        return vessel

    def expect(
        self,
        kind: str,
        mmsis: tuple[int, ...] | list[int],
        start_ts: float,
        end_ts: float,
        where: tuple[float, float],
        note: str,
        *,
        fire: bool = True,
        zone: str | None = None,
        detection_id: str | None = None,
    ) -> None:
        """Label an event the exercise must raise (``fire``) or a near miss that must not."""
        self.part.labels.append(
            Label(
                kind=kind,
                expect="fire" if fire else "silent",
                mmsis=tuple(sorted(mmsis)),
                start_ts=start_ts,
                end_ts=end_ts,
                lat=where[0],
                lon=where[1],
                scenario=self.scenario,
                note=note,
                zone=zone,
                detection_id=detection_id,
            )
        )
