"""The bounded, expiring fragment buffer (lookout.ais.reassembly)."""

from __future__ import annotations

import pytest

from lookout.ais.reassembly import Dropped, Fragment, Reassembler
from lookout.model import RejectReason

ORPHAN = RejectReason.ORPHAN_FRAGMENT
OVERFLOW = RejectReason.FRAGMENT_OVERFLOW


def frag(number: int, total: int = 2, payload: str | None = None) -> Fragment:
    text = payload if payload is not None else f"p{number}"
    return Fragment(number, total, text, 0, "A", "AI", f"line {text}", None, None, None)


def buffer(max_fragments: int = 16, ttl_s: float = 60.0, ttl_lines: int = 100) -> Reassembler:
    return Reassembler(max_fragments=max_fragments, ttl_s=ttl_s, ttl_lines=ttl_lines)


def reasons(dropped: list[Dropped]) -> list[tuple[RejectReason, str]]:
    return [(d.reason, d.fragment.payload) for d in dropped]


def test_fragments_in_order_complete_a_message() -> None:
    r = buffer()
    assert r.add("k", None, frag(1, 3), 1, None) == (None, [])
    assert r.pending == 1
    assert r.add("k", None, frag(2, 3), 2, None) == (None, [])
    done, dropped = r.add("k", None, frag(3, 3), 3, None)
    assert [f.payload for f in done or []] == ["p1", "p2", "p3"]
    assert dropped == [] and r.pending == 0


def test_interleaved_messages_with_different_keys() -> None:
    r = buffer()
    r.add("a", None, frag(1, payload="a1"), 1, None)
    r.add("b", None, frag(1, payload="b1"), 2, None)
    done_b, _ = r.add("b", None, frag(2, payload="b2"), 3, None)
    done_a, _ = r.add("a", None, frag(2, payload="a2"), 4, None)
    assert [f.payload for f in done_b or []] == ["b1", "b2"]
    assert [f.payload for f in done_a or []] == ["a1", "a2"]


def test_fragment_without_fragment_one_is_an_orphan() -> None:
    done, dropped = buffer().add("k", None, frag(2), 1, None)
    assert done is None and reasons(dropped) == [(ORPHAN, "p2")]
    assert "without fragment 1" in dropped[0].detail


def test_out_of_order_fragment_drops_it_and_the_partial() -> None:
    r = buffer()
    r.add("k", None, frag(1, 3), 1, None)
    done, dropped = r.add("k", None, frag(3, 3), 2, None)
    assert done is None
    assert reasons(dropped) == [(ORPHAN, "p3"), (ORPHAN, "p1")]
    assert r.pending == 0
    # the late fragment 2 now has nothing to join
    _, dropped = r.add("k", None, frag(2, 3), 3, None)
    assert reasons(dropped) == [(ORPHAN, "p2")]


def test_repeated_fragment_is_rejected_and_the_partial_kept() -> None:
    r = buffer()
    r.add("k", None, frag(1, 3), 1, None)
    r.add("k", None, frag(2, 3), 2, None)
    _, dropped = r.add("k", None, frag(2, 3, "dup"), 3, None)
    assert reasons(dropped) == [(ORPHAN, "dup")] and "repeated" in dropped[0].detail
    done, _ = r.add("k", None, frag(3, 3), 4, None)
    assert [f.payload for f in done or []] == ["p1", "p2", "p3"]


def test_new_fragment_one_supersedes_the_pending_partial() -> None:
    r = buffer()
    r.add("k", None, frag(1, payload="old"), 1, None)
    _, dropped = r.add("k", None, frag(1, payload="new"), 2, None)
    assert reasons(dropped) == [(ORPHAN, "old")]
    done, _ = r.add("k", None, frag(2), 3, None)
    assert [f.payload for f in done or []] == ["new", "p2"]


def test_wrong_fragment_count_is_rejected() -> None:
    r = buffer()
    r.add("k", None, frag(1, 2), 1, None)
    _, dropped = r.add("k", None, frag(2, 3), 2, None)
    assert reasons(dropped) == [(ORPHAN, "p2")]
    assert "2-sentence" in dropped[0].detail
    done, _ = r.add("k", None, frag(2, 2, "right"), 3, None)
    assert [f.payload for f in done or []] == ["p1", "right"]


def test_overflow_evicts_oldest_partials_first() -> None:
    r = buffer(max_fragments=3)
    for i in range(3):
        r.add(i, None, frag(1, payload=f"m{i}"), i + 1, None)
    _, dropped = r.add(9, None, frag(1, payload="m9"), 5, None)
    assert reasons(dropped) == [(OVERFLOW, "m0")]
    assert r.pending == 3
    done, _ = r.add(1, None, frag(2, payload="m1b"), 6, None)
    assert [f.payload for f in done or []] == ["m1", "m1b"]


def test_overflow_never_exceeds_the_bound_for_long_messages() -> None:
    r = buffer(max_fragments=2)
    r.add("k", None, frag(1, 5), 1, None)
    r.add("k", None, frag(2, 5), 2, None)
    _, dropped = r.add("k", None, frag(3, 5), 3, None)
    # the only partial is the one being extended: it and the new fragment are dropped
    assert reasons(dropped) == [(OVERFLOW, "p1"), (OVERFLOW, "p2"), (OVERFLOW, "p3")]
    assert r.pending == 0


def test_expiry_by_line_count() -> None:
    r = buffer(ttl_lines=10)
    r.add("k", None, frag(1), 1, None)
    assert r.expire(11) == [] and r.pending == 1
    assert reasons(r.expire(12)) == [(ORPHAN, "p1")]
    _, dropped = r.add("k", None, frag(2), 13, None)
    assert reasons(dropped) == [(ORPHAN, "p2")]


def test_a_late_fragment_after_the_line_limit_is_an_orphan_too() -> None:
    r = buffer(ttl_lines=10)
    r.add("k", None, frag(1), 1, None)
    done, dropped = r.add("k", None, frag(2), 12, None)
    assert done is None
    assert reasons(dropped) == [(ORPHAN, "p1"), (ORPHAN, "p2")]


def test_expiry_by_event_time_of_the_same_station() -> None:
    r = buffer(ttl_s=60)
    r.add("k", "rA", frag(1), 1, 1000.0)
    r.observe("rB", 5000.0)  # another station's clock does not age rA's partials
    assert r.expire(2) == []
    r.observe("rA", 1060.0)
    assert r.expire(3) == []
    r.observe("rA", 1060.5)
    dropped = r.expire(4)
    assert reasons(dropped) == [(ORPHAN, "p1")] and "60 s" in dropped[0].detail


def test_fragment_joins_within_the_time_limit() -> None:
    r = buffer(ttl_s=60)
    r.add("k", "rA", frag(1), 1, 1000.0)
    r.observe("rA", 1059.0)
    done, _ = r.add("k", "rA", frag(2), 2, 1059.0)
    assert done is not None


def test_drain_reports_every_pending_fragment() -> None:
    r = buffer()
    r.add("a", None, frag(1, 3), 1, None)
    r.add("a", None, frag(2, 3), 2, None)
    r.add("b", None, frag(1, payload="b1"), 3, None)
    assert reasons(r.drain()) == [(ORPHAN, "p1"), (ORPHAN, "p2"), (ORPHAN, "b1")]
    assert r.pending == 0 and r.drain() == []


def test_max_fragments_must_be_positive() -> None:
    with pytest.raises(ValueError):
        buffer(max_fragments=0)
