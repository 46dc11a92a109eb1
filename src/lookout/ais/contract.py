"""The ``lookout decode --json`` contract: one JSON object per decoded message.

Keys: ``msg_type`` (int), ``mmsi`` (int), pyais's names for the other decoded fields (see
:mod:`lookout.ais.decode` for the ITU-R M.1371-5 rules: "not available" is ``null``, positions
in signed decimal degrees, enumerations as transmitted integers, binary data as hex),
``received_at`` (ISO 8601 UTC, ``...Z``, or ``null``) and ``source`` (the station that received
the message, e.g. the tag block ``s:`` or the USCG ``r`` field, or ``null``). A field the
message type does not carry is absent; one the message was too short to carry is ``null``.
Values are ``int``, ``float``, ``str``, ``bool`` or ``None``, so ``json.dumps`` takes the object
as it is.
"""

from __future__ import annotations

from typing import Any

from lookout.model import ts_to_datetime

__all__ = ["format_received_at", "to_contract"]


def to_contract(
    fields: dict[str, Any], *, received_ts: float | None, source: str | None
) -> dict[str, Any]:
    """The contract object of one message from :func:`lookout.ais.decode.decode`'s fields."""
    obj: dict[str, Any] = {"msg_type": fields["msg_type"], "mmsi": fields["mmsi"]}
    obj.update(fields)
    obj["received_at"] = format_received_at(received_ts)
    obj["source"] = source
    return obj


def format_received_at(received_ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with a ``Z``: whole seconds, else milliseconds."""
    if received_ts is None:
        return None
    when = ts_to_datetime(round(received_ts, 3))
    assert when is not None
    spec = "seconds" if when.microsecond == 0 else "milliseconds"
    return when.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
