"""The demo traffic simulator, without sockets: what it emits decodes, and makes sense at sea.

Oracles: pyais parses the tag blocks and sentences and checks their checksums; ``searoute``
recomputes each lane; ``global-land-mask`` (1 km grid) tells land from sea.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import pyais
import pytest
import searoute
from pyais.messages import NMEASentenceFactory

from lookout.geo.distance import distance_m
from lookout.sources.sim_world import AREAS, PORTS, WAYPOINT_LANES
from lookout.sources.simulator import SimReceiver, Simulation, SimulationConfig

START = 1_700_000_000.0
NM = 1852.0

SUBIC = SimReceiver("SUBIC", "PHL-PCG", 14.82, 120.28, 40.0)
LUBANG = SimReceiver("LUBANG", "JPN-JCG", 13.85, 120.15, 40.0)
SCARBOROUGH = SimReceiver("SCARB", "PHL-PCG", 15.18, 117.60, 30.0)
ALL = SimReceiver("ALL", "USA-USCG", 0.0, 0.0, None)
SHIP = SimReceiver(
    "SHIP",
    "JPN-JCG",
    14.6,
    120.05,
    25.0,
    patrol=((14.75, 119.95), (14.55, 119.70), (14.35, 119.85), (14.45, 120.15)),
    patrol_mmsi=431_004_210,
    patrol_name="PL TEST",
)
FIXED = (SUBIC, LUBANG, SCARBOROUGH)
CONFIG = SimulationConfig(
    vessels=150,
    seed=7,
    reception_loss=0.0,
    satellite_detection=1.0,
    satellite_window_s=1800.0,
    satellite_period_s=1800.0,
)
DURATION_S = 1200
COMPLETE_BEFORE = START + DURATION_S - CONFIG.satellite_latency_s[1]
"""Satellite lines arrive up to 120 s late: the last two minutes are not all in yet."""


@dataclass(frozen=True)
class Heard:
    receiver: str
    delivered_ts: float
    received_ts: int
    station: str
    sentence: str


@dataclass(frozen=True)
class Report:
    receiver: str
    received_ts: int
    sentence: str
    msg: dict[str, object]


def _parse(line: str) -> tuple[int, str, str]:
    sentence = NMEASentenceFactory.produce(line.encode())
    assert sentence.is_valid, line
    tag = sentence.tag_block
    assert tag is not None, line
    tag.init()
    assert tag.is_valid, line
    return int(tag.receiver_timestamp), str(tag.source_station), line.split("\\")[-1]


def _run(sim: Simulation, seconds: int) -> list[Heard]:
    heard = []
    for k in range(1, seconds + 1):
        for receiver, line in sim.step(START + k):
            heard.append(Heard(receiver, START + k, *_parse(line)))
    return heard


@pytest.fixture(scope="module")
def run() -> tuple[Simulation, list[Heard], list[Report]]:
    sim = Simulation([*FIXED, ALL, SHIP], CONFIG, start_ts=START)
    heard = _run(sim, DURATION_S)
    reports = []
    for h in heard:
        if h.sentence.startswith("!AIVDM,1,1"):
            msg = pyais.decode(h.sentence).asdict()
            reports.append(Report(h.receiver, h.received_ts, h.sentence, msg))
    return sim, heard, reports


def _positions(reports: list[Report], receiver: str = "ALL") -> dict[int, list[Report]]:
    by_mmsi: dict[int, list[Report]] = defaultdict(list)
    for r in reports:
        if r.receiver == receiver and r.msg["msg_type"] in (1, 18):
            by_mmsi[int(r.msg["mmsi"])].append(r)  # type: ignore[call-overload]
    for track in by_mmsi.values():
        track.sort(key=lambda r: r.received_ts)
    return by_mmsi


def test_every_line_has_valid_checksums_a_tag_block_and_decodes(run: tuple) -> None:
    sim, heard, reports = run
    assert len(heard) > 10_000
    assert all(h.station == h.receiver for h in heard)
    assert all(START <= h.received_ts <= h.delivered_ts for h in heard)
    mmsis = {v.mmsi for v in sim.vessels}
    assert {int(r.msg["mmsi"]) for r in reports} <= mmsis  # type: ignore[call-overload]
    types = {int(r.msg["msg_type"]) for r in reports}  # type: ignore[call-overload]
    assert types == {1, 18, 24}
    # type 5 comes in two sentences, which pyais reassembles into the vessel's identity
    names = {v.mmsi: v.name for v in sim.vessels}
    pairs = [h.sentence for h in heard if h.receiver == "ALL" and h.sentence.startswith("!AIVDM,2")]
    first = pyais.decode(pairs[0], pairs[1]).asdict()
    assert first["msg_type"] == 5
    assert first["shipname"] == names[first["mmsi"]]


def test_same_seed_same_traffic_other_seed_other_traffic() -> None:
    a = _run(Simulation([SUBIC, ALL], replace(CONFIG, vessels=40), start_ts=START), 120)
    b = _run(Simulation([SUBIC, ALL], replace(CONFIG, vessels=40), start_ts=START), 120)
    c = _run(Simulation([SUBIC, ALL], replace(CONFIG, vessels=40, seed=8), start_ts=START), 120)
    assert a == b
    assert a != c


def test_fixed_receivers_hear_exactly_the_vessels_in_their_range(run: tuple) -> None:
    _, _, reports = run
    heard_by: dict[str, set[str]] = defaultdict(set)
    for r in reports:
        heard_by[r.receiver].add(r.sentence)
    checked = 0
    for r in reports:
        if r.receiver != "ALL" or r.msg["msg_type"] not in (1, 18):
            continue
        lat, lon = float(r.msg["lat"]), float(r.msg["lon"])  # type: ignore[arg-type]
        for receiver in FIXED:
            d = distance_m(receiver.lat, receiver.lon, lat, lon)
            if d <= receiver.range_nm * NM - 100:  # type: ignore[operator]
                assert r.sentence in heard_by[receiver.id], (receiver.id, d)
                checked += 1
            elif d > receiver.range_nm * NM + 100:  # type: ignore[operator]
                assert r.sentence not in heard_by[receiver.id], (receiver.id, d)
    assert checked > 500


def test_one_message_heard_by_two_receivers_is_sent_by_both(run: tuple) -> None:
    _, _, reports = run
    subic = {r.sentence for r in reports if r.receiver == "SUBIC"}
    lubang = {r.sentence for r in reports if r.receiver == "LUBANG"}
    assert len(subic & lubang) > 50  # overlapping coverage: dedupe has work to do
    assert subic - lubang and lubang - subic


def test_satellite_lines_arrive_late(run: tuple) -> None:
    _, heard, _ = run
    late = [h.delivered_ts - h.received_ts for h in heard if h.receiver == "ALL"]
    assert min(late) >= CONFIG.satellite_latency_s[0] - 1
    assert max(late) <= CONFIG.satellite_latency_s[1] + 1


def test_default_satellite_has_passes_and_misses_messages() -> None:
    config = SimulationConfig(vessels=30, seed=3, reception_loss=0.0)
    wide = SimReceiver("WIDE", "X", 12.0, 114.0, 3000.0)  # hears every message at once
    heard = _run(Simulation([ALL, wide], config, start_ts=START), 3600)
    sat = [h for h in heard if h.receiver == "ALL"]
    phases = {(h.received_ts - START) % config.satellite_period_s for h in sat}
    assert max(phases) < config.satellite_window_s  # nothing outside a pass
    in_pass = {
        (h.received_ts, h.sentence)
        for h in heard
        if h.receiver == "WIDE"
        and (h.received_ts - START) % config.satellite_period_s < config.satellite_window_s
        and h.received_ts <= START + 3600 - config.satellite_latency_s[1]
    }
    by_satellite = {(h.received_ts, h.sentence) for h in sat}
    share = len(in_pass & by_satellite) / len(in_pass)
    assert share == pytest.approx(config.satellite_detection, abs=0.05)


def test_vessels_stay_at_sea(run: tuple) -> None:
    from global_land_mask import globe  # dev dependency: PyPI global-land-mask

    _, _, reports = run
    points = [
        (float(r.msg["lat"]), float(r.msg["lon"]))  # type: ignore[arg-type]
        for r in reports
        if r.receiver == "ALL" and r.msg["msg_type"] in (1, 18)
    ]
    lat, lon = np.array(points).T
    # the mask is a 1 km grid that reads reefs and shores as land: a point on "land" must
    # have sea within 2 km in some direction
    on_land = globe.is_land(lat, lon)
    deep = on_land.copy()
    for k in range(16):
        a = 2 * math.pi * k / 16
        dlat = 2.0 / 111.2 * math.sin(a)
        dlon = 2.0 / 111.2 * math.cos(a) / np.cos(np.radians(lat))
        deep &= globe.is_land(lat + dlat, lon + dlon)
    assert len(points) > 10_000
    assert on_land.sum() < len(points) * 0.01
    assert list(zip(lat[deep], lon[deep], strict=True)) == []


def _distance_to_line_m(lat: float, lon: float, line: list[list[float]]) -> float:
    """Point-to-polyline distance in a local flat frame around the point (fine below ~50 km)."""
    kx = 111_195.0 * math.cos(math.radians(lat))
    ky = 111_195.0
    best = math.inf
    for (lon1, lat1), (lon2, lat2) in pairwise(line):
        ax, ay = (lon1 - lon) * kx, (lat1 - lat) * ky
        bx, by = (lon2 - lon) * kx, (lat2 - lat) * ky
        dx, dy = bx - ax, by - ay
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def _lane_line(lane: tuple[str, str]) -> list[list[float]]:
    """The lane as [lon, lat] points: searoute's, or the declared waypoints."""
    a, b = PORTS[lane[0]], PORTS[lane[1]]
    if lane in WAYPOINT_LANES:
        return [[lon, lat] for lat, lon in ((a.lat, a.lon), *WAYPOINT_LANES[lane], (b.lat, b.lon))]
    feature = searoute.searoute([a.lon, a.lat], [b.lon, b.lat], append_orig_dest=True)
    return feature["geometry"]["coordinates"]


def test_merchant_ships_follow_their_sea_lane(run: tuple) -> None:
    sim, _, reports = run
    tracks = _positions(reports)
    checked = 0
    for spec in sim.vessels:
        if spec.lane is None or spec.mmsi not in tracks:
            continue
        line = _lane_line(spec.lane)
        ends = [PORTS[p] for p in spec.lane]
        for r in tracks[spec.mmsi][::10]:
            lat, lon = float(r.msg["lat"]), float(r.msg["lon"])  # type: ignore[arg-type]
            if min(distance_m(lat, lon, e.lat, e.lon) for e in ends) < 40_000:
                continue  # port approaches are trimmed where searoute doubles back
            assert _distance_to_line_m(lat, lon, line) < 3000, (spec.name, lat, lon)
            checked += 1
    assert checked > 200


def test_reported_speed_matches_distance_travelled(run: tuple) -> None:
    sim, _, reports = run
    specs = {v.mmsi: v for v in sim.vessels}
    checked = 0
    for mmsi, track in _positions(reports).items():
        if specs[mmsi].behaviour not in ("transit", "patrol"):
            continue
        for p, q in pairwise(track):
            dt = q.received_ts - p.received_ts
            sog = float(p.msg["speed"])  # type: ignore[arg-type]
            turn = abs((float(q.msg["course"]) - float(p.msg["course"]) + 180) % 360 - 180)  # type: ignore[arg-type]
            if dt < 5 or sog < 5 or q.msg["speed"] < 5 or turn > 20:  # type: ignore[operator]
                continue  # moored, or turning at a waypoint: the chord is shorter than the path
            d = distance_m(p.msg["lat"], p.msg["lon"], q.msg["lat"], q.msg["lon"])  # type: ignore[arg-type]
            implied_kn = d / dt / (NM / 3600)
            assert implied_kn == pytest.approx(sog, rel=0.15, abs=0.6), (specs[mmsi].name, dt)
            checked += 1
    assert checked > 1000


def test_report_intervals_follow_the_class(run: tuple) -> None:
    sim, _, reports = run
    specs = {v.mmsi: v for v in sim.vessels}
    gaps: dict[str, set[int]] = defaultdict(set)
    for mmsi, track in _positions(reports).items():
        track = [r for r in track if r.received_ts <= COMPLETE_BEFORE]
        for p, q in pairwise(track):
            key = "B" if specs[mmsi].class_b else f"A{p.msg['status']}"
            gaps[key].add(q.received_ts - p.received_ts)
    assert gaps["B"] <= {29, 30, 31}
    assert gaps["A0"] <= {9, 10, 11}
    assert gaps["A1"] <= {179, 180, 181}  # at anchor: every 3 minutes


def test_loitering_anchored_and_patrolling_vessels_stay_in_their_areas(run: tuple) -> None:
    sim, _, reports = run
    tracks = _positions(reports)
    checked = 0
    for spec in sim.vessels:
        if spec.area is None or spec.mmsi not in tracks:
            continue
        area = AREAS[spec.area]
        for r in tracks[spec.mmsi]:
            lat, lon = float(r.msg["lat"]), float(r.msg["lon"])  # type: ignore[arg-type]
            assert distance_m(area.lat, area.lon, lat, lon) <= area.radius_nm * NM + 200
            checked += 1
    assert checked > 1000
    whitsun = [v for v in sim.vessels if v.area == "whitsun_reef"]
    assert whitsun and all(tracks[v.mmsi][0].msg["status"] == 1 for v in whitsun)


def test_a_shipborne_receiver_moves_with_its_ship_and_hears_around_it(run: tuple) -> None:
    sim, _, reports = run
    own = _positions(reports)[SHIP.patrol_mmsi]  # type: ignore[index]
    assert own, "the receiver's own ship transmits"
    for r in own[::6]:
        lat, lon = sim.receiver_position(SHIP, r.received_ts)
        assert distance_m(lat, lon, r.msg["lat"], r.msg["lon"]) < 50  # type: ignore[arg-type]
    heard = [r for r in reports if r.receiver == "SHIP" and r.msg["msg_type"] in (1, 18)]
    assert heard
    for r in heard:
        lat, lon = sim.receiver_position(SHIP, r.received_ts)
        assert distance_m(lat, lon, r.msg["lat"], r.msg["lon"]) <= 25 * NM + 100  # type: ignore[arg-type]
