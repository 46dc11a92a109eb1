"""Decode, validate, dedupe and fuse: the per-message hot loop of the pipeline.

:class:`Fuser` takes framed AIS messages (and decoded records) of one source at a time and
writes into the open :class:`~lookout.pipeline.results.BatchState`: track points, changed
identities, counts, rejections, detector events. The rules it applies are documented in
:mod:`lookout.pipeline.engine`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from lookout.ais.batchdecode import PositionRow, position_rows
from lookout.ais.decode import decode, decode_position
from lookout.ais.types import AisMessage, DecodeError, FramedMessages
from lookout.fusion.dedupe import Deduplicator
from lookout.fusion.identity import Identity, static_from_fields, static_from_record
from lookout.fusion.tracks import VesselTracker
from lookout.model import (
    Detection,
    Observation,
    Rejection,
    RejectReason,
    ReportRecord,
    StaticReport,
)
from lookout.model.rows import TRACK_POINT_FIELDS, TrackRow
from lookout.pipeline import subjects
from lookout.pipeline.results import BatchState, Counts
from lookout.pipeline.suite import DetectorSuite

__all__ = ["MAX_MMSI", "Fuser"]

MAX_MMSI = 999_999_999
_FAST_HEADS = frozenset("123B")
"""First payload character of types 1, 2, 3 and 18 (decoded on the fast path)."""
_DECODED_HEADS = frozenset("59CHK")
"""Types 5, 9, 19, 24 and 27: decoded in full for identity or a vessel position."""
_POSITION_TYPES = frozenset({9, 19, 27})
_STATIC_TYPES = frozenset({5, 19, 24})
_PURE_STATIC_TYPES = frozenset({5, 24})
_UNKNOWN_HEADS = frozenset(
    chr(value + 48 if value < 40 else value + 56) for value in (0, *range(28, 64))
)
"""First payload character of message types 0 and 28-63 (ITU-R M.1371-5 defines 1-27)."""
_MAX_STATIC_MEMO = 200_000
"""Static payloads remembered to skip decoding a repeat (a ship repeats its type 5 every
6 minutes, nearly always unchanged); the memo is cleared when full."""

_MAX_RECEIVERS = 10_000
assert TRACK_POINT_FIELDS[-1] == "receivers"  # _duplicate extends a track row's last column
Tag = tuple[int, int, int]
"""What the dedupe memory keeps of an accepted transmission: (batch, track index, mmsi)."""


class Fuser:
    """Holds the dedupe memory, the vessel tracker and the detectors; see the module doc."""

    def __init__(
        self,
        dedupe: Deduplicator,
        tracker: VesselTracker,
        suite: DetectorSuite,
        *,
        publish_observations: bool,
    ) -> None:
        self.dedupe = dedupe
        self.tracker = tracker
        self.suite = suite
        self.publish_observations = publish_observations
        self._statics: dict[str, tuple[int, Identity, int]] = {}
        self._receivers_of: dict[str, tuple[str]] = {}

    def _receivers(self, receiver: str) -> tuple[str]:
        """The receivers of a first copy: one shared tuple per receiver (less to build, and
        marshalled once per batch rather than once per point)."""
        found = self._receivers_of.get(receiver)
        if found is None:
            if len(self._receivers_of) >= _MAX_RECEIVERS:
                self._receivers_of.clear()
            found = self._receivers_of[receiver] = (receiver,)
        return found

    def messages(
        self,
        batch: BatchState,
        framed: FramedMessages,
        default_ts: float,
        simulated: bool,
        counts: Counts,
        receipt: Counts | None,
    ) -> None:
        """Fuse the messages one framer produced (all of one member and source)."""
        dedupe = self.dedupe
        current, find, find_old, window = (
            dedupe.current,
            dedupe.current.get,
            dedupe.previous.get,
            dedupe.window_s,
        )
        observe = self.tracker.observe_row
        receivers_of = self._receivers_of.get
        track = batch.track
        number = batch.number
        member, source = framed.member, framed.source
        after = self._after_accept if (self.suite or self.publish_observations) else None
        # the usual case with detectors, inlined: an observation for them and nothing else
        for_detectors = batch.observations if after and not self.publish_observations else None
        observations = duplicates = 0
        rows = position_rows(framed.payloads, framed.fill_bits)
        for i, (payload, fill, ts, receiver, row) in enumerate(
            zip(
                framed.payloads, framed.fill_bits, framed.received_ts, framed.receivers, rows,
                strict=True,
            )
        ):  # fmt: skip
            key: Hashable = payload if fill == 0 else (payload, fill)
            if ts is None:
                ts = default_ts
            first = find(key) or find_old(key)  # Deduplicator.seen, inlined
            if first is not None and -window <= ts - first[0] <= window:
                duplicates += 1
                if first[1] is not None:
                    self._duplicate(batch, first[1], receiver or source, member, source)
                continue
            if row is None:
                head = payload[0]
                if head in _DECODED_HEADS:
                    if not self._known_static(batch, payload, key, ts):
                        m = framed.message(i)
                        observations += self._decode(batch, m, key, ts, default_ts, simulated,
                                                     counts, receipt)  # fmt: skip
                    continue
                if head not in _FAST_HEADS:
                    if head in _UNKNOWN_HEADS:
                        kind = ord(head) - (48 if head < "X" else 56)
                        self._reject(batch, counts, receipt, RejectReason.UNKNOWN_TYPE, framed, i,
                                     f"message type {kind}")  # fmt: skip
                        continue
                    current[key] = (ts, None)
                    continue
                decoded = self._scalar_position(batch, framed, i, counts, receipt)
                if decoded is None:
                    continue
                row = decoded
            msg_type, mmsi, lat, lon, speed_kn, course_deg, heading_deg, status = row
            if lat is None or lon is None:
                self._reject(batch, counts, receipt, RejectReason.NO_POSITION, framed, i, "")
                continue
            # fmt: off
            receivers = receivers_of(receiver or source) or self._receivers(receiver or source)
            point = observe(mmsi, ts, lat, lon, speed_kn, course_deg, heading_deg, status,
                            member, source, receivers, simulated, msg_type)
            # fmt: on
            current[key] = (ts, (number, len(track), mmsi))  # Deduplicator.add, inlined
            track.append(point)
            observations += 1
            if for_detectors is not None:
                # fmt: off
                for_detectors.append(Observation(
                    mmsi, msg_type, ts, lat, lon, speed_kn, course_deg, heading_deg, status,
                    member, source, receivers, default_ts,
                    key if type(key) is str else _key_text(key), simulated,
                ))
                # fmt: on
            elif after is not None:
                after(batch, point, msg_type, status, key, default_ts, simulated)
        _add_outcome(counts, receipt, observations, duplicates)

    def _scalar_position(
        self,
        batch: BatchState,
        framed: FramedMessages,
        i: int,
        counts: Counts,
        receipt: Counts | None,
    ) -> PositionRow | None:
        """A position report the batch decoder left to :func:`decode_position` (not of the
        standard length, or one it refuses); ``None`` once rejected."""
        try:
            p = decode_position(framed.payloads[i], framed.fill_bits[i])
        except DecodeError as error:
            self._reject(batch, counts, receipt, error.reason, framed, i, error.detail)
            return None
        if p is None:
            self._reject(batch, counts, receipt, RejectReason.DECODE_ERROR, framed, i, "")
            return None
        return p[:8]

    def _decode(
        self,
        batch: BatchState,
        m: AisMessage,
        key: Hashable,
        ts: float,
        received_ts: float,
        simulated: bool,
        counts: Counts,
        receipt: Counts | None,
    ) -> int:
        """Types 5, 9, 19, 24, 27: identity and/or a position. Returns observations."""
        try:
            fields = decode(m.payload, m.fill_bits)
        except DecodeError as error:
            self._reject(batch, counts, receipt, error.reason, m, 0, error.detail)
            return 0
        msg_type, decoded_mmsi = fields.get("msg_type"), fields.get("mmsi")
        if not isinstance(decoded_mmsi, int) or not 0 < decoded_mmsi <= MAX_MMSI:
            detail = f"mmsi {decoded_mmsi}"
            self._reject(batch, counts, receipt, RejectReason.BAD_MMSI, m, 0, detail)
            return 0
        mmsi = decoded_mmsi
        if msg_type in _STATIC_TYPES:
            self._static(batch, m, fields, ts, mmsi)
        if msg_type not in _POSITION_TYPES:
            self.dedupe.add(key, ts, (batch.number, -1, mmsi))
            return 0
        position = _position(fields)
        if position is None:
            self._reject(batch, counts, receipt, RejectReason.NO_POSITION, m, 0, "")
            return 0
        lat, lon = position
        status = fields.get("status") if msg_type == 27 else None
        receivers = self._receivers(m.receiver or m.source)
        speed_kn, course_deg, heading_deg = (fields.get(k) for k in ("speed", "course", "heading"))
        point = self.tracker.observe_row(
            mmsi, ts, lat, lon, speed_kn, course_deg, heading_deg, status, m.member, m.source,
            receivers, simulated, int(msg_type),
        )  # fmt: skip
        self.dedupe.add(key, ts, (batch.number, len(batch.track), mmsi))
        batch.track.append(point)
        if self.suite or self.publish_observations:
            self._after_accept(batch, point, int(msg_type), status, key, received_ts, simulated)
        return 1

    def _known_static(self, batch: BatchState, payload: str, key: Hashable, ts: float) -> bool:
        """Whether this very identity report was merged already and nothing changed since:
        then there is nothing to learn and it is not decoded again (only remembered)."""
        known = self._statics.get(payload)
        if known is None:
            return False
        mmsi, identity, version = known
        if self.tracker.identity(mmsi) is not identity or identity.version != version:
            return False
        self.dedupe.add(key, ts, (batch.number, -1, mmsi))
        return True

    def _static(
        self, batch: BatchState, m: AisMessage, fields: dict[str, Any], ts: float, mmsi: int
    ) -> None:
        """Merge an identity report; keep it (as history) only if it changed something."""
        report = static_from_fields(fields, observed_ts=ts, member=m.member, source=m.source)
        if self.tracker.add_static(report):
            batch.statics.append(report)
            self._identity_news(batch, report)
        identity = self.tracker.identity(mmsi)
        if identity is not None and fields.get("msg_type") in _PURE_STATIC_TYPES:
            if len(self._statics) >= _MAX_STATIC_MEMO:
                self._statics.clear()
            self._statics[m.payload] = (mmsi, identity, identity.version)

    def _identity_news(self, batch: BatchState, report: StaticReport) -> None:
        """Hand an identity report that changed something to the detectors that watch
        identities (those with an ``on_static`` method: ship type, name, call sign, IMO)."""
        batch.events.extend(self.suite.static(report))

    def _reject(
        self,
        batch: BatchState,
        counts: Counts,
        receipt: Counts | None,
        reason: RejectReason,
        m: AisMessage | FramedMessages,
        i: int,
        detail: str,
    ) -> None:
        """Count message ``m`` (or message ``i`` of ``m``) as rejected, every line of it."""
        lines = m.lines if isinstance(m, AisMessage) else m.lines_of(i)
        counts.accepted -= len(lines)
        counts.reject(reason.value, len(lines))
        if receipt is not None:
            receipt.reject(reason.value, len(lines))
        batch.keep(Rejection(reason, m.source, "\n".join(lines), detail))

    def _duplicate(
        self, batch: BatchState, tag: Tag, receiver: str, member: str, source: str
    ) -> None:
        """A copy of an accepted transmission: credit its receiver, member and source."""
        number, index, mmsi = tag
        if number == batch.number and index >= 0:
            row = batch.track[index]
            if receiver not in row[-1]:  # the receivers
                batch.track[index] = (*row[:-1], (*row[-1], receiver))
        self.tracker.add_contributor(mmsi, member, source)

    def _after_accept(
        self,
        batch: BatchState,
        row: TrackRow,
        msg_type: int,
        status: int | None,
        key: Hashable,
        received_ts: float,
        simulated: bool,
    ) -> None:
        """Detectors and observation messages for one accepted position."""
        mmsi, _, ts, lat, lon, speed, course, heading, member, source, receivers = row[:11]
        # fmt: off
        obs = Observation(
            mmsi, msg_type, ts, lat, lon, speed, course, heading, status, member, source,
            receivers, received_ts, key if type(key) is str else _key_text(key), simulated,
        )
        # fmt: on
        if self.suite:
            batch.observations.append(obs)
        if self.publish_observations:
            batch.messages.append(
                (subjects.observation(obs.member, obs.source), observation_payload(obs))
            )

    def run_detectors(self, batch: BatchState) -> None:
        """Hand the batch's accepted positions to the detectors
        (:meth:`~lookout.pipeline.suite.DetectorSuite.observations`)."""
        observations = batch.observations
        if observations:
            batch.observations = []
            batch.events.extend(self.suite.observations(observations))

    def detection(self, batch: BatchState, det: Detection) -> None:
        """A non-AIS detection: to every detector with an ``on_detection`` method
        (``dark_vessel``); it changes nothing else."""
        batch.events.extend(self.suite.detection(det))

    # -- decoded records -----------------------------------------------------------------------

    def record(
        self, batch: BatchState, rec: ReportRecord, simulated: bool, receipt: Counts | None
    ) -> None:
        """Validate, dedupe and fuse one decoded record (a CSV/JSON row)."""
        counts = batch.counter(rec.member, rec.source)
        counts.lines += 1
        counts.seen_at(batch.now_ts)
        if receipt is not None:
            receipt.lines += 1
        report = static_from_record(rec)
        reason = _record_reason(rec, has_identity=report is not None)
        if reason is not None:
            counts.reject(reason.value)
            if receipt is not None:
                receipt.reject(reason.value)
            batch.keep(Rejection(reason, rec.source, _record_text(rec)))
            return
        counts.accepted += 1
        if report is not None and self.tracker.add_static(report):
            batch.statics.append(report)
            self._identity_news(batch, report)
        if rec.lat is None or rec.lon is None:
            return  # identity only
        key = (rec.mmsi, rec.observed_ts, rec.lat, rec.lon)
        first = self.dedupe.seen(key, rec.observed_ts)
        if first is not None:
            _add_outcome(counts, receipt, 0, 1)
            if first[1] is not None:
                receiver = rec.receiver or rec.source
                self._duplicate(batch, first[1], receiver, rec.member, rec.source)
            return
        # fmt: off
        point = self.tracker.observe_row(
            rec.mmsi, rec.observed_ts, rec.lat, rec.lon, rec.speed_kn, rec.course_deg,
            rec.heading_deg, rec.status, rec.member, rec.source,
            self._receivers(rec.receiver or rec.source),
            simulated, rec.msg_type,
        )
        # fmt: on
        self.dedupe.add(key, rec.observed_ts, (batch.number, len(batch.track), rec.mmsi))
        batch.track.append(point)
        _add_outcome(counts, receipt, 1, 0)
        if self.suite or self.publish_observations:
            self._after_accept(batch, point, rec.msg_type, rec.status, key, batch.now_ts, simulated)


def _add_outcome(counts: Counts, receipt: Counts | None, observations: int, dups: int) -> None:
    counts.observations += observations
    counts.duplicates += dups
    if receipt is not None:
        receipt.observations += observations
        receipt.duplicates += dups


def _record_reason(rec: ReportRecord, *, has_identity: bool) -> RejectReason | None:
    if not 0 < rec.mmsi <= MAX_MMSI:
        return RejectReason.BAD_MMSI
    if rec.lat is None and rec.lon is None and has_identity:
        return None
    if not valid_position(rec.lat, rec.lon):
        return RejectReason.NO_POSITION
    return None


def _position(fields: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = fields.get("lat"), fields.get("lon")
    if not valid_position(lat, lon):
        return None
    return float(lat), float(lon)  # type: ignore[arg-type]


def valid_position(lat: object, lon: object) -> bool:
    """Both coordinates are numbers and in range (WGS84 degrees)."""
    return (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    )


def _key_text(key: Hashable) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, tuple):
        return "/".join(str(part) for part in key)
    return str(key)


def _record_text(rec: ReportRecord) -> str:
    return f"mmsi={rec.mmsi} ts={rec.observed_ts} lat={rec.lat} lon={rec.lon}"


def observation_payload(obs: Observation) -> dict[str, Any]:
    """The bus payload of ``lookout.obs.<member>.<source>``: every field, JSON-able."""
    # fmt: off
    return {
        "mmsi": obs.mmsi, "msg_type": obs.msg_type, "observed_ts": obs.observed_ts,
        "lat": obs.lat, "lon": obs.lon, "speed_kn": obs.speed_kn, "course_deg": obs.course_deg,
        "heading_deg": obs.heading_deg, "status": obs.status, "member": obs.member,
        "source": obs.source, "receivers": list(obs.receivers), "received_ts": obs.received_ts,
        "key": obs.key, "simulated": obs.simulated,
    }
    # fmt: on
