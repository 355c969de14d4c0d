"""Dip buyers: they buy after the observed price has dropped their threshold from the recent high
they saw, take profit on a rebound and stop out below.

Market: :mod:`trader_harness` (a deep maker around an index the tests publish every second).
"""

from __future__ import annotations

from tests.unit.agents.trader_harness import MAKER, START, Market, S


def dip(**changes) -> dict:
    values = {
        "kind": "dip_buyer",
        "name": "dip",
        "count": 20,
        "deposit": 10_000,
        "leverage": 5,
        "threshold_min": "0.02",
        "threshold_max": "0.04",
        "take_profit": "0.02",
        "stop_loss": "0.03",
        "high_window": "30s",
        "cooldown": "100s",
    }
    values.update(changes)
    return values


def rise_then_fall(bottom: int, after: int) -> list[tuple[int, int]]:
    """Up to 10,500 by 5 s, down 100 a second to ``bottom``, then ``after`` from 20 s to 39 s."""
    path = [(t * S, min(START + 100 * t, 10_500)) for t in range(1, 6)]
    price, t = 10_500, 6
    while price > bottom:
        price = max(price - 100, bottom)
        path.append((t * S, price))
        t += 1
    path += [(t * S, price) for t in range(t, 20)]
    return path + [(t * S, after) for t in range(20, 40)]


def test_dip_buyers_buy_once_the_drop_from_the_high_reaches_their_threshold():
    """From a high of 10,500 the index falls 100 a second: each member buys at the first update
    whose drop from the high, floor((10,500 - price) / 10,500 in ppb), reaches its threshold;
    the entry's signal is minus that drop and its cause that index update."""
    market = Market([MAKER, dip()])
    market.index_path(rise_then_fall(10_000, 10_000))
    market.run(20 * S)
    thresholds = market.participant("dip")._threshold
    drops = [(p, (10_500 - p) * 10**9 // 10_500) for p in range(10_400, 9_999, -100)]
    entries = market.of_type("trader_entry")
    assert len(entries) == sum(1 for t in thresholds.values() if t <= drops[-1][1])
    for entry in entries:
        cause = market.events[entry["cause"]]
        assert cause["type"] == "index_price"
        first = next(p for p, drop in drops if drop >= thresholds[entry["account_id"]])
        assert (cause["price"], entry["signal_ppb"]) == (first, -dict(drops)[first])
        assert (entry["reason"], entry["side"]) == ("dip", 1)


def test_a_rebound_takes_their_profit():
    """After buying near 10,100-10,200 the index rebounds to 10,500 (more than 2 % above every
    entry): each closes with reason take_profit, caused by the rebound's index update."""
    market = Market([MAKER, dip()])
    market.index_path(rise_then_fall(10_000, 10_500))
    market.run(40 * S)
    exits = market.of_type("trader_exit")
    assert exits and len(exits) == len(market.of_type("trader_entry"))
    for e in exits:
        cause = market.events[e["cause"]]
        assert e["reason"] == "take_profit"
        assert (cause["type"], cause["price"]) == ("index_price", 10_500)


def test_a_further_fall_stops_them_out_below():
    """If the index keeps falling to 9,500 (more than 3 % below every entry), each closes with
    reason stop_loss at an index price at or below its stop."""
    market = Market([MAKER, dip()])
    market.index_path(rise_then_fall(9_500, 9_500))
    market.run(40 * S)
    exits = market.of_type("trader_exit")
    assert exits and {e["reason"] for e in exits} == {"stop_loss"}
    for e in exits:
        assert market.events[e["cause"]]["price"] <= e["entry_price_ticks"] * 97 // 100


def test_a_high_older_than_the_window_is_forgotten():
    """high_window 2 s: falling 100 a second, each price is compared with the high of the last
    2 s only (at most 200 above it, under 2 %), never with the old high of 10,500."""
    market = Market([MAKER, dip(high_window="2s")])
    market.index_path(rise_then_fall(10_000, 10_000))
    market.run(20 * S)
    assert market.of_type("trader_entry") == []


def test_a_drop_exactly_at_the_threshold_is_enough():
    """Thresholds all 0.028571428 = floor((10,500 - 10,200) / 10,500 in ppb): every member buys
    at 10,200, not one update later."""
    market = Market([MAKER, dip(threshold_min="0.028571428", threshold_max="0.028571428")])
    market.index_path(rise_then_fall(10_000, 10_000))
    market.run(20 * S)
    entries = market.of_type("trader_entry")
    assert len(entries) == 20
    assert {market.events[e["cause"]]["price"] for e in entries} == {10_200}
