"""Whom the spot arbitrageur's orders name as cause (the links of a cascade through spot).

Grid: the default instrument (tick 0.1, lot 0.001); prices in ticks, sizes in lots; no fees.
The arbitrageur checks every 500 ms (its default) with a 0.1 % threshold; its feeds arrive after
its default observation latency and its links take 5 ms each way. A whale rests the books on both
markets straight into the engines.
"""

from __future__ import annotations

import exchange_sim as es
from exchange_sim.core.units import NS_PER_S
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL, Order
from exchange_sim.runner.simulate import build_venue

S = NS_PER_S
MS = 1_000_000


class Market:
    def __init__(self, **arb) -> None:
        config = {
            "index": {"process": {"kind": "external"}},
            "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
            "spot_markets": [{"name": "s", "maker_fee_ppb": 0, "taker_fee_ppb": 0}],
            "participants": [
                {
                    "kind": "spot_arbitrageur",
                    "name": "arb",
                    "spot_market": "s",
                    "base_deposit": "1",
                    "clip_size": "0.01",
                    "max_position": "1",
                    **arb,
                }
            ],
        }
        self.log = MemoryLog()
        self.venue = venue = build_venue(es.load_config(config), self.log)
        self.env = venue.env
        self.spot = venue.spot_markets["s"]
        self.perp_whale = venue.ids.next("account")
        venue.ledger.open_account(self.perp_whale, False, 20, "whale", "test")
        venue.ledger.deposit(0, self.perp_whale, 10**15, None)
        self.spot_whale = venue.ids.next("account")
        self.spot.ledger.open_account(self.spot_whale, "whale", "test")
        self.spot.ledger.deposit(0, self.spot_whale, 10**15, None)
        self.spot.ledger.deposit(0, self.spot_whale, 10**6, None, asset="base")
        self._ids = iter(range(10**9, 2 * 10**9))

    def rest(self, at: int, spot: bool, side: int, price: int, lots: int = 1_000) -> None:
        engine = self.spot.engine if spot else self.venue.engine
        account = self.spot_whale if spot else self.perp_whale

        def submit(_payload):
            order = Order(next(self._ids), account, side, price, lots)
            engine.submit(self.env.now, order, None)

        self.env.call_at(at - self.env.now, Phase.MATCH, submit)

    def clear_perp(self, at: int) -> None:
        """At ``at`` the whale cancels all its perpetual orders."""

        def cancel(_payload):
            self.venue.engine.cancel_all(self.env.now, self.perp_whale, None)

        self.env.call_at(at - self.env.now, Phase.MATCH, cancel)

    def run(self, until: int) -> None:
        if self.env.now == 0:
            self.venue.start()
        self.env.run_until(until)

    def arb_orders(self, market: str) -> list[dict]:
        arb_accounts = {
            e["account_id"]
            for e in self.log.events
            if e["type"] in ("account_opened", "spot_account_opened") and e["participant"] == "arb"
        }
        return [
            e
            for e in self.log.of_type("order_accepted")
            if e["account_id"] in arb_accounts and e.get("market") == market
        ]

    def last_accepted_before(self, ts: int, market: str) -> dict:
        events = [
            e
            for e in self.log.of_type("order_accepted")
            if e["ts"] < ts and e.get("market") == market
        ]
        return events[-1]


def _dislocated_perp() -> Market:
    """Both books at 9,999 / 10,001 from 100 ms. At 700 ms the perpetual's touch drops 1 %
    (its orders are replaced by a bid at 9,899 and an ask at 9,901: its mid moves from 10,000
    to 9,900); at 800 ms the spot touch narrows to 9,999.5 / 10,000.5 (a later spot view, its
    mid unchanged). The check at 1,000 ms sees the perpetual 1 % cheap and buys it."""
    market = Market()
    for spot in (False, True):
        market.rest(100 * MS, spot, BUY, 99_990)
        market.rest(100 * MS, spot, SELL, 100_010)
    market.clear_perp(700 * MS)
    market.rest(700 * MS, False, BUY, 98_990)
    market.rest(700 * MS, False, SELL, 99_010, lots=5)
    market.rest(800 * MS, True, BUY, 99_995)
    market.rest(800 * MS, True, SELL, 100_005)
    market.run(1_200 * MS)
    return market


def test_a_perp_trade_names_the_leg_that_moved_not_the_later_view():
    """The buy names the perpetual's book change at 700 ms (the 1 % move), not the spot book
    change at 800 ms that reached the arbitrageur later."""
    market = _dislocated_perp()
    (buy,) = [o for o in market.arb_orders("BTCUSDT") if o["side"] == BUY]
    perp_move = market.last_accepted_before(800 * MS, "BTCUSDT")
    spot_later = market.last_accepted_before(900 * MS, "s")
    assert perp_move["price_ticks"] == 99_010 and spot_later["price_ticks"] == 100_005
    assert buy["cause"] == perp_move["seq"]


def test_the_spot_hedge_names_the_perp_fill_it_hedges():
    """The spot sale that hedges the perpetual purchase names the trade (the fill report) of
    the purchase, not a spot view."""
    market = _dislocated_perp()
    (buy,) = [o for o in market.arb_orders("BTCUSDT") if o["side"] == BUY]
    (trade,) = [t for t in market.log.of_type("trade") if t["taker_order_id"] == buy["order_id"]]
    (hedge,) = market.arb_orders("s")
    assert hedge["side"] == SELL and hedge["size_lots"] == trade["size_lots"]
    assert hedge["cause"] == trade["seq"]


def test_hedge_slippage_lets_the_hedge_trade_through_the_touch():
    """With hedge_slippage 0.2 % the spot hedge of the perpetual purchase is an IOC sale at the
    bid it saw, 9,999.0, times 0.998 = 99,790.02 ticks, rounded down to 99,790; at 0 it is at the
    bid, 99,990."""
    for slippage, limit in (("0", 99_990), ("0.002", 99_790)):
        market = Market(hedge_slippage=slippage)
        for spot in (False, True):
            market.rest(100 * MS, spot, BUY, 99_990)
            market.rest(100 * MS, spot, SELL, 100_010)
        market.clear_perp(700 * MS)
        market.rest(700 * MS, False, BUY, 98_990)
        market.rest(700 * MS, False, SELL, 99_010, lots=5)
        market.run(1_200 * MS)
        (hedge,) = market.arb_orders("s")
        assert (hedge["side"], hedge["price_ticks"]) == (SELL, limit), slippage
