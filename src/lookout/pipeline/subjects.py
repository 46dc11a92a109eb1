"""Bus subject names: the one place they are defined.

NATS-style dotted tokens; ``*`` matches one token and ``>`` the rest, in the in-process bus
exactly as in NATS. Payloads are JSON-able dicts.
"""

from __future__ import annotations

__all__ = [
    "ALERTS",
    "ALERT_STATES",
    "EVENTS",
    "INGEST_STATS",
    "OBSERVATIONS",
    "PREFIX",
    "RAW",
    "VESSELS",
    "alert",
    "alert_state",
    "event",
    "matches",
    "observation",
    "raw",
    "vessel",
]

PREFIX = "lookout"

RAW = f"{PREFIX}.raw.>"
"""Raw framed lines: ``lookout.raw.<member>.<source>``."""
OBSERVATIONS = f"{PREFIX}.obs.>"
"""Accepted position observations: ``lookout.obs.<member>.<source>``."""
VESSELS = f"{PREFIX}.vessel.>"
"""Fused vessel state updates: ``lookout.vessel.<mmsi>``."""
EVENTS = f"{PREFIX}.event.>"
"""Detector events: ``lookout.event.<kind>``."""
ALERTS = f"{PREFIX}.alert.>"
"""Alerts for one member: ``lookout.alert.<member>``."""
ALERT_STATES = f"{PREFIX}.alertstate.>"
"""A member's alert acknowledged or escalated: ``lookout.alertstate.<member>``."""
INGEST_STATS = f"{PREFIX}.stats.ingest"
"""Ingest counters after each committed batch."""


def _token(value: str) -> str:
    """A subject token: no dots, spaces or wildcards."""
    cleaned = "".join("_" if c in ". *>\t\r\n" else c for c in value)
    return cleaned or "_"


def raw(member: str, source: str) -> str:
    return f"{PREFIX}.raw.{_token(member)}.{_token(source)}"


def observation(member: str, source: str) -> str:
    return f"{PREFIX}.obs.{_token(member)}.{_token(source)}"


def vessel(mmsi: int) -> str:
    return f"{PREFIX}.vessel.{mmsi}"


def event(kind: str) -> str:
    return f"{PREFIX}.event.{_token(kind)}"


def alert(member: str) -> str:
    return f"{PREFIX}.alert.{_token(member)}"


def alert_state(member: str) -> str:
    return f"{PREFIX}.alertstate.{_token(member)}"


def matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: ``*`` one token, ``>`` one or more trailing tokens."""
    pat = pattern.split(".")
    sub = subject.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub):
            return False
        if token != "*" and token != sub[i]:
            return False
    return len(pat) == len(sub)
