"""The gateway: commands arrive after request latency, answers return after response latency."""

from __future__ import annotations

import numpy as np

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler, UniformLatency
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.feed import MarketDataFeed
from exchange_sim.venue.gateway import Gateway
from exchange_sim.venue.messages import CancelOrder, SubmitOrder

MS = 1_000_000


class Recorder:
    def __init__(self, account_id):
        self.account_id = account_id
        self.updates = []
        self.fills = []

    def on_order_update(self, now, seq, update):
        self.updates.append((now, update.status, update.order_id))

    def on_fill(self, now, seq, fill):
        self.fills.append((now, fill.order_id, fill.price_ticks, fill.size_lots))


def _const(ns):
    return LatencySampler(ConstantLatency(value=ns), np.random.Generator(np.random.PCG64(0)))


def _venue():
    env = PhasedEnvironment()
    log = MemoryLog()
    engine = MatchingEngine(log, MatchingConfig())
    gateway = Gateway(env, engine, _ledger(log))
    engine.trade_listeners.append(gateway.on_trade)
    engine.order_listeners.append(gateway.on_order_event)
    return env, log, engine, gateway


def _send_at(env, gateway, t, account, command):
    env.call_at(t, Phase.AGENT, lambda _e: gateway.send(account, command, None))


def test_order_sent_at_t_is_matched_at_t_plus_request_latency():
    """An order sent at 5 ms over a 7 ms link is accepted at 12 ms and records when it was sent."""
    env, log, _, gateway = _venue()
    trader = Recorder(1)
    gateway.connect(trader, _const(7 * MS), _const(3 * MS))
    _send_at(env, gateway, 5 * MS, 1, SubmitOrder(1, BUY, 100, 5))
    env.run()
    accepted = log.of_type("order_accepted")[0]
    assert accepted["ts"] == 12 * MS
    assert accepted["ts_sent"] == 5 * MS


def test_acknowledgement_returns_after_response_latency():
    """The ack reaches the trader response-latency after the engine handled the order."""
    env, _, _, gateway = _venue()
    trader = Recorder(1)
    gateway.connect(trader, _const(7 * MS), _const(3 * MS))
    _send_at(env, gateway, 5 * MS, 1, SubmitOrder(1, BUY, 100, 5))
    env.run()
    assert trader.updates == [(15 * MS, "accepted", 1)]


def test_faster_participant_wins_the_race_despite_sending_later():
    """B sends 1 ms after A but over a 2 ms link versus A's 10 ms, so B takes the only offer."""
    env, log, _, gateway = _venue()
    maker, a, b = Recorder(1), Recorder(2), Recorder(3)
    gateway.connect(maker, _const(0), _const(0))
    gateway.connect(a, _const(10 * MS), _const(0))
    gateway.connect(b, _const(2 * MS), _const(0))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 100, 5))
    _send_at(env, gateway, 0, 2, SubmitOrder(2, BUY, None, 5))
    _send_at(env, gateway, 1 * MS, 3, SubmitOrder(3, BUY, None, 5))
    env.run()
    trades = log.of_type("trade")
    assert len(trades) == 1
    assert trades[0]["taker_account_id"] == 3
    assert trades[0]["ts"] == 3 * MS


def test_a_link_never_reorders_its_own_commands():
    """With random latency, a participant's commands still arrive in the order sent (FIFO link)."""
    env, log, _, gateway = _venue()
    trader = Recorder(1)
    jitter = LatencySampler(
        UniformLatency(low=0, high=50 * MS), np.random.Generator(np.random.PCG64(4))
    )
    gateway.connect(trader, jitter, _const(0))
    for i in range(1, 200):
        _send_at(env, gateway, i * 100_000, 1, SubmitOrder(i, BUY, 100 + i, 1))
    env.run()
    accepted = [e["order_id"] for e in log.of_type("order_accepted")]
    assert accepted == sorted(accepted)
    times = [e["ts"] for e in log.of_type("order_accepted")]
    assert times == sorted(times)


def test_fills_reach_both_sides_after_their_response_latency():
    """Maker and taker each learn of a fill after their own response latency."""
    env, _, _, gateway = _venue()
    maker, taker = Recorder(1), Recorder(2)
    gateway.connect(maker, _const(0), _const(4 * MS))
    gateway.connect(taker, _const(1 * MS), _const(9 * MS))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 100, 5))
    _send_at(env, gateway, 2 * MS, 2, SubmitOrder(2, BUY, None, 3))
    env.run()
    assert maker.fills == [(7 * MS, 1, 100, 3)]
    assert taker.fills == [(12 * MS, 2, 100, 3)]


def test_rejected_cancel_of_unknown_order_answers_the_sender():
    """A cancel that loses (unknown order id) is answered to the account that sent it."""
    env, log, _, gateway = _venue()
    trader = Recorder(1)
    gateway.connect(trader, _const(MS), _const(MS))
    _send_at(env, gateway, 0, 1, CancelOrder(999))
    env.run()
    assert log.of_type("cancel_rejected")
    assert trader.updates == [(2 * MS, "cancel_rejected", 999)]


def test_feed_coalesces_an_instant_and_delivers_after_feed_latency():
    """Two book changes in one instant produce one snapshot, seen feed-latency later; it names
    the second order's accept (the last order that rested) as its seq."""
    env, log, engine, gateway = _venue()
    feed = MarketDataFeed(env, engine)
    engine.trade_listeners.append(feed.on_trade)
    engine.order_listeners.append(feed.on_order_event)
    seen = []
    feed.subscribe(lambda now, snap: seen.append((now, snap)), _const(5 * MS))
    maker = Recorder(1)
    gateway.connect(maker, _const(MS), _const(0))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, BUY, 99, 2))
    _send_at(env, gateway, 0, 1, SubmitOrder(2, SELL, 101, 3))
    env.run()
    last_rested = log.of_type("order_accepted")[-1]["seq"]
    assert seen == [(6 * MS, (MS, 99, 2, 101, 3, None, last_rested))]


def _ledger(log):
    """A ledger for the gateway's fill reports (no margin checks are wired in these tests)."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
    return Ledger(log, 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
