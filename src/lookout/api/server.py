"""Serving the app under uvicorn, with a clean stop on SIGINT/SIGTERM.

A stop signal makes uvicorn stop accepting connections, ends open event streams (which would
otherwise hold the shutdown until the grace period), and lets the app's lifespan stop the
runtime, which commits everything already submitted; the process then exits 0.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI

from lookout.api.app import create_app
from lookout.api.deps import ApiRuntime

__all__ = ["GRACEFUL_S", "LookoutServer", "serve_forever"]

GRACEFUL_S = 5
"""Seconds open requests get to finish after a stop signal before they are cancelled."""


class LookoutServer(uvicorn.Server):
    """uvicorn's server that also ends SSE streams on a stop signal and exits cleanly."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._app.state.hub.close_all()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGINT/SIGTERM and, unlike uvicorn, do not re-raise them after shutdown."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        wanted = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in wanted}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve_forever(runtime: ApiRuntime, *, host: str, port: int, log_level: str = "info") -> None:
    """Start ``runtime``, serve the API on ``host:port`` until a stop signal, stop it."""
    app = create_app(runtime, manage_runtime=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=GRACEFUL_S,
        lifespan="on",
    )
    LookoutServer(config, app).run()
