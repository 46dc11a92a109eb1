"""The demo network: the members the demo promises, receivers the simulator and sources share."""

from __future__ import annotations

from lookout.service.demo_network import (
    DEMO_MEMBERS,
    demo_receivers,
    demo_source_configs,
    demo_targets,
)


def test_the_six_members_of_the_demo() -> None:
    assert {m.id: m.country for m in DEMO_MEMBERS} == {
        "PHL-PCG": "PHL",
        "VNM-VCG": "VNM",
        "MYS-MMEA": "MYS",
        "IDN-BAKAMLA": "IDN",
        "JPN-JCG": "JPN",
        "USA-USCG": "USA",
    }
    assert all(1 <= len(m.receivers) <= 3 for m in DEMO_MEMBERS)


def test_receiver_ids_are_unique_and_fit_a_tag_block_source_field() -> None:
    ids = [r.id for m in DEMO_MEMBERS for r in m.receivers]
    assert len(ids) == len(set(ids))
    # NMEA 4.0 "s:" source identification: at most 15 characters, no tag-block delimiters
    assert all(len(i) <= 15 and not set(i) & set(",*\\:") for i in ids)


def test_both_transports_and_every_receiver_kind_are_exercised() -> None:
    receivers = [r for m in DEMO_MEMBERS for r in m.receivers]
    assert {r.transport for r in receivers} == {"udp", "tcp"}
    assert {r.kind for r in receivers} == {"coastal", "vessel", "satellite"}
    for r in receivers:
        assert (r.range_nm is None) == (r.kind == "satellite")
        assert bool(r.patrol) == (r.kind == "vessel")


def test_simulator_receivers_and_sources_line_up() -> None:
    receivers = demo_receivers()
    configs = demo_source_configs()
    assert [r.id for r in receivers] == [c.name for c in configs]
    for r, c in zip(receivers, configs, strict=True):
        assert c.member == r.member and c.receiver == r.id
        assert c.simulated and c.port == 0
        assert c.kind in ("udp", "tcp-server")
    bound = {c.name: ("127.0.0.1", 40000 + i) for i, c in enumerate(configs)}
    targets = demo_targets(bound)
    assert set(targets) == set(bound)
    kinds = {c.name: c.kind for c in configs}
    assert all((t.transport == "udp") == (kinds[rid] == "udp") for rid, t in targets.items())
