"""Whom an adaptive maker's ladder names: the input that moved its fair value most since its
last ladder (its own decisions, a restore or a size change, name themselves).

Harness: tests/unit/agents/test_adaptive_maker.py's Market (tick 0.1, lot 0.001; index seen after
1 ms, feed after 1 ms, 2 ms links). The maker: one level of 5 lots, half spread 2 ticks,
requote at a 3-tick move, skew 2 ticks per 5 lots held, no weight on the mid.
"""

from __future__ import annotations

from exchange_sim.core.units import NS_PER_S
from exchange_sim.matching.orders import SELL
from tests.unit.agents.test_adaptive_maker import Market

S = NS_PER_S
MS = 1_000_000


def _market() -> Market:
    return Market(
        levels=1,
        level_sizes=["0.005"],
        base_half_spread="0.2",
        requote_threshold="0.3",
        inventory_skew="0.2",
        skew_unit="0.005",
    )


def test_the_ladder_names_the_fill_that_moved_fair_value_more_than_the_index():
    """Index 10,000 from the start. At 1 s a whale sells 5 lots into the bid: the maker is long
    5, its fair value 2 ticks lower (below the 3-tick threshold: no ladder). At 2 s the index
    falls 1 tick: fair value is 3 ticks lower, so it requotes. The skew moved fair value 2
    ticks and the index 1: the ladder names the fill, not the index update that came last."""
    market = _market()
    market.index(0, 10_000, 10_000, 9_999, every=S)
    market.whale_order(S, SELL, None, 5)
    market.run(3 * S)
    maker = market.maker.account_id
    (fill_trade,) = [t for t in market.log.of_type("trade") if t["maker_account_id"] == maker]
    index_2s = next(e for e in market.log.of_type("index_price") if e["ts"] == 2 * S)
    ladders = [
        e
        for e in market.log.of_type("order_accepted")
        if e["account_id"] == maker and e["ts"] > 2 * S
    ]
    assert ladders and {e["cause"] for e in ladders} == {fill_trade["seq"]}
    assert index_2s["seq"] > fill_trade["seq"]


def test_the_ladder_names_the_index_when_only_the_index_moved():
    """With no fill, a 3-tick fall of the index at 1 s requotes the ladder, naming that
    index update."""
    market = _market()
    market.index(0, 10_000, 9_997, every=S)
    market.run(2 * S)
    maker = market.maker.account_id
    index_1s = next(e for e in market.log.of_type("index_price") if e["ts"] == S)
    later = [
        e for e in market.log.of_type("order_accepted") if e["account_id"] == maker and e["ts"] > S
    ]
    assert later and {e["cause"] for e in later} == {index_1s["seq"]}
