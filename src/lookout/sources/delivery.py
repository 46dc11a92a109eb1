"""Handing items to the sink: retry with backoff while it refuses, give up only at stop."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lookout.pipeline.ports import FrameSink, SourceItem, StopSignal

__all__ = ["submit_with_retry"]

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.05
RETRY_MAX_S = 1.0


def submit_with_retry(
    sink: FrameSink, items: Sequence[SourceItem], stop: StopSignal, label: str
) -> bool:
    """Submit ``items``; while the sink refuses (queue full) wait and retry, doubling the wait.

    Returns ``True`` once submitted, ``False`` if the source was stopped first (the caller
    counts the items as lost). The source reads no input while it waits, which is the
    back-pressure: a TCP sender is slowed down by flow control, a file is simply read later.
    """
    delay_s = RETRY_FIRST_S
    warned = False
    while True:
        try:
            sink.submit(items)
        except Exception as exc:
            if stop.is_set():
                log.warning("%s: %d items lost at stop (%s)", label, len(items), exc)
                return False
            if not warned:
                log.warning("%s: sink refused %d items (%s); retrying", label, len(items), exc)
                warned = True
            stop.wait(delay_s)
            delay_s = min(delay_s * 2.0, RETRY_MAX_S)
            continue
        return True
