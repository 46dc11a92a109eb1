"""Reading files: format sniffing, real shared data, replay pacing of ``FileSource``."""

from __future__ import annotations

import csv
import gzip
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyais.messages import NMEASentenceFactory

from lookout.model import Frame, Rejection, ReportRecord
from lookout.sources.files import FileSource, iter_file_items, peek_time, sniff_format

VDM = "!AIVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"


def _items(path: Path) -> list[Frame | ReportRecord | Rejection]:
    return list(iter_file_items(path, member="PHL-PCG", source="archive"))


# -- sniffing --------------------------------------------------------------------------------


def test_format_is_sniffed_from_content_before_extension(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text('{"nmea": "x"}\n')
    (tmp_path / "b.txt").write_text("MMSI,BaseDateTime,LAT,LON\n1,2023-01-01,1,2\n")
    (tmp_path / "c.csv").write_text(f"\n{VDM}\n")
    (tmp_path / "d.jsonl").write_text("")
    (tmp_path / "e.log").write_text("garbage\n")
    with gzip.open(tmp_path / "f.nmea.gz", "wt") as fh:
        fh.write(VDM + "\n")
    found = {p.name: sniff_format(p) for p in sorted(tmp_path.iterdir())}
    assert found == {
        "a.txt": "jsonl",
        "b.txt": "csv",
        "c.csv": "nmea",
        "d.jsonl": "jsonl",
        "e.log": "nmea",
        "f.nmea.gz": "nmea",
    }


def test_gzipped_nmea_reads_the_same_lines_as_plain(tmp_path: Path) -> None:
    text = f"{VDM}\r\n\r\n# comment\n{VDM}\n"
    (tmp_path / "p.nmea").write_text(text)
    with gzip.open(tmp_path / "p.nmea.gz", "wt", newline="") as fh:
        fh.write(text)
    plain, zipped = _items(tmp_path / "p.nmea"), _items(tmp_path / "p.nmea.gz")
    assert plain == zipped
    # every line, blank and comment included, goes to the pipeline, which counts them
    assert [f.line for f in plain if isinstance(f, Frame)] == [VDM, "", "# comment", VDM]


# -- real data -------------------------------------------------------------------------------


def test_boston_marinecadastre_csv_gives_one_report_per_row(shared_data: Path) -> None:
    path = shared_data / "tracks/boston-2014/demodata_ais.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    items = _items(path)
    assert len(items) == len(rows)
    assert all(isinstance(i, ReportRecord) for i in items)
    first = items[0]
    assert isinstance(first, ReportRecord)
    # the file's first data row: 215020081,2014-01-05T09:48:32Z,42.396,-70.8065,9.1...,253,252
    assert (first.mmsi, first.lat, first.lon) == (215020081, 42.396, -70.8065)
    assert first.observed_ts == datetime(2014, 1, 5, 9, 48, 32, tzinfo=UTC).timestamp()
    assert (first.course_deg, first.heading_deg) == (253.0, 252)
    assert {i.mmsi for i in items if isinstance(i, ReportRecord)} == {int(r["mmsi"]) for r in rows}


def test_gzipped_gfw_csv_reads_every_row(shared_data: Path) -> None:
    path = shared_data / "tracks/gfw-pyseas/position_messages.csv.gz"
    with gzip.open(path, "rt") as fh:
        rows = list(csv.DictReader(fh))
    items = _items(path)
    assert len(items) == len(rows)
    records = [i for i in items if isinstance(i, ReportRecord)]
    assert len(records) == len(rows)
    assert {r.mmsi for r in records} == {int(r["ssvid"]) for r in rows}


def test_kystverket_nmea_file_gives_one_frame_per_line(shared_data: Path) -> None:
    path = shared_data / "nmea/kystverket/Ais1000Lines.nm4"
    items = _items(path)
    lines = path.read_text().splitlines()
    assert len(lines) == 1000  # PROVENANCE: 1,000 lines
    assert [i.line for i in items if isinstance(i, Frame)] == lines


def test_peek_time_agrees_with_pyais_on_tag_blocks(shared_data: Path) -> None:
    lines = (shared_data / "nmea/kystverket/Ais1000Lines.nm4").read_text().splitlines()
    for line in lines[::97]:
        tag = NMEASentenceFactory.produce(line.encode()).tag_block
        assert tag is not None
        tag.init()
        assert peek_time(line) == float(tag.receiver_timestamp)


def test_peek_time_reads_gatehouse_and_uscg_times(shared_data: Path) -> None:
    pghp = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"
    expected = datetime(2010, 6, 11, 11, 46, 11, 390_000, tzinfo=UTC).timestamp()
    assert peek_time(pghp) == pytest.approx(expected)
    uscg = "!AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,0*70,b003669794,1272412827"
    assert peek_time(uscg) == 1272412827.0
    assert peek_time(r"\g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014*37\!AIVDM,2,1") == (
        1418169601.0
    )
    assert peek_time(r"\c:1418169601123*00\!AIVDM") == pytest.approx(1418169601.123)
    assert peek_time(VDM) is None
    assert peek_time("$PGHP,1,garbage") is None


# -- FileSource ------------------------------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.batches: list[list[object]] = []

    def submit(self, items: Sequence[object], *, key: str | None = None) -> None:
        self.batches.append(list(items))


class _FakeTime:
    """A clock and stop signal in one: ``wait`` advances the clock instead of sleeping."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self.stop_after = stop_after

    def clock(self) -> float:
        return self.now

    def is_set(self) -> bool:
        return self.stop_after is not None and len(self.waits) >= self.stop_after

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.now += timeout or 0.0
        return self.is_set()


def _tagged(ts: int) -> str:
    return f"\\c:{ts}*00\\{VDM}"


def test_file_source_submits_whole_file_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "f.nmea"
    path.write_text("".join(f"{VDM}\n" for _ in range(1234)))
    sink = _Sink()
    source = FileSource(path, member="m", name="f", chunk_lines=500)
    source.run(sink, threading.Event())
    assert [len(b) for b in sink.batches] == [500, 500, 234]
    assert source.stats.submitted == source.stats.items == 1234
    assert source.stats.done


def test_replay_waits_the_recorded_spacing_divided_by_speed(tmp_path: Path) -> None:
    path = tmp_path / "r.nmea"
    path.write_text("\n".join([_tagged(100), VDM, _tagged(110), _tagged(130)]) + "\n")
    fake, sink = _FakeTime(), _Sink()
    FileSource(path, member="m", name="r", speed=10.0, clock=fake.clock).run(sink, fake)
    assert fake.waits == pytest.approx([1.0, 2.0])
    # what was due before each wait was submitted before it: the untimed line goes with 100
    assert [[f.line for f in b] for b in sink.batches] == [  # type: ignore[attr-defined]
        [_tagged(100), VDM],
        [_tagged(110)],
        [_tagged(130)],
    ]


def test_replay_shortens_long_silences_to_max_gap(tmp_path: Path) -> None:
    path = tmp_path / "g.nmea"
    path.write_text("\n".join([_tagged(0), _tagged(3600), _tagged(3605)]) + "\n")
    fake = _FakeTime()
    source = FileSource(path, member="m", name="g", speed=1.0, max_gap_s=10.0, clock=fake.clock)
    source.run(_Sink(), fake)
    assert fake.waits == pytest.approx([10.0, 5.0])


def test_replay_of_csv_uses_report_times_and_stops_when_told(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = [f"366000001,2023-01-01T00:{m:02d}:00,1.0,2.0" for m in range(10)]
    path.write_text("MMSI,BaseDateTime,LAT,LON\n" + "\n".join(rows) + "\n")
    fake, sink = _FakeTime(stop_after=3), _Sink()
    source = FileSource(path, member="m", name="t", speed=60.0, clock=fake.clock)
    source.run(sink, fake)
    assert fake.waits == pytest.approx([1.0, 1.0, 1.0])  # a minute per second
    assert source.stats.items == 3  # stopped: the rest of the file is not read
    assert sum(len(b) for b in sink.batches) == 3


def test_a_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    source = FileSource(tmp_path / "nope.nmea", member="m", name="x")
    source.run(_Sink(), threading.Event())
    assert source.stats.error is not None and "nope.nmea" in source.stats.error
    assert source.stats.done


def test_rejections_travel_with_the_items(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"nmea": VDM}) + "\n{broken\n")
    sink = _Sink()
    source = FileSource(path, member="m", name="j")
    source.run(sink, threading.Event())
    [batch] = sink.batches
    assert [type(i).__name__ for i in batch] == ["Frame", "Rejection"]
    assert source.stats.rejections == 1


def test_a_truncated_gzip_keeps_what_was_read_and_reports_the_error(tmp_path: Path) -> None:
    whole = gzip.compress("".join(f"{VDM}\n" for _ in range(5000)).encode())
    path = tmp_path / "cut.nmea.gz"
    path.write_bytes(whole[: len(whole) // 2])
    sink = _Sink()
    source = FileSource(path, member="m", name="cut")
    source.run(sink, threading.Event())
    assert source.stats.error is not None
    assert 0 < source.stats.submitted == sum(len(b) for b in sink.batches) < 5000


def test_a_csv_field_over_the_size_limit_is_one_rejection(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    huge = "x" * (csv.field_size_limit() + 1)
    path.write_text(
        "MMSI,BaseDateTime,LAT,LON,VesselName\n"
        f'366000001,2023-01-01T00:00:00,1.0,2.0,"{huge}"\n'
        "366000002,2023-01-01T00:00:00,1.0,2.0,OK\n"
    )
    items = _items(path)
    assert [type(i).__name__ for i in items] == ["Rejection", "ReportRecord"]
    assert isinstance(items[0], Rejection) and "line 2" in items[0].detail
