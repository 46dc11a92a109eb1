"""Every NMEA file in ../shared/data/nmea: accepted lines, messages and rejects by reason.

Where the figures come from (none was copied from the framer's output):

- Line classes were counted with a separate gawk script (tag-block and sentence checksums
  recomputed with gawk's ``xor``, fragments ``N/n`` read from the fields) and with ``grep -c``;
  the counts are quoted per file below.
- Complete multi-sentence messages were counted with a second gawk script that pairs
  fragments ``1..N`` in order by ``g:`` id or by sequence id + channel.
- Cross-checks: the PROVENANCE figures (4,051 messages in stream_example.txt, 877 in
  Ais1000Lines.nm4, 100 empty payloads in nmea_data_sample.txt), the number of objects in
  libais' expected JSON files, and the number of messages pyais 3.3.1's ``FileReaderStream``
  yields (quoted as "pyais: n"; pyais checks neither sentence nor tag-block checksums, so it
  yields more on files with bad checksums).
- The reason a line gets follows the conventions documented in ``lookout.ais.nmea``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lookout.ais.framing import Framer
from lookout.model import RejectReason

E = RejectReason.EMPTY
C = RejectReason.COMMENT
F = RejectReason.BAD_FRAMING
X = RejectReason.BAD_CHECKSUM
U = RejectReason.UNSUPPORTED_SENTENCE
P = RejectReason.BAD_PAYLOAD
ORPH = RejectReason.ORPHAN_FRAGMENT

# file: (lines, accepted lines, messages, {reason: rejected lines})
EXPECTED: dict[str, tuple[int, int, int, dict[RejectReason, int]]] = {
    # 243 lines: 216 !VDM + 19 !VDO single sentences with valid checksums; 8 lines hold two
    # fragments glued by a literal "\r\n" (grep -c '\\r\\n'). pyais: 235.
    "dma-aislib/ais250.txt": (243, 235, 235, {F: 8}),
    # 556 single + 45 x (2/1, 2/2), all adjacent and in order. pyais: 601.
    "dma-aislib/decode_encode_messages.txt": (646, 646, 601, {}),
    # 57 $PGHP + 49 single + 1 pair. pyais: 50.
    "dma-aislib/replay_dump.txt": (108, 108, 50, {}),
    # 4,051 $PGHP + 3,602 single + 449 pairs; PROVENANCE: 4,051 decoded messages. pyais: 4051.
    "dma-aislib/stream_example.txt": (8551, 8551, 4051, {}),
    # g:1-2--001 and g:2-2--001 (group id "-001"): one message. pyais: 1.
    "gfw-ais-tools/bad-tagblock-group.nmea": (2, 2, 1, {}),
    # 3 lines each holding both sentences of a type 5 (GFW join_multipart form), 1 blank line,
    # 3 lines of bare payload (no NMEA framing).
    "gfw-ais-tools/bad-type5.nmea": (7, 3, 3, {E: 1, F: 3}),
    # 6 single + 2 g:-grouped pairs. pyais: 8.
    "gfw-ais-tools/ee-multiline.nmea": (10, 10, 8, {}),
    # 2 of 5 sentences have wrong checksums (gawk: *77 should be 6D, *6A should be 64).
    "gfw-ais-tools/errors.nmea": (5, 3, 3, {X: 2}),
    # 89 single + 10 pairs. pyais: 99.
    "gfw-ais-tools/mixed_types.nmea": (109, 109, 99, {}),
    # 36 pairs + 7 triples. pyais: 43.
    "gfw-ais-tools/multi-part.nmea": (93, 93, 43, {}),
    # line 1 ends in "*73'": text after the checksum.
    "gfw-ais-tools/sample.nmea": (3, 2, 2, {F: 1}),
    # sentence checksum *60, gawk computes 62.
    "gfw-ais-tools/single-message-type-5.nmea": (1, 0, 0, {X: 1}),
    # tag blocks "*00", gawk computes 0E / 6F.
    "gfw-ais-tools/spire-test.nmea": (2, 0, 0, {X: 2}),
    # 12 single (bit counts are the decoder's business) + a blank last line. pyais: 12.
    "gfw-ais-tools/type1-bad-bitcount.nmea": (13, 12, 12, {E: 1}),
    "gfw-ais-tools/type8.nmea": (2, 1, 1, {E: 1}),
    # 754 single + 123 g:-grouped pairs (their tag checksums omit g:); PROVENANCE: 877
    # decodable messages. pyais: 877.
    "kystverket/Ais1000Lines.nm4": (1000, 1000, 877, {}),
    # 3 single + 1 grouped pair; tagblock.json holds 4 objects. pyais: 4.
    "libais/test/data/tagblock.nmea": (5, 5, 4, {}),
    # grep: 263 '^!' (258 VDM + 1 VDO single, 2 pairs), 47 '^#', 35 blank (PROVENANCE says
    # 264 sentences; grep counts 263). pyais: 261.
    "libais/test/data/test.aivdm": (345, 263, 261, {C: 47, E: 35}),
    # 26 single with USCG trailers; typeexamples.json holds 26 objects. pyais: 26.
    "libais/test/data/typeexamples.nmea": (26, 26, 26, {}),
    # 4 VDM + 3 valid $PGHP; the 2009 $PGHP has checksum *17 of the 2008 one. pyais: 4.
    "pyais/examples/gatehouse.nmea": (11, 7, 4, {E: 2, C: 1, X: 1}),
    # 8 single + 1 SAVDM pair; 5 '#'; 1 blank; 'IamNotAnAisMessage1111'; bad checksums: three
    # tag blocks ending "*A", one tag block *5A (gawk: 38), the 2009 $PGHP. pyais: 12.
    "pyais/examples/sample.ais": (22, 10, 9, {C: 5, E: 1, F: 1, X: 5}),
    # 6 single + 1 pair, 1 '#'. pyais: 7.
    "pyais/tests/ais_test_messages": (9, 8, 7, {C: 1}),
    # 6 single, 2 '#', 3 blank. pyais: 6.
    "pyais/tests/messages.ais": (11, 6, 6, {C: 2, E: 3}),
    # 8 single + 2 pairs + 1 valid $PGHP; $GPGGA, $GPRTE, $GPR00, $IIMWV (valid checksums);
    # 'foobar' and 'IamNotAnAisMessage1111'; three "*A" tag blocks and the 2009 $PGHP.
    "pyais/tests/mixed.txt": (35, 13, 10, {C: 5, E: 7, U: 4, F: 2, X: 4}),
    # 778 single + 100 '!AIVDM,1,1,,B,,0*25' (PROVENANCE: 100 empty payloads) + 20 lone
    # ',2,1,' first halves (grep -c ',2,2,' finds no second half). pyais: 878 (it yields the
    # empty payloads, which then fail to decode).
    "pyais/tests/nmea_data_sample.txt": (898, 778, 778, {P: 100, ORPH: 20}),
    "pyais/tests/timestamped.ais": (11, 7, 4, {E: 2, C: 1, X: 1}),
}

SUFFIXES = (".txt", ".nmea", ".nm4", ".aivdm", ".ais")
NOT_NMEA = ("LICENSE", "NOTICE", "PROVENANCE")


def _nmea_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and (p.suffix in SUFFIXES or p.name == "ais_test_messages")
        and not p.name.startswith(NOT_NMEA)
    }


def test_every_nmea_file_has_expected_counts(nmea_dir: Path) -> None:
    assert _nmea_files(nmea_dir) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_file_counts(nmea_dir: Path, name: str) -> None:
    lines_n, accepted, messages_n, rejected = EXPECTED[name]
    lines = (nmea_dir / name).read_text(encoding="utf-8").splitlines()
    framer = Framer(member="test", source=name)
    messages, rejections = framer.feed_many(lines)
    rejections += framer.flush()
    stats = framer.stats
    assert (stats.lines, stats.accepted, len(messages)) == (lines_n, accepted, messages_n)
    assert stats.rejected == rejected
    assert stats.messages == messages_n and stats.pending == 0
    assert len(rejections) == sum(rejected.values())
    assert stats.lines == stats.accepted + sum(stats.rejected.values())
