"""Raw batches on the bus: what an ingest node publishes and a process node consumes.

One push (or several source submissions that closed one micro-batch together) is split by
vessel partition (:mod:`lookout.service.roles.routing`); one message carries the items of one
partition as JSON, on ``lookout.raw.<partition>.<member>.<source>``:

``{"v": 2, "id": ..., "key": ..., "partition": ..., "sent_ts": ..., "items": [...]}``

- ``id`` is the message's ``Nats-Msg-Id`` (JetStream drops a copy within its duplicate
  window): a hash of the batch's key (or content) and the partition. Prefixed ``raw:``, it is
  the store's receipt key of a part without a sender key: a redelivered message finds its
  receipt and is not stored twice.
- ``key`` is the part's idempotency key: the sender's key (scoped to its source) with
  ``@p<partition>``, or ``None``; the id of a keyed part is derived from it, so a re-sent push
  gives the same messages and each part is committed once.
- ``sent_ts`` is when the ingest node published it: the pipeline's ``now_ts`` for lines
  without a time of their own, so a redelivery is processed exactly as the first delivery.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from lookout.model import Detection, Frame, Lines, Rejection, RejectReason, ReportRecord
from lookout.pipeline import subjects
from lookout.pipeline.ports import SourceItem

__all__ = [
    "FORMAT",
    "RawBatch",
    "decode_items",
    "encode_items",
    "partition_pattern",
    "raw_batch",
    "raw_batches",
    "raw_subject",
    "receipt_key",
]

FORMAT = 2
"""The payload's ``v``: a process node refuses (dead-letters) a format it does not know
(1: the unpartitioned messages before partitioning, on ``lookout.raw.<member>.<source>``)."""

_TAGS: dict[type[Any], str] = {
    Lines: "lines",
    Frame: "frame",
    ReportRecord: "record",
    Detection: "detection",
    Rejection: "rejection",
}
_TYPES = {tag: cls for cls, tag in _TAGS.items()}


@dataclass(frozen=True, slots=True)
class RawBatch:
    """One raw message: its subject, payload and message id."""

    subject: str
    payload: dict[str, Any]
    msg_id: str

    @property
    def receipt_key(self) -> str:
        return receipt_key(self.payload)


def receipt_key(payload: Mapping[str, Any]) -> str:
    """The store key that marks a raw message as committed: the sender's key, else ``raw:<id>``."""
    key = payload.get("key")
    return str(key) if key else f"raw:{payload['id']}"


def encode_items(items: Sequence[SourceItem]) -> list[dict[str, Any]]:
    """Items as JSON-able dicts, each tagged with its type (``t``)."""
    out: list[dict[str, Any]] = []
    for item in items:
        row: dict[str, Any] = {"t": _TAGS[type(item)]}
        for f in dataclasses.fields(item):
            value = getattr(item, f.name)
            row[f.name] = list(value) if f.name == "lines" else value
        out.append(row)
    return out


def decode_items(rows: Sequence[Mapping[str, Any]]) -> list[SourceItem]:
    """The items :func:`encode_items` encoded; ``ValueError`` on an unknown type."""
    items: list[SourceItem] = []
    for row in rows:
        cls = _TYPES.get(str(row.get("t")))
        if cls is None:
            raise ValueError(f"unknown raw item type {row.get('t')!r}")
        fields = {k: v for k, v in row.items() if k != "t"}
        if cls is Rejection:
            fields["reason"] = RejectReason(fields["reason"])
        items.append(cls(**fields))
    return items


def raw_subject(items: Sequence[SourceItem], partition: int = 0) -> str:
    """``lookout.raw.<partition>.<member>.<source>`` of the first item that names them."""
    return subjects.raw(*_origin(items)).replace(".raw.", f".raw.{partition}.", 1)


def partition_pattern(partition: int) -> str:
    """The subjects of one partition's raw messages (a consumer's filter)."""
    return f"{subjects.PREFIX}.raw.{partition}.>"


def _origin(items: Sequence[SourceItem]) -> tuple[str, str]:
    """The member and source a batch came from (its first item that names them)."""
    for item in items:
        member = getattr(item, "member", "")
        source = getattr(item, "source", "")
        if isinstance(item, Detection):
            member, _, source = item.feed.partition("/")
        if member:
            return member, source or "_"
    return "_", "_"


def raw_batch(
    items: Sequence[SourceItem], key: str | None, sent_ts: float, partition: int = 0
) -> RawBatch:
    """The raw message of ``items``, all of one partition; see :func:`raw_batches`."""
    return _part(_batch_digest(items, key, sent_ts), items, key, sent_ts, partition)


def raw_batches(
    parts: Mapping[int, Sequence[SourceItem]],
    whole: Sequence[SourceItem],
    key: str | None,
    sent_ts: float,
) -> list[RawBatch]:
    """One raw message per partition of a batch (``parts``: the partitions' items, from
    :meth:`~lookout.service.roles.routing.PartitionRouter.split` of ``whole``)."""
    digest = _batch_digest(whole, key, sent_ts)
    return [_part(digest, items, key, sent_ts, p) for p, items in sorted(parts.items())]


def _batch_digest(items: Sequence[SourceItem], key: str | None, sent_ts: float) -> bytes:
    """A hash of the sender's key, else of the items and ``sent_ts`` (two pushes of the same
    lines at different times are two batches)."""
    if key:
        return hashlib.blake2b(b"key\0" + key.encode(), digest_size=16).digest()
    body = orjson.dumps([sent_ts, encode_items(items)], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(b"items\0" + body, digest_size=16).digest()


def _part(
    digest: bytes, items: Sequence[SourceItem], key: str | None, sent_ts: float, partition: int
) -> RawBatch:
    msg_id = hashlib.blake2b(digest + b"@%d" % partition, digest_size=16).hexdigest()
    payload = {
        "v": FORMAT,
        "id": msg_id,
        "key": f"{key}@p{partition}" if key else None,
        "partition": partition,
        "sent_ts": sent_ts,
        "items": encode_items(items),
    }
    return RawBatch(raw_subject(items, partition), payload, msg_id)
