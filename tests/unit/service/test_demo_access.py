"""The demo registers its members, one watch officer each and its push source in the data
dir's identity store; running it again on the same data dir gives fresh credentials and
retires the old ones."""

from __future__ import annotations

from pathlib import Path

from lookout.service.access import Access
from lookout.service.demo import PUSH_SOURCE, register_demo
from lookout.service.demo_network import DEMO_MEMBERS, demo_source_configs


def test_a_second_run_replaces_passwords_and_the_push_key(tmp_path: Path) -> None:
    sources = list(demo_source_configs())
    first_key, first_users = register_demo(tmp_path, sources, replay=False)
    second_key, second_users = register_demo(tmp_path, sources, replay=False)
    access = Access.open(tmp_path)
    try:
        assert [m.code for m in access.store.members()] == sorted(m.id for m in DEMO_MEMBERS)
        assert set(second_users) == {"phl-officer", "vnm-officer", "mys-officer",
                                     "idn-officer", "jpn-officer", "usa-officer"}  # fmt: skip
        officer = second_users["phl-officer"]
        assert (officer["member"], officer["role"]) == ("PHL-PCG", "watch_officer")
        assert access.login("phl-officer", officer["password"]) is not None
        assert access.login("phl-officer", first_users["phl-officer"]["password"]) is None
        assert access.source_for_key(first_key) is None
        pushed = access.source_for_key(second_key)
        assert pushed is not None and (pushed.member, pushed.name) == ("PHL-PCG", PUSH_SOURCE)
        releases = access.releases()
        assert len(releases) == len(sources) + 1
        registered = {(m, n): r for m, n, r in releases}
        # each receiver registered with its own release; the patrol reports go to ASEAN
        assert {(s.member, s.name): s.release for s in sources}.items() <= registered.items()
        assert registered[("PHL-PCG", PUSH_SOURCE)] == "community:asean"
        assert {"network", "owner", "members:PHL-PCG", "community:asean"} <= set(
            registered.values()
        )
    finally:
        access.close()
