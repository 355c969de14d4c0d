"""A leveraged group's entries are queued one at a time, in the order queuing all would give.

Market: :mod:`trader_harness` (tick 1, lot 1, no fees, index 10,000).
"""

from __future__ import annotations

from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from tests.unit.agents.trader_harness import MAKER, START, Market, S

CROWD = {
    "kind": "leveraged",
    "name": "crowd",
    "count": 40,
    "deposit": 100_000,
    "leverages": [2],
    "long_fraction": "0.5",
    "position_fraction": "0.5",
    "entry_start": "1s",
    "entry_end": "3s",
}


def _queued_entries(env) -> int:
    return sum(
        1
        for entry in env._queue
        if type(entry[3]) is tuple and getattr(entry[3][0], "__name__", "") == "_enter_in_turn"
    )


def test_the_kernel_holds_at_most_one_entry_of_a_group():
    """However many members a group has, one of its entries sits in the kernel's queue at a
    time (a million members do not make the queue a million deep), and every member enters."""
    market = Market([MAKER, CROWD])
    market.index_path([(S // 2, START)])
    market.venue.start()
    most = 0
    env = market.env
    while env.now < 4 * S and env._queue:
        most = max(most, _queued_entries(env))
        env.step()
    assert most == 1
    crowd = market.accounts_of("crowd")
    assert all(market.position(account) for account in crowd)


def test_entries_run_in_time_order_then_member_order(monkeypatch):
    """The group's members enter in the order of their entry times, ties in member order (the
    order their reserved queue ids give, as if all had been queued at the start)."""
    market = Market([MAKER, CROWD])
    (group,) = [g for g in market.venue._starts if getattr(g, "members", None)]
    times = [1 * S + (k % 3) * 1_000 for k in range(len(group.members))]  # many ties
    group._entry_times = type(group._entry_times)("q", times)
    entered = []
    monkeypatch.setattr(type(group), "_enter", lambda _group, account: entered.append(account))
    market.venue.start()
    market.env.run_until(2 * S)
    expected = [group.members[k] for k in sorted(range(len(times)), key=times.__getitem__)]
    assert entered == expected


def test_reserving_ids_does_not_disturb_other_calls():
    """The ids after a reservation continue past the block (no id is taken twice)."""
    env = PhasedEnvironment()
    first = env.reserve_queue_ids(3)
    env.call_at(0, 70, print)
    assert env._queue[0][2] == first + 3


def test_a_same_instant_call_queued_after_the_start_runs_after_every_entry(monkeypatch):
    """Three members enter at 1 s; a same-phase call for 1 s queued at 0.5 s (after the start)
    runs after all three, as it did when every entry was queued at the start: the entries still
    waiting outside the queue keep the ids reserved then (a fresh id per entry when it is queued
    would let the call run between the first entry and the rest)."""
    market = Market([MAKER, CROWD | {"count": 3}])
    (group,) = [g for g in market.venue._starts if getattr(g, "members", None)]
    group._entry_times = type(group._entry_times)("q", [S] * 3)
    order = []
    monkeypatch.setattr(type(group), "_enter", lambda _group, account: order.append(account))
    env = market.env
    market.venue.start()
    env.call_at(
        S // 2, Phase.AGENT, lambda _: env.call_at(S // 2, Phase.AGENT, order.append, "call")
    )
    env.run_until(2 * S)
    assert order == [*group.members, "call"]
