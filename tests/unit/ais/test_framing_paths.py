"""The framer's three paths give the same answers: vector (numpy, whole batches), scalar
(line by line, for small batches) and general (``parse_line`` for every line, the reference).

The vector path takes plain ``!..VDM`` / ``$PGHP`` lines and plain two-sentence messages and
leaves every other line to the scalar paths; the lines below sit on the edges of "plain":
every field varied (talker, sentence counts, sequence id, channel, payload, fill bits, checksum
spelling, every ``$PGHP`` date and time field), with the checksum recomputed so the mutated
line reaches the deeper checks.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from lookout.ais.framing import Framer, _batch_text
from lookout.ais.linescan import OTHER, PAIR, PGHP, VDM, scan_lines
from lookout.ais.nmea import SIXBIT_ALPHABET, checksum
from lookout.ais.types import AisMessage
from lookout.model import Rejection

ARMOUR = SIXBIT_ALPHABET.decode()


class Vector(Framer):
    _vector_min_lines = 1


class Scalar(Framer):
    _vector_min_lines = 10**9


class General(Framer):
    _use_fast_path = False


def outcome(
    framer: Framer, lines: list[str], batch: int, received_ts: float | None
) -> tuple[object, ...]:
    messages: list[AisMessage] = []
    rejections: list[Rejection] = []
    for i in range(0, len(lines), batch):
        m, r = framer.feed_many(lines[i : i + batch], received_ts)
        messages += m
        rejections += r
    rejections += framer.flush()
    return messages, rejections, framer.stats


def same_everywhere(lines: list[str], batch: int, received_ts: float | None, **kw: int) -> None:
    general = outcome(General(member="m", source="s", **kw), lines, batch, received_ts)
    assert outcome(Vector(member="m", source="s", **kw), lines, batch, received_ts) == general
    assert outcome(Scalar(member="m", source="s", **kw), lines, batch, received_ts) == general


def shared_files(nmea_dir: Path) -> list[Path]:
    """Every data file under ``nmea_dir`` (not the licences and provenance notes)."""
    return sorted(
        p for p in nmea_dir.rglob("*")
        if p.is_file() and p.suffix != ".md" and not p.name.startswith(("LICENSE", "NOTICE"))
    )  # fmt: skip


@pytest.mark.parametrize("batch", [24, 2000])
@pytest.mark.parametrize("received_ts", [None, 1_700_000_000.0])
def test_every_shared_file_frames_the_same_on_every_path(
    nmea_dir: Path, batch: int, received_ts: float | None
) -> None:
    files = shared_files(nmea_dir)
    assert len(files) > 20
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        same_everywhere(lines, batch, received_ts)


# -- lines on the edges of the vector path's checks -------------------------------------------


def _with_checksum(body: str, rng: random.Random) -> str:
    """``body*hh``: mostly the right checksum (either case), sometimes a wrong one."""
    value = checksum(body[1:])
    roll = rng.random()
    if roll < 0.08:
        value ^= 1 << rng.randrange(8)
    digits = f"{value:02X}" if roll < 0.8 else f"{value:02x}"
    if 0.9 < roll < 0.93:
        digits = digits[0] + digits[1].lower()
    return f"{body}*{digits}"


def _pick(rng: random.Random, common: str, *odd: str, rate: float = 0.15) -> str:
    return common if rng.random() >= rate else rng.choice(odd)


def _vdm(
    rng: random.Random, total: str = "1", number: str = "1", seq: str = "", rate: float = 0.15
) -> str:
    payload = "".join(rng.choice(ARMOUR) for _ in range(rng.choice([28, 28, 28, 1, 60])))
    if rng.random() < 0.05:
        k = rng.randrange(len(payload))
        payload = payload[:k] + rng.choice(",*!\\ Xé²") + payload[k + 1 :]
    body = ",".join(
        [
            "!"
            + _pick(rng, "AI", "BS", "--", "ai", "A!", "A", "AIS", rate=rate)
            + _pick(rng, "VDM", "VDO", "VDX", rate=rate),
            _pick(rng, total, "0", "3", "12", "", rate=rate),
            _pick(rng, number, "0", "3", "", rate=rate),
            _pick(rng, seq, "", "7", "10", "a", rate=rate),
            _pick(rng, "A", "B", "", "z", "9", "AB", "*", rate=rate),
            _pick(rng, payload, "", rate=rate),
            _pick(rng, "0", "2", "5", "6", "-1", "", rate=rate),
        ]
    )  # fmt: skip
    return _with_checksum(body, rng)


def _pghp(rng: random.Random) -> str:
    fields = [
        "$PGHP",
        _pick(rng, "1", "2", ""),
        _pick(rng, "2012", "2011", "0", "0001", "9999", "10000", "+201", " 2012", "２０１２"),
        _pick(rng, str(rng.randint(1, 12)), "0", "13", "02", "2", ""),
        _pick(rng, str(rng.randint(1, 28)), "29", "30", "31", "0", "32", "007"),
        _pick(rng, str(rng.randint(0, 23)), "24", "-1", "00"),
        _pick(rng, str(rng.randint(0, 59)), "60", "5 "),
        _pick(rng, str(rng.randint(0, 59)), "60", "61", "1_0"),
        _pick(rng, str(rng.randint(0, 999)), "1000", "0999", "", "01"),
        "219",
        _pick(rng, "45", "", "4,5"),
        _pick(rng, str(rng.randint(2_000_000, 992_999_999)), "", "r*1", "a\\b"),
        "1",
        _pick(rng, "2B", "", "2B2", "*"),
    ]
    return _with_checksum(",".join(fields), rng)


def _near_misses(rng: random.Random, count: int) -> list[str]:
    lines: list[str] = []
    while len(lines) < count:
        roll = rng.random()
        if roll < 0.35:
            lines.append(_pghp(rng))
        elif roll < 0.75:
            lines.append(_vdm(rng))
        elif roll < 0.9:  # a two-sentence message, its halves matching or not
            seq = rng.choice("0123")
            other = rng.choice([seq] * 5 + ["9"])
            lines += [_vdm(rng, "2", "1", seq, 0.02), _vdm(rng, "2", "2", other, 0.02)]
        else:
            line = _vdm(rng) if rng.random() < 0.5 else _pghp(rng)
            lines.append(rng.choice([" ", "", "#", "\\s:r1*5C\\"]) + line + rng.choice(["", " "]))
    return lines


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_near_misses_frame_the_same_on_every_path(seed: int) -> None:
    rng = random.Random(seed)
    lines = _near_misses(rng, 6_000)
    kinds = Counter(scan_lines(lines, _batch_text(lines)[1], None).kinds.tolist())
    assert all(kinds[kind] > 200 for kind in (OTHER, VDM, PGHP, PAIR)), kinds
    for batch, received_ts in ((1000, None), (37, 1_330_000_000.0), (250, None)):
        same_everywhere(lines, batch, received_ts)


def test_plain_pairs_join_like_the_reassembler_whatever_is_pending() -> None:
    rng = random.Random(5)
    first, second = _vdm_pair(rng, "1")
    lone = _vdm_pair(rng, "2")[0]  # fragment 1 of another message, never completed
    lines = [lone, first, second, first, second, lone] * 20 + [first, second] * 20
    for kw in ({}, {"partial_ttl_lines": 0}, {"partial_ttl_lines": 1}, {"max_partials": 1}):
        same_everywhere(lines, 50, None, **kw)
        same_everywhere(lines, 50, 1_700_000_000.0, **kw)


def _vdm_pair(rng: random.Random, seq: str) -> tuple[str, str]:
    payload = "".join(rng.choice(ARMOUR) for _ in range(71))
    first = _with_checksum(f"!AIVDM,2,1,{seq},A,{payload[:60]},0", random.Random(0))
    second = _with_checksum(f"!AIVDM,2,2,{seq},A,{payload[60:]},2", random.Random(0))
    return first, second


def test_lines_with_a_line_break_or_no_ascii_inside_frame_the_same() -> None:
    rng = random.Random(9)
    lines = _near_misses(rng, 200)
    lines[10] = lines[10][:5] + "\n" + lines[10][5:]
    lines[20] = lines[20] + "\n"
    lines[30] = "!AIVDM,1,1,,A,13aé,0*00"
    same_everywhere(lines, 100, None)
