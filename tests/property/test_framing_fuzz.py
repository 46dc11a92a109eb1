"""Seeded fuzz of the Framer with >= 100,000 mutated real lines.

Mutations: flipped, inserted and deleted characters, truncation, duplicated and swapped lines
(fragments out of order), random tag blocks, random fragment numbers, and checksums made
right again after a mutation so that the mutated line reaches the deeper checks.
Invariants: no exception escapes; ``pending`` never exceeds ``max_partials``; every line is
counted once (``lines == accepted + sum(rejected) + pending``, and ``pending == 0`` after
``flush``); every message has a non-empty six-bit payload and fill bits 0..5; the vector
(numpy), scalar fast and general paths give the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from lookout.ais.framing import Framer
from lookout.ais.nmea import SIXBIT_ALPHABET, checksum
from lookout.model import RejectReason

SOURCES = [
    "dma-aislib/stream_example.txt",
    "kystverket/Ais1000Lines.nm4",
    "libais/test/data/test.aivdm",
    "libais/test/data/tagblock.nmea",
    "gfw-ais-tools/multi-part.nmea",
    "gfw-ais-tools/bad-type5.nmea",
    "pyais/tests/mixed.txt",
    "pyais/examples/sample.ais",
]
ALPHABET = set(SIXBIT_ALPHABET.decode())
NOISE = "!$\\*,:-0123456789ABCDEFGHgcsn `wxé²١\t\r\x00"
OVERFLOW = RejectReason.FRAGMENT_OVERFLOW
FRAMING_REASONS = {
    RejectReason.EMPTY,
    RejectReason.COMMENT,
    RejectReason.BAD_FRAMING,
    RejectReason.BAD_CHECKSUM,
    RejectReason.MISSING_CHECKSUM,
    RejectReason.BAD_TAG_BLOCK,
    RejectReason.UNSUPPORTED_SENTENCE,
    RejectReason.BAD_PAYLOAD,
    RejectReason.BAD_FILL_BITS,
    RejectReason.ORPHAN_FRAGMENT,
    OVERFLOW,
}
TOTAL_LINES = 100_000
BATCH = 1_000


def _fix_checksums(line: str) -> str:
    """Recompute every ``*hh`` of a line whose parts look like [\\tag\\]sentence*hh."""
    out: list[str] = []
    for chunk in line.split("\\"):
        body, star, rest = chunk.partition("*")
        if not star:
            out.append(chunk)
            continue
        start = 1 if body[:1] in ("!", "$") else 0
        out.append(f"{body}*{checksum(body[start:]):02X}{rest[2:]}")
    return "\\".join(out)


def _tag_block(rng: random.Random) -> str:
    fields = []
    if rng.random() < 0.6:
        fields.append(f"c:{rng.choice([rng.randint(0, 2_000_000_000), 1418169601123, -1])}")
    if rng.random() < 0.4:
        fields.append(f"s:r{rng.randint(0, 5)}")
    if rng.random() < 0.5:
        fields.append(f"g:{rng.randint(0, 3)}-{rng.randint(0, 3)}-{rng.randint(0, 4)}")
    text = ",".join(fields) or "n:1"
    return f"\\{text}*{checksum(text):02X}\\"


def _refragment(line: str, rng: random.Random) -> str:
    parts = line.split(",")
    if len(parts) < 7:
        return line
    total = rng.randint(1, 4)
    parts[1], parts[2] = str(total), str(rng.randint(1, total))
    parts[3] = rng.choice(["", "1", "2", "3"])
    return _fix_checksums(",".join(parts))


def _mutate(line: str, rng: random.Random) -> list[str]:
    kind = rng.randrange(10)
    pos = rng.randrange(len(line) + 1)
    if kind == 0:
        return [line]
    if kind == 1:
        line = line[:pos] + rng.choice(NOISE) + line[pos + 1 :]
    elif kind == 2:
        line = line[:pos] + rng.choice(NOISE) + line[pos:]
    elif kind == 3:
        line = line[:pos] + line[pos + 1 :]
    elif kind == 4:
        line = line[:pos]
    elif kind == 5:
        return [line, line]
    elif kind == 6:
        line = _tag_block(rng) + line.split("\\")[-1]
    elif kind == 7:
        return [_refragment(line, rng)]
    elif kind == 8:
        line = line + rng.choice(["", "\\", "!", ",r1,12", "'"]) + line[: rng.randrange(20)]
    else:
        line = line[:pos] + rng.choice(NOISE) + line[pos + 1 :]
    return [_fix_checksums(line) if rng.random() < 0.5 else line]


def _corpus(nmea_dir: Path, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    real = [x for name in SOURCES for x in (nmea_dir / name).read_text().splitlines()]
    count = 0
    while count < TOTAL_LINES:
        start = rng.randrange(len(real))
        window = real[start : start + rng.randint(1, 12)]
        if rng.random() < 0.2:
            rng.shuffle(window)  # fragments out of order, interleaved messages
        for line in window:
            for out in _mutate(line, rng):
                count += 1
                yield out


class _GeneralOnly(Framer):
    _use_fast_path = False


class _LineByLine(Framer):
    """The scalar fast path, which small batches take (the default framer classifies a batch
    of 1,000 lines with numpy first)."""

    _vector_min_lines = 10**9


def _check_messages(messages: list[object]) -> None:
    for m in messages:
        payload, fill_bits = m.payload, m.fill_bits  # type: ignore[attr-defined]
        assert payload and set(payload) <= ALPHABET and 0 <= fill_bits <= 5


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "max_partials", "ttl_lines"), [(1, 4, 300), (2, 1024, 2000)])
def test_framer_survives_mutated_lines(
    nmea_dir: Path, seed: int, max_partials: int, ttl_lines: int
) -> None:
    lines = list(_corpus(nmea_dir, seed))
    assert len(lines) >= TOTAL_LINES
    fast = Framer(member="fuzz", source="f", max_partials=max_partials, partial_ttl_lines=ttl_lines)
    general = _GeneralOnly(
        member="fuzz", source="f", max_partials=max_partials, partial_ttl_lines=ttl_lines
    )
    scalar = _LineByLine(
        member="fuzz", source="f", max_partials=max_partials, partial_ttl_lines=ttl_lines
    )
    for i in range(0, len(lines), BATCH):
        batch = lines[i : i + BATCH]
        ts = 1.7e9 + i / 10 if seed % 2 == 0 else None
        out = fast.feed_many(batch, ts)
        assert out == general.feed_many(batch, ts) == scalar.feed_many(batch, ts)
        _check_messages(list(out[0]))
        s = fast.stats
        assert fast.pending <= max_partials and s.pending == fast.pending
        assert s.lines == s.accepted + sum(s.rejected.values()) + s.pending == i + len(batch)
    assert fast.flush() == general.flush() == scalar.flush()
    s = fast.stats
    assert s.pending == 0 and s.lines == s.accepted + sum(s.rejected.values())
    # the mix exercises every framing outcome (overflow needs the small buffer)
    expected = FRAMING_REASONS if max_partials < 10 else FRAMING_REASONS - {OVERFLOW}
    assert set(s.rejected) == expected and s.messages > 10_000
