"""The phased kernel: same-instant ordering follows named phases."""

from __future__ import annotations

import itertools

from exchange_sim.kernel.environment import Phase, PhasedEnvironment


def _record_order(schedule_order):
    env = PhasedEnvironment()
    seen = []
    for phase in schedule_order:
        env.call_at(1_000, phase, lambda _e, p=phase: seen.append(p))
    env.run()
    return seen


def test_same_instant_events_run_in_phase_order_whatever_the_scheduling_order():
    """Any scheduling order gives rules < index < match < feed < mark < margin < liquidate <
    funding < agent."""
    phases = list(Phase)
    for permutation in itertools.permutations(phases[:5]):
        assert _record_order(permutation) == sorted(permutation)
    assert _record_order(list(reversed(phases))) == phases


def test_within_a_phase_scheduling_order_is_kept():
    """Two events in one phase at one instant run in the order they were scheduled."""
    env = PhasedEnvironment()
    seen = []
    for name in ("first", "second", "third"):
        env.call_at(5, Phase.MATCH, lambda _e, n=name: seen.append(n))
    env.run()
    assert seen == ["first", "second", "third"]


def test_processes_wait_on_phased_events_in_integer_nanoseconds():
    """A process yielding env.at() resumes at the exact integer time, in its phase."""
    env = PhasedEnvironment()
    seen = []

    def proc(name, phase):
        yield env.at(1_500_000, phase)
        seen.append((env.now, name))

    env.process(proc("margin", Phase.MARGIN))
    env.process(proc("mark", Phase.MARK))
    env.run()
    assert seen == [(1_500_000, "mark"), (1_500_000, "margin")]
    assert isinstance(env.now, int)


def test_earlier_time_beats_earlier_phase():
    """Time orders first; phases only order events at the same instant."""
    env = PhasedEnvironment()
    seen = []
    env.call_at(2, Phase.INDEX, lambda _e: seen.append("index@2"))
    env.call_at(1, Phase.AGENT, lambda _e: seen.append("agent@1"))
    env.run()
    assert seen == ["agent@1", "index@2"]
