"""The pure pipeline, end to end on NMEA built with pyais's encoder (an independent oracle).

Each test reads like a scenario: frames in, what the store, the bus and the sender see.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import reduce
from typing import Any

import pytest
from pyais import encode_dict

from lookout.detectors.base import Detector
from lookout.fusion.tracks import TrackConfig
from lookout.model import Frame, Observation, Rejection, RejectReason, ReportRecord
from lookout.pipeline import subjects
from lookout.pipeline.engine import BatchResult, Pipeline, PipelineConfig, Submission

NOW = 1_750_000_000.0
SHIP = 219000001


def pos(
    mmsi: int = SHIP, lat: float = 55.5, lon: float = 11.25, msg_type: int = 1, **extra: Any
) -> list[str]:
    return encode_dict(
        {
            "type": msg_type,
            "mmsi": mmsi,
            "lat": lat,
            "lon": lon,
            "speed": 10.5,
            "course": 90.0,
            **extra,
        },
        talker_id="AI",
    )


def tagged(line: str, ts: float, station: str) -> str:
    """The line behind an NMEA 4.0 tag block with receive time and station."""
    body = f"c:{int(ts)},s:{station}"
    checksum = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
    return f"\\{body}*{checksum:02X}\\{line}"


def frames(
    lines: list[str],
    member: str = "dk",
    source: str = "a",
    received_ts: float | None = None,
    receiver: str | None = None,
) -> list[Frame]:
    return [Frame(line, member, source, received_ts, receiver) for line in lines]


def counts_of(result: BatchResult, member: str, source: str) -> Any:
    (counts,) = [c for c in result.store.counts if (c.member, c.source) == (member, source)]
    return counts


def test_files_without_receive_times_are_stamped_with_ingest_time():
    result = Pipeline().process(frames(pos()), now_ts=NOW)
    (point,) = result.store.track
    assert point.observed_ts == NOW
    assert (point.mmsi, point.lat, point.lon) == (SHIP, 55.5, 11.25)
    (state,) = result.store.vessels
    assert (state.mmsi, state.flag, state.positions) == (SHIP, "DK", 1)


def test_a_frame_receive_time_is_used_and_a_line_time_wins():
    pipeline = Pipeline()
    plain = pipeline.process(frames(pos(), received_ts=NOW - 5), now_ts=NOW)
    assert plain.store.track[0].observed_ts == NOW - 5
    line = tagged(pos(lat=55.6)[0], NOW - 100, "rx9")
    result = pipeline.process(frames([line], received_ts=NOW - 5), now_ts=NOW)
    (point,) = result.store.track
    assert point.observed_ts == NOW - 100
    assert point.receivers == ("rx9",)


def test_one_transmission_heard_by_two_members_is_stored_once_with_every_receiver():
    line = pos()[0]
    items = [
        *frames([tagged(line, NOW, "dk-rx")], member="dk", source="coast"),
        *frames([tagged(line, NOW + 1, "no-rx")], member="no", source="sat"),
    ]
    result = Pipeline().process(items, now_ts=NOW)
    (point,) = result.store.track
    assert point.receivers == ("dk-rx", "no-rx")
    assert counts_of(result, "dk", "coast").observations == 1
    assert counts_of(result, "no", "sat").duplicates == 1
    (state,) = result.store.vessels
    assert state.members == ("dk", "no") and state.sources == ("dk/coast", "no/sat")


def test_a_copy_arriving_in_a_later_batch_is_counted_and_credits_its_member():
    pipeline = Pipeline()
    line = pos()[0]
    pipeline.process(frames([line], received_ts=NOW, member="dk"), now_ts=NOW)
    later = pipeline.process(frames([line], received_ts=NOW + 30, member="no"), now_ts=NOW)
    assert later.store.track == []
    assert counts_of(later, "no", "a").duplicates == 1
    (state,) = later.store.vessels
    assert state.members == ("dk", "no")


def test_the_same_payload_after_the_window_is_a_new_observation():
    pipeline = Pipeline(PipelineConfig(dedupe_window_s=60.0))
    line = pos()[0]
    pipeline.process(frames([line], received_ts=NOW), now_ts=NOW)
    result = pipeline.process(frames([line], received_ts=NOW + 180), now_ts=NOW + 180)
    assert len(result.store.track) == 1


def test_bad_lines_are_rejected_with_a_reason_and_counted_never_dropped():
    no_fix = pos(lat=91.0, lon=181.0)[0]
    mmsi_zero = pos(mmsi=0)[0]
    good = pos()[0]
    bad_checksum = good[:-2] + ("00" if good[-2:] != "00" else "11")
    lines = [no_fix, mmsi_zero, bad_checksum, good, ""]
    result = Pipeline().process(frames(lines), now_ts=NOW)
    counts = counts_of(result, "dk", "a")
    assert counts.lines == 5
    assert counts.rejected == {"no_position": 1, "bad_mmsi": 1, "bad_checksum": 1, "empty": 1}
    assert counts.accepted == 1 and counts.observations == 1
    assert {r.reason for r in result.rejections} == {
        RejectReason.NO_POSITION,
        RejectReason.BAD_MMSI,
        RejectReason.BAD_CHECKSUM,
        RejectReason.EMPTY,
    }


def sentence(payload: str) -> str:
    body = f"AIVDM,1,1,,A,{payload},0"
    checksum = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
    return f"!{body}*{checksum:02X}"


def test_message_types_the_standard_does_not_define_are_counted_as_unknown():
    """ITU-R M.1371-5 defines types 1 to 27: type 0 ('0') and type 50 ('j') are rejected."""
    body = pos()[0].split(",")[5][1:]
    lines = [sentence("0" + body), sentence("j" + body), pos()[0]]
    result = Pipeline().process(frames(lines), now_ts=NOW)
    counts = counts_of(result, "dk", "a")
    assert counts.rejected == {"unknown_type": 2}
    assert counts.accepted == 1 and counts.observations == 1
    assert sorted(r.detail for r in result.rejections) == ["message type 0", "message type 50"]


def test_identity_from_type5_reaches_the_vessel_and_only_changes_are_kept_as_history():
    type5 = encode_dict(
        {
            "type": 5,
            "mmsi": SHIP,
            "shipname": "TEST SHIP",
            "callsign": "OXAB1",
            "imo": 9123456,
            "ship_type": 70,
            "to_bow": 100,
            "to_stern": 20,
            "destination": "AARHUS",
        },
        talker_id="AI",
    )
    pipeline = Pipeline()
    first = pipeline.process(frames([*type5, *pos()], received_ts=NOW), now_ts=NOW)
    (static,) = first.store.statics
    assert (static.name, static.callsign, static.imo) == ("TEST SHIP", "OXAB1", 9123456)
    (state,) = first.store.vessels
    assert (state.name, state.ship_type, state.length_m, state.destination) == (
        "TEST SHIP",
        70,
        120,
        "AARHUS",
    )
    again = pipeline.process(frames(type5, received_ts=NOW + 360), now_ts=NOW + 360)
    assert again.store.statics == []  # the same report six minutes later teaches nothing
    assert counts_of(again, "dk", "a").accepted == 2


def test_class_b_identity_comes_in_two_parts():
    part_a = encode_dict({"type": 24, "mmsi": SHIP, "partno": 0, "shipname": "SMALL ONE"})
    part_b = encode_dict(
        {
            "type": 24,
            "mmsi": SHIP,
            "partno": 1,
            "callsign": "OU1234",
            "ship_type": 37,
            "to_bow": 8,
            "to_stern": 4,
        }
    )
    lines = [*part_a, *part_b, *pos(msg_type=18)]
    (state,) = Pipeline().process(frames(lines), now_ts=NOW).store.vessels
    assert (state.name, state.callsign, state.ship_type, state.length_m) == (
        "SMALL ONE",
        "OU1234",
        37,
        12,
    )


def test_what_enters_the_vessel_picture():
    lines = [
        *pos(mmsi=219000001, msg_type=1),  # class A
        *pos(mmsi=219000002, msg_type=18),  # class B
        *encode_dict(
            {
                "type": 9,
                "mmsi": 111219001,
                "lat": 55.0,
                "lon": 11.0,
                "speed": 120,
                "course": 90.0,
                "alt": 300,
            }
        ),  # SAR aircraft
        *encode_dict(
            {"type": 27, "mmsi": 219000003, "lat": 55.5, "lon": 11.5, "speed": 12, "course": 90}
        ),  # long-range class A
        *encode_dict({"type": 4, "mmsi": 2190047, "lat": 55.0, "lon": 11.0}),  # base station
        *encode_dict(
            {"type": 21, "mmsi": 992191000, "lat": 55.0, "lon": 11.0, "name": "BUOY"}
        ),  # aid to navigation
    ]
    result = Pipeline().process(frames(lines), now_ts=NOW)
    assert sorted(v.mmsi for v in result.store.vessels) == [
        111219001,
        219000001,
        219000002,
        219000003,
    ]
    counts = counts_of(result, "dk", "a")
    assert (counts.lines, counts.accepted, counts.observations) == (6, 6, 4)
    (sar,) = [p for p in result.store.track if p.mmsi == 111219001]
    assert sar.speed_kn == 120


def test_a_two_sentence_message_may_span_batches_and_orphans_are_counted_at_flush():
    first, second = encode_dict({"type": 5, "mmsi": SHIP, "shipname": "SPLIT"})
    pipeline = Pipeline()
    pipeline.process(frames([first]), now_ts=NOW)
    done = pipeline.process(frames([second]), now_ts=NOW)
    assert [s.name for s in done.store.statics] == ["SPLIT"]
    orphan, _ = encode_dict({"type": 5, "mmsi": 219000009, "shipname": "LOST"})
    pipeline.process(frames([orphan]), now_ts=NOW)
    flushed = pipeline.flush(now_ts=NOW)
    assert counts_of(flushed, "dk", "a").rejected == {"orphan_fragment": 1}


def test_each_submission_gets_its_own_receipt():
    pipeline = Pipeline()
    one = Submission(frames([*pos(), *pos(), "garbage"], source="push"), key="k1")
    two = Submission(frames(pos(mmsi=219000002), source="push"), key="k2")
    result = pipeline.process([one, two], now_ts=NOW)
    r1, r2 = result.receipts
    assert (r1.lines, r1.accepted, r1.observations, r1.duplicates) == (3, 2, 1, 1)
    assert r1.rejected == {"bad_framing": 1}
    assert (r2.lines, r2.accepted, r2.observations) == (1, 1, 1)
    assert result.store.receipts == {"k1": r1, "k2": r2}


def test_one_state_per_vessel_per_batch_the_newest():
    lines = [tagged(pos(lat=55.5 + i * 0.001)[0], NOW + i, "rx") for i in range(5)]
    result = Pipeline().process(frames(lines), now_ts=NOW)
    assert len(result.store.track) == 5
    (state,) = result.store.vessels
    assert (state.observed_ts, state.positions) == (NOW + 4, 5)
    vessel_messages = [m for m in result.messages if m[0] == subjects.vessel(SHIP)]
    assert len(vessel_messages) == 1 and vessel_messages[0][1]["lat"] == state.lat


def test_an_ingest_stats_message_reports_the_batch():
    result = Pipeline().process(frames(pos()), now_ts=NOW)
    ((_, payload),) = [m for m in result.messages if m[0] == subjects.INGEST_STATS]
    assert payload["sources"][0]["observations"] == 1


def test_frames_received_close_together_share_one_receive_time():
    pipeline = Pipeline(PipelineConfig(frame_time_tolerance_s=1.0))
    items = [
        Frame(pos(mmsi=219000001)[0], "dk", "a", NOW),
        Frame(pos(mmsi=219000002)[0], "dk", "a", NOW + 0.4),
        Frame(pos(mmsi=219000003)[0], "dk", "a", NOW + 5.0),
    ]
    result = pipeline.process(items, now_ts=NOW + 6)
    assert [p.observed_ts for p in result.store.track] == [NOW, NOW, NOW + 5.0]


def test_decoded_records_are_validated_deduplicated_and_fused():
    rec = ReportRecord(
        mmsi=SHIP,
        observed_ts=NOW,
        lat=55.0,
        lon=11.0,
        member="us",
        source="csv",
        speed_kn=3.0,
        name="FROM CSV",
    )
    identity_only = ReportRecord(
        mmsi=219000002,
        observed_ts=NOW,
        lat=None,
        lon=None,
        member="us",
        source="csv",
        name="NAME ONLY",
    )
    bad = ReportRecord(mmsi=0, observed_ts=NOW, lat=55.0, lon=11.0, member="us", source="csv")
    no_fix = ReportRecord(mmsi=SHIP, observed_ts=NOW, lat=None, lon=None, member="us", source="csv")
    result = Pipeline().process([rec, rec, identity_only, bad, no_fix], now_ts=NOW)
    counts = counts_of(result, "us", "csv")
    assert (counts.lines, counts.accepted, counts.observations, counts.duplicates) == (5, 3, 1, 1)
    assert counts.rejected == {"bad_mmsi": 1, "no_position": 1}
    (state,) = result.store.vessels
    assert (state.name, state.speed_kn) == ("FROM CSV", 3.0)
    assert {s.name for s in result.store.statics} == {"FROM CSV", "NAME ONLY"}


def test_rows_a_source_could_not_read_are_counted_for_its_member():
    bad_row = Rejection(RejectReason.BAD_RECORD, "csv", "x,y,z", "line 2: no MMSI")
    rec = ReportRecord(mmsi=SHIP, observed_ts=NOW, lat=55.0, lon=11.0, member="us", source="csv")
    result = Pipeline().process([Submission([rec, bad_row], key="k")], now_ts=NOW)
    assert counts_of(result, "us", "csv").rejected == {"bad_record": 1}
    (receipt,) = result.receipts
    assert (receipt.lines, receipt.accepted, receipt.rejected) == (2, 1, {"bad_record": 1})
    assert result.rejections == [bad_row]


def test_simulated_sources_flag_their_vessels():
    config = PipelineConfig(simulated_sources=frozenset({("dk", "sim")}))
    result = Pipeline(config).process(frames(pos(), source="sim"), now_ts=NOW)
    assert result.store.vessels[0].simulated
    assert not Pipeline().process(frames(pos()), now_ts=NOW).store.vessels[0].simulated


class CountingDouble(Detector[int]):
    """Test double: an event at each vessel's second report, another 600 s after its last."""

    kind = "test_counting_double"

    def update(self, key: Hashable, state: int | None, obs: Observation) -> int | None:
        count = (state or 0) + 1
        if count == 2:
            self.emit(obs.observed_ts, {"mmsi": obs.mmsi, "member": obs.member})
        self.notify_at(key, obs.observed_ts + 600.0)
        return count

    def on_notify(self, key: Hashable, state: int | None, ts: float) -> int | None:
        self.emit(ts, {"mmsi": key, "silent_s": 600.0})
        return None


def test_detectors_see_observations_and_their_timers_follow_data_time():
    pipeline = Pipeline(detectors=[CountingDouble()])
    lines = [tagged(pos(lat=55.5 + i * 0.001)[0], NOW + i, "rx") for i in range(2)]
    result = pipeline.process(frames(lines), now_ts=NOW)
    assert [e["mmsi"] for e in result.events] == [SHIP]
    topic = subjects.event("test_counting_double")
    assert [m[0] for m in result.messages].count(topic) == 1
    other = tagged(pos(mmsi=219000002)[0], NOW + 300, "rx")
    assert pipeline.process(frames([other]), now_ts=NOW).events == []
    later = tagged(pos(mmsi=219000002, lat=55.6)[0], NOW + 700, "rx")
    fired = pipeline.process(frames([later]), now_ts=NOW).events
    silence = {
        "kind": "test_counting_double",
        "ts": NOW + 601,
        "status": "provisional",
        "mmsi": SHIP,
        "silent_s": 600.0,
        "id": f"test_counting_double-{SHIP}-{int(NOW + 601)}",
    }
    assert silence in fired  # data time passed SHIP's last report + 600 s
    assert {"mmsi": 219000002, "member": "dk"}.items() <= fired[0].items()


def test_observations_are_published_only_when_asked():
    quiet = Pipeline().process(frames(pos()), now_ts=NOW)
    assert not any(m[0].startswith("lookout.obs.") for m in quiet.messages)
    loud = Pipeline(PipelineConfig(publish_observations=True)).process(frames(pos()), now_ts=NOW)
    ((_, payload),) = [m for m in loud.messages if m[0] == subjects.observation("dk", "a")]
    assert (payload["mmsi"], payload["lat"], payload["receivers"]) == (SHIP, 55.5, ["a"])


def test_a_snapshot_lets_a_new_pipeline_resume():
    before = Pipeline(detectors=[CountingDouble()])
    first = before.process(frames([tagged(pos()[0], NOW, "rx")]), now_ts=NOW)
    after = Pipeline(detectors=[CountingDouble()])
    after.restore(before.snapshot())
    line = tagged(pos(lat=55.501)[0], NOW + 10, "rx")
    result = after.process(frames([line]), now_ts=NOW)
    (state,) = result.store.vessels
    assert state.positions == 2
    assert state.segment == first.store.vessels[0].segment
    assert [e["mmsi"] for e in result.events] == [SHIP]  # the detector's count survived


def test_a_stored_state_is_recalled_for_a_vessel_not_in_memory():
    known = Pipeline().process(frames(pos()), now_ts=NOW).store.vessels[0]
    pipeline = Pipeline(recall={SHIP: known}.get)
    (state,) = pipeline.process(frames(pos(lat=55.501)), now_ts=NOW + 10).store.vessels
    assert state.positions == 2 and state.segment == known.segment


def test_merged_results_keep_the_newest_state_and_everything_else():
    pipeline = Pipeline()
    a = pipeline.process([Submission(frames(pos()), key="a")], now_ts=NOW)
    b = pipeline.process(frames(pos(lat=55.6), received_ts=NOW + 10), now_ts=NOW + 10)
    merged = a.merged(b)
    assert len(merged.store.track) == 2
    (state,) = merged.store.vessels
    assert state.lat == 55.6
    assert merged.receipts == a.receipts and set(merged.store.receipts) == {"a"}


@pytest.mark.parametrize("bad", [Frame("!AIVDM,1,1,,A,,0*26", "dk", "a")])
def test_an_empty_payload_is_rejected_not_a_crash(bad):
    result = Pipeline().process([bad], now_ts=NOW)
    assert sum(counts_of(result, "dk", "a").rejected.values()) == 1


def _type5(destination: str) -> list[str]:
    fields = {"type": 5, "mmsi": SHIP, "shipname": "TEST SHIP", "destination": destination}
    return encode_dict(fields, talker_id="AI")


def test_an_identity_changing_back_and_forth_is_followed():
    pipeline = Pipeline()
    for i, destination in enumerate(["AARHUS", "KIEL", "AARHUS"]):
        lines = [*_type5(destination), *pos(lat=55.5 + i * 0.001)]
        result = pipeline.process(frames(lines, received_ts=NOW + 400 * i), now_ts=NOW)
        assert result.store.vessels[0].destination == destination
        assert [s.destination for s in result.store.statics] == [destination]


def test_a_vessel_evicted_from_memory_learns_its_identity_again():
    pipeline = Pipeline(PipelineConfig(tracks=TrackConfig(vessel_ttl_s=3600.0)))
    pipeline.process(frames([*_type5("AARHUS"), *pos()], received_ts=NOW), now_ts=NOW)
    other = pos(mmsi=219000002)
    pipeline.process(frames(other, received_ts=NOW + 7200), now_ts=NOW)  # SHIP is evicted
    assert SHIP not in pipeline.tracker
    lines = [*_type5("AARHUS"), *pos(lat=55.6)]
    result = pipeline.process(frames(lines, received_ts=NOW + 7300), now_ts=NOW)
    (state,) = [v for v in result.store.vessels if v.mmsi == SHIP]
    assert (state.name, state.destination) == ("TEST SHIP", "AARHUS")


def test_the_public_surface_is_pinned():
    from lookout.detectors import base
    from lookout.pipeline import batcher, engine

    assert engine.__all__ == ["BatchResult", "Pipeline", "PipelineConfig", "Submission"]
    assert batcher.__all__ == ["MicroBatcher"]
    assert base.__all__ == [
        "EVENT_STATUSES",
        "Detector",
        "Event",
        "create_detector",
        "detector_types",
        "register_detector",
    ]
