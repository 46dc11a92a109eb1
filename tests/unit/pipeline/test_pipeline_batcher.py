"""The micro-batch closing rule, driven by a fake clock."""

from __future__ import annotations

import pytest

from lookout.pipeline.batcher import MicroBatcher


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_closes_when_it_reaches_max_lines():
    batcher: MicroBatcher[str] = MicroBatcher(max_lines=5, max_wait_s=0.05)
    clock = FakeClock()
    assert batcher.add("a", 2, clock()) is None
    assert batcher.add("b", 2, clock()) is None
    assert batcher.add("c", 1, clock()) == ["a", "b", "c"]
    assert len(batcher) == 0 and batcher.lines == 0


def test_a_batch_is_due_max_wait_after_its_first_item():
    batcher: MicroBatcher[str] = MicroBatcher(max_lines=100, max_wait_s=0.5)
    clock = FakeClock()
    assert not batcher.due(clock())
    assert batcher.time_left(clock()) is None
    batcher.add("a", 1, clock())
    clock.now += 0.25
    batcher.add("b", 1, clock())
    assert not batcher.due(clock())
    assert batcher.time_left(clock()) == pytest.approx(0.25)
    clock.now += 0.25
    assert batcher.due(clock())
    assert batcher.time_left(clock()) == 0.0
    assert batcher.take() == ["a", "b"]
    assert not batcher.due(clock() + 10)


def test_the_age_restarts_with_the_next_batch():
    batcher: MicroBatcher[int] = MicroBatcher(max_lines=2, max_wait_s=1.0)
    clock = FakeClock()
    batcher.add(1, 2, clock())  # closes at once
    clock.now += 5.0
    batcher.add(2, 1, clock())
    assert not batcher.due(clock())


def test_an_item_larger_than_max_lines_is_a_batch_of_its_own():
    batcher: MicroBatcher[str] = MicroBatcher(max_lines=10)
    assert batcher.add("big", 50, 0.0) == ["big"]


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        MicroBatcher(max_lines=0)
    with pytest.raises(ValueError):
        MicroBatcher(max_wait_s=-1.0)
