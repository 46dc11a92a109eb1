"""Stores: SQLite (embedded) and PostgreSQL + PostGIS (scale-out), one contract."""

from __future__ import annotations

__all__ = ["StoreOutage"]


class StoreOutage(RuntimeError):
    """The store's database server does not answer (stopped, restarting, unreachable): the
    same call may succeed later. The API answers a read that meets it with 503 and
    ``Retry-After`` (docs/api.md); the runtime and process nodes wait for the store."""
