"""Track excerpts of an evidence bundle as GeoJSON (RFC 7946) and KML 2.2.

Each vessel gets a line of its points in time order, and each point a feature of its own with
the time it was observed and the member and source that observed it; the incident is a point.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any
from xml.sax.saxutils import escape

from lookout.model import TrackPoint
from lookout.model.incidents import Incident
from lookout.service.batch import iso_utc

__all__ = ["kml", "track_geojson"]


def _by_vessel(points: Sequence[TrackPoint]) -> list[tuple[int, list[TrackPoint]]]:
    ordered = sorted(points, key=lambda p: (p.mmsi, p.observed_ts))
    return [(mmsi, list(group)) for mmsi, group in groupby(ordered, key=lambda p: p.mmsi)]


def _incident_feature(incident: Incident) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [incident.lon, incident.lat]},
        "properties": {
            "kind": "incident", "id": incident.id, "category": incident.category,
            "occurred_at": iso_utc(incident.occurred_ts),
        },
    }  # fmt: skip


def track_geojson(incident: Incident, points: Sequence[TrackPoint]) -> dict[str, Any]:
    """A FeatureCollection: the incident, one LineString per vessel, one Point per point."""
    features = [_incident_feature(incident)]
    for mmsi, track in _by_vessel(points):
        if len(track) > 1:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString", "coordinates": [[p.lon, p.lat] for p in track],
                    },
                    "properties": {
                        "kind": "track", "mmsi": mmsi, "points": len(track),
                        "start_at": iso_utc(track[0].observed_ts),
                        "end_at": iso_utc(track[-1].observed_ts),
                    },
                }
            )  # fmt: skip
        features += [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "kind": "observation", "mmsi": mmsi, "observed_at": iso_utc(p.observed_ts),
                    "speed_kn": p.speed_kn, "course_deg": p.course_deg, "member": p.member,
                    "source": p.source,
                },
            }
            for p in track
        ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _placemark(name: str, body: str, when: str | None = None) -> str:
    stamp = f"<TimeStamp><when>{when}</when></TimeStamp>" if when else ""
    return f"<Placemark><name>{escape(name)}</name>{stamp}{body}</Placemark>"


def kml(incident: Incident, points: Sequence[TrackPoint]) -> str:
    """A KML document: the incident, and a folder per vessel with its line and points."""
    parts = [
        _placemark(
            f"{incident.id} {incident.category}",
            f"<Point><coordinates>{incident.lon},{incident.lat}</coordinates></Point>",
            iso_utc(incident.occurred_ts),
        )
    ]
    for mmsi, track in _by_vessel(points):
        coords = " ".join(f"{p.lon},{p.lat}" for p in track)
        items = [_placemark(f"MMSI {mmsi}", f"<LineString><coordinates>{coords}</coordinates>"
                            "</LineString>")] if len(track) > 1 else []  # fmt: skip
        items += [
            _placemark(
                f"MMSI {mmsi} {p.member}/{p.source}",
                f"<Point><coordinates>{p.lon},{p.lat}</coordinates></Point>",
                iso_utc(p.observed_ts),
            )
            for p in track
        ]
        parts.append(f"<Folder><name>MMSI {mmsi}</name>{''.join(items)}</Folder>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{escape(incident.id)}</name>{''.join(parts)}</Document></kml>\n"
    )
