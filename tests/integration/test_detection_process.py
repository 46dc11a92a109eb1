"""The runtime's detection process (``detection_process``, on by default): a batch is
acknowledged once its events are stored, the detectors' state survives a clean restart, and
a detection process that dies fails its batches, then a fresh one takes the input."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyais
import pytest

from lookout.model import Lines
from lookout.pipeline.ports import EventQuery
from lookout.service.detection_process import DetectionProcess, DetectionProcessError
from lookout.service.runtime import STATE_FILE, Runtime, StoreUnavailable
from lookout.service.settings import Settings, SourceConfig
from lookout.sources.sim_nmea import tag_block

T0 = 1_750_000_000
MMSI = 412_000_555
KINDS = "ais_gap,speed_anomaly,identity_conflict,zone_entry"


def position(ts: int, lat: float, lon: float, mmsi: int = MMSI) -> str:
    msg = {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": 10.0, "course": 90.0}
    (sentence,) = pyais.encode_dict(msg, talker_id="AI", radio_channel="A")
    return tag_block(ts, "patrol-1") + sentence


def settings_in(path: Path) -> Settings:
    return Settings(
        data_dir=path,
        sources=(SourceConfig(name="patrol", member="PHL-PCG", key="k", release="network"),),
        batch_max_wait_ms=5.0,
        shore="none",
        detectors=KINDS,
    )


def push(runtime: Runtime, *lines: str) -> Any:
    return runtime.submit([Lines(list(lines), "PHL-PCG", "patrol", time.time())]).result(30)


def gaps(runtime: Runtime) -> list[dict[str, Any]]:
    return runtime.store.events(EventQuery(kind="ais_gap"))


def test_a_batch_is_acknowledged_once_the_events_of_its_detectors_are_stored(
    tmp_path: Path,
) -> None:
    with Runtime(settings_in(tmp_path)) as runtime:
        pid = runtime.detection_pid
        assert pid is not None and pid != os.getpid()
        os.kill(pid, 0)  # alive
        receipt = push(runtime, position(T0, 10.0, 112.0), position(T0 + 7 * 3600, 10.0, 112.1))
        assert receipt.observations == 2
        (gap,) = gaps(runtime)  # stored before the receipt came back
        assert (gap["mmsi"], gap["details"]["duration_s"]) == (MMSI, 7 * 3600)
    with pytest.raises(ProcessLookupError):  # stopped with the runtime
        os.kill(pid, 0)


def test_the_detection_process_can_be_turned_off(tmp_path: Path) -> None:
    with Runtime(replace(settings_in(tmp_path), detection_process=False)) as runtime:
        assert runtime.detection_pid is None
        push(runtime, position(T0, 10.0, 112.0), position(T0 + 7 * 3600, 10.0, 112.1))
        assert len(gaps(runtime)) == 1


def test_a_clean_restart_resumes_the_detectors_of_the_detection_process(tmp_path: Path) -> None:
    settings = settings_in(tmp_path / "data")
    with Runtime(settings) as first:
        push(first, position(T0, 10.0, 112.0))
    assert (settings.data_dir / STATE_FILE).is_file()
    with Runtime(settings) as second:
        push(second, position(T0 + 7 * 3600, 10.0, 112.1))
        assert [g["mmsi"] for g in gaps(second)] == [MMSI]  # the last position came back
    with Runtime(replace(settings, data_dir=tmp_path / "fresh")) as fresh:
        push(fresh, position(T0 + 7 * 3600, 10.0, 112.1))
        assert gaps(fresh) == []  # without the state: first seen then


def test_a_dead_detection_process_fails_its_batch_then_a_fresh_one_takes_over(
    tmp_path: Path,
) -> None:
    with Runtime(settings_in(tmp_path)) as runtime:
        push(runtime, position(T0, 10.0, 112.0))
        old = runtime.detection_pid
        assert old is not None
        os.kill(old, signal.SIGKILL)
        with pytest.raises((DetectionProcessError, StoreUnavailable)):
            push(runtime, position(T0 + 60, 10.0, 112.01))  # never acknowledged
        deadline = time.monotonic() + 30
        while True:
            try:
                push(runtime, position(T0 + 120, 11.0, 113.0, mmsi=MMSI + 1))
                break
            except StoreUnavailable:  # refused until the fresh pipeline is up
                assert time.monotonic() < deadline, "ingest did not resume"
                time.sleep(0.2)
        assert runtime.detection_pid not in (None, old)
        push(runtime, position(T0 + 120 + 7 * 3600, 11.0, 113.1, mmsi=MMSI + 1))
        assert [g["mmsi"] for g in gaps(runtime)] == [MMSI + 1]  # detectors afresh, working


def test_a_suite_that_cannot_be_built_is_refused_with_the_reason(tmp_path: Path) -> None:
    process = DetectionProcess(replace(settings_in(tmp_path), zones=(tmp_path / "none.json",)))
    try:
        with pytest.raises(DetectionProcessError, match=r"could not be built.*none\.json"):
            process.ready(60)
        with pytest.raises(DetectionProcessError, match="could not be built"):
            process.run([]).result(10)
    finally:
        process.close()
