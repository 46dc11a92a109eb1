"""A flood of AIS fragments from one source cannot push out another source's partial
messages: each source (and receiver) has its own bounded buffer, and the flood is counted."""

from __future__ import annotations

from functools import reduce

from pyais import encode_dict

from lookout.model import Frame
from lookout.pipeline.engine import Pipeline, PipelineConfig

NOW = 1_750_000_000.0


def _tagged(line: str, station: str) -> str:
    body = f"c:{int(NOW)},s:{station}"
    checksum = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
    return f"\\{body}*{checksum:02X}\\{line}"


def test_one_sources_fragment_flood_leaves_another_sources_partial_intact() -> None:
    pipeline = Pipeline(PipelineConfig(max_partials=100))
    first, second = encode_dict({"type": 5, "mmsi": 219000001, "shipname": "PATIENT"})
    pipeline.process([Frame(first, "VNM-VCG", "quiet", NOW, None)], now_ts=NOW)

    flood_first, _ = encode_dict({"type": 5, "mmsi": 219000002, "shipname": "FLOOD"})
    flood = [
        Frame(_tagged(flood_first, f"st{i}"), "PHL-PCG", "loud", NOW, None) for i in range(250)
    ]
    flooded = pipeline.process(flood, now_ts=NOW)
    (loud,) = [c for c in flooded.store.counts if c.source == "loud"]
    assert loud.rejected == {"fragment_overflow": 150}  # 250 partials, room for 100

    done = pipeline.process([Frame(second, "VNM-VCG", "quiet", NOW, None)], now_ts=NOW)
    assert [s.name for s in done.store.statics] == ["PATIENT"]
