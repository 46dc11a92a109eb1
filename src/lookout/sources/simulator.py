"""Demo traffic: simulated vessels in the South China Sea, heard by members' receivers.

:class:`Simulation` is pure stepping logic: ``step(now_ts)`` advances simulated time and
returns the NMEA lines each receiver heard, ``[(receiver_id, line), ...]``. Nothing in it reads
a clock or opens a socket, so it is unit-tested directly. :class:`SimulatorSender` runs it in a
thread against wall time (times ``time_scale``) and sends each receiver's lines to its target
over UDP or TCP: the same ingest path as a real receiver.

The world (see :mod:`lookout.sources.sim_world`): merchant ships on ``searoute`` lanes between
real ports, fishing fleets loitering on their grounds, militia vessels at anchor at Whitsun
Reef and loitering off Pag-asa (Subi Reef) and Second Thomas Shoal, coast guard patrols around
Scarborough Shoal, Second Thomas Shoal, Natuna and Luconia Shoals. Time runs at
``time_scale`` times the wall clock, so with ``time_scale > 1`` the tag-block times run ahead
of the wall clock.
Class A ships report every ``class_a_interval_s`` (10 s; 3 min at anchor or moored), class B
every ``class_b_interval_s`` (30 s), static data (type 5, or type 24 A+B) every 6 min.

Lines are AIVDM sentences encoded by pyais, each behind an NMEA 4.0 tag block
``\\c:<receive time, unix s>,s:<receiver id>*hh\\``. Coastal and shipborne receivers hear a
vessel within ``range_nm`` (losing ``reception_loss`` of messages); a satellite receiver
(``range_nm=None``) hears everywhere during its passes, a share of messages, delivered with a
latency. A message heard by two receivers is sent twice, so dedupe is exercised.
"""

from __future__ import annotations

import heapq
import logging
import random
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from lookout.geo.distance import distance_m
from lookout.pipeline.ports import StopSignal
from lookout.sources.sim_motion import (
    Mover,
    Polyline,
    VesselState,
    lane_route,
    patrol_loop,
    random_point,
)
from lookout.sources.sim_nmea import encode, position_message, static_messages, tag_block
from lookout.sources.sim_world import AREAS, FLAGS, VesselSpec, make_fleet

__all__ = [
    "LineSchedule",
    "SenderStats",
    "SimReceiver",
    "SimTarget",
    "Simulation",
    "SimulationConfig",
    "SimulatorSender",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimReceiver:
    """A receiving station of a member. ``range_nm=None`` is a satellite: hears everywhere.

    A receiver with a ``patrol`` loop is shipborne: it sails the loop at ``patrol_speed_kn``
    and the simulation adds its ship (``patrol_mmsi``, ``patrol_name``) as a vessel.
    """

    id: str
    member: str
    lat: float
    lon: float
    range_nm: float | None = 40.0
    patrol: tuple[tuple[float, float], ...] = ()
    patrol_speed_kn: float = 12.0
    patrol_mmsi: int | None = None
    patrol_name: str = ""

    @property
    def satellite(self) -> bool:
        return self.range_nm is None


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """Knobs of the simulation; times in simulated seconds."""

    vessels: int = 300
    seed: int = 1
    class_a_interval_s: float = 10.0
    class_a_anchored_interval_s: float = 180.0
    class_b_interval_s: float = 30.0
    static_interval_s: float = 360.0
    reception_loss: float = 0.02
    satellite_period_s: float = 1800.0
    satellite_window_s: float = 1200.0
    satellite_detection: float = 0.6
    satellite_latency_s: tuple[float, float] = (10.0, 90.0)
    moored_s: tuple[float, float] = (3600.0, 4 * 3600.0)


# -- the simulation ------------------------------------------------------------------------


@dataclass(slots=True)
class _Vessel:
    spec: VesselSpec
    mover: Mover
    rng: random.Random


class Simulation:
    """Pure, seeded stepping logic: vessels, their reports, and which receiver hears them.

    ``step(now_ts)`` emits every report due up to ``now_ts`` (simulated unix seconds; the
    first call should be at or after ``start_ts``) as ``(receiver_id, line)`` pairs.
    """

    def __init__(
        self,
        receivers: Sequence[SimReceiver],
        config: SimulationConfig | None = None,
        *,
        start_ts: float,
    ) -> None:
        self.config = config or SimulationConfig()
        self.start_ts = start_ts
        self.receivers = tuple(receivers)
        self._rng = random.Random(self.config.seed)
        self._routes: dict[tuple[str, str], Polyline] = {}
        self._vessels = [self._vessel(spec) for spec in make_fleet(self.config.vessels, self._rng)]
        self._receiver_movers: dict[str, Mover] = {}
        for receiver in self.receivers:
            if receiver.patrol:
                self._add_patrol_ship(receiver)
        self._queue: list[tuple[float, int, int, int]] = []
        self._satellite: list[tuple[float, int, str, list[str]]] = []
        self._seq = 0
        for index, vessel in enumerate(self._vessels):
            self._push(start_ts + self._rng.uniform(0.0, self._interval(vessel, None)), index, 0)
            self._push(start_ts + self._rng.uniform(0.0, 60.0), index, 1)

    @property
    def vessels(self) -> list[VesselSpec]:
        return [v.spec for v in self._vessels]

    def route(self, lane: tuple[str, str]) -> Polyline:
        if lane not in self._routes:
            self._routes[lane] = Polyline(lane_route(*lane))
        return self._routes[lane]

    def _vessel(self, spec: VesselSpec, path: Polyline | None = None) -> _Vessel:
        rng = random.Random(f"{self.config.seed}:{spec.mmsi}")
        offset = None
        if path is not None:
            offset = 0.0
        elif spec.lane is not None:
            path = self.route(spec.lane)
        elif spec.behaviour == "patrol":
            area = AREAS[spec.area or ""]
            path = Polyline(patrol_loop((area.lat, area.lon), area.radius_nm * 1852.0, rng))
        else:
            start = random_point(rng, spec.area or "")
            end = start if spec.behaviour == "anchored" else random_point(rng, spec.area or "")
            path = Polyline([start, end])
        mover = Mover(spec, rng, path, self.start_ts, moored_s=self.config.moored_s, offset=offset)
        return _Vessel(spec, mover, rng)

    def _add_patrol_ship(self, receiver: SimReceiver) -> None:
        mid = receiver.patrol_mmsi // 1_000_000 if receiver.patrol_mmsi else 0
        spec = VesselSpec(
            mmsi=receiver.patrol_mmsi or 0,
            name=receiver.patrol_name or receiver.id,
            callsign=f"{FLAGS[mid].callsign_prefix}PL{receiver.id[-1:]}" if mid in FLAGS else "",
            imo=0,
            ship_type=55,
            length_m=100,
            beam_m=14,
            draught_m=5.0,
            class_b=False,
            group="receiver_ship",
            behaviour="patrol",
            speed_kn=receiver.patrol_speed_kn,
        )
        vessel = self._vessel(spec, Polyline([*receiver.patrol, receiver.patrol[0]]))
        self._receiver_movers[receiver.id] = vessel.mover
        if receiver.patrol_mmsi:
            self._vessels.append(vessel)

    def receiver_position(self, receiver: SimReceiver, ts: float) -> tuple[float, float]:
        mover = self._receiver_movers.get(receiver.id)
        if mover is None:
            return receiver.lat, receiver.lon
        st = mover.state(ts)
        return st.lat, st.lon

    def _interval(self, vessel: _Vessel, st: VesselState | None) -> float:
        cfg = self.config
        if vessel.spec.class_b:
            return cfg.class_b_interval_s
        if st is not None and st.status in (1, 5):
            return cfg.class_a_anchored_interval_s
        return cfg.class_a_interval_s

    def _push(self, ts: float, index: int, kind: int) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (ts, self._seq, index, kind))

    def step(self, now_ts: float) -> list[tuple[str, str]]:
        """Lines heard by each receiver from the last step up to ``now_ts``, in time order."""
        out: list[tuple[str, str]] = []
        while self._queue and self._queue[0][0] <= now_ts:
            ts, _, index, kind = heapq.heappop(self._queue)
            vessel = self._vessels[index]
            st = vessel.mover.state(ts)
            if kind == 0:
                messages = [position_message(vessel.spec, st, ts, vessel.rng)]
                self._push(ts + self._interval(vessel, st), index, 0)
            else:
                mover = vessel.mover
                eta = mover.arrival_ts() if vessel.spec.behaviour == "transit" else None
                messages = static_messages(vessel.spec, mover.destination, eta)
                self._push(ts + self.config.static_interval_s, index, 1)
            for message in messages:
                self._seq += 1
                channel = "AB"[self._seq % 2]
                self._hear(ts, st, encode(message, channel, self._seq % 10), out)
        while self._satellite and self._satellite[0][0] <= now_ts:
            _, _, receiver_id, lines = heapq.heappop(self._satellite)
            out.extend((receiver_id, line) for line in lines)
        return out

    def _hear(
        self, ts: float, st: VesselState, sentences: list[str], out: list[tuple[str, str]]
    ) -> None:
        cfg, rng = self.config, self._rng
        for receiver in self.receivers:
            if receiver.range_nm is None:
                in_pass = (ts - self.start_ts) % cfg.satellite_period_s < cfg.satellite_window_s
                if not in_pass or rng.random() >= cfg.satellite_detection:
                    continue
                tag = tag_block(ts, receiver.id)
                self._seq += 1
                due = ts + rng.uniform(*cfg.satellite_latency_s)
                lines = [tag + s for s in sentences]
                heapq.heappush(self._satellite, (due, self._seq, receiver.id, lines))
                continue
            lat, lon = self.receiver_position(receiver, ts)
            if distance_m(lat, lon, st.lat, st.lon) > receiver.range_nm * 1852.0:
                continue
            if rng.random() < cfg.reception_loss:
                continue
            tag = tag_block(ts, receiver.id)
            out.extend((receiver.id, tag + s) for s in sentences)


# -- sending -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimTarget:
    """Where one receiver's lines go: ``transport`` ``"udp"`` or ``"tcp"``, host and port."""

    transport: str
    host: str
    port: int


@dataclass(slots=True)
class SenderStats:
    lines_sent: int = 0
    lines_dropped: int = 0
    lines_unrouted: int = 0
    datagrams: int = 0
    connections: int = 0
    connect_failures: int = 0


UDP_DATAGRAM_BYTES = 1400
"""Lines are packed into datagrams of at most this size (below a typical path MTU)."""


class LineSchedule(Protocol):
    """What :class:`SimulatorSender` runs: a :class:`Simulation`, or an exercise's recorded
    lines (:class:`lookout.sources.scenario.ExerciseFeed`)."""

    @property
    def start_ts(self) -> float: ...

    def step(self, now_ts: float) -> list[tuple[str, str]]: ...


class SimulatorSender:
    """Runs a :class:`Simulation` against the wall clock and sends its lines to targets.

    Simulated time is ``simulation.start_ts + elapsed wall seconds * time_scale``. Each tick
    (``tick_s``) the lines of each receiver go to its target: UDP datagrams of several lines,
    or a TCP connection per receiver, reconnected with backoff when it fails (lines meanwhile
    are dropped and counted: a real receiver does not buffer either). Lines of a receiver with
    no target are counted in ``lines_unrouted``.
    """

    def __init__(
        self,
        simulation: LineSchedule,
        targets: Mapping[str, SimTarget],
        *,
        time_scale: float = 1.0,
        tick_s: float = 0.25,
        connect_timeout_s: float = 2.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.simulation = simulation
        self.targets = dict(targets)
        self.time_scale = time_scale
        self.tick_s = tick_s
        self.connect_timeout_s = connect_timeout_s
        self.stats = SenderStats()
        self._udp: socket.socket | None = None
        self._tcp: dict[str, socket.socket] = {}
        self._retry_at: dict[str, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, stop: StopSignal) -> None:
        """Send until ``stop`` is set (blocking)."""
        started = time.monotonic()
        try:
            while not stop.is_set():
                elapsed = time.monotonic() - started
                sim_ts = self.simulation.start_ts + elapsed * self.time_scale
                self.send(self.simulation.step(sim_ts))
                stop.wait(self.tick_s)
        finally:
            self.close()

    def start(self) -> None:
        """Run in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="lookout-simulator", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def send(self, lines: Sequence[tuple[str, str]]) -> None:
        """Send ``(receiver_id, line)`` pairs to their receivers' targets."""
        by_receiver: dict[str, list[str]] = {}
        for receiver_id, line in lines:
            by_receiver.setdefault(receiver_id, []).append(line)
        for receiver_id, batch in by_receiver.items():
            target = self.targets.get(receiver_id)
            if target is None:
                self.stats.lines_unrouted += len(batch)
            elif target.transport == "udp":
                self._send_udp(target, batch)
            else:
                self._send_tcp(receiver_id, target, batch)

    def _send_udp(self, target: SimTarget, lines: list[str]) -> None:
        if self._udp is None:
            family = socket.AF_INET6 if ":" in target.host else socket.AF_INET
            self._udp = socket.socket(family, socket.SOCK_DGRAM)
        datagram: list[bytes] = []
        size = 0
        for line in lines:
            data = (line + "\r\n").encode("ascii")
            if datagram and size + len(data) > UDP_DATAGRAM_BYTES:
                self._datagram(target, datagram)
                datagram, size = [], 0
            datagram.append(data)
            size += len(data)
        if datagram:
            self._datagram(target, datagram)

    def _datagram(self, target: SimTarget, lines: list[bytes]) -> None:
        assert self._udp is not None
        try:
            self._udp.sendto(b"".join(lines), (target.host, target.port))
        except OSError as exc:
            self.stats.lines_dropped += len(lines)
            log.debug("udp to %s:%d failed: %s", target.host, target.port, exc)
            return
        self.stats.datagrams += 1
        self.stats.lines_sent += len(lines)

    def _send_tcp(self, receiver_id: str, target: SimTarget, lines: list[str]) -> None:
        conn = self._tcp.get(receiver_id) or self._connect(receiver_id, target)
        if conn is None:
            self.stats.lines_dropped += len(lines)
            return
        try:
            conn.sendall("".join(line + "\r\n" for line in lines).encode("ascii"))
        except OSError as exc:
            log.info("simulator: %s lost its connection: %s", receiver_id, exc)
            conn.close()
            del self._tcp[receiver_id]
            self.stats.lines_dropped += len(lines)
            return
        self.stats.lines_sent += len(lines)

    def _connect(self, receiver_id: str, target: SimTarget) -> socket.socket | None:
        now = time.monotonic()
        retry_at, backoff = self._retry_at.get(receiver_id, (0.0, 0.5))
        if now < retry_at:
            return None
        try:
            conn = socket.create_connection((target.host, target.port), self.connect_timeout_s)
        except OSError as exc:
            self.stats.connect_failures += 1
            self._retry_at[receiver_id] = (now + backoff, min(backoff * 2.0, 10.0))
            log.info(
                "simulator: %s cannot connect to %s:%d: %s",
                receiver_id,
                target.host,
                target.port,
                exc,
            )
            return None
        conn.settimeout(self.connect_timeout_s)
        self._retry_at.pop(receiver_id, None)
        self._tcp[receiver_id] = conn
        self.stats.connections += 1
        return conn

    def close(self) -> None:
        for conn in self._tcp.values():
            conn.close()
        self._tcp.clear()
        if self._udp is not None:
            self._udp.close()
            self._udp = None
