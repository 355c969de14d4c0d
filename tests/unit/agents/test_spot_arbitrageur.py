"""The spot-perpetual arbitrageur on a real venue: it buys a perpetual trading below spot, sells
spot for the size that filled, and unwinds both legs when the basis converges.

Harness: :mod:`tests.unit.agents.spot_harness` (ticks of 0.1, lots of 0.001, no fees). The
arbitrageur: threshold 0.2 % (2,000,000 ppb; half of it 1,000,000), clips of 5 lots, at most 12,
1,000 lots of base on the spot market, a check every second, 1 ms links and feeds.

Spot book (the whale's): bid 499,990 / ask 500,010 (1,000 lots each), mid 500,000.
"""

from __future__ import annotations

from tests.unit.agents.spot_harness import LINK_1MS, MS, S, SpotVenue

SPOT_BIDS, SPOT_ASKS = [(499_990, 1_000)], [(500_010, 1_000)]
ARB = {
    "kind": "spot_arbitrageur",
    "name": "arb",
    "spot_market": "spot",
    "base_deposit": "1.0",
    "clip_size": "0.005",
    "max_position": "0.012",
    "threshold": "0.002",
    "check_interval": "1s",
    "observation_latency": {"kind": "constant", "value": "1ms"},
    "latency": LINK_1MS,
    "spot_latency": LINK_1MS,
}


def cheap_perp_venue() -> SpotVenue:
    """Perp bid 497,980 x 100, asks 498,020 x 3 and 499,600 x 100: mid 498,000, a basis of
    996,000 / 1,000,000 - 1 = -0.4 %, past -0.2 %."""
    market = SpotVenue([ARB])
    market.book(0, "spot", SPOT_BIDS, SPOT_ASKS)
    market.book(0, "perp", [(497_980, 100)], [(498_020, 3), (499_600, 100)])
    return market


def brief(order):
    return (order["side"], order["price_ticks"], order["size_lots"], order["tif"])


def test_buys_a_cheap_perpetual_then_sells_spot_for_the_size_that_filled():
    """At the 1 s check it buys 5 lots of perpetual with an IOC limit of half the threshold under
    the spot bid, floor(499,990 x 0.999) = 499,490: 3 fill at 498,020 and 2 expire (the next ask,
    499,600, is beyond the limit). It then sells 3 lots of spot at the spot bid, 499,990, naming
    the perpetual fill it hedges as the cause."""
    market = cheap_perp_venue()
    market.run(1_500 * MS)
    ids = market.accounts("arb")
    (perp_order,) = market.orders(ids["perp"])
    assert brief(perp_order) == (1, 499_490, 5, "IOC")
    (perp_trade,) = market.trades(ids["perp"])
    assert (perp_trade["price_ticks"], perp_trade["size_lots"]) == (498_020, 3)
    (spot_order,) = market.orders(ids["spot"])
    assert brief(spot_order) == (-1, 499_990, 3, "IOC")
    assert spot_order["cause"] == perp_trade["seq"]
    (spot_trade,) = market.trades(ids["spot"])
    assert (spot_trade["price_ticks"], spot_trade["size_lots"]) == (499_990, 3)
    assert market.venue.ledger.accounts[ids["perp"]].size_lots == 3
    assert market.spot.ledger.accounts[ids["spot"]].base == 1_000 - 3


def test_its_perpetual_order_names_the_latest_view_it_acted_on():
    """The 1 s check read both books as the whale left them at t = 0 (its first check: no
    earlier mids to compare): the perpetual order names the later of the two views, whose seq is
    the whale's last perpetual order that changed the touch, the ask at 498,020 (the deeper ask
    at 499,600, placed after it, does not change what a top-of-book view shows)."""
    market = cheap_perp_venue()
    market.run(1_500 * MS)
    ids = market.accounts("arb")
    perp_orders = [o for o in market.orders(market.whale) if o["market"] != "spot"]
    touch = next(o for o in perp_orders if o["price_ticks"] == 498_020)
    assert perp_orders[-1]["price_ticks"] == 499_600
    assert market.orders(ids["perp"])[0]["cause"] == touch["seq"]


def test_unwinds_both_legs_when_the_basis_converges():
    """Long 3 perpetual / short 3 spot after 1 s; at 4.5 s the perpetual book recentres (bid
    499,980, ask 500,020: mid 500,000, basis 0, inside half the threshold). At the 5 s check it
    sells the 3 lots back reduce-only at the bid it saw, 499,980, then buys 3 spot at the ask,
    500,010, naming that fill: flat on the perpetual, 1,000 lots of base again."""
    market = cheap_perp_venue()
    market.book(4_500 * MS, "perp", [(499_980, 100)], [(500_020, 100)])
    market.run(6 * S)
    ids = market.accounts("arb")
    unwind = market.orders(ids["perp"])[-1]
    assert brief(unwind) == (-1, 499_980, 3, "IOC")
    assert unwind["reduce_only"] is True
    unwind_trade = market.trades(ids["perp"])[-1]
    assert (unwind_trade["price_ticks"], unwind_trade["size_lots"]) == (499_980, 3)
    buy_back = market.orders(ids["spot"])[-1]
    assert brief(buy_back) == (1, 500_010, 3, "IOC")
    assert buy_back["cause"] == unwind_trade["seq"]
    assert market.venue.ledger.accounts[ids["perp"]].size_lots == 0
    assert market.spot.ledger.accounts[ids["spot"]].base == 1_000


def test_holds_at_exactly_the_threshold_and_buys_one_tick_beyond():
    """Perp book 498,990 / 499,010: mid 499,000, basis exactly -0.2 %: no order. When the bid
    drops to 498,989 at 1.5 s the basis is floor(997,999 / 1,000,000 in ppb) - 1 = -2,001,000
    ppb, past the threshold: it buys at the 2 s check."""
    market = SpotVenue([ARB])
    market.book(0, "spot", SPOT_BIDS, SPOT_ASKS)
    market.book(0, "perp", [(498_990, 100)], [(499_010, 100)])
    market.book(1_500 * MS, "perp", [(498_989, 100)], [(499_010, 100)])
    market.run(2_500 * MS)
    orders = market.orders(market.accounts("arb")["perp"])
    assert [(o["ts"], o["side"]) for o in orders] == [(2 * S + MS, 1)]


def test_sells_a_rich_perpetual_and_buys_spot_for_the_size_that_filled():
    """Mirror image: perp bids 502,000 x 4 and 500,000 x 100, ask 502,040 (mid 502,020, +0.4 %).
    It sells 5 with a limit of ceil(500,010 x 1.001) = 500,511: 4 fill at 502,000, 1 expires; it
    buys 4 spot at the ask, 500,010."""
    market = SpotVenue([ARB])
    market.book(0, "spot", SPOT_BIDS, SPOT_ASKS)
    market.book(0, "perp", [(502_000, 4), (500_000, 100)], [(502_040, 100)])
    market.run(1_500 * MS)
    ids = market.accounts("arb")
    assert brief(market.orders(ids["perp"])[0]) == (-1, 500_511, 5, "IOC")
    (perp_trade,) = market.trades(ids["perp"])
    assert (perp_trade["price_ticks"], perp_trade["size_lots"]) == (502_000, 4)
    (spot_order,) = market.orders(ids["spot"])
    assert brief(spot_order) == (1, 500_010, 4, "IOC")
    assert spot_order["cause"] == perp_trade["seq"]
