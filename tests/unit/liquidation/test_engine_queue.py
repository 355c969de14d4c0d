"""The engine's queue: processing latency, throughput, backlog, hand-off contract."""

from __future__ import annotations

from exchange_sim.liquidation.config import LiquidationConfig, MarketPolicyConfig
from tests.scenario.liquidation_harness import MAKER, S, Venue

MS = 1_000_000


def _burst(config, accounts=5):
    """``accounts`` longs of 10 lots at 1,000 with 600 each; all liquidatable at mark 945
    (equity 50 < MM 95); a deep bid at 940 closes each with one market order."""
    venue = Venue(config)
    venue.account(50, 10**9)
    for i in range(accounts):
        venue.account(10 + i, 600)
        venue.pair(10 + i, 50, 10, 1_000)
    venue.quote(1, 940, 10_000)
    venue.index_at(0, 945)
    return venue


def test_throughput_spaces_the_starts_and_builds_a_backlog():
    """Five hand-offs at 0 with a 100 ms processing latency and 2 accounts per second: starts at
    100, 600, 1,100, 1,600 and 2,100 ms, with 4, 3, 2, 1, 0 still waiting."""
    config = LiquidationConfig(
        policy=MarketPolicyConfig(), processing_latency=100 * MS, throughput=2
    )
    venue = _burst(config)
    venue.run(3 * S)
    started = venue.events("liquidation_started")
    assert [e["ts"] for e in started] == [100 * MS, 600 * MS, 1_100 * MS, 1_600 * MS, 2_100 * MS]
    assert [e["backlog"] for e in started] == [4, 3, 2, 1, 0]
    assert [e["queue_wait_ns"] for e in started] == [e["ts"] for e in started]
    assert [e["account_id"] for e in started] == [10, 11, 12, 13, 14]


def test_without_a_throughput_limit_all_start_after_the_latency():
    """throughput 0: all five start at the processing latency, in hand-off order."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), processing_latency=50 * MS)
    venue = _burst(config)
    venue.run(S)
    assert [e["ts"] for e in venue.events("liquidation_started")] == [50 * MS] * 5


def test_a_price_recovery_during_the_wait_lets_the_account_go():
    """Latency 1 s; the mark is back at 1,000 after 500 ms: the engine re-checks at the start and
    finishes `recovered` without sending an order."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), processing_latency=S)
    venue = _burst(config, accounts=1)
    venue.index_at(S // 2, 1_000)
    venue.run(2 * S)
    (finished,) = venue.events("liquidation_finished")
    assert (finished["ts"], finished["outcome"], finished["orders"]) == (S, "recovered", 0)
    assert venue.events("liquidation_order") == []


def test_a_second_hand_off_of_the_same_account_is_ignored_until_finished():
    """Handing the same account twice queues it once."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), processing_latency=S)
    venue = _burst(config, accounts=1)
    venue.run(S // 2)
    venue.liquidation.handoff(venue.env.now, 10, 0)
    assert venue.liquidation.backlog == 1
    venue.run(2 * S)
    assert len(venue.events("liquidation_started")) == 1


def test_hand_back_calls_the_risk_monitor_with_the_finished_event():
    """liquidation_finished(now, account, seq) reaches the risk monitor, seq = the event's: the
    account comes back unresolved (no bids, a waterfall of just the book), still past its
    liquidation price, so the monitor checks it again at once with that event as cause."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), waterfall=("book",), max_retries=0)
    venue = Venue(config)
    venue.account(10, 600)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.index_at(0, 945)
    venue.run(S // 2)
    (finished,) = venue.events("liquidation_finished")
    # The real monitor keeps no record of hand-backs; its re-check shows what it was told.
    (check,) = [c for c in venue.events("margin_check") if c["cause"] == finished["seq"]]
    assert (check["ts"], check["account_id"], check["outcome"]) == (0, 10, "liquidate")


def test_venue_accounts_are_never_liquidated():
    """A hand-off of the fund's account is ignored and never handed back."""
    venue = _burst(LiquidationConfig(policy=MarketPolicyConfig()), accounts=0)
    venue.liquidation.handoff(0, venue.fund_account, 0)
    venue.run(S)
    assert venue.events("liquidation_started") == []
    # A hand-back is always logged as liquidation_finished before the monitor is told.
    assert venue.events("liquidation_finished") == []


def test_a_direct_hand_off_needs_no_trigger_from_the_risk_monitor():
    """The engine closes an account handed over directly. The venue always has a risk monitor;
    here it runs in sweep mode with an hour's interval, so it checks nothing during the test."""
    venue = Venue(LiquidationConfig(policy=MarketPolicyConfig()), risk_monitor=False)
    venue.account(10, 600)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.quote(1, 940, 100)
    venue.index_at(0, 945)
    venue.liquidation.handoff(0, 10, 0)
    venue.run(S)
    assert venue.events("margin_check") == []
    assert venue.acct(10).size_lots == 0
    assert venue.state(MAKER)[0] == 10


def test_order_guard_rejects_the_traders_own_orders_while_in_liquidation():
    """With the guard installed, the trader's order sent while its account waits in the queue
    (processing latency 1 s) is rejected `account_in_liquidation`; once it is handed back
    (flat, wallet 0) the same order meets the ledger's own check again."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), processing_latency=S)
    venue = _burst(config, accounts=1)
    venue.liquidation.install_order_guard()
    venue.quote_at(S // 2, 1, 900, 1, account_id=10)
    venue.quote_at(2 * S, 1, 900, 1, account_id=10)
    venue.run(3 * S)
    rejected = [(e["ts"], e["reason"]) for e in venue.events("order_rejected")]
    assert rejected == [(S // 2, "account_in_liquidation"), (2 * S, "insufficient_margin")]


def test_an_unresolved_account_handed_straight_back_restarts_after_the_retry_interval():
    """Nothing can take the position (no bids, waterfall of just the book): each liquidation
    ends `unresolved`, the monitor re-hands the account at once, and the engine restarts it one
    retry interval later, not in the same instant (no zero-time loop)."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), waterfall=("book",), max_retries=0)
    venue = Venue(config)
    venue.account(10, 600)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.index_at(0, 945)
    venue.run(2 * S + 1)
    assert [e["ts"] for e in venue.events("liquidation_started")] == [0, S, 2 * S]
    assert {e["outcome"] for e in venue.events("liquidation_finished")} == {"unresolved"}
