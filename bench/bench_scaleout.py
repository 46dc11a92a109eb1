"""Scale-out benchmark: ingest + two process nodes + api on NATS JetStream and PostGIS, beside
the embedded server (role ``all``, SQLite), with pyais decode-only as the yardstick.

Both deployments run as ``lookout serve`` subprocesses on this machine (127.0.0.1), each in a
temp dir of its own; the scale-out one uses a database created for the run on the PostgreSQL
server at ``LOOKOUT_TEST_POSTGRES_URL`` (with PostGIS; dropped after) and NATS streams under a
random prefix at ``LOOKOUT_TEST_NATS_URL`` (deleted after). Either service missing: the
benchmark says so and skips (exit 0; ``--only embedded`` runs the embedded half alone).

Load: real lines, the Danish Maritime Authority stream repeated with shifted receive times
(``bench_pipeline.load_input``), enough distinct lines that none is sent twice while probing (a
line sent again is late data, which the process nodes drop early: it would flatter the latency;
the benchmark warns if it happens), pushed by four sender threads in blocks of about 1,000
lines, each ending on a whole message (:func:`whole_blocks`), at a steady ``--rate`` (20,000
lines/s by default); a push answered 503 (back-pressure) is counted, not re-sent.
Meanwhile probe vessels enter a territorial sea owned by the probe's member, as
``bench_alert_latency.py`` does: the latency is from just before the probe's push is sent
until its ``zone_entry`` alert arrives on ``GET /api/v1/stream`` (of the api node,
scale-out). Each probe push carries the vessel's position outside the zone a minute before
and its position inside, timed in the load's clock (the receive time of the newest load line
sent: a probe at today's time, 16 years after the recording, would move the detectors' clock
past every load vessel); ``--separate-probes`` pushes every "outside" position first, in a
push of its own (the vessel partitions send both to the same process node either way). A
probe push answered 503 is sent again after 50 ms (counted; the wait is part of its
latency).

The probes start once both process nodes hold their leases (the first to start takes them
all and hands some over a lease round later), so they measure the steady state.

Printed per deployment: lines/s acknowledged to the senders, lines/s processed (committed to
the store; for scale-out, until the process nodes have drained the raw stream), 503s, alerts
received of probes sent, ingest-to-alert latency p50 / p99 (for scale-out also per vessel
partition of the probes, ``LOOKOUT_PROCESS_PARTITIONS``), and where the CPU went while the
probes were sent (cores used by each Lookout process with its child processes, the
PostgreSQL and NATS server processes, and this one; read from ``/proc``, Linux only; the
servers' figures include anyone else's use of them) and the events the run stored, by kind
(a load that moved a detector clock would show as thousands of ``ais_gap``); then pyais
decode-only over the same lines in this process, and the ratios.

Run: ``make bench`` or ``python bench/bench_scaleout.py --rate 20000 --probes 100``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench_alert_latency import FIRST_PROBE, TOKEN, ZONE, Stream, percentile, probe_line
from bench_pipeline import DMA, ROOT, load_input, pyais_decode_only, timed

from lookout.ais.nmea import NmeaError, parse_line, parse_pghp_time
from lookout.service.roles.routing import partition_of
from lookout.service.settings import DEFAULT_PROCESS_PARTITIONS

sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]
from role_processes import Node, share_partitions  # noqa: E402 - the tests' helpers

PG_ADMIN = os.environ.get(
    "LOOKOUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NATS_URL = os.environ.get("LOOKOUT_TEST_NATS_URL", "nats://127.0.0.1:4222")
PROBE_KEY, LOAD_KEY = "bench-probe", "bench-load"
SENDERS, BLOCK = 4, 1000
TARGET_RATE, TARGET_P99_MS = 20_000.0, 250.0


@dataclass
class Feeder:
    """Pushes ``blocks`` round and round at ``rate`` lines/s from SENDERS threads (block ``k``
    from thread ``k mod SENDERS``)."""

    url: str
    blocks: list[list[str]]
    rate: float
    stop: threading.Event = field(default_factory=threading.Event)
    acked: list[int] = field(default_factory=lambda: [0] * SENDERS)
    refused: list[int] = field(default_factory=lambda: [0] * SENDERS)
    wrapped_at: float | None = None  # when the first line was sent a second time
    data_ts: float | None = None  # the receive time ($PGHP) of the newest load line sent

    def start(self) -> Feeder:
        for n in range(SENDERS):
            threading.Thread(target=self._run, args=(n,), daemon=True).start()
        return self

    def _run(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {LOAD_KEY}", "Content-Type": "text/plain"}
        every_s = SENDERS * BLOCK / self.rate
        k = n
        next_at = time.perf_counter() + n * every_s / SENDERS
        with httpx.Client(timeout=60.0) as client:
            while not self.stop.is_set():
                time.sleep(max(0.0, next_at - time.perf_counter()))
                chunk = self.blocks[k % len(self.blocks)]
                next_at += every_s * len(chunk) / BLOCK
                self.data_ts = max(self.data_ts or 0.0, last_receive_ts(chunk))
                if k >= len(self.blocks) and self.wrapped_at is None:
                    self.wrapped_at = time.perf_counter()
                k += SENDERS
                try:
                    r = client.post(
                        f"{self.url}/api/v1/ingest/nmea", content="\n".join(chunk), headers=headers
                    )
                except httpx.TransportError:
                    self.refused[n] += 1
                    continue
                if r.status_code == 200:
                    self.acked[n] += len(chunk)
                else:
                    self.refused[n] += 1


def whole_blocks(lines: list[str], size: int = BLOCK) -> list[list[str]]:
    """``lines`` cut into pushes of about ``size`` lines, each ending on a whole message: never
    after a ``$PGHP`` receive-time line (its AIS line would open the next push) nor inside a
    multi-sentence message. The four senders' pushes reach the server in no fixed order, so
    a push must not lean on the one before it: an AIS line whose ``$PGHP`` line went in
    another push takes its push's arrival time, today, and a vessel seen today in a 2010
    recording moves its partition's detector clock 16 years on (an ``ais_gap`` for every
    later position of every other vessel there)."""
    blocks: list[list[str]] = []
    start = 0
    while start < len(lines):
        end = min(start + size, len(lines))
        while end < len(lines) and not _ends_message(lines[end - 1]):
            end += 1
        blocks.append(lines[start:end])
        start = end
    return blocks


def _ends_message(line: str) -> bool:
    """Whether a push may end after ``line``: the last sentence of an AIS message, or a line
    that is rejected anyway (a ``$PGHP`` line belongs to the line after it)."""
    try:
        sentences = parse_line(line).sentences
    except NmeaError:
        return True
    return bool(sentences) and sentences[-1].number == sentences[-1].total


def last_receive_ts(chunk: list[str]) -> float:
    """The time of the last ``$PGHP`` receive-time sentence of ``chunk`` (0 if none)."""
    for line in reversed(chunk):
        if line.startswith("$PGHP"):
            return parse_pghp_time(line[: line.index("*")].split(","))
    return 0.0


@dataclass
class Deployment:
    """Where to push and read, and how many load lines the store has taken so far."""

    name: str
    push_url: str
    read_url: str
    processed: Callable[[int], int]  # given the lines acknowledged
    pids: dict[str, int] = field(default_factory=dict)  # Lookout processes by role
    events: Callable[[], dict[str, int]] = dict  # events stored, by kind (once stopped)


@dataclass
class Figures:
    name: str
    acked_rate: float = 0.0
    processed_rate: float = 0.0
    refused: int = 0
    probes: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    by_partition: dict[int, list[float]] = field(default_factory=dict)  # scale-out: per partition
    cores: dict[str, float] = field(default_factory=dict)  # CPU used while probing
    probe_refused: int = 0  # probe pushes answered 503 (then sent again)
    stream_dropped: int = 0  # alerts the server dropped for the benchmark's slow SSE client
    events: dict[str, int] = field(default_factory=dict)  # events the run stored, by kind


def write_config(folder: Path) -> dict[str, str]:
    """Sources, tokens and the zone; the environment every node of a deployment shares."""
    (folder / "zones.geojson").write_text(json.dumps(ZONE))
    sources = [
        {"name": "probe", "member": "PHL-PCG", "key": PROBE_KEY},
        {"name": "load", "member": "DNK", "key": LOAD_KEY},
    ]
    (folder / "sources.json").write_text(json.dumps(sources))
    (folder / "tokens.json").write_text(json.dumps({TOKEN: "bench"}))
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "LOOKOUT_ZONES": str(folder / "zones.geojson"),
        "LOOKOUT_SOURCES_FILE": str(folder / "sources.json"),
        "LOOKOUT_API_TOKENS_FILE": str(folder / "tokens.json"),
        "LOOKOUT_RATE_REQUESTS_PER_S": "0",
    }


def node(role: str, env: dict[str, str], data_dir: Path) -> Node:
    started = Node(role, {**env, "LOOKOUT_DATA_DIR": str(data_dir)})
    return started.start(timeout_s=120)


@contextmanager
def embedded(folder: Path) -> Iterator[Deployment]:
    env = {**write_config(folder), "LOOKOUT_STORE": "sqlite", "LOOKOUT_BUS": "inprocess"}
    server = node("all", env, folder / "data")
    try:
        yield Deployment(
            "embedded: role all, SQLite",
            server.url,
            server.url,
            lambda acked: acked,
            {"all": _pid(server)},
            lambda: sqlite_events(folder / "data" / "lookout.db"),
        )
    finally:
        server.terminate()


@contextmanager
def scaled_out(folder: Path, database_url: str, prefix: str) -> Iterator[Deployment]:
    import psycopg

    env = {
        **write_config(folder),
        "LOOKOUT_STORE": "postgis",
        "LOOKOUT_DATABASE_URL": database_url,
        "LOOKOUT_BUS": "nats",
        "LOOKOUT_NATS_URL": NATS_URL,
        "LOOKOUT_NATS_STREAM_PREFIX": prefix,
    }
    nodes: list[Node] = []

    def processed(_: int) -> int:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(lines), 0) FROM ingest_counts WHERE source = 'load'"
            ).fetchone()
        return int(row[0]) if row else 0

    def events() -> dict[str, int]:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(EVENTS_BY_KIND).fetchall()
        return {str(kind): int(count) for kind, count in rows}

    try:
        for n, role in enumerate(("ingest", "process", "process", "api")):
            nodes.append(node(role, env, folder / f"{role}-{n}"))
        settled([n for n in nodes if n.role == "process"])
        name = "scale-out: ingest + 2 process + api, NATS + PostGIS"
        pids = {
            f"{n.role} {i}" if n.role == "process" else n.role: _pid(n) for i, n in enumerate(nodes)
        }
        yield Deployment(name, nodes[0].url, nodes[-1].url, processed, pids, events)
    finally:
        for started in nodes:
            started.terminate()


EVENTS_BY_KIND = "SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind"


def sqlite_events(path: Path) -> dict[str, int]:
    """Events by kind in the embedded server's database, read once the server has stopped
    (the store writes its event table in groups, and all of it when it closes)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        return {str(kind): int(count) for kind, count in conn.execute(EVENTS_BY_KIND)}


def settled(process_nodes: list[Node], timeout_s: float = 60.0) -> None:
    """Wait until every process node has taken its leases (the first one to start takes them
    all, and hands some over within a lease round or two): the probes measure the steady
    state, not a hand-over."""
    if share_partitions(process_nodes, timeout_s):
        time.sleep(1.0)  # the rest of the hand-over round
        return
    print(f"  warning: the process nodes did not share the partitions within {timeout_s:.0f} s")


def _pid(started: Node) -> int:
    assert started.proc is not None
    return int(started.proc.pid)


_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when ``/proc`` cannot tell)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def tree_cpu_seconds(pid: int) -> float:
    """:func:`cpu_seconds` of a process and of its live descendants (the embedded server's
    SQLite writer and detection processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return sum(cpu_seconds(p) for p in tree)


def server_pids(command: str) -> list[int]:
    """Processes whose command name is ``command`` (``postgres``, ``nats-server``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.find("(") + 1 : text.rfind(")")] == command:
            found.append(int(stat.parent.name))
    return found


def cpu_now(where: Deployment) -> dict[str, float]:
    """CPU seconds so far: each Lookout process, the servers' processes, this benchmark."""
    used = {role: tree_cpu_seconds(pid) for role, pid in where.pids.items()}
    for server in ("postgres", "nats-server"):
        used[server] = sum(cpu_seconds(pid) for pid in server_pids(server))
    used["benchmark"] = cpu_seconds(os.getpid())
    return used


def push_probe(client: httpx.Client, url: str, lines: list[str]) -> int:
    """Push a probe until it is acknowledged (a 503 is back-pressure: sent again after 50 ms,
    the wait counting in its latency); how many 503s it met."""
    headers = {"Authorization": f"Bearer {PROBE_KEY}", "Content-Type": "text/plain"}
    refused = 0
    while True:
        answer = client.post(f"{url}/api/v1/ingest/nmea", content="\n".join(lines), headers=headers)
        if answer.status_code != 503 or refused >= 100:
            answer.raise_for_status()
            return refused
        refused += 1
        time.sleep(0.05)


def measure(where: Deployment, lines: list[str], args: argparse.Namespace) -> Figures:
    figures = Figures(where.name)
    stream = Stream(where.read_url, kinds="alert")
    stream.start()
    stream.ready.wait(10)
    started = time.perf_counter()
    feeder = Feeder(where.push_url, whole_blocks(lines), args.rate).start()
    time.sleep(args.warmup)
    pushed: dict[int, float] = {}
    cpu_before, probing_from = cpu_now(where), time.perf_counter()
    # the probes live in the load's time, which runs an hour per copy of the recording: a
    # probe at the wall clock (16 years after the recording) would move every detector's
    # clock past all load vessels, and each load position would then reopen its vessel's
    # gap (an event and an alert per position, which is what the system then measured)
    now = feeder.data_ts or time.time()
    mmsis = [FIRST_PROBE + i for i in range(args.probes)]
    with httpx.Client(timeout=60.0) as client:
        if args.separate_probes:  # seen outside first, in pushes of their own
            figures.probe_refused += push_probe(
                client, where.push_url, [probe_line(m, now, 118.9) for m in mmsis]
            )
            time.sleep(1.0)
        for mmsi in mmsis:
            at = max(now, feeder.data_ts or now)  # the load's time now
            inside = [probe_line(mmsi, at + 60, 119.1)]
            outside = [] if args.separate_probes else [probe_line(mmsi, at, 118.9)]
            pushed[mmsi] = time.perf_counter()
            figures.probe_refused += push_probe(client, where.push_url, outside + inside)
            time.sleep(args.every)
    probing_s, cpu_after = time.perf_counter() - probing_from, cpu_now(where)
    if feeder.wrapped_at is not None and feeder.wrapped_at < probing_from + probing_s:
        print(f"  warning: load lines were sent again {feeder.wrapped_at - started:.1f} s in, "
              "while probing: raise --lines")  # fmt: skip
    figures.cores = {k: (v - cpu_before.get(k, v)) / probing_s for k, v in cpu_after.items()}
    feeder.stop.set()
    acked, elapsed = sum(feeder.acked), time.perf_counter() - started
    deadline = time.perf_counter() + args.drain
    while where.processed(acked) < acked and time.perf_counter() < deadline:
        time.sleep(0.1)
    drained = time.perf_counter() - started
    while len(stream.arrived) < len(pushed) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stream.stop.set()
    figures.acked_rate = acked / elapsed
    figures.processed_rate = where.processed(acked) / drained
    figures.refused = sum(feeder.refused)
    figures.probes = len(pushed)
    arrived = stream.arrived
    figures.stream_dropped = stream.dropped
    figures.latencies_ms = [(arrived[m] - t) * 1000.0 for m, t in pushed.items() if m in arrived]
    if where.pids.keys() != {"all"}:  # scale-out: which vessel partition each probe went to
        partitions = int(
            os.environ.get("LOOKOUT_PROCESS_PARTITIONS", str(DEFAULT_PROCESS_PARTITIONS))
        )
        for m, t in pushed.items():
            if m in arrived:
                latency = (arrived[m] - t) * 1000.0
                figures.by_partition.setdefault(partition_of(m, partitions), []).append(latency)
    return figures


def services() -> str | None:
    """Why the scale-out deployment cannot run here, or None."""
    try:
        import psycopg

        from lookout.bus import nats as nats_bus
    except ImportError as exc:
        return f"{exc.name} is not installed: pip install -e '.[postgres,nats]'"
    try:
        nats_bus.probe(NATS_URL, "lkbenchprobe")
    except nats_bus.NatsBusError as exc:
        return f"NATS with JetStream not reachable at {NATS_URL}: {exc}"
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"
    return None


@contextmanager
def database() -> Iterator[str]:
    """A database with PostGIS of this run's own, dropped after."""
    import psycopg
    from psycopg import conninfo

    name = f"lookout_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = conninfo.make_conninfo(PG_ADMIN, dbname=name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def streams() -> Iterator[str]:
    from lookout.bus import nats as nats_bus

    prefix = f"lkbench_{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        nats_bus.delete_streams(NATS_URL, prefix)


def report(results: list[Figures], lines: list[str]) -> None:
    seconds, _ = timed(lambda: pyais_decode_only(lines))
    pyais_rate = len(lines) / seconds
    print(f"\nload: {DMA.name} with shifted copies, {len(lines):,} distinct lines")
    for f in results:
        print(f"\n{f.name}")
        print(f"  acknowledged to senders: {f.acked_rate:10,.0f} lines/s ({f.refused} pushes 503)")
        print(f"  processed into the store: {f.processed_rate:9,.0f} lines/s", end="")
        print(f"  ({f.processed_rate / pyais_rate:.2f}x pyais decode-only)")
        refused = f" ({f.probe_refused} probe pushes 503, sent again)" if f.probe_refused else ""
        print(f"  alerts: {len(f.latencies_ms)} of {f.probes} probes{refused}", end="")
        if f.stream_dropped:
            print(f" (the server dropped {f.stream_dropped:,} alerts for this client)", end="")
        if f.latencies_ms:
            p50, p99 = statistics.median(f.latencies_ms), percentile(f.latencies_ms, 0.99)
            p90, worst = percentile(f.latencies_ms, 0.9), max(f.latencies_ms)
            print(f"; ingest-to-alert latency ms: p50 {p50:.0f}, p99 {p99:.0f}")
            print(f"  latency ms: p90 {p90:.0f}, max {worst:.0f}; in probe order: ", end="")
            print(" ".join(f"{ms:.0f}" for ms in f.latencies_ms))
            if f.by_partition:
                parts = (
                    f"p{k} {statistics.median(v):.0f}/{percentile(v, 0.99):.0f} ({len(v)})"
                    for k, v in sorted(f.by_partition.items())
                )
                print(f"  by partition, p50/p99 ms (probes): {', '.join(parts)}")
        else:
            print("; no alert arrived")
        if any(f.cores.values()):
            used = ", ".join(f"{k} {v:.2f}" for k, v in f.cores.items())
            print(f"  CPU while probing, cores of {os.cpu_count()}: {used}", end="")
            print(f" (total {sum(f.cores.values()):.2f})")
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in f.events.items()) or "none"
        print(f"  events stored, by kind: {kinds}")
    print(f"\npyais decode-only (this process, same lines): {pyais_rate:10,.0f} lines/s")
    print(f"target: p99 <= {TARGET_P99_MS:.0f} ms at {TARGET_RATE:,.0f} lines/s")


def fresh_lines_needed(args: argparse.Namespace) -> int:
    """Load lines for the warm-up, the probes (each push takes time besides ``every``) and
    ten seconds more, so that no line is sent twice while probing: a line sent again is a
    day older than the vessel's latest report, so the process nodes drop it early as late
    data, and latency measured on it flatters."""
    probing_s = args.probes * args.every * 2
    return int(args.rate * (args.warmup + probing_s + 10.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="load lines/s")
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between probes")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load first")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait at the end")
    parser.add_argument(
        "--lines",
        type=int,
        default=None,
        help="distinct load lines (default: enough for the warm-up and the probes twice over)",
    )
    parser.add_argument("--separate-probes", action="store_true")
    parser.add_argument("--only", choices=("embedded", "scaleout"))
    args = parser.parse_args()
    if not DMA.is_file():
        print(f"benchmark input not found: {DMA}", file=sys.stderr)
        return 2
    problem = services() if args.only != "embedded" else None
    if problem is not None:
        print(f"bench_scaleout: skipped: {problem}")
        return 0
    lines = load_input(args.lines or fresh_lines_needed(args))
    print(f"rate {args.rate:,.0f} lines/s, {args.probes} probes every {args.every} s")
    partitions = os.environ.get("LOOKOUT_PROCESS_PARTITIONS", str(DEFAULT_PROCESS_PARTITIONS))
    print(f"scale-out vessel partitions: {partitions} (LOOKOUT_PROCESS_PARTITIONS)")
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="lookout-scaleout-") as tmp:
        if args.only != "scaleout":
            (Path(tmp) / "embedded").mkdir()
            with embedded(Path(tmp) / "embedded") as where:
                results.append(measure(where, lines, args))
            results[-1].events = where.events()  # stopped: its store has written everything
        if args.only != "embedded":
            (Path(tmp) / "scaleout").mkdir()
            with ExitStack() as stack:
                url, prefix = stack.enter_context(database()), stack.enter_context(streams())
                with scaled_out(Path(tmp) / "scaleout", url, prefix) as where:
                    results.append(measure(where, lines, args))
                results[-1].events = where.events()
    report(results, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
