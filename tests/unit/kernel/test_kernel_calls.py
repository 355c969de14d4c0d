"""call_at calls are plain queue entries, ordered exactly like SimPy events."""

from __future__ import annotations

import pytest

from exchange_sim.kernel.environment import Phase, PhasedEnvironment


def test_a_call_is_queued_as_a_tuple_not_an_event():
    """call_at puts (callback, payload) in the queue: no SimPy event object is built."""
    env = PhasedEnvironment()
    env.call_at(5, Phase.MATCH, print, "x")
    ((time, phase, _, entry),) = env._queue
    assert (time, phase, entry) == (5, Phase.MATCH, (print, "x"))


def test_calls_and_process_wakeups_interleave_in_scheduling_order():
    """At one instant and phase, calls and a process's timeout run in the order scheduled."""
    env = PhasedEnvironment()
    seen = []

    def proc():
        yield env.at(10, Phase.AGENT)
        seen.append("process")

    env.call_at(10, Phase.AGENT, seen.append, "call before")
    env.process(proc())  # its start runs at 0 (URGENT); it then schedules its timeout
    env.run(until=1)
    env.call_at(9, Phase.AGENT, seen.append, "call after")
    env.call_at(9, Phase.MATCH, seen.append, "earlier phase")
    env.run()
    assert seen == ["earlier phase", "call before", "process", "call after"]


def test_run_until_stops_before_calls_at_that_instant_and_resumes_them():
    """run(until=t) leaves calls scheduled at t for the next run, like SimPy events."""
    env = PhasedEnvironment()
    seen = []
    for t in (4, 5, 6):
        env.call_at(t, Phase.INDEX, seen.append, t)
    env.run_until(5)
    assert (seen, env.now) == ([4], 5)
    env.run()
    assert seen == [4, 5, 6]


def test_run_until_an_event_returns_its_value():
    """run(until=event) returns the event's value once it fires, as SimPy does."""
    env = PhasedEnvironment()
    done = env.event()
    env.call_at(3, Phase.MARK, lambda _p: done.succeed("v"))
    env.call_at(7, Phase.MARK, lambda _p: None)
    assert env.run(until=done) == "v"
    assert env.now == 3


def test_a_failed_event_crashes_the_run():
    """An event that fails and is not defused raises out of run(), as in SimPy."""
    env = PhasedEnvironment()
    env.call_at(1, Phase.MATCH, lambda _p: env.event().fail(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        env.run()


def test_run_until_past_the_last_event_raises_when_the_until_event_never_fires():
    """Running until an event that never fires raises once the queue is empty."""
    env = PhasedEnvironment()
    env.call_at(1, Phase.MATCH, lambda _p: None)
    with pytest.raises(RuntimeError, match="No scheduled events left"):
        env.run(until=env.event())


def test_entries_queued_later_with_reserved_ids_run_where_queuing_them_now_would():
    """Ids taken by reserve_queue_ids sort a later call_at_id exactly where a call_at made at
    the reservation would have: before a same-instant, same-phase call queued after the
    reservation but before the entry itself."""
    env = PhasedEnvironment()
    seen = []
    first = env.reserve_queue_ids(2)
    env.call_at(5, Phase.AGENT, seen.append, "queued after the reservation")
    env.call_at_id(5, Phase.AGENT, first + 1, seen.append, "second reserved")
    env.call_at_id(5, Phase.AGENT, first, seen.append, "first reserved")
    env.run()
    assert seen == ["first reserved", "second reserved", "queued after the reservation"]
