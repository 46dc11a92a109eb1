"""One transmission heard by several receivers counts once; repeats after the window do not."""

from __future__ import annotations

import pytest

from lookout.fusion.dedupe import Deduplicator, message_key

PAYLOAD = "13@ndh@P1a0p4oPOhN83Q2n1P000"


def test_a_copy_within_the_window_is_a_duplicate_of_the_first():
    d = Deduplicator(window_s=60.0)
    assert d.seen(PAYLOAD, 1000.0) is None
    d.add(PAYLOAD, 1000.0, "first")
    assert d.seen(PAYLOAD, 1059.0) == (1000.0, "first")
    assert d.seen(PAYLOAD, 941.0) == (1000.0, "first")  # an earlier receive time, too


def test_the_same_payload_after_the_window_is_a_new_transmission():
    d = Deduplicator(window_s=60.0)
    d.add(PAYLOAD, 1000.0, "first")
    assert d.seen(PAYLOAD, 1061.0) is None
    d.add(PAYLOAD, 1061.0, "second")
    assert d.seen(PAYLOAD, 1100.0) == (1061.0, "second")


def test_fill_bits_are_part_of_the_key():
    assert message_key(PAYLOAD, 0) == PAYLOAD
    assert message_key(PAYLOAD, 2) != message_key(PAYLOAD, 0)
    d = Deduplicator()
    d.add(message_key(PAYLOAD, 0), 0.0)
    assert d.seen(message_key(PAYLOAD, 2), 0.0) is None


def test_entries_live_at_least_one_window_and_at_most_about_two():
    d = Deduplicator(window_s=60.0)
    d.advance(0.0)
    d.add("a", 10.0, "a")
    d.advance(50.0)
    d.add("b", 50.0, "b")
    d.advance(61.0)  # rotation: a and b move to the previous generation
    assert d.seen("a", 65.0) == (10.0, "a")
    assert d.seen("b", 100.0) == (50.0, "b")
    d.advance(122.0)  # second rotation: a and b are dropped
    assert d.seen("b", 109.0) is None
    assert len(d) == 0


def test_memory_is_bounded_by_count_when_data_time_stands_still():
    d = Deduplicator(window_s=60.0, max_entries=10)
    d.advance(0.0)
    for batch in range(4):
        for i in range(5):
            d.add(f"{batch}-{i}", 0.0)
        d.advance(0.0)
    assert len(d) <= 10
    assert d.early_rotations >= 2


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        Deduplicator(window_s=0.0)
    with pytest.raises(ValueError):
        Deduplicator(max_entries=1)
