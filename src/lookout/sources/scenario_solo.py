"""Scenarios about one vessel at a time, or about what AIS does not see: an identity spoof, a
teleport, loitering, a transponder on land, and dark vessels in satellite detections; each
with near misses. See :mod:`lookout.sources.scenario_sites` for the conventions.
"""

from __future__ import annotations

from dataclasses import replace

from lookout.sources.scenario_cast import Stage, place
from lookout.sources.scenario_tracks import Detection, Route

__all__ = ["dark_vessel", "identity_spoof", "loitering", "on_land", "teleport"]

CHN, PHL, PAN, VNM = 412, 548, 352, 574


def _looper(
    stage: Stage,
    episode: str,
    centre: tuple[float, float],
    radius_km: float,
    speed_kn: float,
    mid: int = PAN,
    style: str = "merchant",
) -> tuple[int, Route]:
    """A vessel circling ``centre`` at ``speed_kn`` for the whole exercise."""
    spec = stage.spec(mid, style)
    r = Route(stage.t(0.0), *place(*centre, 0.0, radius_km))
    r.loop(*centre, radius_km * 1000.0, speed_kn, stage.end_ts)
    stage.vessel(episode, spec, r)
    return spec.mmsi, r


def identity_spoof(stage: Stage) -> None:
    """One MMSI used by two transmitters 40 km apart for 90 min (an identity conflict), and a
    vessel that changes its name and call sign. Near miss: an MMSI heard twice at a place
    30 km off, then back (two switches, not three)."""
    site = stage.jitter_site(14.5, 113.5, 3.0)
    spec = stage.spec(PAN, "merchant")
    r = Route(stage.t(0.0), *place(*site, 0.0, 10.0)).loop(*site, 10_000.0, 12.0, stage.end_ts)
    a, b = stage.t(4.0), stage.t(5.5)
    other = place(*site, 90.0, 40.0)
    twin = Route(a - 600.0, *place(*other, 0.0, 10.0)).loop(*other, 10_000.0, 11.0, b + 600.0)
    stage.vessel("clone", spec, r, clone=(twin, a, b))
    stage.expect(
        "identity_conflict",
        (spec.mmsi,),
        a,
        b,
        site,
        "two transmitters 40 km apart on one MMSI, alternating for 90 min",
    )
    stage.expect(
        "speed_anomaly",
        (spec.mmsi,),
        a,
        b,
        site,
        "near miss: the clone's hops are an identity conflict, not teleports",
        fire=False,
    )
    # Two switches only: A, B, B, A.
    centre = place(*site, 270.0, 50.0)
    mmsi, r = _looper(stage, "twice", centre, 10.0, 10.0)
    tw = int(r.start_ts) + 6 * 3600
    far = place(*r.state(tw).lat_lon, 180.0, 30.0)
    stage.part.vessels[-1].wild = [(tw, *far), (tw + 60, *far)]
    for kind in ("identity_conflict", "speed_anomaly"):
        stage.expect(
            kind,
            (mmsi,),
            tw - 60.0,
            tw + 180.0,
            far,
            "near miss: two positions 30 km off, then back (two switches)",
            fire=False,
        )
    # A change of name and call sign.
    centre = place(*site, 180.0, 50.0)
    mmsi, r = _looper(stage, "rename", centre, 10.0, 11.0, CHN)
    vessel = stage.part.vessels[-1]
    when = stage.t(6.0)
    new = replace(
        vessel.spec, name=f"{vessel.spec.name[:14]} II", callsign=vessel.spec.callsign[::-1]
    )
    vessel.renamed = (when, new)
    at = r.state(when)
    stage.expect(
        "identity_conflict",
        (mmsi,),
        when,
        when,
        (at.lat, at.lon),
        "the vessel changes its name and call sign",
    )


def teleport(stage: Stage) -> None:
    """A vessel whose position jumps 80 km and carries on from there (a speed anomaly). Near
    misses: a 30 kn passenger craft, one wild position after which the track resumes."""
    site = stage.jitter_site(12.3, 112.8, 3.0)
    spec = stage.spec(VNM, "merchant")
    tj = int(stage.t(5.0))
    r = Route(stage.t(0.0), *place(*site, 0.0, 10.0)).loop(*site, 10_000.0, 12.0, tj)
    landing = place(*site, 0.0, 80.0)
    r.jump(*landing).loop(*place(*landing, 0.0, 10.0), 10_000.0, 12.0, stage.end_ts)
    stage.vessel("jump", spec, r)
    stage.expect("speed_anomaly", (spec.mmsi,), tj, tj + 60.0, landing, "the track jumps 80 km")
    mmsi, _ = _looper(stage, "fast-craft", place(*site, 180.0, 60.0), 15.0, 30.0, PHL, "ferry")
    stage.expect(
        "speed_anomaly",
        (mmsi,),
        stage.start_ts,
        stage.end_ts,
        place(*site, 180.0, 60.0),
        "near miss: a passenger craft at a steady 30 kn",
        fire=False,
    )
    centre = place(*site, 270.0, 60.0)
    mmsi, r = _looper(stage, "glitch", centre, 10.0, 10.0)
    tw = int(r.start_ts) + 6 * 3600
    far = place(*r.state(tw).lat_lon, 90.0, 60.0)
    stage.part.vessels[-1].wild = [(tw, *far)]
    stage.expect(
        "speed_anomaly",
        (mmsi,),
        tw - 60.0,
        tw + 60.0,
        far,
        "near miss: one wild position 60 km off, then the track resumes",
        fire=False,
    )


def loitering(stage: Stage) -> None:
    """A vessel drifting at 0.8 kn for 6 h far from shore (loitering). Near miss: one
    drifting for 3 h."""
    site = stage.jitter_site(16.5, 115.0, 3.0)
    for episode, hours, fire in (("six-hours", 6.0, True), ("three-hours", 3.0, False)):
        centre = site if fire else place(*site, 180.0, 60.0)
        start = stage.t(stage.rng.uniform(0.5, 1.5))
        spec = stage.spec(VNM, "fishing")
        arrive = start + 3600.0
        r = Route(start, *place(*centre, 250.0, 18.5)).sail(70.0, 10.0, 3600.0)
        r.sail(70.0, 0.8, hours * 3600.0).sail(70.0, 9.0, 3600.0)
        r.loop(*place(*centre, 70.0, 25.0), 4000.0, 8.0, stage.end_ts)
        stage.vessel(episode, spec, r)
        stage.expect(
            "loitering",
            (spec.mmsi,),
            arrive,
            arrive + hours * 3600.0,
            centre,
            f"drifting at 0.8 kn for {hours:g} h, far from shore"
            if fire
            else "near miss: drifting for 3 h only",
            fire=fire,
        )


INLAND = (15.6, 120.9)
"""Central Luzon, about 60 km from the coast."""
COAST_INLAND = (15.5, 119.975)
"""On the Zambales coast, about 1 km inside the coastline of the 1 km land mask."""


def on_land(stage: Stage) -> None:
    """A transponder reporting from 60 km inland (position on land). Near miss: one about
    1 km inside the coastline (harbours and coarse coastlines are not judged)."""
    for episode, where, fire in (("inland", INLAND, True), ("coast", COAST_INLAND, False)):
        spec = stage.spec(PHL, "fishing")
        start = stage.t(stage.rng.uniform(1.0, 3.0))
        r = Route(start, *where).hold_until(stage.end_ts)
        stage.vessel(episode, spec, r)
        stage.expect(
            "position_on_land",
            (spec.mmsi,),
            start,
            stage.end_ts,
            where,
            "a transponder reporting from 60 km inland"
            if fire
            else "near miss: about 1 km inside the coastline",
            fire=fire,
        )


def dark_vessel(stage: Stage) -> None:
    """Satellite detections: one with no AIS vessel for 20 km and one 2.5 km from the nearest
    AIS vessel (dark vessels). Near misses: a detection 600 m from an AIS vessel, and one
    400 m from a vessel heard only every 20 min (its track must be interpolated)."""
    site = stage.jitter_site(8.0, 113.0, 3.0)
    part = stage.part

    def detect(ts: float, where: tuple[float, float], note: str, fire: bool) -> None:
        ident = f"EX-SAR-{len(part.detections) + 1:02d}"
        part.detections.append(Detection(ident, int(ts), where[0], where[1], "EXERCISE-SAR"))
        stage.expect("dark_vessel", (), ts, ts, where, note, fire=fire, detection_id=ident)

    detect(stage.t(3.0), site, "a vessel without AIS, nothing within 20 km", True)
    _, r = _looper(stage, "seen", place(*site, 90.0, 40.0), 6.0, 10.0, PHL, "fishing")
    at = r.state(stage.t(4.0))
    detect(
        stage.t(4.0), place(at.lat, at.lon, 0.0, 2.5), "2.5 km from the nearest AIS vessel", True
    )
    at = r.state(stage.t(6.0))
    detect(
        stage.t(6.0), place(at.lat, at.lon, 90.0, 0.6), "near miss: an AIS vessel 600 m off", False
    )
    spec = stage.spec(VNM, "fishing", class_b=True)
    centre = place(*site, 270.0, 40.0)
    r = Route(stage.t(0.0), *place(*centre, 0.0, 15.0)).loop(*centre, 15_000.0, 8.0, stage.end_ts)
    stage.vessel("sparse", spec, r, interval_s=1200)
    ts = _mid_leg(r, stage.t(5.0))
    at = r.state(ts)
    note = "near miss: 400 m from a vessel reporting every 20 min (interpolated)"
    detect(ts, place(at.lat, at.lon, 45.0, 0.4), note, False)


def _mid_leg(route: Route, after: float) -> float:
    """The middle of the first straight leg of ``route`` that starts after ``after``."""
    for t0, t1 in zip(route.times, route.times[1:], strict=False):
        if t0 >= after and t1 - t0 > 1800.0:
            return float(int((t0 + t1) / 2))
    return after
