"""What a member's watch officers did about its alerts: acknowledged, escalated, by whom, when.

``<data_dir>/alert-states.db`` (SQLite in WAL mode) or, with the PostGIS store, the
``alert_states`` table of its database, shared by every API node: one row per (alert, member).
An alert acknowledged by one of a member's users is acknowledged for all of them, and another
member's users see none of it. The first acknowledgement (and the first escalation) stands:
doing it again changes nothing, and neither can be withdrawn, so the record says who acted
first. Each change is one write transaction (:mod:`lookout.storage.small_db`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lookout.storage.small_db import SmallDb
from lookout.storage.sqlite_file import SqliteFile

__all__ = ["ALERT_STATES_FILE", "AlertState", "AlertStateStore", "Mark"]

ALERT_STATES_FILE = "alert-states.db"
"""The store's file in the data dir."""

Mark = Literal["acknowledged", "escalated"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_states (
    alert_id        TEXT NOT NULL,
    member          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    acknowledged_ts REAL,
    acknowledged_by TEXT,
    escalated_ts    REAL,
    escalated_by    TEXT,
    updated_ts      REAL NOT NULL,
    PRIMARY KEY (alert_id, member)
) STRICT;
CREATE INDEX IF NOT EXISTS alert_states_member ON alert_states (member, updated_ts);
"""

_COLUMNS = (
    "alert_id, member, event_id, acknowledged_ts, acknowledged_by, escalated_ts, escalated_by"
)


@dataclass(frozen=True, slots=True)
class AlertState:
    """One member's state of one alert (``*_ts`` epoch seconds, ``*_by`` user names)."""

    alert_id: str
    member: str
    event_id: str
    acknowledged_ts: float | None = None
    acknowledged_by: str | None = None
    escalated_ts: float | None = None
    escalated_by: str | None = None


class AlertStateStore:
    """The alert states of every member in ``db`` (see the module docstring)."""

    def __init__(self, db: SmallDb) -> None:
        self.db = db

    @classmethod
    def open(cls, data_dir: Path | str, database_url: str | None = None) -> AlertStateStore:
        """``<data_dir>/alert-states.db`` (``:memory:``: in memory), or the table at
        ``database_url`` when given."""
        if database_url is not None:
            from lookout.storage.pg_small import PostgresDb

            return cls(PostgresDb(database_url, store="alert_states"))
        memory = str(data_dir) == ":memory:"
        file = SqliteFile(":memory:" if memory else Path(data_dir) / ALERT_STATES_FILE)
        file.script(_SCHEMA)
        return cls(file)

    def mark(
        self, alert_id: str, member: str, event_id: str, what: Mark, by: str, at_ts: float
    ) -> tuple[AlertState, bool]:
        """Record that ``by`` (a user of ``member``) did ``what``; the state after it, and
        whether this changed anything (``False`` when it had been done already)."""
        column = "acknowledged" if what == "acknowledged" else "escalated"
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO alert_states (alert_id, member, event_id, updated_ts)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (alert_id, member, event_id, at_ts),
            )
            changed = tx.execute(
                f"UPDATE alert_states SET {column}_ts = ?, {column}_by = ?, updated_ts = ?"
                f" WHERE alert_id = ? AND member = ? AND {column}_ts IS NULL",
                (at_ts, by, at_ts, alert_id, member),
            ).rowcount
        state = self.state(alert_id, member)
        assert state is not None
        return state, changed > 0

    def state(self, alert_id: str, member: str) -> AlertState | None:
        rows = self.db.read(
            f"SELECT {_COLUMNS} FROM alert_states WHERE alert_id = ? AND member = ?",
            (alert_id, member),
        )
        return AlertState(*rows[0]) if rows else None

    def states(self, member: str, alert_ids: Sequence[str] | None = None) -> list[AlertState]:
        """``member``'s states (of ``alert_ids`` when given), most recently changed first."""
        query = f"SELECT {_COLUMNS} FROM alert_states WHERE member = ?"
        params: list[str] = [member]
        if alert_ids is not None:
            if not alert_ids:
                return []
            query += f" AND alert_id IN ({', '.join('?' * len(alert_ids))})"
            params += list(alert_ids)
        rows = self.db.read(query + " ORDER BY updated_ts DESC", params)
        return [AlertState(*row) for row in rows]

    def close(self) -> None:
        self.db.close()
