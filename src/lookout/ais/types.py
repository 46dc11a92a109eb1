"""Types passed between framing, reassembly and decoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lookout.model import RejectReason

__all__ = ["AisMessage", "DecodeError", "FramedMessages", "make_message"]


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


def _message_factory() -> Callable[..., AisMessage]:
    """A constructor for :class:`AisMessage` that skips the frozen ``__init__``.

    A frozen dataclass assigns each field through ``object.__setattr__``, which costs about
    as much as framing a line; setting the slots directly builds an equal object in half the
    time. Falls back to the plain constructor if the fields are not the expected ones.
    """
    names = (
        "payload", "fill_bits", "channel", "talker", "received_ts", "member", "source",
        "receiver", "lines",
    )  # fmt: skip
    if getattr(AisMessage, "__slots__", ()) != names:
        return AisMessage
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = (getattr(AisMessage, n).__set__ for n in names)
    new = object.__new__

    def make(
        payload: str, fill_bits: int, channel: str, talker: str, received_ts: float | None,
        member: str, source: str, receiver: str | None, lines: tuple[str, ...],
    ) -> AisMessage:  # fmt: skip
        m = new(AisMessage)
        s0(m, payload)
        s1(m, fill_bits)
        s2(m, channel)
        s3(m, talker)
        s4(m, received_ts)
        s5(m, member)
        s6(m, source)
        s7(m, receiver)
        s8(m, lines)
        return m

    return make


make_message = _message_factory()
"""``AisMessage(...)`` with the same positional arguments, about twice as fast."""


class FramedMessages:
    """The messages framed from one batch of lines, in order, as columns.

    ``payloads``, ``fill_bits``, ``received_ts`` and ``receivers`` hold, per message, the
    fields of :class:`AisMessage` that decoding and fusion read; all messages share ``member``
    and ``source``. The rest (channel, talker, raw lines) is rebuilt on demand by
    :meth:`message` and :meth:`lines_of`: for a message of plain lines only the index of its
    line in ``lines`` is kept (a pair of indices for a two-sentence message), other messages
    keep their :class:`AisMessage`.
    """

    __slots__ = (
        "fill_bits", "lines", "member", "origins", "payloads", "received_ts", "receivers",
        "source",
    )  # fmt: skip

    def __init__(self, lines: Sequence[str], member: str, source: str) -> None:
        self.lines = lines
        self.member = member
        self.source = source
        self.payloads: list[str] = []
        self.fill_bits: list[int] = []
        self.received_ts: list[float | None] = []
        self.receivers: list[str | None] = []
        self.origins: list[int | tuple[int, int] | AisMessage] = []
        """Per message: the index of its line in ``lines`` (of both lines), or the message."""

    def __len__(self) -> int:
        return len(self.payloads)

    def append(self, m: AisMessage) -> None:
        """Add a message built by a scalar path."""
        self.payloads.append(m.payload)
        self.fill_bits.append(m.fill_bits)
        self.received_ts.append(m.received_ts)
        self.receivers.append(m.receiver)
        self.origins.append(m)

    def add_columns(
        self,
        payloads: list[str],
        fill_bits: list[int],
        received_ts: list[float | None],
        receivers: list[str | None],
        line_indices: list[int] | list[tuple[int, int]],
    ) -> None:
        """Add messages of plain lines, given as columns (one line index each, or two)."""
        self.payloads += payloads
        self.fill_bits += fill_bits
        self.received_ts += received_ts
        self.receivers += receivers
        self.origins += line_indices

    def merge(self, other: FramedMessages) -> None:
        """Add the messages of ``other`` (framed from the same lines)."""
        self.payloads += other.payloads
        self.fill_bits += other.fill_bits
        self.received_ts += other.received_ts
        self.receivers += other.receivers
        self.origins += other.origins

    def extend(self, messages: Sequence[AisMessage]) -> None:
        for m in messages:
            self.append(m)

    def lines_of(self, i: int) -> tuple[str, ...]:
        """The raw lines message ``i`` was made of."""
        origin = self.origins[i]
        if isinstance(origin, AisMessage):
            return origin.lines
        if isinstance(origin, int):
            return (self.lines[origin],)
        return tuple(self.lines[k] for k in origin)

    def message(self, i: int) -> AisMessage:
        """Message ``i`` as an :class:`AisMessage`."""
        origin = self.origins[i]
        if isinstance(origin, AisMessage):
            return origin
        line = self.lines[origin if isinstance(origin, int) else origin[0]]
        fields = line.split(",", 5)
        return make_message(
            self.payloads[i], self.fill_bits[i], fields[4], line[1:3], self.received_ts[i],
            self.member, self.source, self.receivers[i], self.lines_of(i),
        )  # fmt: skip

    def messages(self) -> list[AisMessage]:
        """Every message as an :class:`AisMessage`, in order."""
        return [self.message(i) for i in range(len(self.payloads))]
