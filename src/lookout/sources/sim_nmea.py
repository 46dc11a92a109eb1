"""NMEA for the simulator: AIS messages encoded by pyais behind NMEA 4.0 tag blocks."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pyais

from lookout.ais.nmea import checksum
from lookout.sources.sim_motion import VesselState
from lookout.sources.sim_world import VesselSpec

__all__ = ["encode", "position_message", "static_messages", "tag_block"]


def tag_block(received_ts: float, station: str) -> str:
    """An NMEA 4.0 tag block with receive time ``c:`` (unix seconds) and source ``s:``."""
    body = f"c:{int(received_ts)},s:{station}"
    return f"\\{body}*{checksum(body):02X}\\"


def _eta(ts: float | None) -> dict[str, int]:
    if ts is None:
        return {"month": 0, "day": 0, "hour": 24, "minute": 60}
    when = datetime.fromtimestamp(ts, tz=UTC)
    return {"month": when.month, "day": when.day, "hour": when.hour, "minute": when.minute}


def position_message(
    spec: VesselSpec, st: VesselState, ts: float, rng: random.Random
) -> dict[str, Any]:
    """A type 1 (class A) or type 18 (class B) report of ``st`` with a little sensor noise."""
    moving = st.speed_kn > 0.5
    speed = max(0.0, st.speed_kn + rng.gauss(0.0, 0.15)) if moving else st.speed_kn
    course = (st.course_deg + rng.gauss(0.0, 1.0)) % 360.0 if moving else st.course_deg
    heading = round(course + rng.uniform(-3.0, 3.0)) % 360 if moving else round(course) % 360
    common = {
        "mmsi": spec.mmsi,
        "speed": round(speed, 1),
        "lon": st.lon,
        "lat": st.lat,
        "course": round(course, 1),
        "heading": heading,
        "second": int(ts) % 60,
    }
    if spec.class_b:
        return {"type": 18, **common, "accuracy": 0, "cs": 1, "dsc": 1, "band": 1, "msg22": 1}
    return {"type": 1, **common, "status": st.status, "turn": 0, "accuracy": 1}


def static_messages(
    spec: VesselSpec, destination: str, eta_ts: float | None
) -> list[dict[str, Any]]:
    """Type 5 for class A; type 24 parts A and B for class B."""
    bow = round(spec.length_m * 0.8)
    dims = {
        "to_bow": bow,
        "to_stern": spec.length_m - bow,
        "to_port": spec.beam_m // 2,
        "to_starboard": spec.beam_m - spec.beam_m // 2,
    }
    if spec.class_b:
        return [
            {"type": 24, "mmsi": spec.mmsi, "partno": 0, "shipname": spec.name},
            {
                "type": 24,
                "mmsi": spec.mmsi,
                "partno": 1,
                "ship_type": spec.ship_type,
                "callsign": spec.callsign,
                **dims,
            },
        ]
    return [
        {
            "type": 5,
            "mmsi": spec.mmsi,
            "ais_version": 0,
            "imo": spec.imo,
            "callsign": spec.callsign,
            "shipname": spec.name,
            "ship_type": spec.ship_type,
            **dims,
            "epfd": 1,
            **_eta(eta_ts),
            "draught": spec.draught_m,
            "destination": destination,
            "dte": 0,
        }
    ]


def encode(message: dict[str, Any], channel: str, seq_id: int) -> list[str]:
    """NMEA ``!AIVDM`` sentences of one message (two for a type 5)."""
    return pyais.encode_dict(
        message, talker_id="AI", sentence_type="VDM", radio_channel=channel, seq_id=seq_id
    )
