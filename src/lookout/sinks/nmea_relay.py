"""NmeaRelaySink: re-shares the AIS a member may see upstream, as NMEA 0183 AIVDM sentences.

The output acts for one member: each vessel update passes that member's sharing view
(:func:`lookout.sharing.messages.vessel_update_view`) and what is left becomes one AIS
position report, re-encoded with pyais by the update's ``ais_class`` (the station class the
pipeline heard the vessel as): type 1 for class ``A`` (and when the class is not known),
type 18 for class ``B``, type 9 for a ``SAR`` aircraft. A partial update (the latest released
position, coarsened as agreed) is sent as it is shown; only a whole update that carries
identity may add static data (type 5 for class A, type 24 parts A and B for class B; none for
a SAR aircraft) when ``static_data`` is on, at most every :data:`STATIC_INTERVAL_S` unless it
changes.

Every sentence carries an NMEA 4.0 tag block: ``c:`` the observation time (Unix seconds),
``s:`` the station name (``station``, default ``lookout-<member>``), ``g:`` the group of a
two-sentence message, and ``t:simulated`` on simulated data, which is withheld altogether
unless ``relay_simulated`` is on. Vessel updates are rate-limited per vessel (at most one every
``min_interval_s``; the rest are ``throttled``).

Like every sink it never blocks the pipeline: the bus handler only filters and queues
(``queue_size``; a full queue drops and counts). One worker thread encodes and sends, over TCP
(one connection, reconnected after a failure with ``backoff_s`` doubling up to
``max_backoff_s``; messages that cannot be sent meanwhile are ``failed``) or UDP (one datagram
per message). Lines end with CR LF.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyais import encode_dict

from lookout.ais.tables import NOT_AVAILABLE
from lookout.pipeline import subjects
from lookout.pipeline.ports import Handler
from lookout.sharing import Policy
from lookout.sharing.messages import vessel_update_view
from lookout.sinks.config import OutputConfig
from lookout.sinks.worker import QueuedSink

__all__ = [
    "POSITION_TYPE",
    "STATIC_INTERVAL_S",
    "NmeaRelaySink",
    "NmeaRelayStats",
    "checksum",
    "message_type",
    "relay_messages",
    "station_name",
    "tag_block",
]

log = logging.getLogger(__name__)

STATIC_INTERVAL_S = 360.0
"""Static data of one vessel is re-sent at most this often unless it changes: the 6 minutes
of a class A station's static report (ITU-R M.1371-5)."""

_CLASS_A = NOT_AVAILABLE[1]
SPEED_NA_KN = (_CLASS_A["speed"].not_available or 0) / 10  # 102.3
COURSE_NA_DEG = (_CLASS_A["course"].not_available or 0) / 10  # 360.0
HEADING_NA = _CLASS_A["heading"].not_available or 0  # 511
TURN_NA = _CLASS_A["turn"].not_available or 0  # -128
_SAR = NOT_AVAILABLE[9]
SAR_SPEED_NA_KN = _SAR["speed"].not_available or 0  # 1023, whole knots
ALTITUDE_NA_M = _SAR["alt"].not_available or 0  # 4095
POSITION_TYPE = {"A": 1, "B": 18, "SAR": 9}
"""The position report relayed per ``ais_class``; an unknown class is sent as class A."""
STATUS_UNDEFINED = 15  # "not defined (default)", ITU-R M.1371-5 Annex 8, Message 1
_TAG_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def checksum(text: str) -> str:
    """The NMEA checksum of ``text``: XOR of its bytes, two upper-case hex digits."""
    return f"{reduce(lambda acc, b: acc ^ b, text.encode('ascii'), 0):02X}"


def station_name(name: str) -> str:
    """``name`` with every character but letters, digits, ``-``, ``_`` and ``.`` as ``-``
    (a tag block field cannot hold ``,``, ``*`` or ``\\``)."""
    return "".join(c if c in _TAG_SAFE else "-" for c in name) or "lookout"


def tag_block(observed_ts: float, station: str, *, group: str = "", text: str = "") -> str:
    r"""``\c:<unix s>,s:<station>[,g:<n-of-group>][,t:<text>]*hh\``."""
    fields = [f"c:{int(observed_ts)}", f"s:{station}"]
    if group:
        fields.append(f"g:{group}")
    if text:
        fields.append(f"t:{text}")
    body = ",".join(fields)
    return f"\\{body}*{checksum(body)}\\"


def relay_messages(
    update: Mapping[str, Any], msg_type: int, *, static: bool = False
) -> list[dict[str, Any]]:
    """The AIS messages (pyais ``encode_dict`` fields) of one shown update: its position
    report, then, if ``static``, its static data (a type 5, or type 24 parts A and B)."""
    messages = [_position(update, msg_type)]
    if static:
        messages.extend(_static(update, msg_type))
    return messages


def _position(update: Mapping[str, Any], msg_type: int) -> dict[str, Any]:
    speed, course = update.get("speed_kn"), update.get("course_deg")
    heading = update.get("heading_deg")
    fields: dict[str, Any] = {
        "type": msg_type, "mmsi": int(update["mmsi"]),
        "lat": float(update["lat"]), "lon": float(update["lon"]),
        "speed": SPEED_NA_KN if speed is None else min(float(speed), SPEED_NA_KN - 0.1),
        "course": COURSE_NA_DEG if course is None else float(course) % 360.0,
        "second": int(float(update["observed_ts"])) % 60, "accuracy": 0,
    }  # fmt: skip
    if msg_type == 9:  # whole knots, no heading; the altitude is not known
        top = SAR_SPEED_NA_KN - 1
        fields["speed"] = SAR_SPEED_NA_KN if speed is None else min(round(float(speed)), top)
        fields["alt"] = ALTITUDE_NA_M
        return fields
    fields["heading"] = HEADING_NA if heading is None else int(heading) % 360
    if msg_type == 18:
        fields["cs"] = 0  # SOTDMA: a relay does not know which kind of class B unit sent it
    else:
        status = update.get("status")
        fields["status"] = status if isinstance(status, int) and 0 <= status < 16 else 15
        fields["turn"] = TURN_NA
    return fields


def _text(value: Any, size: int) -> str:
    """AIS six-bit text: upper case, ASCII 32..95 only (others as space), ``size`` long."""
    text = str(value or "").upper()[:size]
    return "".join(c if " " <= c <= "_" else " " for c in text).rstrip()


def _static(update: Mapping[str, Any], msg_type: int) -> list[dict[str, Any]]:
    if msg_type == 9:
        return []  # a SAR aircraft sends no static data
    mmsi, imo, ship_type = int(update["mmsi"]), update.get("imo"), update.get("ship_type")
    # A = C = 0 with B the length: the reference point is not known (M.1371-5 Annex 8, Msg 5)
    size = {"to_bow": 0, "to_stern": min(int(update.get("length_m") or 0), 511)}
    kind = ship_type if isinstance(ship_type, int) and 0 < ship_type < 100 else 0
    name, callsign = _text(update.get("name"), 20), _text(update.get("callsign"), 7)
    if msg_type == 18:
        return [
            {"type": 24, "partno": 0, "mmsi": mmsi, "shipname": name},
            {"type": 24, "partno": 1, "mmsi": mmsi, "ship_type": kind, "callsign": callsign,
             **size},
        ]  # fmt: skip
    return [{
        "type": 5, "mmsi": mmsi, "shipname": name, "callsign": callsign, "ship_type": kind,
        "imo": imo if isinstance(imo, int) and 1_000_000 <= imo <= 9_999_999 else 0,
        "destination": _text(update.get("destination"), 20), "month": 0, "day": 0,
        "hour": 24, "minute": 60, "dte": 1, **size,
    }]  # fmt: skip


def message_type(update: Mapping[str, Any]) -> int:
    """The position report type to relay by the update's ``ais_class``
    (:data:`POSITION_TYPE`): 1 for class A, 18 for class B, 9 for a SAR aircraft, 1 if not
    known."""
    return POSITION_TYPE.get(str(update.get("ais_class") or "").upper(), 1)


@dataclass(slots=True)
class NmeaRelayStats:
    """Counters of one NMEA relay output."""

    sent: int = 0
    positions: int = 0
    statics: int = 0
    throttled: int = 0
    simulated: int = 0
    dropped: int = 0
    failed: int = 0
    connects: int = 0
    retried: int = 0
    last_error: str = ""
    last_success_ts: float | None = None


_Job = tuple[Mapping[str, Any], bool]  # (the update as shown, with static data)


class NmeaRelaySink(QueuedSink[_Job]):
    """Relays what ``config.member`` may see of AIS upstream; see the module docstring."""

    kind = "nmea"

    def __init__(
        self,
        config: OutputConfig,
        policy: Callable[[], Policy],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stats = NmeaRelayStats()
        super().__init__(config, policy, self.stats, clock=clock)
        self.station = station_name(config.station or f"lookout-{config.member}")
        self._last_static: dict[int, tuple[float, tuple[Any, ...]]] = {}
        self._group = 0

    def subscriptions(self) -> Mapping[str, Handler]:
        return {subjects.VESSELS: self._on_vessel}

    # -- bus side --------------------------------------------------------------------------

    def _on_vessel(self, subject: str, payload: Mapping[str, Any]) -> None:
        now = self._clock()
        shown = vessel_update_view(self._policy(), self.config.member, payload, now)
        if shown is None:
            return
        if shown.get("simulated") and not self.config.relay_simulated:
            self.stats.simulated += 1
            return
        mmsi = int(shown["mmsi"])
        with self._lock:
            if self._throttled(mmsi, now):
                return
            static = self.config.static_data and self._static_due(mmsi, shown, now)
        self._offer((shown, static))

    def _static_due(self, mmsi: int, shown: Mapping[str, Any], now: float) -> bool:
        """Whether a whole update with identity sends static data (changed, or not lately)."""
        if shown.get("partial") or not (shown.get("name") or shown.get("callsign")):
            return False
        identity = tuple(shown.get(k) for k in ("name", "callsign", "imo", "ship_type",
                                                "destination", "length_m"))  # fmt: skip
        last = self._last_static.get(mmsi)
        if last is not None and last[1] == identity and now - last[0] < STATIC_INTERVAL_S:
            return False
        self._last_static[mmsi] = (now, identity)
        return True

    # -- worker side -----------------------------------------------------------------------

    def deliver(self, job: _Job) -> None:
        try:
            blocks = self._encode(*job)
        except Exception:  # a bad update must not stop the worker: log, count, go on
            log.exception("nmea output %s: cannot encode vessel %r", self.config.name,
                          job[0].get("mmsi"))  # fmt: skip
            self.stats.failed += 1
            return
        for i, block in enumerate(blocks):
            if i == 0:
                self.stats.positions += 1
            else:
                self.stats.statics += 1
            self._sender.send(block)

    def _encode(self, shown: Mapping[str, Any], static: bool) -> list[bytes]:
        """One CR LF terminated block of tagged sentences per AIS message."""
        text = "simulated" if shown.get("simulated") else ""
        ts = float(shown["observed_ts"])
        out: list[bytes] = []
        for message in relay_messages(shown, message_type(shown), static=static):
            self._group = self._group % 999 + 1
            sentences = self._sentences(message)
            total = len(sentences)
            lines = [
                tag_block(ts, self.station, text=text,
                          group=f"{n}-{total}-{self._group}" if total > 1 else "") + s
                for n, s in enumerate(sentences, start=1)
            ]  # fmt: skip
            out.append("".join(line + "\r\n" for line in lines).encode("ascii"))
        return out

    def _sentences(self, fields: Mapping[str, Any]) -> list[str]:
        seq = self._group % 10 if fields["type"] == 5 else None
        return list(encode_dict(dict(fields), talker_id="AI", sentence_type="VDM", seq_id=seq))
