"""Lookout's web app: the common operating picture in a browser, served by the API server.

The app is static files (``static/``: ``index.html``, plain ES modules, CSS) that talk to the
HTTP API with the user's bearer token. ``make web`` copies the build outputs next to them:
MapLibre GL JS (``static/vendor/``, from the npm package pinned in ``package-lock.json``) and
Natural Earth land as GeoJSON (``static/data/land.geojson``, from npm ``world-atlas``). No
CDN and no tile server: the map works offline.

:func:`mount_web` serves the folder at ``/app/`` and redirects ``/`` there. The files hold no
data, so they need no token; every API call the app makes does. ``/app/states.json`` gives the
app the table the alerts use to tell a member's state from its id (``PHL-PCG`` -> ``PH``), so
the map and the alerts agree on whose vessel is whose.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from lookout.pipeline.alerts import ALPHA2_OF_STATE

__all__ = ["STATIC_DIR", "WEB_PATH", "built", "mount_web"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The served folder."""

WEB_PATH = "/app"
"""Where the app is served."""

BUILD_OUTPUTS = ("vendor/maplibre-gl.mjs", "vendor/maplibre-gl-worker.mjs", "data/land.geojson")
"""Files ``make web`` puts into :data:`STATIC_DIR` (not in the repository)."""


def built(folder: Path = STATIC_DIR) -> bool:
    """Whether ``make web`` has put the map library and the land layer in place."""
    return all((folder / name).is_file() for name in BUILD_OUTPUTS)


def mount_web(app: FastAPI) -> None:
    """Serve the app at ``/app/`` and send ``/`` there (neither is in the OpenAPI schema)."""

    async def root() -> RedirectResponse:
        return RedirectResponse(f"{WEB_PATH}/", status_code=307)

    async def states() -> JSONResponse:
        return JSONResponse({"alpha2_of_state": dict(ALPHA2_OF_STATE)})

    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{WEB_PATH}/states.json", states, methods=["GET"], include_in_schema=False)
    app.mount(WEB_PATH, StaticFiles(directory=STATIC_DIR, html=True), name="web")
