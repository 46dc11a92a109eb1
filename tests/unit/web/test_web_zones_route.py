"""``GET /api/v1/zones`` (the map's zones, from the runtime's zone index) and how the web app
is served: ``/`` to ``/app/``, static files without a token, the API still behind one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from shapely.geometry import Point, Polygon, shape

from lookout.api.app import create_app
from lookout.bus.inprocess import InProcessBus
from lookout.geo.zones import Regime, Zone, ZoneIndex
from lookout.service.settings import Settings, SourceConfig

READ = {"Authorization": "Bearer t-officer"}
KEY = SourceConfig(name="radar", member="PHL-PCG", key="k-radar")
SQUARE = Polygon([(119.0, 15.0), (120.0, 15.0), (120.0, 16.0), (119.0, 16.0)])
SHOAL = Point(117.7671234, 15.1834567).buffer(0.2)


class _Runtime:
    """The parts of the runtime the zones route and the token check use."""

    def __init__(self, index: ZoneIndex | None) -> None:
        self.settings = Settings(api_tokens={"t-officer": "officer"})
        self.bus = InProcessBus()
        self._index = index

    def actor_for_token(self, token: str) -> str | None:
        return self.settings.api_tokens.get(token)

    def source_for_key(self, key: str) -> SourceConfig | None:
        return KEY if key == KEY.key else None

    def zone_index(self) -> ZoneIndex | None:
        return self._index


def _zones() -> ZoneIndex:
    return ZoneIndex(
        [
            Zone("ts-phl", "Philippines territorial sea", Regime.TERRITORIAL_SEA,
                 ("PHL-PCG",), SQUARE, source="test"),
            Zone("disputed-shoal", "Shoal (disputed)", Regime.DISPUTED,
                 ("PHL-PCG", "CHN"), SHOAL, approximate=True),
        ]
    )  # fmt: skip


def _get(runtime: _Runtime, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    app = create_app(runtime)  # type: ignore[arg-type]

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path, headers=headers or {})

    try:
        return asyncio.run(call())
    finally:
        runtime.bus.close()


def test_the_zones_come_as_geojson_with_their_regime_owners_and_approximate_flag() -> None:
    answer = _get(_Runtime(_zones()), "/api/v1/zones", READ)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    body: dict[str, Any] = answer.json()
    assert body["type"] == "FeatureCollection"
    props = [f["properties"] for f in body["features"]]
    assert [(p["id"], p["regime"], p["owners"], p["approximate"]) for p in props] == [
        ("ts-phl", "territorial_sea", ["PHL-PCG"], False),
        ("disputed-shoal", "disputed", ["PHL-PCG", "CHN"], True),
    ]
    assert props[0]["name"] == "Philippines territorial sea"
    square, shoal = (shape(f["geometry"]) for f in body["features"])
    assert square.equals(SQUARE)
    assert shoal.contains(Point(117.767, 15.183)) and not shoal.contains(Point(117.5, 15.5))
    ring = body["features"][1]["geometry"]["coordinates"][0]
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in ring), "rounded to ~1 m"


def test_without_zone_detectors_the_map_gets_no_zones() -> None:
    answer = _get(_Runtime(None), "/api/v1/zones", READ)
    assert answer.json() == {"type": "FeatureCollection", "features": []}


def test_zones_need_a_read_token() -> None:
    assert _get(_Runtime(_zones()), "/api/v1/zones").status_code == 401
    refused = _get(_Runtime(_zones()), "/api/v1/zones", {"Authorization": "Bearer k-radar"})
    assert refused.status_code == 403, "an ingest key reads nothing"


def test_the_root_sends_the_browser_to_the_app_which_needs_no_token() -> None:
    root = _get(_Runtime(None), "/")
    assert root.status_code == 307 and root.headers["location"] == "/app/"
    page = _get(_Runtime(None), "/app/")
    assert page.status_code == 200
    assert '<script type="module" src="js/main.js">' in page.text
    assert _get(_Runtime(None), "/app/js/main.js").status_code == 200
    states = _get(_Runtime(None), "/app/states.json").json()["alpha2_of_state"]
    assert states["PHL"] == "PH" and states["VNM"] == "VN"


def test_the_app_is_not_an_api_route() -> None:
    runtime = _Runtime(None)
    paths = create_app(runtime).openapi()["paths"]  # type: ignore[arg-type]
    runtime.bus.close()
    assert "/api/v1/zones" in paths
    # the web app's files are served beside the API, not listed in its schema
    assert not [p for p in paths if p == "/" or p.startswith("/app")]
    assert all(p.startswith(("/api/v1/", "/ogc")) for p in paths)
