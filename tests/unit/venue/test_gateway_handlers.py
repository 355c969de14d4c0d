"""The gateway schedules a report only for a participant that has a handler for it."""

from __future__ import annotations

import numpy as np

from exchange_sim.kernel.environment import Phase
from exchange_sim.kernel.latency import LatencySampler, UniformLatency
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder
from tests.unit.venue.test_gateway import MS, Recorder, _const, _send_at, _venue


class SendOnly:
    """A participant with no report handlers at all."""

    def __init__(self, account_id):
        self.account_id = account_id


class UpdatesOnly:
    """Order updates only (no fill, transfer, margin-call or position-transfer handler)."""

    def __init__(self, account_id):
        self.account_id = account_id
        self.updates = []

    def on_order_update(self, now, seq, update):
        self.updates.append((now, update.status, update.order_id))


def _queued(env) -> int:
    """Scheduled calls (reports travel as ``call_at`` calls) still waiting in the queue."""
    return sum(1 for entry in env._queue if type(entry[3]) is tuple)


def test_a_participant_without_handlers_gets_nothing_scheduled():
    """Its accepted order and its fill leave the queue empty: no report events at all."""
    env, log, _, gateway = _venue()
    gateway.connect(SendOnly(1), _const(MS), _const(MS))
    gateway.connect(SendOnly(2), _const(MS), _const(MS))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 100, 5))
    _send_at(env, gateway, 0, 2, SubmitOrder(2, BUY, 100, 5))
    env.run(until=MS + 1)  # both orders handled at 1 ms: accepted, traded, filled
    assert len(log.of_type("trade")) == 1
    assert _queued(env) == 0


def test_a_handler_still_gets_its_reports_next_to_a_silent_counterparty():
    """The maker has handlers, the taker none: the maker still hears its ack and fill."""
    env, _, _, gateway = _venue()
    maker = Recorder(1)
    gateway.connect(maker, _const(0), _const(4 * MS))
    gateway.connect(SendOnly(2), _const(MS), _const(MS))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 100, 5))
    _send_at(env, gateway, 2 * MS, 2, SubmitOrder(2, BUY, None, 3))
    env.run()
    assert maker.updates == [(4 * MS, "accepted", 1)]
    assert maker.fills == [(7 * MS, 1, 100, 3)]


def test_only_the_reports_a_participant_handles_are_scheduled():
    """With on_order_update but no on_fill, a filled order schedules its updates, not its fill."""
    env, _, _, gateway = _venue()
    gateway.connect(SendOnly(1), _const(0), _const(0))
    taker = UpdatesOnly(2)
    gateway.connect(taker, _const(0), _const(MS))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 100, 5))
    _send_at(env, gateway, 0, 2, SubmitOrder(2, BUY, 100, 5))
    env.run(until=1)  # handled at 0: one accept and one filled update of the taker's order
    assert _queued(env) == 2
    env.run()
    assert taker.updates == [(MS, "accepted", 2), (MS, "filled", 2)]


def test_an_unheard_report_still_draws_its_latency():
    """With a random response leg, the order updates of a participant without on_transfer
    arrive at the same times as those of one with it: the skipped transfer report took its
    draw, so the link's later draws do not depend on the handlers."""

    class WithTransfer(UpdatesOnly):
        def on_transfer(self, now, seq, update):
            self.updates.append((now, "transfer", 0))

    seen = []
    for participant in (UpdatesOnly(1), WithTransfer(1)):
        env, _, _, gateway = _venue()
        jitter = LatencySampler(
            UniformLatency(low=0, high=50 * MS), np.random.Generator(np.random.PCG64(9))
        )
        gateway.ledger.open_account(1)
        gateway.connect(participant, _const(0), jitter)
        _send_at(env, gateway, 0, 1, Deposit(1_000))
        _send_at(env, gateway, MS, 1, SubmitOrder(1, BUY, 100, 5))
        env.run()
        seen.append([u for u in participant.updates if u[1] != "transfer"])
    assert seen[0] == seen[1]
    assert seen[0][0][1] == "accepted"


def test_margin_calls_reach_a_handler_and_nothing_else_is_scheduled_without_one():
    """A margin call is scheduled for a participant with on_margin_call, not for one without."""
    env, _, _, gateway = _venue()
    calls = []

    class Called(SendOnly):
        def on_margin_call(self, now, seq, notice):
            calls.append((now, notice.position_lots))

    gateway.connect(Called(1), _const(0), _const(0))
    gateway.connect(SendOnly(2), _const(0), _const(0))
    gateway.deliver_margin_call(2, 0, 100, 10, 20, 5, 3 * MS)
    assert _queued(env) == 0
    gateway.deliver_margin_call(1, 0, 100, 10, 20, 5, 3 * MS)
    env.run()
    assert calls == [(3 * MS, 5)]
    assert env.now == 3 * MS
    assert Phase.AGENT  # margin calls are delivered in the AGENT phase (see the gateway)
