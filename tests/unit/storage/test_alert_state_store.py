"""The alert state store: the first acknowledgement (and escalation) of an alert stands, is
seen by every connection at once, and one member's states are invisible to another. Each test
runs on both backends: the SQLite file of a data dir and a table of a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lookout.storage.alert_states import AlertStateStore

OpenStore = Callable[[], AlertStateStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> OpenStore:
    url = request.getfixturevalue("pg_database_url") if request.param == "postgres" else None
    return lambda: AlertStateStore.open(tmp_path, url)


def test_the_first_acknowledgement_stands_and_every_connection_sees_it(
    open_store: OpenStore,
) -> None:
    one, other = open_store(), open_store()  # as two API processes
    try:
        state, changed = one.mark("alert-1", "PHL-PCG", "ev-1", "acknowledged", "ana", 100.0)
        assert changed and (state.acknowledged_by, state.acknowledged_ts) == ("ana", 100.0)
        again, changed = other.mark("alert-1", "PHL-PCG", "ev-1", "acknowledged", "ben", 200.0)
        assert not changed and (again.acknowledged_by, again.acknowledged_ts) == ("ana", 100.0)
        escalated, changed = other.mark("alert-1", "PHL-PCG", "ev-1", "escalated", "ben", 300.0)
        assert changed and escalated.escalated_by == "ben"
        assert one.state("alert-1", "PHL-PCG") == escalated
    finally:
        one.close()
        other.close()


def test_a_members_states_are_its_own_newest_first(open_store: OpenStore) -> None:
    store = open_store()
    try:
        store.mark("alert-1", "PHL-PCG", "ev-1", "acknowledged", "ana", 100.0)
        store.mark("alert-2", "PHL-PCG", "ev-2", "escalated", "ana", 200.0)
        store.mark("alert-1", "VNM-VCG", "ev-1", "acknowledged", "vo", 150.0)
        assert [s.alert_id for s in store.states("PHL-PCG")] == ["alert-2", "alert-1"]
        assert [s.member for s in store.states("VNM-VCG")] == ["VNM-VCG"]
        assert store.state("alert-2", "VNM-VCG") is None
        assert [s.alert_id for s in store.states("PHL-PCG", ["alert-1", "alert-9"])] == ["alert-1"]
        assert store.states("PHL-PCG", []) == []
    finally:
        store.close()
