"""Ingest counters as stores keep them: one row of totals per source, one per reject reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lookout.model import SourceStats

__all__ = ["source_stats"]


def source_stats(
    totals: Iterable[tuple[Any, ...]], rejects: Iterable[tuple[Any, ...]]
) -> list[SourceStats]:
    """``SourceStats`` from rows ``(member, source, lines, accepted, observations,
    duplicates, last_received_ts)`` and ``(member, source, reason, count)``, in the order of
    ``totals``."""
    rejected: dict[tuple[str, str], dict[str, int]] = {}
    for member, source, reason, count in rejects:
        rejected.setdefault((member, source), {})[reason] = count
    return [
        SourceStats(
            member=m, source=s, lines=lines, accepted=accepted,
            rejected=rejected.get((m, s), {}), observations=obs, duplicates=dup,
            last_received_ts=last,
        )
        for m, s, lines, accepted, obs, dup, last in totals
    ]  # fmt: skip
