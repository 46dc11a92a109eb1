"""The Framer: receive times, receivers, reassembly across lines, counting, fast path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyais.stream import FileReaderStream

from lookout.ais.framing import Framer, _make_message
from lookout.ais.nmea import checksum
from lookout.ais.types import AisMessage
from lookout.model import Rejection, RejectReason

SINGLE = "!AIVDM,1,1,,A,16:=?;0P00`SstvFnFbeGH6L088h,0*44"
PART1 = "!AIVDM,2,1,3,A,56=nR7D00003A<I@E=@TmDh637OS60mA:222220N1@6427?P00888888,0*66"
PART2 = "!AIVDM,2,2,3,A,888888888888880,2*27"


def framer(**kwargs: object) -> Framer:
    return Framer(member="dk", source="dma", **kwargs)  # type: ignore[arg-type]


def run(lines: list[str], f: Framer | None = None) -> tuple[list[AisMessage], list[Rejection]]:
    f = f or framer()
    messages, rejections = f.feed_many(lines)
    return messages, rejections + f.flush()


def with_checksum(body: str) -> str:
    return f"{body}*{checksum(body[1:]):02X}"


def tag(fields: str) -> str:
    return f"\\{fields}*{checksum(fields):02X}\\"


def read(nmea_dir: Path, name: str) -> list[str]:
    return (nmea_dir / name).read_text().splitlines()


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[misc]


# --- receive time and receiver -----------------------------------------------------------


def test_pghp_time_and_base_station_apply_to_the_next_message(nmea_dir: Path) -> None:
    lines = read(nmea_dir, "dma-aislib/stream_example.txt")[:4]
    messages, rejections = run(lines, framer(receiver="dma-feed"))
    assert rejections == []
    # $PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,... -> 11:46:11.390, base 992190934
    assert messages[0].received_ts == utc(2010, 6, 11, 11, 46, 11) + 0.390
    assert messages[0].receiver == "992190934"
    # $PGHP,1,2010,6,11,11,46,12,386,219,24,992190924,...
    assert messages[1].received_ts == utc(2010, 6, 11, 11, 46, 12) + 0.386
    assert messages[1].receiver == "992190924"


def test_pghp_without_base_station_leaves_the_framer_receiver(nmea_dir: Path) -> None:
    lines = read(nmea_dir, "dma-aislib/stream_example.txt")[8:10]
    assert lines[0].startswith("$PGHP,1,2010,6,11,11,46,11,874,276,0,,1,")
    messages, _ = run(lines, framer(receiver="dma-feed"))
    assert messages[0].receiver == "dma-feed"


def test_pghp_time_applies_to_a_two_sentence_message(nmea_dir: Path) -> None:
    lines = read(nmea_dir, "dma-aislib/stream_example.txt")[14:17]
    assert lines[0].startswith("$PGHP,1,2010,6,11,11,46,11,929,")
    messages, _ = run(lines)
    assert len(messages) == 1 and len(messages[0].lines) == 2
    assert messages[0].received_ts == utc(2010, 6, 11, 11, 46, 11) + 0.929


def test_pghp_survives_comments_but_not_other_lines(nmea_dir: Path) -> None:
    pghp = "$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17"
    messages, _ = run([pghp, "", "# note", SINGLE])
    assert messages[0].received_ts == utc(2008, 5, 9) + 0.010
    gga = next(x for x in read(nmea_dir, "pyais/tests/mixed.txt") if x.startswith("$GPGGA"))
    messages, _ = run([pghp, gga, SINGLE])
    assert messages[0].received_ts is None
    messages, _ = run([pghp, SINGLE, SINGLE])
    assert [m.received_ts for m in messages] == [utc(2008, 5, 9) + 0.010, None]


def test_gatehouse_file_times(nmea_dir: Path) -> None:
    messages, _ = run(read(nmea_dir, "pyais/tests/timestamped.ais"))
    # only the first VDM follows a valid $PGHP (the 2009 one has a bad checksum)
    assert [m.received_ts for m in messages] == [utc(2008, 5, 9) + 0.010, None, None, None]


def test_time_carried_by_the_line_wins_over_arrival_time() -> None:
    f = framer()
    [tagged] = f.feed(tag("c:1418169601") + SINGLE, received_ts=2e9)
    [plain] = f.feed(SINGLE, received_ts=2e9)
    assert isinstance(tagged, AisMessage) and tagged.received_ts == 1418169601
    assert isinstance(plain, AisMessage) and plain.received_ts == 2e9
    [unknown] = f.feed(SINGLE)
    assert isinstance(unknown, AisMessage) and unknown.received_ts is None


def test_tag_block_station_is_the_receiver() -> None:
    f = framer(receiver="default")
    [m] = f.feed(tag("s:rORBCOMM104,c:1418172113") + SINGLE)
    assert isinstance(m, AisMessage) and m.receiver == "rORBCOMM104"
    [m] = f.feed(SINGLE)
    assert isinstance(m, AisMessage) and (m.receiver, m.member, m.source) == (
        "default",
        "dk",
        "dma",
    )


def test_libais_tagblock_file_matches_its_expected_json(nmea_dir: Path) -> None:
    # Between the two halves of the type 5 (ORBCOMM008, 00:00:01) sits a line from ORBCOMM104
    # stamped 00:41:53: a single event-time clock for all stations would expire the partial.
    data = "libais/test/data/"
    expected = [json.loads(x) for x in read(nmea_dir, data + "tagblock.json") if x]
    messages, rejections = run(read(nmea_dir, data + "tagblock.nmea"))
    assert rejections == []
    assert len(messages) == len(expected) == 4
    for message, want in zip(messages, expected, strict=True):
        stamp = datetime.fromisoformat(want["tagblock_timestamp"].replace("Z", "+00:00"))
        assert message.received_ts == stamp.timestamp()
        assert message.receiver == want["tagblock_station"]


def test_group_fragments_take_the_first_fragments_time_and_station(nmea_dir: Path) -> None:
    lines = read(nmea_dir, "gfw-ais-tools/ee-multiline.nmea")[1:3]
    assert lines[1].startswith("\\g:2-2-1278*51\\")  # no c:, no s:
    [message], _ = run(lines)
    assert (message.received_ts, message.receiver) == (1661782369, "66")
    assert message.fill_bits == 2 and message.lines == tuple(lines)


def test_uscg_receiver_and_time(nmea_dir: Path) -> None:
    lines = read(nmea_dir, "libais/test/data/typeexamples.nmea")
    messages, _ = run(lines)
    assert len(messages) == 26
    assert all(m.receiver is not None and m.receiver[0] == "r" for m in messages)
    assert (messages[0].receiver, messages[0].received_ts) == ("r003669946", 1325394060)


# --- reassembly through the framer -------------------------------------------------------


def test_interleaved_multi_sentence_messages() -> None:
    other1 = PART1.replace(",3,A,", ",4,A,")
    other2 = PART2.replace(",3,A,", ",4,A,")
    lines = [PART1, with_checksum(other1[:-3]), SINGLE, PART2, with_checksum(other2[:-3])]
    messages, rejections = run(lines)
    assert rejections == []
    assert [len(m.lines) for m in messages] == [1, 2, 2]
    assert messages[1].payload == PART1.split(",")[5] + PART2.split(",")[5]


def test_orphans_duplicates_and_gaps_are_counted_not_raised() -> None:
    f = framer()
    lines = [PART2, PART1, PART1, PART2, PART2]
    messages, rejections = run(lines, f)
    assert len(messages) == 1
    assert [r.reason for r in rejections] == [RejectReason.ORPHAN_FRAGMENT] * 3
    assert f.stats.lines == 5 and f.stats.accepted == 2


def test_a_partial_not_completed_within_the_line_limit_is_an_orphan() -> None:
    f = framer(partial_ttl_lines=10)
    m, r = f.feed_many([PART1, *[SINGLE] * 9, PART2])  # PART2 is 10 lines after PART1
    assert len(m) == 10 and r == []
    m, r = f.feed_many([PART1, *[SINGLE] * 10])
    assert len(m) == 10 and r == [] and f.pending == 1
    m, r = f.feed_many([PART2])  # 11 lines after PART1: too late
    assert m == [] and [x.line for x in r] == [PART1, PART2]
    assert {x.reason for x in r} == {RejectReason.ORPHAN_FRAGMENT}


def test_a_partial_expires_after_ttl_seconds_of_line_time() -> None:
    f = framer(partial_ttl_s=120.0)
    assert f.feed(PART1, received_ts=1000.0) == []
    assert f.pending == 1
    [msg] = f.feed(SINGLE, received_ts=1120.0)
    assert isinstance(msg, AisMessage) and f.pending == 1
    out = f.feed(SINGLE, received_ts=1120.5)
    assert [type(x) for x in out] == [Rejection, AisMessage] and f.pending == 0
    assert isinstance(out[0], Rejection) and out[0].reason is RejectReason.ORPHAN_FRAGMENT


def test_fragment_buffer_is_bounded() -> None:
    f = framer(max_partials=2)
    firsts = [with_checksum(PART1[:-5].replace(",3,A,", f",{i},A,") + ",0") for i in range(3)]
    _, rejections = f.feed_many(firsts)
    assert f.pending == 2
    assert [r.reason for r in rejections] == [RejectReason.FRAGMENT_OVERFLOW]
    assert rejections[0].line == firsts[0]


def test_flush_turns_pending_fragments_into_orphans() -> None:
    f = framer()
    f.feed_many([PART1, SINGLE])
    assert f.pending == 1 and f.stats.pending == 1
    [r] = f.flush()
    assert (r.reason, r.line, r.source) == (RejectReason.ORPHAN_FRAGMENT, PART1, "dma")
    assert f.pending == 0 and f.stats.pending == 0


# --- counting ------------------------------------------------------------------------------


def test_every_line_is_accepted_or_rejected_once(nmea_dir: Path) -> None:
    f = framer()
    lines = read(nmea_dir, "pyais/tests/mixed.txt") * 3
    messages, rejections = f.feed_many(lines)
    s = f.stats
    assert s.lines == len(lines) == s.accepted + sum(s.rejected.values()) + s.pending
    rejections += f.flush()
    assert s.lines == s.accepted + sum(s.rejected.values())
    assert len(rejections) == sum(s.rejected.values())
    assert s.messages == len(messages)
    snap = s.snapshot()
    f.feed(SINGLE)
    assert snap.lines == s.lines - 1


# --- the same answers however the lines arrive ---------------------------------------------


def _outcome(messages: list[AisMessage], rejections: list[Rejection]) -> tuple[object, ...]:
    return tuple(messages), tuple(sorted(rejections, key=lambda r: (r.line, r.reason)))


class _GeneralOnly(Framer):
    _use_fast_path = False


SHARED = [
    "dma-aislib/stream_example.txt",
    "kystverket/Ais1000Lines.nm4",
    "pyais/tests/mixed.txt",
    "pyais/tests/nmea_data_sample.txt",
    "libais/test/data/test.aivdm",
    "gfw-ais-tools/bad-type5.nmea",
]


@pytest.mark.parametrize("name", SHARED)
def test_fast_path_gives_the_general_paths_answers(nmea_dir: Path, name: str) -> None:
    lines = read(nmea_dir, name)
    fast = run(lines, framer())
    general = run(lines, _GeneralOnly(member="dk", source="dma"))
    assert _outcome(*fast) == _outcome(*general)


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_batching_does_not_change_the_outcome(nmea_dir: Path, batch: int) -> None:
    lines = read(nmea_dir, "dma-aislib/stream_example.txt")[:3000]
    lines += read(nmea_dir, "pyais/tests/nmea_data_sample.txt")
    whole = run(lines)
    f = framer()
    messages: list[AisMessage] = []
    rejections: list[Rejection] = []
    for i in range(0, len(lines), batch):
        m, r = f.feed_many(lines[i : i + batch])
        messages += m
        rejections += r
    assert _outcome(messages, rejections + f.flush()) == _outcome(*whole)


def test_crlf_and_lf_give_the_same_messages(nmea_dir: Path) -> None:
    lines = read(nmea_dir, "dma-aislib/stream_example.txt")[:200]

    def summary(ls: list[str]) -> list[tuple[object, ...]]:
        return [(m.payload, m.fill_bits, m.received_ts, m.receiver) for m in run(ls)[0]]

    assert summary([x + "\r\n" for x in lines]) == summary(lines)
    # head -200 | grep -c '^!' -> 103 sentences, of which 7 are ',2,2,' second halves
    assert len(summary(lines)) == 103 - 7


def test_fast_message_constructor_builds_an_equal_message() -> None:
    args = ("15NBj", 2, "A", "AI", 1.5, "dk", "dma", None, ("line",))
    fast = _make_message(*args)
    assert fast == AisMessage(*args) and hash(fast) == hash(AisMessage(*args))
    with pytest.raises(AttributeError):
        fast.payload = "x"  # type: ignore[misc]


# --- pyais as an independent oracle --------------------------------------------------------

AGREE_WITH_PYAIS = [
    "dma-aislib/stream_example.txt",
    "dma-aislib/decode_encode_messages.txt",
    "dma-aislib/replay_dump.txt",
    "gfw-ais-tools/multi-part.nmea",
    "gfw-ais-tools/mixed_types.nmea",
    "gfw-ais-tools/ee-multiline.nmea",
    "kystverket/Ais1000Lines.nm4",
    "libais/test/data/test.aivdm",
]


@pytest.mark.parametrize("name", AGREE_WITH_PYAIS)
def test_assembled_payloads_equal_pyais(nmea_dir: Path, name: str) -> None:
    ours, _ = run(read(nmea_dir, name))
    theirs = list(FileReaderStream(str(nmea_dir / name)))
    assert [m.payload for m in ours] == [t.payload.decode() for t in theirs]
    assert [m.channel for m in ours] == [t.channel for t in theirs]
    # fill bits: the digit before '*' of the last sentence (pyais misreads USCG lines)
    assert [m.fill_bits for m in ours] == [int(m.lines[-1].rsplit("*", 1)[0][-1]) for m in ours]


def test_a_recording_pushed_today_keeps_its_multipart_messages(nmea_dir: Path) -> None:
    """Arrival times far from the times the lines carry (an HTTP push of a 2010 recording)
    must not expire the fragments: every multi-part type 5 still completes."""
    lines = (nmea_dir / "dma-aislib" / "stream_example.txt").read_text().splitlines()
    pushed = Framer(member="m", source="push")
    messages, rejections = pushed.feed_many(lines, 1_795_000_000.0)
    rejections += pushed.flush()
    offline = Framer(member="m", source="file")
    expected, _ = offline.feed_many(lines)
    assert len(messages) == len(expected) == 4051  # PROVENANCE.md: 4,051 messages
    assert rejections == []
    assert [m.payload for m in messages] == [m.payload for m in expected]
