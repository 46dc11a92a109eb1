"""Line conventions of lookout.ais.nmea: checksums, tag blocks, $PGHP, USCG trailers, fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lookout.ais.nmea import (
    NmeaError,
    checksum,
    is_valid_payload,
    parse_line,
    parse_pghp_time,
    parse_tag_block,
    parse_uscg_trailer,
    prefix_xor,
)
from lookout.model import RejectReason


def _reason(line: str) -> RejectReason:
    with pytest.raises(NmeaError) as caught:
        parse_line(line)
    return caught.value.reason


def _with_checksum(body: str) -> str:
    """A sentence with a correct checksum, for hand-made edge cases."""
    return f"{body}*{checksum(body[1:]):02X}"


# --- checksums -------------------------------------------------------------------------------


def test_checksum_matches_the_checksums_written_in_a_real_stream(nmea_dir: Path) -> None:
    lines = (nmea_dir / "dma-aislib/stream_example.txt").read_text().splitlines()[:400]
    for line in lines:
        body, _, hh = line.partition("*")
        assert checksum(body[1:]) == int(hh[:2], 16), line


def test_prefix_xor_gives_the_checksum_of_any_slice() -> None:
    text = "AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0"
    prefix = prefix_xor(text)
    for a, b in [(0, len(text)), (3, 17), (10, 10), (0, 1)]:
        assert prefix[a] ^ prefix[b] == checksum(text[a:b])


def test_a_line_with_one_altered_character_fails_its_checksum(nmea_dir: Path) -> None:
    line = (nmea_dir / "pyais/tests/messages.ais").read_text().splitlines()[2]
    assert parse_line(line).sentences[0].payload == "16:=?;0P00`SstvFnFbeGH6L088h"
    altered = line.replace("16:=?;", "16:=?<", 1)
    assert _reason(altered) is RejectReason.BAD_CHECKSUM


def test_checksum_digits_may_be_lower_case() -> None:
    line = "!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B"
    assert parse_line(line[:-1] + "b").sentences == parse_line(line).sentences


def test_a_sentence_without_checksum_is_missing_checksum() -> None:
    assert _reason("!AIVDM,1,1,,B,15N4cJ005Jrek0H@9nDW5608EP,0") is RejectReason.MISSING_CHECKSUM


def test_a_malformed_checksum_field_is_bad_checksum() -> None:
    assert _reason("!AIVDM,1,1,,B,15N4cJ005Jrek0H@9nDW5608EP,0*4") is RejectReason.BAD_CHECKSUM


# --- VDM/VDO fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,6", RejectReason.BAD_FILL_BITS),
        ("!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,", RejectReason.BAD_FILL_BITS),
        ("!AIVDM,1,1,,B,,0", RejectReason.BAD_PAYLOAD),
        # 'X' (88) and 'x' (120) lie just outside the six-bit alphabet (48-87, 96-119)
        ("!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0X,0", RejectReason.BAD_PAYLOAD),
        ("!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0x,0", RejectReason.BAD_PAYLOAD),
        ("!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M", RejectReason.BAD_FRAMING),
        ("!AIVDM,1,1,,B,15NBj>PP,1gG>1PVKTDTUJOv00<0M,0", RejectReason.BAD_FRAMING),
        ("!AIVDM,3,4,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0", RejectReason.BAD_FRAMING),
        ("!AIVDM,0,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0", RejectReason.BAD_FRAMING),
        ("!AIVDM,1,1,12,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0", RejectReason.BAD_FRAMING),
        ("!AIVDM,1,1,,AB,15NBj>PP1gG>1PVKTDTUJOv00<0M,0", RejectReason.BAD_FRAMING),
        ("!AIABM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0", RejectReason.UNSUPPORTED_SENTENCE),
        ("!AIVDMX,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0", RejectReason.UNSUPPORTED_SENTENCE),
    ],
)
def test_bad_fields_are_rejected_with_their_reason(body: str, reason: RejectReason) -> None:
    assert _reason(_with_checksum(body)) is reason


def test_payload_alphabet_boundaries_follow_itu_m1371() -> None:
    # ITU-R M.1371 armouring: values 0-39 -> ASCII 48-87, values 40-63 -> ASCII 96-119
    assert is_valid_payload("0W`w")
    for outside in ("/", "X", "_", "x", "é", ""):
        assert not is_valid_payload("0" + outside if outside else "")


def test_talkers_other_than_ai_are_accepted(nmea_dir: Path) -> None:
    text = (nmea_dir / "dma-aislib/stream_example.txt").read_text()
    by_address = {line.split(",")[0]: line for line in text.splitlines() if line[0] == "!"}
    assert {"!AIVDM", "!BSVDM", "!ABVDM", "!AIVDO", "!--VDM"} <= set(by_address)
    for address, line in by_address.items():
        assert parse_line(line).sentences[0].talker == address[1:3]


def test_non_ais_sentences_are_unsupported(nmea_dir: Path) -> None:
    lines = (nmea_dir / "pyais/tests/mixed.txt").read_text().splitlines()
    gga = next(line for line in lines if line.startswith("$GPGGA"))
    assert _reason(gga) is RejectReason.UNSUPPORTED_SENTENCE


def test_blank_and_comment_lines_have_their_own_reasons() -> None:
    assert _reason("") is RejectReason.EMPTY
    assert _reason("  \r") is RejectReason.EMPTY
    assert _reason("# a comment") is RejectReason.COMMENT
    assert _reason("IamNotAnAisMessage1111") is RejectReason.BAD_FRAMING


def test_surrounding_whitespace_and_crlf_are_ignored() -> None:
    line = "!AIVDM,1,1,,A,16:=?;0P00`SstvFnFbeGH6L088h,0*44"
    assert parse_line(f"  {line}\r\n").sentences == parse_line(line).sentences


# --- tag blocks ------------------------------------------------------------------------------


def test_tag_blocks_match_libais_expected_values(nmea_dir: Path) -> None:
    """libais ships the parsed tag blocks of tagblock.nmea as JSON (one object per message)."""
    data = nmea_dir / "libais/test/data"
    expected = [json.loads(x) for x in (data / "tagblock.json").read_text().splitlines() if x]
    lines = (data / "tagblock.nmea").read_text().splitlines()
    singles = [parse_line(line) for line in lines if ",1,1," in line]
    for parsed, want in zip(singles, [e for e in expected if e["type"] == 1], strict=True):
        stamp = datetime.fromisoformat(want["tagblock_timestamp"].replace("Z", "+00:00"))
        assert parsed.received_ts == stamp.timestamp()
        assert parsed.receiver == want["tagblock_station"]
    first = parse_line(lines[0])
    type5 = next(e for e in expected if e["type"] == 5)
    assert first.sentences[0].group_id == str(type5["tagblock_group"]["id"])
    assert first.receiver == type5["tagblock_station"]


def test_tag_block_c_in_milliseconds(nmea_dir: Path) -> None:
    line = (nmea_dir / "gfw-ais-tools/sample.nmea").read_text().splitlines()[1]
    parsed = parse_line(line)
    # c:1599239587658 is in ms (> 1e11); the same instant in seconds is 1599239587.658
    assert parsed.received_ts == pytest.approx(1599239587.658)
    assert parsed.receiver == "sdr-experiments"


def test_tag_block_fields() -> None:
    tag = parse_tag_block(_tag("g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01"))
    assert (tag.group_number, tag.group_total, tag.group_id) == (1, 2, "1604")
    # GFW writes group ids with an extra dash (bad-tagblock-group.nmea); the id is "-001"
    assert parse_tag_block(_tag("g:1-2--001,c:1326055296")).group_id == "-001"


def _tag(fields: str) -> str:
    return f"{fields}*{checksum(fields):02X}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("c:1418169601", RejectReason.MISSING_CHECKSUM),
        ("c:1418169601*00", RejectReason.BAD_CHECKSUM),
        ("c:1418169601*A", RejectReason.BAD_CHECKSUM),
        (_tag("c:14181x9601"), RejectReason.BAD_TAG_BLOCK),
        (_tag("c:-5"), RejectReason.BAD_TAG_BLOCK),
        (_tag("c1418169601"), RejectReason.BAD_TAG_BLOCK),
        (_tag("g:2-1-1"), RejectReason.BAD_TAG_BLOCK),
        (_tag("g:1-2"), RejectReason.BAD_TAG_BLOCK),
        (_tag("g:x-2-5"), RejectReason.BAD_TAG_BLOCK),
    ],
)
def test_bad_tag_blocks(content: str, reason: RejectReason) -> None:
    with pytest.raises(NmeaError) as caught:
        parse_tag_block(content)
    assert caught.value.reason is reason
    line = f"\\{content}\\!AIVDM,1,1,,A,16:=?;0P00`SstvFnFbeGH6L088h,0*44"
    assert _reason(line) is reason


def test_kystverket_group_checksum_quirk_is_accepted_only_as_is(nmea_dir: Path) -> None:
    lines = (nmea_dir / "kystverket/Ais1000Lines.nm4").read_text().splitlines()
    grouped = [line for line in lines if line.startswith("\\g:")]
    assert len(grouped) == 246  # grep -c '^\\g:' Ais1000Lines.nm4
    # the checksum *53 is that of "c:1565218798" alone, not of "g:...,c:1565218798"
    assert checksum("c:1565218798") == 0x53
    assert all(parse_line(line).sentences for line in grouped)
    altered = grouped[0].replace("c:1565218798", "c:1565218799", 1)
    assert _reason(altered) is RejectReason.BAD_CHECKSUM


def test_tag_block_without_sentence_is_bad_framing() -> None:
    assert _reason("\\" + _tag("g:2-2-1278") + "\\") is RejectReason.BAD_FRAMING


def test_unterminated_tag_block() -> None:
    assert _reason("\\" + _tag("c:1418169601")) is RejectReason.BAD_TAG_BLOCK


# --- several sentences on one line -----------------------------------------------------------


def test_gfw_joined_lines_give_the_payloads_the_file_lists(nmea_dir: Path) -> None:
    """bad-type5.nmea lists, after a blank line, the joined payload of each joined line."""
    lines = (nmea_dir / "gfw-ais-tools/bad-type5.nmea").read_text().splitlines()
    joined, expected = lines[:3], lines[4:]
    for line, payload in zip(joined, expected, strict=True):
        parsed = parse_line(line)
        assert len(parsed.sentences) == 2
        assert "".join(s.payload for s in parsed.sentences) == payload
    # the first part's c: and s: are the line's
    assert parse_line(joined[0]).received_ts == 1698785948
    assert parse_line(joined[0]).receiver == "rMT2083"


def test_joined_sentences_that_are_not_one_message_are_bad_framing() -> None:
    one = "!AIVDM,1,1,,A,16:=?;0P00`SstvFnFbeGH6L088h,0*44"
    assert _reason(one + one) is RejectReason.BAD_FRAMING  # two complete messages
    part2 = _with_checksum("!AIVDM,2,2,3,A,888888888888880,2")
    part1 = _with_checksum(
        "!AIVDM,2,1,3,A,56=nR7D00003A<I@E=@TmDh637OS60mA:222220N1@6427?P00888888,0"
    )
    assert _reason(part2 + part1) is RejectReason.BAD_FRAMING  # out of order
    assert len(parse_line(part1 + part2).sentences) == 2


def test_escaped_line_break_inside_a_line_is_bad_framing(nmea_dir: Path) -> None:
    lines = (nmea_dir / "dma-aislib/ais250.txt").read_text().splitlines()
    escaped = [line for line in lines if "\\r\\n" in line]
    assert len(escaped) == 8  # grep -c '\\r\\n' ais250.txt
    assert {_reason(line) for line in escaped} == {RejectReason.BAD_FRAMING}


# --- trailers and $PGHP ----------------------------------------------------------------------


def test_uscg_trailer_gives_receiver_and_time(nmea_dir: Path) -> None:
    line = (nmea_dir / "libais/test/data/typeexamples.nmea").read_text().splitlines()[0]
    parsed = parse_line(line)
    assert parsed.receiver == "r003669946"
    assert parsed.received_ts == 1325394060
    # the t050056.00 field is the receiver's hhmmss; the epoch agrees within a few seconds
    stamp = datetime.fromtimestamp(1325394060, tz=UTC)
    assert (stamp.hour, stamp.minute) == (5, 1) and abs(stamp.second + 60 - 56) <= 5


def test_uscg_trailer_with_basestation_field(nmea_dir: Path) -> None:
    line = next(
        x
        for x in (nmea_dir / "libais/test/data/test.aivdm").read_text().splitlines()
        if x.startswith("!")
    )
    assert line.endswith(",b003669794,1272412827")
    parsed = parse_line(line)
    assert (parsed.receiver, parsed.received_ts) == ("b003669794", 1272412827)


def test_trailer_without_receiver_carries_nothing() -> None:
    assert parse_uscg_trailer("1276256770") == (None, None)
    assert parse_uscg_trailer("d-109,S2105,rCUDJOE_99,1272412827") == ("rCUDJOE_99", 1272412827)


def test_other_text_after_checksum_is_bad_framing(nmea_dir: Path) -> None:
    line = (nmea_dir / "gfw-ais-tools/sample.nmea").read_text().splitlines()[0]
    assert line.endswith("*73'")
    assert _reason(line) is RejectReason.BAD_FRAMING
    assert parse_line(line[:-1]).sentences


def test_pghp_times_fall_inside_the_documented_window(nmea_dir: Path) -> None:
    """PROVENANCE: stream_example.txt covers 2010-06-11 11:46:10-11:46:39 UTC."""
    start = datetime(2010, 6, 11, 11, 46, 10, tzinfo=UTC).timestamp()
    lines = (nmea_dir / "dma-aislib/stream_example.txt").read_text().splitlines()
    times = [parse_line(line).received_ts for line in lines if line.startswith("$PGHP")]
    assert len(times) == 4051
    assert all(t is not None and start <= t < start + 30 for t in times)


def test_pghp_fields() -> None:
    line = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"
    parsed = parse_line(line)
    assert parsed.is_pghp and parsed.sentences == ()
    assert parsed.received_ts == datetime(2010, 6, 11, 11, 46, 11, 390000, UTC).timestamp()
    assert parsed.receiver == "992190934"
    assert parse_line("$PGHP,1,2010,6,11,11,46,11,874,276,0,,1,55*2C").receiver is None


@pytest.mark.parametrize(
    "body",
    [
        "$PGHP,1,2010,13,11,11,46,11,390,231,45,992190934,1,2B",
        "$PGHP,1,2010,6,11,11,46,11,1390,231,45,992190934,1,2B",
        "$PGHP,1,2010,6,11,11,46,11",
    ],
)
def test_bad_pghp_is_bad_framing(body: str) -> None:
    assert _reason(_with_checksum(body)) is RejectReason.BAD_FRAMING


def test_pghp_of_another_type_is_unsupported() -> None:
    body = "$PGHP,2,2010,6,11,11,46,11,390,231,45,992190934,1,2B"
    assert _reason(_with_checksum(body)) is RejectReason.UNSUPPORTED_SENTENCE


def test_parse_pghp_time_rejects_impossible_dates() -> None:
    with pytest.raises(NmeaError):
        parse_pghp_time(["$PGHP", "1", "2010", "2", "30", "0", "0", "0", "0"])
