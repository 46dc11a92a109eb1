"""Where the policy comes from: releases that change while a server runs, the agreement file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from lookout.model import TrackPoint
from lookout.service.sharing import PolicySource, SharingFileError, read_agreement

MEMBERS = ("AAA-CG", "BBB-CG", "CCC-CG")
RELEASES = ("network", "owner", "members:BBB-CG", "members:CCC-CG", "community:ab")
NOW = 1_800_000_000.0


def point(member: str, source: str) -> TrackPoint:
    return TrackPoint(1, 0, NOW - 10, 1.0, 1.0, None, None, None, member, source, ())


class ReleasesChangeWhileServing(RuleBasedStateMachine):
    """Releases change between reads (``lookout sources release`` beside a running server):
    every read answers under the release in force at that moment, never an older one."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[tuple[str, str], str] = {}
        self.source = PolicySource(lambda: [(m, s, r) for (m, s), r in self.rows.items()],
                                   refresh_s=0.0)  # fmt: skip

    @rule(member=st.sampled_from(MEMBERS), name=st.sampled_from(["a", "b"]),
          release=st.sampled_from(RELEASES))  # fmt: skip
    def set_release(self, member: str, name: str, release: str) -> None:
        self.rows[(member, name)] = release

    @rule(member=st.sampled_from(MEMBERS), name=st.sampled_from(["a", "b"]))
    def withdraw(self, member: str, name: str) -> None:
        self.rows.pop((member, name), None)

    @invariant()
    def reads_follow_the_release_in_force(self) -> None:
        policy = self.source.policy()
        for (member, name), release in self.rows.items():
            for viewer in MEMBERS:
                seen = policy.point_view(viewer, point(member, name), NOW) is not None
                expected = (
                    viewer == member or release == "network" or release == f"members:{viewer}"
                )  # "community:ab" names a community the agreement does not define: nobody
                assert seen == expected, (member, name, release, viewer)
        for viewer in MEMBERS:  # a source with no release (withdrawn) stays with its owner
            assert policy.point_view(viewer, point("AAA-CG", "gone"), NOW) is None or (
                viewer == "AAA-CG"
            )


ReleasesChangeWhileServing.TestCase.settings = settings(max_examples=60, deadline=None)
test_releases_change_while_serving = ReleasesChangeWhileServing.TestCase


def test_an_agreement_file_change_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "sharing.toml"
    path.write_text('[communities]\nab = ["AAA-CG", "BBB-CG"]\n')
    source = PolicySource(lambda: [("AAA-CG", "a", "community:ab")], path, refresh_s=0.0)
    assert source.policy().point_view("BBB-CG", point("AAA-CG", "a"), NOW) is not None
    path.write_text('[communities]\nab = ["AAA-CG", "CCC-CG"]\n')
    os.utime(path, ns=(1, 10**18))  # a new modification time, as an edit gives
    assert source.policy().point_view("BBB-CG", point("AAA-CG", "a"), NOW) is None


def test_a_bad_agreement_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "sharing.toml"
    path.write_text('[[sources]]\nmember = "AAA-CG"\nname = "a"\nrelease = "everyone"\n')
    with pytest.raises(SharingFileError, match=r"sharing.toml: \[\[sources\]\] entry 1"):
        read_agreement(path)
    path.write_text('[[sources]]\nmember = "AAA-CG"\nname = "a"\ndelay_s = { "*" = -5 }\n')
    with pytest.raises(SharingFileError, match="numbers >= 0"):
        read_agreement(path)
    path.write_text("[communities\n")
    with pytest.raises(SharingFileError, match=r"sharing\.toml"):
        PolicySource(lambda: [], path)
