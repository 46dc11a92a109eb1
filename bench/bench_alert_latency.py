"""Live alert latency: a position entering a member's territorial sea, pushed to a running
server, until its alert arrives on the SSE stream.

A server as ``lookout serve`` runs it (writer-process SQLite store with ``synchronous=FULL``,
in-process bus, every detector on, uvicorn on 127.0.0.1) watches one territorial sea owned by
``PHL-PCG``. Meanwhile a background sender pushes the Danish Maritime Authority recording
(``../shared/data/nmea/dma-aislib``) at ``--rate`` lines per second, so the pipeline is busy
as a real network keeps it. Every ``--every`` seconds a probe vessel that was seen outside the
zone sends one position inside it; the latency is from just before that push is sent until
the ``alert`` for that vessel arrives on ``GET /api/v1/stream``. That covers the HTTP push,
the ingest queue, the micro-batch wait (``batch_max_wait_ms``, 50 ms), framing, decoding,
fusion, the detectors, the durable commit, the bus and the stream.

Printed: probes sent, alerts received, latency p50 / p90 / p99 / max in milliseconds, the
background rate achieved, and the last line ``alert latency p99: X ms`` (target: 1,000 ms).

Run: ``make bench`` runs it after the throughput benchmark, or
``python bench/bench_alert_latency.py --probes 300``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pyais
import uvicorn

from lookout.api.app import create_app
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig
from lookout.sources.sim_nmea import tag_block

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LOOKOUT_SHARED_DATA", ROOT.parent / "shared" / "data"))
DMA = DATA / "nmea" / "dma-aislib" / "stream_example.txt"
TOKEN = "bench-read"
READ = {"Authorization": f"Bearer {TOKEN}"}
PROBE_KEY, LOAD_KEY = "bench-probe", "bench-load"
FIRST_PROBE = 538_000_001
ZONE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "id": "bench-ts",
                "name": "Benchmark territorial sea",
                "regime": "territorial_sea",
                "owners": "PHL-PCG",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[119, 15], [120, 15], [120, 16], [119, 16], [119, 15]]],
            },
        }
    ],
}


def probe_line(mmsi: int, ts: float, lon: float) -> str:
    message: dict[str, str | int | float | bytes | bool] = {
        "type": 1, "mmsi": mmsi, "lat": 15.5, "lon": lon, "speed": 12.0, "course": 90.0
    }  # fmt: skip
    (sentence,) = pyais.encode_dict(message, talker_id="AI", radio_channel="A")
    return tag_block(ts, "probe") + sentence


class Stream(threading.Thread):
    """Reads the SSE stream; records when each probe vessel's alert arrived."""

    def __init__(self, url: str, kinds: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.params = {} if kinds is None else {"kinds": kinds}
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.arrived: dict[int, float] = {}
        self.dropped = 0
        """Messages the server dropped for this client (``dropped`` events): it fell behind."""

    def run(self) -> None:
        url = f"{self.url}/api/v1/stream"
        with httpx.stream("GET", url, params=self.params, headers=READ, timeout=None) as r:
            kind = ""
            for line in r.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "dropped":
                    self.dropped += int(json.loads(line[6:])["dropped"])
                elif line.startswith("data: ") and kind == "alert":
                    alert = json.loads(line[6:])
                    if alert["kind"] == "zone_entry" and alert["mmsi"] is not None:
                        self.arrived.setdefault(alert["mmsi"], time.perf_counter())


def background(url: str, lines: list[str], rate: float, stop: threading.Event) -> list[int]:
    """Push ``lines`` round and round at ``rate`` lines/s in blocks every 50 ms."""
    sent = [0]
    headers = {"Authorization": f"Bearer {LOAD_KEY}", "Content-Type": "text/plain"}

    def run() -> None:
        block = max(1, int(rate * 0.05))
        i = 0
        with httpx.Client(timeout=30.0) as client:
            next_at = time.perf_counter()
            while not stop.is_set():
                chunk = [lines[(i + k) % len(lines)] for k in range(block)]
                i += block
                client.post(f"{url}/api/v1/ingest/nmea", content="\n".join(chunk), headers=headers)
                sent[0] += block
                next_at += 0.05
                time.sleep(max(0.0, next_at - time.perf_counter()))

    threading.Thread(target=run, daemon=True).start()
    return sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between probes")
    parser.add_argument("--rate", type=float, default=5000.0, help="background lines/s")
    args = parser.parse_args()
    if not DMA.is_file():
        print(f"benchmark input not found: {DMA}", file=sys.stderr)
        return 2
    load_lines = [ln for ln in DMA.read_text(encoding="ascii", errors="replace").splitlines() if ln]
    with tempfile.TemporaryDirectory(prefix="lookout-latency-") as tmp:
        zones = Path(tmp) / "zones.geojson"
        zones.write_text(json.dumps(ZONE))
        settings = Settings(
            data_dir=Path(tmp) / "data",
            api_tokens={TOKEN: "bench"},
            sources=(
                SourceConfig(name="probe", member="PHL-PCG", key=PROBE_KEY),
                SourceConfig(name="load", member="DNK", key=LOAD_KEY),
            ),
            zones=(zones,),
        )
        runtime = Runtime(settings)
        runtime.start()
        app = create_app(runtime, keepalive_s=1.0)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        stream = Stream(url)
        stream.start()
        stream.ready.wait(10)
        stop = threading.Event()
        started = time.perf_counter()
        sent = background(url, load_lines, args.rate, stop)
        headers = {"Authorization": f"Bearer {PROBE_KEY}", "Content-Type": "text/plain"}
        pushed: dict[int, float] = {}
        now = time.time()
        with httpx.Client(timeout=30.0) as client:
            outside = [probe_line(FIRST_PROBE + i, now, 118.9) for i in range(args.probes)]
            client.post(f"{url}/api/v1/ingest/nmea", content="\n".join(outside), headers=headers)
            time.sleep(1.0)
            for i in range(args.probes):
                mmsi = FIRST_PROBE + i
                line = probe_line(mmsi, now + 60 + i, 119.1)
                pushed[mmsi] = time.perf_counter()
                client.post(f"{url}/api/v1/ingest/nmea", content=line, headers=headers)
                time.sleep(args.every)
        deadline = time.perf_counter() + 5.0
        while len(stream.arrived) < len(pushed) and time.perf_counter() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        stream.stop.set()
        server.should_exit = True
        runtime.stop()
    latencies = [(stream.arrived[m] - t) * 1000.0 for m, t in pushed.items() if m in stream.arrived]
    print(f"probes: {len(pushed)}, alerts received: {len(latencies)}")
    print(f"background load: {sent[0] / elapsed:,.0f} lines/s of {DMA.name}")
    if not latencies:
        print("alert latency p99: n/a (no alert arrived)")
        return 1
    p50, p90 = statistics.median(latencies), percentile(latencies, 0.9)
    p99 = percentile(latencies, 0.99)
    print(f"latency ms: p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, max {max(latencies):.0f}")
    print(f"alert latency p99: {p99:.0f} ms")
    return 0 if len(latencies) == len(pushed) else 1


if __name__ == "__main__":
    raise SystemExit(main())
