"""The execution agent works a metaorder (TWAP or POV) on a real venue against a hand-made book.

Default instrument (tick 0.1, lot 0.001): prices are ticks, sizes lots. A whale rests liquidity
and a tapper takes it, both straight into the engine; the executor's link, feed and index
latencies are 5 ms. Fees are zero.
"""

from __future__ import annotations

import exchange_sim as es
from exchange_sim.analysis.impact import metaorders
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, GTC, IOC, SELL, Order
from exchange_sim.runner.simulate import build_venue

S = NS_PER_S
MS = 1_000_000


class Market:
    def __init__(self, bids, asks, seed: int = 1, **executor) -> None:
        table = {"kind": "execution", "name": "exec", "start": "1s", "child_interval": "1s"}
        table.update(executor)
        config = {
            "run": {"seed": seed},
            "index": {"process": {"kind": "external", "start_price": "1000.0"}},
            "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
            "participants": [table],
        }
        self.log = MemoryLog()
        self.venue = venue = build_venue(es.load_config(config), self.log)
        self.env = venue.env
        self.agent = venue._starts[0]
        self.ids = iter(range(10**9, 2 * 10**9))
        self.whale, self.tapper = venue.ids.next("account"), venue.ids.next("account")
        for account in (self.whale, self.tapper):
            venue.ledger.open_account(account, False, 20, "test", "test")
            venue.ledger.deposit(0, account, 10**15, None)
        for side, levels in ((BUY, bids), (SELL, asks)):
            for price, lots in levels:
                self._submit(self.whale, side, price, lots, GTC)

    def _submit(self, account, side, price, lots, tif) -> None:
        order = Order(next(self.ids), account, side, price, lots, tif=tif)
        self.venue.engine.submit(self.env.now, order, None)

    def tap(self, at: int, side: int, lots: int) -> None:
        """The tapper sends a market order of ``lots`` at ``at``."""
        self.env.call_at(
            at, Phase.MATCH, lambda _p: self._submit(self.tapper, side, None, lots, IOC)
        )

    def run(self, until: int) -> None:
        self.venue.start()
        self.env.run_until(until)

    def phase(self, name: str) -> list[dict]:
        return [e for e in self.log.of_type("metaorder") if e["phase"] == name]

    def own_trades(self) -> list[dict]:
        me = self.agent.account_id
        return [e for e in self.log.of_type("trade") if e["taker_account_id"] == me]


DEEP_BIDS = [(9_990, 10_000)]
DEEP_ASKS = [(10_010, 10_000)]


def test_twap_sends_equal_children_on_schedule():
    """12 lots over 4 s every 1 s from 1 s: children of 3 lots at 1, 2, 3 and 4 s (cause null),
    each reaching the venue 5 ms later; they add up to the metaorder."""
    market = Market(DEEP_BIDS, DEEP_ASKS, total_size="0.012", duration="4s", order_type="market")
    market.run(10 * S)
    children = market.phase("child")
    assert [(e["ts"], e["child_lots"], e["cause"]) for e in children] == [
        (t * S, 3, None) for t in (1, 2, 3, 4)
    ]
    me = market.agent.account_id
    accepted = [e for e in market.log.of_type("order_accepted") if e["account_id"] == me]
    assert [e["ts"] for e in accepted] == [t * S + 5 * MS for t in (1, 2, 3, 4)]
    assert sum(e["size_lots"] for e in market.own_trades()) == 12


def test_twap_spreads_a_remainder_over_the_first_children():
    """14 lots in 4 children: 4, 4, 3, 3."""
    market = Market(DEEP_BIDS, DEEP_ASKS, total_size="0.014", duration="4s")
    market.run(10 * S)
    assert [e["child_lots"] for e in market.phase("child")] == [4, 4, 3, 3]


def test_pov_child_sizes_follow_the_volume_it_saw():
    """25 % participation. The tapper trades 40 lots before the 2 s child, 8 before 3 s, nothing
    before 4 s and 100 before 5 s: children of 10, 2, 1 (at least one lot) and 7 (what is left
    of 20). A child sized from trades names the trades view (a tapper's trade); the 1-lot child
    names nothing. Its own fills are not counted as market volume."""
    market = Market(
        DEEP_BIDS, DEEP_ASKS, side="buy", style="pov", participation="0.25", total_size="0.020"
    )
    market.tap(1 * S + 300 * MS, BUY, 40)
    market.tap(2 * S + 500 * MS, SELL, 8)
    market.tap(4 * S + 500 * MS, BUY, 60)
    market.tap(4 * S + 600 * MS, SELL, 40)
    market.run(10 * S)
    children = market.phase("child")
    assert [e["child_lots"] for e in children] == [10, 2, 1, 7]
    assert [e["ts"] for e in children] == [t * S for t in (2, 3, 4, 5)]
    tapper = market.tapper
    for child in (children[0], children[1], children[3]):
        trade = market.log.events[child["cause"]]
        assert trade["type"] == "trade" and trade["taker_account_id"] == tapper
    assert children[2]["cause"] is None
    (end,) = market.phase("end")
    assert end["filled_lots"] == 20


def test_end_reports_the_vwap_of_its_fills_and_the_impact():
    """A 30-lot sell in two market children walks bids 7 @ 9,990, 11 @ 9,985, 100 @ 9,980. The
    end event's VWAP is the hand-computed VWAP of its trades rounded against it (a sell's down);
    arrival is the mid 10,000; impact = -(vwap - arrival) ticks and, in ppb, rounded up."""
    market = Market(
        [(9_990, 7), (9_985, 11), (9_980, 100)],
        DEEP_ASKS,
        total_size="0.030",
        duration="2s",
        order_type="market",
    )
    market.run(10 * S)
    trades = market.own_trades()
    assert [(e["price_ticks"], e["size_lots"]) for e in trades] == [
        (9_990, 7),
        (9_985, 8),
        (9_985, 3),
        (9_980, 12),
    ]
    notional = sum(e["price_ticks"] * e["size_lots"] * 100 for e in trades)  # 100 per tick-lot
    (start,) = market.phase("start")
    (end,) = market.phase("end")
    assert start["arrival_price_ticks"] == 10_000
    assert (start["best_bid_ticks"], start["best_ask_ticks"]) == (9_990, 10_010)
    assert end["notional_minor"] == notional == 29_952_500
    assert end["vwap_ticks"] == div_round(notional, 30 * 100, DOWN) == 9_984
    assert end["impact_ticks"] == 16
    at_arrival = 30 * 100 * 10_000
    assert end["impact_ppb"] == div_round((at_arrival - notional) * RATE_SCALE, at_arrival, UP)
    assert market.log.events[end["cause"]]["ts"] <= end["ts"]
    (order,) = metaorders(market.log.events)
    assert (order.vwap_ticks, order.impact_ppb, order.children) == (9_984, end["impact_ppb"], 2)


def test_ioc_children_are_limited_beyond_the_touch():
    """An IOC buy child is limited to the ask it saw plus limit_offset (10,010 + 5): it takes
    the 10,010 and 10,015 asks and nothing at 10,020; the rest expires."""
    market = Market(
        DEEP_BIDS,
        [(10_010, 2), (10_015, 2), (10_020, 100)],
        side="buy",
        total_size="0.006",
        duration="1s",
        limit_offset="0.5",
    )
    market.run(5 * S)
    assert [(e["price_ticks"], e["size_lots"]) for e in market.own_trades()] == [
        (10_010, 2),
        (10_015, 2),
    ]
    (end,) = market.phase("end")
    assert end["filled_lots"] == 4
    me = market.agent.account_id
    expired = [e for e in market.log.of_type("order_expired") if e["account_id"] == me]
    assert [e["remaining_lots"] for e in expired] == [2]


def test_end_waits_for_every_fill_even_when_reports_arrive_out_of_order():
    """With a response latency drawn from 1-50 ms, a child's close can reach the executor before
    some of its fills: the end event still counts every fill (filled lots and notional equal its
    trades), for five seeds of the latency draws."""
    for seed in range(1, 6):
        market = Market(
            [(9_990 - i, 2) for i in range(8)] + [(9_900, 1_000)],
            DEEP_ASKS,
            seed=seed,
            total_size="0.030",
            duration="2s",
            order_type="market",
            latency={
                "request": {"kind": "constant", "value": "5ms"},
                "response": {"kind": "uniform", "low": "1ms", "high": "50ms"},
            },
        )
        market.run(10 * S)
        trades = market.own_trades()
        (end,) = market.phase("end")
        assert end["filled_lots"] == sum(e["size_lots"] for e in trades) == 30, seed
        value = sum(e["price_ticks"] * e["size_lots"] * 100 for e in trades)
        assert end["notional_minor"] == value
