"""Types passed between framing, reassembly and decoding."""

from __future__ import annotations

from dataclasses import dataclass

from lookout.model import RejectReason

__all__ = ["AisMessage", "DecodeError"]


@dataclass(frozen=True, slots=True)
class AisMessage:
    """One complete AIS message: the armoured payload of all its sentences, joined.

    ``received_ts`` is the receive time the line carried (tag block ``c:``, Gatehouse
    ``$PGHP``, USCG trailer epoch) or, failing that, the time the frame was received; ``None``
    when neither is known (a plain file). ``receiver`` is the station that heard it (tag block
    ``s:``, USCG ``r...``), else the frame's receiver. ``lines`` are the raw input lines.
    """

    payload: str
    fill_bits: int
    channel: str
    talker: str
    received_ts: float | None
    member: str
    source: str
    receiver: str | None
    lines: tuple[str, ...]


class DecodeError(ValueError):
    """A message that cannot be decoded; ``reason`` is how it is counted."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
