"""Exercises: labelled behaviour injected into simulated traffic, written as NMEA plus labels.

``build_exercise(names, seed=..., start_ts=..., hours=...)`` is pure and seeded: the same
arguments give the same exercise, byte for byte once written. Each scenario (``SCENARIOS``)
adds vessels, the events they must raise (labels with ``expect="fire"``) and near misses that
must not (``expect="silent"``); background merchant traffic from the simulator's fleet that
meets nobody is added around them. :func:`write_exercise` writes the files:

- ``exercise.nmea``: AIVDM sentences behind ``\\c:<unix s>,s:EXERCISE*hh\\`` tag blocks: every
  line says EXERCISE;
- ``labels.jsonl``: one label per line (see docs/exercises.md);
- ``detections.csv``: satellite detections (``id,timestamp,lat,lon,source``), if any;
- ``zones.geojson``: the zones the exercise uses, with regime and owners;
- ``EXERCISE.md``: what it contains, the seed, and "EXERCISE - not real traffic".
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lookout.ais.nmea import NmeaError, parse_tag_block
from lookout.sources.scenario_background import background_traffic, contacts
from lookout.sources.scenario_cast import Stage
from lookout.sources.scenario_sites import (
    dark_transfer,
    incursion,
    second_thomas_resupply,
    whitsun_swarm,
)
from lookout.sources.scenario_solo import dark_vessel, identity_spoof, loitering, on_land, teleport
from lookout.sources.scenario_tracks import (
    CircleZone,
    Detection,
    ExerciseVessel,
    Label,
    Part,
    iso,
)
from lookout.sources.sim_motion import VesselState
from lookout.sources.sim_nmea import encode, position_message, static_messages, tag_block

__all__ = [
    "DEFAULT_HOURS",
    "DEFAULT_START",
    "EXERCISE_SOURCE",
    "SCENARIOS",
    "Exercise",
    "ExerciseFeed",
    "Scenario",
    "ScenarioError",
    "build_exercise",
    "contacts",
    "detections_csv",
    "exercise_md",
    "labels_jsonl",
    "nmea_lines",
    "timed_lines",
    "write_exercise",
    "zones_geojson",
]

EXERCISE_SOURCE = "EXERCISE"
"""The ``s:`` (source) of every tag block an exercise writes."""
DEFAULT_START = "2025-06-01T00:00:00Z"
DEFAULT_HOURS = 24.0
MIN_HOURS = 20.0
"""Shortest exercise: the longest scenario (the swarm, the dark transfer) needs about 19 h."""
BACKGROUND_VESSELS = 40


class ScenarioError(ValueError):
    """An exercise that cannot be built (unknown scenario, too short)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    summary: str
    kinds: tuple[str, ...]
    build: Callable[[Stage], None]


_SCENARIO_LIST = (
    Scenario(
        "second-thomas-resupply",
        "resupply boat shadowed and cut across by coast guard vessels",
        ("shadowing", "close_approach"),
        second_thomas_resupply,
    ),
    Scenario(
        "whitsun-swarm", "militia vessels massed at Whitsun Reef for 8 h", ("swarm",), whitsun_swarm
    ),
    Scenario(
        "dark-transfer",
        "ship-to-ship meeting far at sea, then both go dark for 7 h",
        ("encounter", "ais_gap"),
        dark_transfer,
    ),
    Scenario(
        "identity-spoof",
        "one MMSI on two transmitters 40 km apart; a renamed vessel",
        ("identity_conflict",),
        identity_spoof,
    ),
    Scenario("teleport", "a position jump of 80 km", ("speed_anomaly",), teleport),
    Scenario(
        "incursion",
        "a vessel enters and leaves Pag-asa Island's territorial sea",
        ("zone_entry", "zone_exit"),
        incursion,
    ),
    Scenario("loitering", "a vessel drifting 6 h far from shore", ("loitering",), loitering),
    Scenario(
        "on-land", "a transponder reporting from 60 km inland", ("position_on_land",), on_land
    ),
    Scenario(
        "dark-vessel",
        "satellite detections with no AIS vessel near them",
        ("dark_vessel",),
        dark_vessel,
    ),
)
SCENARIOS: dict[str, Scenario] = {s.name: s for s in _SCENARIO_LIST}
"""Every scenario by name, in the order ``all`` builds them."""


@dataclass(frozen=True, slots=True)
class Exercise:
    names: tuple[str, ...]
    seed: int
    start_ts: float
    end_ts: float
    vessels: tuple[ExerciseVessel, ...]
    labels: tuple[Label, ...]
    detections: tuple[Detection, ...]
    zones: tuple[CircleZone, ...]


def build_exercise(
    names: Sequence[str],
    *,
    seed: int,
    start_ts: float,
    hours: float = DEFAULT_HOURS,
    background: int = BACKGROUND_VESSELS,
) -> Exercise:
    """The exercise of the named scenarios (``all``: every one); see the module docstring."""
    chosen = _names(names)
    if hours < MIN_HOURS:
        raise ScenarioError(f"an exercise needs at least {MIN_HOURS:g} hours, got {hours:g}")
    start_ts = float(int(start_ts))
    end_ts = start_ts + hours * 3600.0
    taken: set[int] = set()
    part = Part()
    for name in chosen:
        stage = Stage(name, random.Random(f"{seed}:{name}"), start_ts, end_ts, taken)
        SCENARIOS[name].build(stage)
        part.vessels += stage.part.vessels
        part.labels += stage.part.labels
        part.detections += stage.part.detections
        part.zones += stage.part.zones
    rng = random.Random(f"{seed}:background")
    extra = background_traffic(
        rng,
        background,
        start_ts,
        end_ts,
        keep_clear=part.vessels,
        detections=part.detections,
        zones=part.zones,
        taken=taken,
    )
    _spotted(rng, extra, part, start_ts, end_ts)
    return Exercise(
        names=tuple(chosen),
        seed=seed,
        start_ts=start_ts,
        end_ts=end_ts,
        vessels=(*part.vessels, *extra),
        labels=tuple(part.labels),
        detections=tuple(part.detections),
        zones=tuple(part.zones),
    )


def _names(names: Sequence[str]) -> list[str]:
    if not names:
        raise ScenarioError("name at least one scenario (or 'all')")
    chosen: list[str] = []
    for name in names:
        for one in SCENARIOS if name == "all" else [name]:
            if one not in SCENARIOS:
                raise ScenarioError(f"unknown scenario {one!r} (known: {', '.join(SCENARIOS)})")
            if one not in chosen:
                chosen.append(one)
    return chosen


def _spotted(
    rng: random.Random, ships: list[ExerciseVessel], part: Part, start_ts: float, end_ts: float
) -> None:
    """When the exercise has satellite detections, the satellite also sees three background
    ships (within 200 m of their AIS position): those must not be dark vessels."""
    if not part.detections or not ships:
        return
    for k, ship in enumerate(rng.sample(ships, min(3, len(ships)))):
        ts = int(rng.uniform(start_ts + 3600.0, end_ts - 3600.0))
        st = ship.route.state(ts)
        ident = f"EX-SAR-BG-{k + 1:02d}"
        part.detections.append(Detection(ident, ts, st.lat + 0.0015, st.lon, "EXERCISE-SAR"))
        part.labels.append(
            Label(
                kind="dark_vessel",
                expect="silent",
                mmsis=(),
                start_ts=ts,
                end_ts=ts,
                lat=st.lat + 0.0015,
                lon=st.lon,
                scenario="background",
                note="near miss: a background ship with AIS, seen by the satellite",
                detection_id=ident,
            )
        )


# -- rendering -----------------------------------------------------------------------------


def nmea_lines(exercise: Exercise) -> list[str]:
    """Every AIS sentence of the exercise, tagged, in time order."""
    return [line for _, line in timed_lines(exercise)]


def timed_lines(exercise: Exercise) -> list[tuple[int, str]]:
    """(time, tagged sentence) of every AIS sentence of the exercise, in time order."""
    timed: list[tuple[int, int, str]] = []
    order = 0
    for vessel in exercise.vessels:
        rng = random.Random(f"{exercise.seed}:{vessel.mmsi}")
        phase = rng.randrange(vessel.interval_s)
        for report in vessel.reports(exercise.end_ts, phase):
            state = VesselState(
                report.lat, report.lon, report.speed_kn, report.course_deg, report.status
            )
            message = position_message(vessel.spec, state, report.ts, rng)
            order += 1
            for sentence in encode(message, "AB"[order % 2], order % 10):
                timed.append((report.ts, order, sentence))
        for ts in _static_times(vessel, exercise.end_ts, rng):
            order += 1
            for message in static_messages(vessel.identity_at(ts), "", None):
                for sentence in encode(message, "AB"[order % 2], order % 10):
                    timed.append((ts, order, sentence))
    timed.sort()
    return [(ts, tag_block(ts, EXERCISE_SOURCE) + sentence) for ts, _, sentence in timed]


class ExerciseFeed:
    """An exercise's lines, due at their tag-block times, as one receiver hears them: what
    :class:`~lookout.sources.simulator.SimulatorSender` sends (the demo's exercise)."""

    def __init__(self, exercise: Exercise, receiver_id: str) -> None:
        self.start_ts = exercise.start_ts
        self.receiver_id = receiver_id
        self._lines = timed_lines(exercise)
        self._next = 0

    def step(self, now_ts: float) -> list[tuple[str, str]]:
        """The lines due up to ``now_ts`` not sent yet."""
        begin = self._next
        while self._next < len(self._lines) and self._lines[self._next][0] <= now_ts:
            self._next += 1
        return [(self.receiver_id, line) for _, line in self._lines[begin : self._next]]


def _static_times(vessel: ExerciseVessel, end_ts: float, rng: random.Random) -> list[int]:
    start = int(vessel.route.start_ts) + rng.randrange(60)
    times = set(range(start, int(end_ts) + 1, vessel.static_interval_s))
    if vessel.renamed is not None:
        times.add(int(vessel.renamed[0]))
    return sorted(t for t in times if not vessel.silent_at(t))


def labels_jsonl(exercise: Exercise) -> str:
    return "".join(json.dumps(label.to_json(), sort_keys=True) + "\n" for label in exercise.labels)


def detections_csv(exercise: Exercise) -> str:
    rows = ["id,timestamp,lat,lon,source"]
    for d in sorted(exercise.detections, key=lambda d: (d.ts, d.id)):
        rows.append(f"{d.id},{iso(d.ts)},{d.lat:.6f},{d.lon:.6f},{d.source}")
    return "\n".join(rows) + "\n"


def zones_geojson(exercise: Exercise) -> str:
    features = [
        {
            "type": "Feature",
            "id": zone.id,
            "properties": {
                "id": zone.id,
                "name": zone.name,
                "regime": zone.regime,
                "owners": list(zone.owners),
                "approximate": True,
                "source": "Lookout exercise (EXERCISE - not a legal boundary)",
            },
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in zone.ring()]]},
        }
        for zone in exercise.zones
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=1) + "\n"


def exercise_md(exercise: Exercise, recording: Recording | None = None) -> str:
    fire = sum(1 for label in exercise.labels if label.expect == "fire")
    into = (
        [
            f"Injected into the real recording `{recording.path.name}` "
            f"({len(recording.lines)} lines from {iso(recording.first_ts)} to "
            f"{iso(recording.last_ts)}): its lines are real traffic, unchanged; the exercise's "
            f"lines are tagged `s:{EXERCISE_SOURCE}`. Events of the real traffic are not labelled.",
            "",
        ]
        if recording is not None
        else []
    )
    lines = [
        "# EXERCISE - not real traffic",
        "",
        "Generated by `lookout scenario`. Every NMEA line it generated carries the tag-block "
        f"source `s:{EXERCISE_SOURCE}`; its vessels, names and events are invented.",
        "",
        *into,
        f"- scenarios: {', '.join(exercise.names)}",
        f"- seed: {exercise.seed}",
        f"- from {iso(exercise.start_ts)} to {iso(exercise.end_ts)}",
        f"- vessels: {len(exercise.vessels)} "
        f"({sum(1 for v in exercise.vessels if v.background)} background)",
        f"- labels: {len(exercise.labels)} ({fire} expected events, "
        f"{len(exercise.labels) - fire} near misses that must not fire)",
        f"- satellite detections: {len(exercise.detections)}",
        f"- zones: {', '.join(z.id for z in exercise.zones) or 'none'}",
        "",
        "| scenario | what happens |",
        "|---|---|",
        *(f"| `{n}` | {SCENARIOS[n].summary} |" for n in exercise.names),
        "",
        "Run the detectors over it:",
        "",
        "    lookout detect exercise.nmea --zones zones.geojson "
        "--detections detections.csv --out events.jsonl",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Recording:
    """A real NMEA recording an exercise is injected into: its lines with their ``c:`` times
    (in time order), and how many lines came before any time (left out)."""

    path: Path
    lines: tuple[tuple[int, str], ...]
    untimed: int

    @property
    def first_ts(self) -> int:
        return min(ts for ts, _ in self.lines)

    @property
    def last_ts(self) -> int:
        return max(ts for ts, _ in self.lines)


def _tag_time(line: str) -> float | None:
    """The ``c:`` time of a line's NMEA 4.0 tag block, read as ingest reads it; ``None``
    without one (or when the tag block does not parse: ingest will count that line)."""
    if not line.startswith("\\"):
        return None
    end = line.find("\\", 1)
    if end < 0:
        return None
    try:
        return parse_tag_block(line[1:end]).received_ts
    except NmeaError:
        return None


def read_recording(path: Path) -> Recording:
    """The lines of an NMEA recording with NMEA 4.0 tag-block receive times (``c:``, seconds
    or milliseconds), sorted by time (stably). A line without a time of its own (the later
    sentences of a ``g:`` group, a bare sentence) keeps the time of the line before it;
    those before the first timed line are left out and counted. :class:`ScenarioError` when
    no line has a time."""
    from lookout.sources.files import open_text

    lines: list[tuple[int, str]] = []
    untimed = 0
    current: int | None = None
    with open_text(path) as stream:
        for raw in stream:
            line = raw.strip()
            if not line:
                continue
            ts = _tag_time(line)
            if ts is not None:
                current = int(ts)
            if current is None:
                untimed += 1
                continue
            lines.append((current, line))
    if not lines:
        raise ScenarioError(
            f"{path}: no line with an NMEA 4.0 tag-block time (\\c:<unix seconds>...\\); "
            "exercises are injected into recordings that carry their receive times"
        )
    lines.sort(key=lambda item: item[0])
    return Recording(path, tuple(lines), untimed)


def write_exercise(
    exercise: Exercise, out_dir: Path, recording: Recording | None = None
) -> dict[str, Path]:
    """Write the exercise's files into ``out_dir`` (created); returns them by role. With a
    ``recording``, exercise.nmea holds its lines (unchanged: real traffic) and the exercise's
    (tagged EXERCISE) merged in time order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = timed_lines(exercise)
    if recording is not None:
        merged = heapq.merge(recording.lines, made, key=lambda item: item[0])
        text = "\n".join(line for _, line in merged) + "\n"
    else:
        text = "\n".join(line for _, line in made) + "\n"
    files = {
        "nmea": (out_dir / "exercise.nmea", text),
        "labels": (out_dir / "labels.jsonl", labels_jsonl(exercise)),
        "zones": (out_dir / "zones.geojson", zones_geojson(exercise)),
        "readme": (out_dir / "EXERCISE.md", exercise_md(exercise, recording)),
    }
    if exercise.detections:
        files["detections"] = (out_dir / "detections.csv", detections_csv(exercise))
    for path, text in files.values():
        path.write_text(text, encoding="utf-8", newline="\n")
    return {role: path for role, (path, _) in files.items()}
