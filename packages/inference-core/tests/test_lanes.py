"""Lanes: a call alone gets the wide runner, overlapping calls get narrow ones, never more than exist."""

from __future__ import annotations

import threading

import pytest
from inference_core.lanes import Lanes


def hold(lanes: Lanes, taken: list, release: threading.Event, got: threading.Event) -> threading.Thread:
    def worker() -> None:
        with lanes.take() as runner:
            taken.append(runner)
            got.set()
            release.wait(30)

    thread = threading.Thread(target=worker)
    thread.start()
    return thread


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_alone_wide_then_narrow_while_busy():
    clock = FakeClock()
    lanes = Lanes(wide=["wide"], narrow=["n1", "n2"], calm_seconds=1.0, clock=clock)
    with lanes.take() as first:
        assert first == "wide"
        with lanes.take() as second:
            assert second in ("n1", "n2")
            with lanes.take() as third:
                assert {second, third} == {"n1", "n2"}
    with lanes.take() as soon_after:
        assert soon_after in ("n1", "n2"), "right after calls overlapped, a lone call still gets a narrow runner"
    clock.now += 1.5
    with lanes.take() as calm:
        assert calm == "wide", "once calls have stopped overlapping, a lone call gets all cores again"


def test_steady_overlap_keeps_the_wide_runner_out():
    clock = FakeClock()
    lanes = Lanes(wide=["wide"], narrow=["n1", "n2"], calm_seconds=1.0, clock=clock)
    taken = []
    for _ in range(5):  # clients whose calls keep overlapping, with gaps when none runs
        clock.now += 0.3
        with lanes.take() as first, lanes.take() as second:
            taken += [first, second]
    assert taken[0] == "wide" and "wide" not in taken[2:]


def test_a_call_waits_for_a_free_runner_and_never_oversubscribes():
    lanes = Lanes(wide=["wide"], narrow=["narrow"], calm_seconds=0.0)
    taken: list[str] = []
    release = threading.Event()
    holders = []
    for _ in range(2):
        got = threading.Event()
        holders.append(hold(lanes, taken, release, got))
        assert got.wait(10)
    assert sorted(taken) == ["narrow", "wide"]
    waiting_got = threading.Event()
    waiter = hold(lanes, taken, threading.Event(), waiting_got)
    assert not waiting_got.wait(0.3), "a third call ran although both runners were busy"
    release.set()
    assert waiting_got.wait(10)
    for thread in holders:
        thread.join(10)
    waiter.join(10)
    assert len(taken) == 3


def test_while_narrow_runners_are_busy_the_wide_one_is_not_handed_out():
    lanes = Lanes(wide=["wide"], narrow=["narrow"], calm_seconds=0.0)
    with lanes.take():  # wide, alone
        with lanes.take() as narrow:
            assert narrow == "narrow"
    taken: list[str] = []
    release, got = threading.Event(), threading.Event()
    with lanes.take() as first:
        assert first == "wide"
        holder = hold(lanes, taken, release, got)  # takes the narrow runner
        assert got.wait(10)
    # the wide call ended but a narrow one still runs: the next call waits rather than take the
    # wide runner beside it, and once nothing runs it is alone, so it gets the wide one
    waiting_got = threading.Event()
    waiter = hold(lanes, taken, threading.Event(), waiting_got)
    assert not waiting_got.wait(0.3)
    release.set()
    assert waiting_got.wait(10)
    holder.join(10)
    waiter.join(10)
    assert taken == ["narrow", "wide"]


def test_single_shape_runners_are_used_whenever_free():
    lanes = Lanes(narrow=["a", "b"])
    with lanes.take() as first, lanes.take() as second:
        assert {first, second} == {"a", "b"}
    wide_only = Lanes(wide=["w"])
    with wide_only.take() as runner:
        assert runner == "w"
    with pytest.raises(ValueError):
        Lanes()
