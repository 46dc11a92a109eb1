"""The JetStream layout of a Lookout deployment: its streams and its subjects on the wire.

Pure functions and constants (no I/O), shared by :mod:`lookout.bus.nats` and
:mod:`lookout.bus.nats_consumer`; docs/nats.md explains the layout.

A deployment is named by a *prefix* (setting ``nats_stream_prefix``, empty by default). On
the wire every subject of :mod:`lookout.pipeline.subjects` is put under it
(``lookout.event.zone_entry`` travels as ``<prefix>.lookout.event.zone_entry``; with no prefix
it travels as itself), and the deployment's streams are named ``<PREFIX>_<FAMILY>``
(``LOOKOUT_<FAMILY>`` with no prefix). Deployments with different prefixes share one server
without seeing each other's messages or streams; the tests use that to get their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lookout.pipeline import subjects

__all__ = [
    "DEAD",
    "DEAD_LETTERS",
    "STREAMS",
    "StreamSpec",
    "check_pattern",
    "check_prefix",
    "check_subject",
    "intersect",
    "stream_for",
    "stream_name",
    "unwire",
    "wire",
]

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One durable stream: its family name, the subjects it stores and how long it keeps them.

    ``max_age_s`` of ``None`` keeps messages until the stream is deleted. Messages are kept by
    age (limits retention), not removed when a consumer acknowledges them, so several durable
    consumers can each read everything.
    """

    family: str
    pattern: str
    max_age_s: float | None


DEAD_LETTERS = f"{subjects.PREFIX}.dead.>"
"""Messages a durable consumer gave up on: ``lookout.dead.<family>``. Only a durable bus has
dead letters, so the subject lives here rather than in :mod:`lookout.pipeline.subjects`."""

DEAD = StreamSpec("DEAD", DEAD_LETTERS, None)
"""The dead-letter stream, kept until an operator deletes it."""

STREAMS = (
    StreamSpec("RAW", subjects.RAW, 1 * _DAY_S),
    StreamSpec("OBS", subjects.OBSERVATIONS, 7 * _DAY_S),
    StreamSpec("EVENTS", subjects.EVENTS, 90 * _DAY_S),
    StreamSpec("ALERTS", subjects.ALERTS, 90 * _DAY_S),
    DEAD,
)
"""Every stream of a deployment. Subjects outside them (vessel updates, ingest counters) are
plain NATS messages: live subscribers get them, nothing stores them."""

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def check_prefix(prefix: str) -> str:
    """``prefix`` if it can name streams and root subjects: letters, digits, ``_``, ``-``."""
    if not _PREFIX_RE.match(prefix) or len(prefix) > 32:
        raise ValueError(
            f"nats_stream_prefix must be at most 32 letters, digits, '_' or '-', not {prefix!r}"
        )
    return prefix


def check_subject(subject: str) -> None:
    """Raise ``ValueError`` unless ``subject`` is dotted tokens without wildcards or spaces."""
    tokens = subject.split(".")
    if any(t in ("", "*", ">") or any(c.isspace() for c in t) for t in tokens):
        raise ValueError(f"not a valid subject to publish on: {subject!r}")


def check_pattern(pattern: str) -> None:
    """Raise ``ValueError`` unless ``pattern`` is a valid subscription pattern."""
    tokens = pattern.split(".")
    bad = any(t == "" or any(c.isspace() for c in t) for t in tokens)
    if bad or ">" in tokens[:-1]:
        raise ValueError(f"not a valid subscription pattern: {pattern!r}")


def stream_name(prefix: str, spec: StreamSpec) -> str:
    """``<PREFIX>_<FAMILY>``, or ``LOOKOUT_<FAMILY>`` when the prefix is empty."""
    return f"{prefix or subjects.PREFIX.upper()}_{spec.family}"


def wire(prefix: str, subject: str) -> str:
    """The subject (or pattern) as it travels on the server."""
    return f"{prefix}.{subject}" if prefix else subject


def unwire(prefix: str, wired: str) -> str:
    """The Lookout subject of a subject received from the server."""
    return wired[len(prefix) + 1 :] if prefix else wired


def intersect(a: str, b: str) -> str | None:
    """A pattern matching exactly the subjects both patterns match, or ``None`` if none do."""
    x, y = a.split("."), b.split(".")
    out: list[str] = []
    for i in range(max(len(x), len(y))):
        if i >= len(x) or i >= len(y):
            return None
        if x[i] == ">":
            return ".".join(out + y[i:])
        if y[i] == ">":
            return ".".join(out + x[i:])
        if x[i] != y[i] and "*" not in (x[i], y[i]):
            return None
        out.append(y[i] if x[i] == "*" else x[i])
    return ".".join(out)


def stream_for(subject: str) -> StreamSpec | None:
    """The stream that stores ``subject`` (a Lookout subject, not wired), if any."""
    for spec in STREAMS:
        if subjects.matches(spec.pattern, subject):
            return spec
    return None
