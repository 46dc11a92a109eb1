"""Scenarios at named places: the Second Thomas Shoal resupply, the Whitsun Reef swarm, a dark
transfer at sea and an incursion into a territorial sea, each with its near misses.

Every scenario function fills a :class:`~lookout.sources.scenario_cast.Stage`. Times are hours
after the exercise start (plus a seeded offset); after its episode each vessel keeps busy on a
loop of its own, so it reports until the end of the exercise (a vessel that fell silent
hours before the end would be a real AIS gap). Vessels of different episodes are kept apart:
only what the labels describe happens.
"""

from __future__ import annotations

import math

from lookout.geo.distance import MPS_PER_KN, distance_m
from lookout.sources.scenario_cast import Stage, place
from lookout.sources.scenario_tracks import CircleZone, Route

__all__ = ["dark_transfer", "incursion", "second_thomas_resupply", "whitsun_swarm"]

SECOND_THOMAS = (9.733, 115.867)
WHITSUN = (9.99389, 114.6575)
PAG_ASA = (11.0550, 114.2840)
"""Reef, shoal and island positions of ``shared/data/geo/scs-reference-points``
(Wikipedia / CSIS AMTI), as in :mod:`lookout.sources.sim_world`."""

TERRITORIAL_SEA_M = 12 * 1852.0
CHN, PHL, PAN = 412, 548, 352


def _cross_offset_m(cpa_m: float, speed_a_kn: float, speed_b_kn: float) -> float:
    """How far ahead of A, B must cross A's course at right angles so that their closest
    point of approach is ``cpa_m``: the CPA is the offset times ``v_b / |v_rel|``."""
    return cpa_m * math.hypot(speed_a_kn, speed_b_kn) / speed_b_kn


def _crossing(
    stage: Stage, episode: str, a: Route, tc: float, course_a: float, cpa_m: float
) -> tuple[int, Route]:
    """A coast guard vessel crossing A's bow at right angles at 14 kn around ``tc``."""
    st = a.state(tc)
    speed_b = 14.0
    ahead = _cross_offset_m(cpa_m, st.speed_kn, speed_b)
    cross = place(st.lat, st.lon, course_a, ahead / 1000.0)
    course_b = (course_a + 90.0) % 360.0
    run_km = speed_b * MPS_PER_KN * 1800.0 / 1000.0
    b = Route(tc - 1800.0, *place(*cross, course_b + 180.0, run_km))
    b.to(*cross, speed_b).sail(course_b, speed_b, 1800.0)
    b.loop(*place(*cross, course_b, 25.0), 4000.0, 8.0, stage.end_ts)
    spec = stage.spec(CHN, "cg")
    stage.vessel(episode, spec, b)
    return spec.mmsi, b


def second_thomas_resupply(stage: Stage) -> None:
    """A Philippine resupply boat sails to Second Thomas Shoal; a China Coast Guard vessel
    shadows it for 2 h, another cuts across its bow at 80 m. Near misses: a crossing at
    320 m, a slow overtaking at 120 m (3.5 kn relative, 40 min within 2 km), a vessel
    following at 2.6 km."""
    site = stage.jitter_site(*SECOND_THOMAS, 1.0)
    t0, speed = stage.t(stage.rng.uniform(0.0, 0.75)), stage.rng.uniform(9.5, 10.5)
    course = 300.0
    boat = stage.spec(PHL, "merchant", ship_type=70)
    r = Route(t0, *place(*site, course + 180.0, 60.0)).to(*place(*site, 120.0, 0.4), speed)
    r.hold(2 * 3600.0).sail(120.0, speed, 3600.0)
    r.loop(*place(*site, 120.0, 35.0), 4000.0, 6.0, stage.end_ts)
    stage.vessel("resupply", boat, r)
    # The shadower: 1.2 km astern from t0 + 30 min for two hours, then away to the north-east.
    ts1 = t0 + 1800.0
    st = r.state(ts1)
    c1 = Route(ts1, *place(st.lat, st.lon, course + 180.0, 1.2)).sail(course, speed, 7200.0)
    c1.sail(30.0, 12.0, 3600.0)
    c1.loop(*place(*c1.here, 30.0, 12.0), 4000.0, 8.0, stage.end_ts)
    shadower = stage.spec(CHN, "cg")
    stage.vessel("resupply", shadower, c1)
    mid = r.state(ts1 + 3600.0)
    stage.expect(
        "shadowing",
        (boat.mmsi, shadower.mmsi),
        ts1,
        ts1 + 7200.0,
        (mid.lat, mid.lon),
        "coast guard vessel 1.2 km astern of the resupply boat for 2 h",
    )
    tc = t0 + 1.5 * 3600.0
    blocker, _ = _crossing(stage, "resupply", r, tc, course, 80.0)
    at = r.state(tc)
    stage.expect(
        "close_approach",
        (boat.mmsi, blocker),
        tc,
        tc,
        (at.lat, at.lon),
        "coast guard vessel cuts across the resupply boat's bow, CPA 80 m",
    )
    _near_misses(stage, site, t0)


def _near_misses(stage: Stage, site: tuple[float, float], t0: float) -> None:
    course = 300.0
    # A crossing at 320 m: not a close approach.
    origin = place(*site, 240.0, 75.0)
    a = Route(t0, *origin).sail(course, 10.0, 3.0 * 3600.0)
    a.loop(*place(*a.here, 210.0, 20.0), 4000.0, 8.0, stage.end_ts)
    spec_a = stage.spec(PHL, "merchant")
    stage.vessel("cross-320m", spec_a, a)
    tc = t0 + 1.5 * 3600.0
    b, _ = _crossing(stage, "cross-320m", a, tc, course, 320.0)
    at = a.state(tc)
    stage.expect(
        "close_approach",
        (spec_a.mmsi, b),
        tc,
        tc,
        (at.lat, at.lon),
        "near miss: crossing at a CPA of 320 m",
        fire=False,
    )
    # A slow overtaking 120 m abeam: 3.5 kn relative, under 1 h within 2 km.
    origin = place(*site, 190.0, 75.0)
    slow = Route(t0, *origin).sail(course, 8.0, 2.5 * 3600.0)
    slow.loop(*place(*slow.here, 210.0, 20.0), 4000.0, 8.0, stage.end_ts)
    start = place(*place(*origin, course + 180.0, 3.0), course + 90.0, 0.12)
    fast = Route(t0, *start).sail(course, 11.5, 2.5 * 3600.0)
    fast.loop(*place(*fast.here, 30.0, 20.0), 4000.0, 8.0, stage.end_ts)
    s1, s2 = stage.spec(PHL, "fishing", class_b=False), stage.spec(CHN, "cg")
    stage.vessel("overtake", s1, slow)
    stage.vessel("overtake", s2, fast)
    t_pass = t0 + 3000.0 / (3.5 * MPS_PER_KN)
    at = slow.state(t_pass)
    for kind in ("close_approach", "shadowing"):
        stage.expect(
            kind,
            (s1.mmsi, s2.mmsi),
            t_pass - 1200.0,
            t_pass + 1200.0,
            (at.lat, at.lon),
            "near miss: overtaking 120 m abeam at 3.5 kn relative speed",
            fire=False,
        )
    # Following at 2.6 km for 2 h: too far to be shadowing.
    origin = place(*site, 150.0, 75.0)
    lead = Route(t0, *origin).sail(course, 10.0, 2.5 * 3600.0)
    lead.loop(*place(*lead.here, 30.0, 20.0), 4000.0, 8.0, stage.end_ts)
    tail = Route(t0, *place(*origin, course + 180.0, 2.6)).sail(course, 10.0, 2.5 * 3600.0)
    tail.loop(*place(*tail.here, 210.0, 20.0), 4000.0, 8.0, stage.end_ts)
    s3, s4 = stage.spec(PHL, "merchant"), stage.spec(CHN, "cg")
    stage.vessel("follow-2.6km", s3, lead)
    stage.vessel("follow-2.6km", s4, tail)
    at = lead.state(t0 + 3600.0)
    stage.expect(
        "shadowing",
        (s3.mmsi, s4.mmsi),
        t0,
        t0 + 2.5 * 3600.0,
        (at.lat, at.lon),
        "near miss: following 2.6 km astern for 2.5 h",
        fire=False,
    )


def _ring(
    stage: Stage,
    episode: str,
    centre: tuple[float, float],
    count: int,
    hold_h: float,
    t0: float,
    *,
    fire: bool,
) -> None:
    """``count`` militia vessels sail in along rays to stations on a 2.5 km ring around
    ``centre``, mill around them at 2.5 kn for ``hold_h`` hours (slower than the swarm's
    3 kn, not slow enough to loiter or to meet), then leave along their rays and loop 20 km
    out."""
    rot = stage.rng.uniform(0.0, 360.0)
    arrive = t0 + 9.5 / (8.0 * MPS_PER_KN / 1000.0)
    leave = arrive + hold_h * 3600.0
    mmsis = []
    for i in range(count):
        ray = rot + i * 360.0 / count
        station = place(*centre, ray, 2.5)
        r = Route(t0, *place(*centre, ray, 12.0)).to(*place(*centre, ray, 3.0), 8.0)
        r.loop(*station, 500.0, 2.5, leave).sail(ray, 8.0, 3600.0)
        r.loop(*place(*centre, ray, 20.0), 3000.0, 6.0, stage.end_ts)
        spec = stage.spec(stage.rng.choice((CHN, 413)), "fishing")
        stage.vessel(episode, spec, r)
        mmsis.append(spec.mmsi)
    note = f"{count} vessels within 3 km of one point, slower than 3 kn, for {hold_h:g} h"
    stage.expect(
        "swarm", mmsis, arrive, leave, centre, note if fire else "near miss: " + note, fire=fire
    )


def whitsun_swarm(stage: Stage) -> None:
    """Twelve militia vessels milling at Whitsun Reef for 8 h (a swarm). Near misses: nine
    vessels for 8 h, ten vessels for 5 h."""
    site = stage.jitter_site(*WHITSUN, 1.0)
    t0 = stage.t(stage.rng.uniform(0.0, 0.5))
    _ring(stage, "swarm", site, 12, 8.0, t0, fire=True)
    _ring(stage, "nine-vessels", place(*site, 300.0, 75.0), 9, 8.0, t0, fire=False)
    _ring(stage, "five-hours", place(*site, 200.0, 75.0), 10, 5.0, t0, fire=False)


def _meeting(
    stage: Stage,
    episode: str,
    centre: tuple[float, float],
    apart_m: float,
    meet_ts: float,
    together_s: float,
    silence_s: float,
) -> tuple[int, int, Route, Route]:
    """Two vessels arrive at ``centre`` and drift together ``apart_m`` apart for
    ``together_s``; then (after ``silence_s`` with the transponders off, if any) they leave in
    opposite directions and loop 25 km away."""
    drift = stage.rng.uniform(0.0, 360.0)
    routes = []
    specs = [stage.spec(PAN, "tanker"), stage.spec(CHN, "fishing", ship_type=30)]
    for k, spec in enumerate(specs):
        side = drift + 90.0 + 180.0 * k
        spot = place(*centre, side, apart_m / 2000.0)
        speed = 10.0
        run_s = 20_000.0 / (speed * MPS_PER_KN)
        r = Route(meet_ts - run_s, *place(*spot, side, 20.0)).to(*spot, speed)
        r.sail(drift, 0.6, together_s + silence_s * 0.5)
        r.sail(side, 10.0, 2 * 3600.0)
        r.loop(*place(*centre, side, 25.0), 4000.0, 8.0, stage.end_ts)
        if silence_s:
            off = meet_ts + together_s
            stage.vessel(episode, spec, r, silences=[(off, off + silence_s)])
        else:
            stage.vessel(episode, spec, r)
        routes.append(r)
    return specs[0].mmsi, specs[1].mmsi, routes[0], routes[1]


def dark_transfer(stage: Stage) -> None:
    """A tanker and a fishing vessel meet far at sea, lie 250 m apart for 2 h 45 min
    (an encounter), then both switch AIS off for 7 h (two gaps) and reappear apart.
    Near misses: a pair 700 m apart for 3 h, a pair 300 m apart for 100 min, a vessel
    silent for 5 h; none of the drifting pairs is slow for 4 h (no loitering)."""
    site = stage.jitter_site(13.0, 115.5, 3.0)
    meet = stage.t(stage.rng.uniform(1.0, 1.75))
    together, silence = 2.75 * 3600.0, 7.0 * 3600.0
    x, y, rx, ry = _meeting(stage, "transfer", site, 250.0, meet, together, silence)
    off = meet + together
    stage.expect("encounter", (x, y), meet, off, site, "250 m apart, drifting, 2 h 45 min")
    for mmsi, r in ((x, rx), (y, ry)):
        at = r.state(off)
        stage.expect(
            "ais_gap",
            (mmsi,),
            off,
            off + silence,
            (at.lat, at.lon),
            "AIS off for 7 h during the transfer",
        )
        stage.expect(
            "loitering",
            (mmsi,),
            meet,
            off,
            (at.lat, at.lon),
            "near miss: slow for 2 h 45 min only",
            fire=False,
        )
    for episode, bearing, apart, hours in (
        ("700m-3h", 120.0, 700.0, 3.0),
        ("300m-100min", 40.0, 300.0, 100.0 / 60.0),
    ):
        centre = place(*site, bearing, 65.0)
        a, b, _, _ = _meeting(stage, episode, centre, apart, meet, hours * 3600.0, 0.0)
        stage.expect(
            "encounter",
            (a, b),
            meet,
            meet + hours * 3600.0,
            centre,
            f"near miss: {apart:g} m apart for {hours * 60:.0f} min",
            fire=False,
        )
    # A vessel on a loop, silent for 5 h: below the 6 h of a gap.
    centre = place(*site, 270.0, 70.0)
    spec = stage.spec(PHL, "merchant")
    g = Route(stage.t(0.0), *place(*centre, 0.0, 8.0)).loop(*centre, 8000.0, 10.0, stage.end_ts)
    quiet = stage.t(3.0)
    stage.vessel("quiet-5h", spec, g, silences=[(quiet, quiet + 5 * 3600.0)])
    at = g.state(quiet)
    stage.expect(
        "ais_gap",
        (spec.mmsi,),
        quiet,
        quiet + 5 * 3600.0,
        (at.lat, at.lon),
        "near miss: AIS off for 5 h",
        fire=False,
    )


def incursion(stage: Stage) -> None:
    """A vessel enters Pag-asa Island's territorial sea (a 12 nm circle, approximate) and
    leaves it. Near misses: a vessel passing 1.5 km outside, one first seen inside."""
    zone = CircleZone(
        id="exercise-phl-territorial-sea-pag-asa",
        name="Pag-asa Island territorial sea (EXERCISE: 12 nm circle, approximate)",
        regime="territorial_sea",
        owners=("PHL-PCG",),
        lat=PAG_ASA[0],
        lon=PAG_ASA[1],
        radius_m=TERRITORIAL_SEA_M,
    )
    stage.part.zones.append(zone)
    t0 = stage.t(stage.rng.uniform(0.5, 1.5))
    east = stage.rng.uniform(6.0, 9.0)
    a = Route(t0, *place(*place(*PAG_ASA, 90.0, east), 0.0, 40.0))
    a.to(*place(*place(*PAG_ASA, 90.0, east), 180.0, 40.0), 9.0)
    a.loop(*place(*a.here, 180.0, 8.0), 4000.0, 6.0, stage.end_ts)
    spec = stage.spec(CHN, "fishing")
    stage.vessel("intruder", spec, a)
    t_in = a.time_at_distance(*PAG_ASA, TERRITORIAL_SEA_M)
    t_out = _leaves(a, PAG_ASA, TERRITORIAL_SEA_M, t_in)
    for kind, ts in (("zone_entry", t_in), ("zone_exit", t_out)):
        at = a.state(ts)
        stage.expect(
            kind,
            (spec.mmsi,),
            ts,
            ts,
            (at.lat, at.lon),
            f"{kind.replace('_', ' ')} of the territorial sea",
            zone=zone.id,
        )
    # Passing 1.5 km outside the boundary.
    tangent = place(*PAG_ASA, 90.0, TERRITORIAL_SEA_M / 1000.0 + 1.5)
    b = Route(t0, *place(*tangent, 0.0, 40.0)).to(*place(*tangent, 180.0, 40.0), 10.0)
    b.loop(*place(*b.here, 120.0, 10.0), 4000.0, 6.0, stage.end_ts)
    skirt = stage.spec(CHN, "fishing")
    stage.vessel("skirting", skirt, b)
    # First seen inside, stays inside.
    centre = place(*PAG_ASA, 270.0, 11.0)
    c = Route(t0, *place(*centre, 0.0, 3.0)).loop(*centre, 3000.0, 6.0, stage.end_ts)
    inside = stage.spec(CHN, "fishing")
    stage.vessel("inside", inside, c)
    for kind in ("zone_entry", "zone_exit"):
        stage.expect(
            kind,
            (skirt.mmsi,),
            t0,
            stage.end_ts,
            tangent,
            "near miss: passes 1.5 km outside the boundary",
            fire=False,
            zone=zone.id,
        )
        stage.expect(
            kind,
            (inside.mmsi,),
            t0,
            stage.end_ts,
            centre,
            "near miss: first seen inside the zone and stays",
            fire=False,
            zone=zone.id,
        )


def _leaves(route: Route, centre: tuple[float, float], radius_m: float, after: float) -> float:
    ts = after
    while ts <= route.end_ts:
        st = route.state(ts)
        if distance_m(st.lat, st.lon, *centre) > radius_m:
            return ts
        ts += 10.0
    return math.inf
