"""Web app benchmark: 20,000 vessels updated at 1 Hz in headless Chromium.

An API over a store seeded directly with ``--vessels`` vessels (default 20,000) spread over the
South China Sea, served by uvicorn on 127.0.0.1; a publisher thread puts an update of every
vessel on the runtime's bus once a second (each moves a little), so the app's live stream
carries them as the pipeline's would. The app is loaded in headless Chromium (Debian's,
driven by Playwright) with a static API token, and the page itself measures:

- **first render**: from navigation start to the first animation frame after every vessel is
  in the map's source and the map is drawn (target < 3 s on localhost);
- **median frame time**: the median interval between ``requestAnimationFrame`` timestamps
  over ``--seconds`` (default 20) of 1 Hz updates (target < 50 ms), with the 95th percentile
  and the vessel updates the page received per second.

Chromium runs with ``--disable-gpu`` as in the browser tests, so WebGL is drawn in software
(SwiftShader): the figure is for a machine without a GPU. Run: ``make bench`` or
``python bench/bench_web.py [--vessels N] [--seconds S]``. Not a test: it prints, it does not
assert.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from lookout.api.app import create_app
from lookout.api.server import LookoutServer
from lookout.bus.inprocess import InProcessBus
from lookout.model import VesselState
from lookout.pipeline import subjects
from lookout.pipeline.ports import StoreBatch
from lookout.pipeline.results import vessel_payload
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings
from lookout.storage.memory import MemoryStore
from lookout.web import built

TOKEN = "bench-web-token"
MEMBER = "PHL-PCG"
FEED = f"{MEMBER}/bench"
SHIP_TYPES = (30, 30, 30, 70, 70, 80, 52, 60, 35, 55, None)
MIDS = (412, 413, 548, 574, 533, 525, 431, 477, 636, 351)
"""China, China, Philippines, Vietnam, Malaysia, Indonesia, Japan, Hong Kong, Liberia, Panama."""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

PAGE_PROBE = """
(() => {
  window.__bench = { first: null, frames: [], received: 0 };
  const want = %d;
  const tick = (t) => {
    const b = window.__bench, s = window.lookout;
    if (b.first === null) {
      const loaded = s && s.map && s.map.vessels.size >= want && s.map.flushes > 0;
      if (b.flushedAt === undefined && loaded) {
        b.flushedAt = s.map.flushes;  // every vessel is in the map's source: drawn next frame
      } else if (b.flushedAt !== undefined) {
        b.first = t;
      }
    } else if (b.recording) {
      b.frames.push(t);
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def seed(count: int, now: float) -> list[VesselState]:
    """``count`` vessels at random in 2-22 N, 106-121 E (the South China Sea), reproducibly."""
    rng = random.Random(7)
    vessels = []
    for n in range(count):
        mmsi = MIDS[n % len(MIDS)] * 1_000_000 + n
        speed = rng.choice((0.0, 4.0, 8.0, 11.0, 14.0))
        course = rng.uniform(0, 360)
        vessels.append(
            VesselState(
                mmsi, 0, now, rng.uniform(2, 22), rng.uniform(106, 121), speed, course,
                int(course), 0, None, name=f"BENCH {n}", ship_type=rng.choice(SHIP_TYPES),
                members=(MEMBER,), sources=(FEED,), positions=1,
            )
        )  # fmt: skip
    return vessels


def moved(v: VesselState, now: float) -> VesselState:
    """The vessel one second on along its course."""
    step = (v.speed_kn or 0.0) / 3600.0 / 60.0  # degrees of latitude in one second
    rad = math.radians(v.course_deg or 0.0)
    lat = min(89.0, max(-89.0, v.lat + step * math.cos(rad)))
    lon = v.lon + step * math.sin(rad) / max(0.1, math.cos(math.radians(lat)))
    return VesselState(
        v.mmsi, v.segment, now, lat, lon, v.speed_kn, v.course_deg, v.heading_deg, v.status,
        v.flag, name=v.name, ship_type=v.ship_type, members=v.members, sources=v.sources,
        positions=v.positions + 1,
    )  # fmt: skip


class Publisher(threading.Thread):
    """Every second, one update of every vessel on the bus, in ten slices 100 ms apart."""

    def __init__(self, bus: InProcessBus, vessels: list[VesselState]) -> None:
        super().__init__(name="bench-publisher", daemon=True)
        self.bus, self.vessels = bus, vessels
        self.stop = threading.Event()
        self.published = 0

    def run(self) -> None:
        slices = 10
        size = math.ceil(len(self.vessels) / slices)
        while not self.stop.is_set():
            started = time.monotonic()
            for i in range(slices):
                now = time.time()
                part = range(i * size, min(len(self.vessels), (i + 1) * size))
                for k in part:
                    self.vessels[k] = moved(self.vessels[k], now)
                self.bus.publish_many(
                    (subjects.vessel(self.vessels[k].mmsi), vessel_payload(self.vessels[k]))
                    for k in part
                )
                self.published += len(part)
                self.stop.wait(max(0.0, started + (i + 1) / slices - time.monotonic()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(vessels: list[VesselState], data_dir: Path) -> Iterator[tuple[str, InProcessBus]]:
    """The API over a memory store holding ``vessels``, on a free localhost port."""
    store = MemoryStore()
    store.write(StoreBatch(vessels=vessels))
    bus = InProcessBus(queue_size=4 * len(vessels))
    settings = Settings(
        data_dir=data_dir, detectors="none", shore="none",
        api_tokens={TOKEN: "bench"}, api_tokens_member=MEMBER,
        rate_requests_per_s=0,
    )  # fmt: skip
    runtime = Runtime(settings, store=store, bus=bus)
    app = create_app(runtime, stream_queue_size=4 * len(vessels))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = LookoutServer(config, app)
    thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", bus
    finally:
        app.state.hub.close_all()
        server.should_exit = True
        thread.join(timeout=15)
        bus.close()


def time_vessels_call(url: str, count: int) -> float:
    """Seconds the picture's API call takes alone (part of the first render)."""
    import httpx

    started = time.perf_counter()
    answer = httpx.get(
        f"{url}/api/v1/vessels", params={"limit": 100_000},
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
    )  # fmt: skip
    assert answer.json()["count"] == count, answer.text[:200]
    return time.perf_counter() - started


def measure(
    url: str, count: int, seconds: float, chromium: str, publisher: Publisher
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    session = json.dumps({"token": TOKEN, "who": "bench"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.add_init_script(f"sessionStorage.setItem('lookout.session', {json.dumps(session)});")
        page.add_init_script(PAGE_PROBE % count)
        page.goto(f"{url}/app/")
        page.wait_for_function(
            "() => window.__bench && window.__bench.first !== null", timeout=120_000
        )
        first_ms = page.evaluate("window.__bench.first")
        page.evaluate("() => { window.__bench.recording = true; }")
        received0 = page.evaluate("window.lookout.map.flushes")
        time.sleep(seconds)
        frames = page.evaluate("window.__bench.frames")
        flushes = page.evaluate("window.lookout.map.flushes") - received0
        publisher.stop.set()  # before the page goes: no stream left writing to a closed socket
        publisher.join(timeout=5)
        page.evaluate("() => window.lookout.stream.stop()")
        browser.close()
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    return {
        "first_render_s": first_ms / 1000.0,
        "frames": len(frames),
        "median_frame_ms": statistics.median(gaps) if gaps else float("nan"),
        "p95_frame_ms": statistics.quantiles(gaps, n=20)[-1] if len(gaps) > 20 else float("nan"),
        "redraws_per_s": flushes / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vessels", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    chromium = os.environ.get("LOOKOUT_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        print("bench_web: Debian's chromium is not installed (apt-get install chromium)")
        return 1
    if not built():
        print("bench_web: the web app's assets are not built (make web)")
        return 1
    vessels = seed(args.vessels, time.time())
    with tempfile.TemporaryDirectory() as tmp, served(vessels, Path(tmp)) as (url, bus):
        api_s = time_vessels_call(url, args.vessels)
        publisher = Publisher(bus, vessels)
        started = time.monotonic()
        publisher.start()
        try:
            got = measure(url, args.vessels, args.seconds, chromium, publisher)
        finally:
            publisher.stop.set()
            publisher.join(timeout=5)
        rate = publisher.published / max(1.0, time.monotonic() - started)
    ok_first = "ok" if got["first_render_s"] < 3.0 else "OVER"
    ok_frame = "ok" if got["median_frame_ms"] < 50.0 else "OVER"
    print(f"web app, {args.vessels:,} vessels updated at 1 Hz (~{rate:,.0f} updates/s published),"
          f" headless Chromium, software WebGL")  # fmt: skip
    print(f"  first render   {got['first_render_s']:.2f} s   (target < 3 s: {ok_first})")
    print(f"  median frame   {got['median_frame_ms']:.1f} ms  (target < 50 ms: {ok_frame});"
          f" p95 {got['p95_frame_ms']:.1f} ms over {got['frames']} frames")  # fmt: skip
    print(f"  map redraws    {got['redraws_per_s']:.1f} /s of the vessel layer")
    print(f"  of first render: GET /api/v1/vessels ({args.vessels:,} vessels) took {api_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
