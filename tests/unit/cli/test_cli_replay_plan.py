"""``lookout replay`` pacing: times read from the lines, spacing divided by --speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookout.cli.replay import plan_batches

KYST = r"\c:1565218798*53\!BSVDM,1,1,,A,13mb9U0P00PRk8fT5nw>4?wj2006,0*5D"
VDM = "!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B"


def _pghp(second: int) -> str:
    """A Gatehouse time sentence for 2010-06-11 11:46:<second>.000 with its NMEA checksum
    (XOR of the characters between ``$`` and ``*``, IEC 61162-1)."""
    body = f"PGHP,1,2010,6,11,11,46,{second},0,231,45,992190934,1,2B"
    xor = 0
    for ch in body.encode():
        xor ^= ch
    return f"${body}*{xor:02X}"


def test_spacing_is_divided_by_speed_and_untimed_lines_follow_the_last_timed_one() -> None:
    lines = [VDM, _pghp(10), VDM, _pghp(12), VDM, _pghp(20), VDM]
    plan = list(plan_batches(lines, speed=2.0, max_lines=100, window_s=0.1))
    # recorded at +0 s, +2 s, +10 s; at speed 2 due at 0, 1 and 5 s; the leading untimed
    # line goes with the first timed one, each VDM with the $PGHP before it
    assert [due for due, _ in plan] == [0.0, 1.0, 5.0]
    assert [batch for _, batch in plan] == [lines[:3], lines[3:5], lines[5:]]


def test_speed_zero_sends_in_max_line_batches_without_waiting() -> None:
    plan = list(plan_batches([KYST] * 7, speed=0.0, max_lines=3))
    assert [due for due, _ in plan] == [0.0, 0.0, 0.0]
    assert [len(batch) for _, batch in plan] == [3, 3, 1]


@pytest.mark.parametrize(
    ("relpath", "recorded_s"),
    [
        # first and last line times as written in the files: $PGHP 11:46:11.390 and
        # 11:46:38.873; tag blocks c:1565218798 and c:1565218827
        ("dma-aislib/stream_example.txt", 27.483),
        ("kystverket/Ais1000Lines.nm4", 29.0),
    ],
)
def test_a_recording_replays_in_its_recorded_time_over_speed(
    nmea_dir: Path, relpath: str, recorded_s: float
) -> None:
    lines = (nmea_dir / relpath).read_text().splitlines()
    plan = list(plan_batches(lines, speed=10.0))
    assert sum(len(batch) for _, batch in plan) == len(lines)
    last_due = plan[-1][0]  # a batch goes out when its first line is due (window 0.1 s)
    assert recorded_s / 10 - 0.1 <= last_due <= recorded_s / 10
