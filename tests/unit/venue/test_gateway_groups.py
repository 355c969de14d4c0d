"""A group's accounts on one shared gateway link: each keeps its own FIFO horizon, and reports
reach the group's handlers with the account id."""

from __future__ import annotations

import pytest

from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import SubmitOrder
from tests.unit.venue.test_gateway import MS, _const, _send_at, _venue
from tests.unit.venue.test_gateway_handlers import _queued


class Draws:
    """A random-looking request leg that returns the given latencies in turn (ns)."""

    is_constant = False

    def __init__(self, *latencies: int) -> None:
        self.latencies = list(latencies)

    def draw(self) -> int:
        return self.latencies.pop(0)


class Group:
    """A group with order-update and fill handlers (no margin-call or transfer handler)."""

    def __init__(self) -> None:
        self.updates: list[tuple] = []
        self.fills: list[tuple] = []

    def on_order_update(self, now, account_id, seq, update):
        self.updates.append((now, account_id, update.status, update.order_id))

    def on_fill(self, now, account_id, seq, fill):
        self.fills.append((now, account_id, fill.order_id, fill.size_lots))


def test_each_account_of_a_group_keeps_its_own_fifo_horizon():
    """Account 1's first command draws 10 ms, account 2's 1 ms, account 1's second 1 ms: account
    2's arrives at 1 ms (not behind account 1's), account 1's second is held to 10 ms."""
    _, _, _, gateway = _venue()
    gateway.connect_group(Group(), [1, 2], Draws(10 * MS, MS, MS), _const(0))
    arrivals = [
        gateway.send(1, SubmitOrder(1, SELL, 100, 5), None),
        gateway.send(2, SubmitOrder(2, SELL, 101, 5), None),
        gateway.send(1, SubmitOrder(3, SELL, 102, 5), None),
    ]
    assert arrivals == [10 * MS, MS, 10 * MS]


def test_a_groups_reports_reach_its_handlers_with_the_account_id():
    """Account 1 rests a sell, account 2 takes 3 lots of it: each report names its account."""
    env, _, _, gateway = _venue()
    group = Group()
    gateway.connect_group(group, [1, 2], _const(0), _const(MS))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 100, 5))
    _send_at(env, gateway, 0, 2, SubmitOrder(2, BUY, 100, 3))
    env.run()
    assert group.fills == [(MS, 1, 1, 3), (MS, 2, 2, 3)]
    assert (MS, 1, "accepted", 1) in group.updates
    assert (MS, 2, "filled", 2) in group.updates


def test_a_report_the_group_has_no_handler_for_is_still_scheduled():
    """A group without on_margin_call: the margin call is still scheduled (and read by nobody),
    as for any account of a group; a participant's own link schedules nothing without one."""
    env, _, _, gateway = _venue()
    gateway.connect_group(Group(), [1], _const(0), _const(0))
    gateway.deliver_margin_call(1, 0, 100, 10, 20, 5, 3 * MS)
    assert _queued(env) == 1
    env.run()
    assert env.now == 3 * MS


def test_an_account_connected_twice_is_refused():
    """connect_group refuses an account the gateway already has a link for."""
    _, _, _, gateway = _venue()
    gateway.connect_group(Group(), [1, 2], _const(0), _const(0))
    with pytest.raises(ValueError, match="account 2 is already connected"):
        gateway.connect_group(Group(), [2, 3], _const(0), _const(0))
