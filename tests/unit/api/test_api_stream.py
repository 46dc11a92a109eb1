"""SSE plumbing: a slow client loses the oldest messages and is told how many."""

from __future__ import annotations

import asyncio
import json
import threading

from lookout.api.stream import ClientQueue, StreamHub, format_event, to_api
from lookout.bus.inprocess import InProcessBus
from lookout.pipeline import subjects


def test_a_full_queue_drops_oldest_and_counts_from_another_thread() -> None:
    async def scenario() -> tuple[list[int], int]:
        client = ClientQueue(asyncio.get_running_loop(), maxsize=5)
        feeder = threading.Thread(
            target=lambda: [client.offer("lookout.vessel.1", {"n": n}) for n in range(12)]
        )
        feeder.start()
        feeder.join()
        await asyncio.sleep(0.05)  # let the loop run the scheduled puts
        got = []
        while (item := await client.get(0.01)) is not None:
            got.append(int(item[1]["n"]))
        return got, client.take_dropped()

    got, dropped = asyncio.run(scenario())
    assert got == [7, 8, 9, 10, 11]
    assert dropped == 7


def test_a_slow_client_loses_vessel_updates_before_any_alert() -> None:
    async def scenario() -> tuple[list[str], int]:
        client = ClientQueue(asyncio.get_running_loop(), maxsize=4)
        client.offer("lookout.alert.PHL-PCG", {"n": "alert-1"})
        for n in range(6):
            client.offer("lookout.vessel.1", {"n": f"vessel-{n}"})
        client.offer("lookout.event.zone_entry", {"n": "event-1"})
        await asyncio.sleep(0.05)
        got = []
        while (item := await client.get(0.01)) is not None:
            got.append(str(item[1]["n"]))
        return got, client.take_dropped()

    got, dropped = asyncio.run(scenario())
    # the alert and the event survive, in arrival order with the newest vessel updates
    assert got == ["alert-1", "vessel-4", "vessel-5", "event-1"]
    assert dropped == 4


def test_an_alert_console_never_loses_alerts_to_vessel_updates_it_did_not_ask_for() -> None:
    """``kinds=alert``: a burst of vessel updates takes no room in that client's queue."""

    async def scenario() -> tuple[list[str], int]:
        client = ClientQueue(asyncio.get_running_loop(), maxsize=2, kinds=frozenset({"alert"}))
        for n in range(500):
            client.offer("lookout.vessel.1", {"n": f"vessel-{n}"})
            if n % 100 == 0:
                client.offer("lookout.alert.PHL-PCG", {"n": f"alert-{n}"})
        await asyncio.sleep(0.05)
        got = []
        while (item := await client.get(0.01)) is not None:
            got.append(str(item[1]["n"]))
        return got, client.take_dropped()

    got, dropped = asyncio.run(scenario())
    assert got[-2:] == ["alert-300", "alert-400"]  # the queue holds 2: the newest alerts
    assert all(g.startswith("alert") for g in got)
    assert dropped == 3  # only alerts made room for alerts


def test_the_hub_takes_vessel_updates_off_the_bus_only_while_a_client_wants_them() -> None:
    """An alert console alone leaves vessel updates unsubscribed: the in-process bus then
    tells the pipeline nobody listens, and it builds none."""
    bus = InProcessBus()
    hub = StreamHub()

    async def scenario() -> list[tuple[list[str], bool]]:
        seen = []
        console = hub.open(bus, frozenset({"alert"}))
        seen.append((hub.subscribed, bus.has_subscribers(subjects.VESSELS)))
        vessel_alerts = hub.open(bus, frozenset({"alert", "vessel"}))
        seen.append((hub.subscribed, bus.has_subscribers(subjects.VESSELS)))
        everything = hub.open(bus)
        seen.append((hub.subscribed, bus.has_subscribers(subjects.VESSELS)))
        hub.discard(everything)
        hub.discard(vessel_alerts)
        seen.append((hub.subscribed, bus.has_subscribers(subjects.VESSELS)))
        bus.publish("lookout.alert.PHL-PCG", {"n": "alert-1"})
        await asyncio.sleep(0.1)
        item = await console.get(0.5)
        assert item is not None and item[1]["n"] == "alert-1"
        hub.discard(console)
        seen.append((hub.subscribed, bus.has_subscribers(subjects.ALERTS)))
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        hub.close()
        bus.close()
    assert seen == [
        ([subjects.ALERTS], False),
        ([subjects.ALERTS, subjects.VESSELS], True),
        (sorted(["lookout.vessel.>", "lookout.event.>", "lookout.alert.>",
                 "lookout.alertstate.>", "lookout.stats.ingest"]), True),
        ([subjects.ALERTS], False),
        ([], False),
    ]  # fmt: skip


def test_close_ends_the_stream_after_what_is_queued() -> None:
    async def scenario() -> list[str]:
        client = ClientQueue(asyncio.get_running_loop(), maxsize=5)
        client.offer("lookout.vessel.1", {})
        client.close()
        await asyncio.sleep(0.01)
        first = await client.get(0.1)
        second = await client.get(0.1)
        assert first is not None and second is not None
        return [first[0], second[0]]

    assert asyncio.run(scenario()) == ["lookout.vessel.1", ""]


def test_event_format_is_one_sse_message_with_iso_times() -> None:
    raw = format_event("vessel", {"mmsi": 219000001, "observed_ts": 0.5, "lat": 55.0}, 3)
    text = raw.decode()
    assert text.endswith("\n\n")
    lines = text.strip("\n").split("\n")
    assert lines[:2] == ["event: vessel", "id: 3"]
    assert lines[2].startswith("data: ")
    assert json.loads(lines[2][6:]) == {
        "mmsi": 219000001,
        "observed_at": "1970-01-01T00:00:00.500000Z",
        "lat": 55.0,
    }
    assert to_api({"flag": True, "n_ts": True}) == {"flag": True, "n_ts": True}
