"""The pipeline on the Danish Maritime Authority stream, checked against pyais.

pyais decodes the same file independently (its own framing, Gatehouse ``$PGHP`` handling and
decoders); the expected observations, vessels and times below are derived from its output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyais.stream import IterMessages

from lookout.model import Frame
from lookout.pipeline.engine import Pipeline

VESSEL_TYPES = {1, 2, 3, 9, 18, 19, 27}
NOW = 2_000_000_000.0


def _pyais_positions(path: Path) -> dict[tuple[str, int], tuple[int, float]]:
    """Accepted positions by (payload, fill bits): (mmsi, receive time), first copy only."""
    expected: dict[tuple[str, int], tuple[int, float]] = {}
    for sentence in IterMessages(path.read_bytes().splitlines()):
        fields = sentence.decode().asdict()
        if fields["msg_type"] not in VESSEL_TYPES:
            continue
        lat, lon, mmsi = fields.get("lat"), fields.get("lon"), fields["mmsi"]
        if not (0 < mmsi <= 999_999_999 and -90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        key = (sentence.payload.decode(), sentence.fill_bits)
        if key not in expected:  # the file spans 29 s: within one dedupe window
            expected[key] = (mmsi, sentence.wrapper_msg.timestamp.timestamp())
    return expected


@pytest.fixture(scope="module")
def stream(nmea_dir: Path) -> Path:
    return nmea_dir / "dma-aislib" / "stream_example.txt"


def test_observations_vessels_and_times_match_pyais(stream: Path):
    expected = _pyais_positions(stream)
    lines = stream.read_text().splitlines()
    pipeline = Pipeline()
    track, vessels = [], {}
    for i in range(0, len(lines), 2000):  # micro-batches of 2,000 lines
        result = pipeline.process([Frame(x, "dk", "dma") for x in lines[i : i + 2000]], now_ts=NOW)
        track.extend(result.store.track)
        vessels.update((v.mmsi, v) for v in result.store.vessels)
    assert len(track) == len(expected)
    got = sorted((p.mmsi, round(p.observed_ts, 3)) for p in track)
    assert got == sorted((mmsi, round(ts, 3)) for mmsi, ts in expected.values())
    assert set(vessels) == {mmsi for mmsi, _ in expected.values()}
    for state in vessels.values():
        assert state.positions == sum(1 for p in track if p.mmsi == state.mmsi)
        assert state.observed_ts == max(p.observed_ts for p in track if p.mmsi == state.mmsi)


def test_every_line_is_accounted_for(stream: Path):
    lines = stream.read_text().splitlines()
    pipeline = Pipeline()
    result = pipeline.process([Frame(x, "dk", "dma") for x in lines], now_ts=NOW)
    flushed = pipeline.flush(now_ts=NOW)
    (counts,) = result.store.counts
    assert counts.lines == len(lines)
    rejected = sum(counts.rejected.values()) + sum(
        sum(c.rejected.values()) for c in flushed.store.counts
    )
    assert counts.accepted + rejected == len(lines)


def test_names_come_from_the_type5_reports(stream: Path):
    names: dict[int, str] = {}
    for sentence in IterMessages(stream.read_bytes().splitlines()):
        fields = sentence.decode().asdict()
        if fields["msg_type"] == 5 and fields["shipname"]:
            names[fields["mmsi"]] = fields["shipname"].strip()
    lines = stream.read_text().splitlines()
    result = Pipeline().process([Frame(x, "dk", "dma") for x in lines], now_ts=NOW)
    named = {v.mmsi: v.name for v in result.store.vessels if v.mmsi in names}
    assert len(named) > 100
    assert named == {mmsi: names[mmsi] for mmsi in named}
