"""The basis arbitrageur trades the perpetual's premium to the index through the gateway.

Grid: tick 1, money per tick-lot 10. Index 10,000. Threshold 0.2 % (2,000,000 ppb), so half the
threshold is 0.1 %: it sells at no less than ceil(10,000 x 1.001) = 10,010 and buys at no more
than floor(10,000 x 0.999) = 9,990; it unwinds when |premium| <= 0.1 %.
"""

from __future__ import annotations

import numpy as np

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.agents.arbitrageur import BasisArbitrageur
from exchange_sim.agents.config import BasisArbitrageurConfig
from exchange_sim.core.units import NS_PER_S
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler, LinkLatency
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.venue.feed import IndexUpdate, MarketDataFeed
from exchange_sim.venue.gateway import Gateway

S = NS_PER_S
MS = 1_000_000
MPTL = 10
INDEX = 10_000
WHALE = 1
ARB = 2


def const(ns):
    return LatencySampler(ConstantLatency(value=ns), np.random.Generator(np.random.PCG64(0)))


def arb_config(**changes):
    values = dict(
        threshold=2_000_000,
        clip_size=5,
        max_position=12,
        check_interval=S,
        reject_backoff=10 * S,
        observation_latency=ConstantLatency(value=MS),
        latency=LinkLatency(request=ConstantLatency(value=MS), response=ConstantLatency(value=MS)),
    )
    values.update(changes)
    return BasisArbitrageurConfig(**values)


class Market:
    """Engine + ledger + gateway + feed, a whale making the book, and the arbitrageur."""

    def __init__(self, bids, asks, arb_deposit=10**9, **changes):
        self.env = env = PhasedEnvironment()
        self.log = log = MemoryLog()
        self.engine = engine = MatchingEngine(log, MatchingConfig())
        tiers = BracketTiers.from_brackets([(0, 10**15, 20, 25_000_000)])
        self.ledger = ledger = Ledger(
            log, MPTL, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
        )
        engine.pre_trade_check = ledger.pre_trade_check
        engine.trade_listeners.append(ledger.on_trade)
        ledger.open_orders = engine.book.open_orders
        ledger.mark_price = lambda: INDEX
        self.gateway = Gateway(env, engine, ledger)
        self.feed = MarketDataFeed(env, engine)
        for component in (self.gateway, self.feed):
            engine.trade_listeners.append(component.on_trade)
            engine.order_listeners.append(component.on_order_event)
        cfg = arb_config(deposit=arb_deposit, **changes)
        ids = iter(range(1000, 10**6))
        self.arb = BasisArbitrageur(env, self.gateway, cfg, ARB, ids.__next__)
        self.gateway.connect(self.arb, const(MS), const(MS))
        self.feed.subscribe(self.arb.on_snapshot, const(MS))
        ledger.open_account(WHALE, leverage=20)
        ledger.deposit(0, WHALE, 10**12, None)
        ledger.open_account(ARB, leverage=cfg.leverage)  # its deposit arrives over its link
        self.next_whale_id = 1
        self.quote(bids, asks)
        self.arb.on_index(0, IndexUpdate(0, INDEX, None))
        self.positions = []
        ledger.change_listeners.append(
            lambda now, acct, seq: (
                self.positions.append(acct.size_lots) if acct.account_id == ARB else None
            )
        )

    def quote(self, bids, asks):
        """The whale's resting orders, placed directly on the engine now."""
        for side, levels in ((BUY, bids), (SELL, asks)):
            for price, lots in levels:
                order = Order(self.next_whale_id, WHALE, side, price, lots, tif=GTC)
                self.next_whale_id += 1
                self.engine.submit(self.env.now, order, None)

    def requote(self, at, bids, asks):
        def action(_e):
            self.engine.cancel_all(self.env.now, WHALE, None)
            self.quote(bids, asks)

        self.env.call_at(at - self.env.now, Phase.MATCH, action)

    def run(self, until):
        self.arb.start()
        self.env.run_until(until)

    def mid_premium_ppb(self):
        book = self.engine.book
        return ((book.best_bid() + book.best_ask()) * 10**9 // 2 - INDEX * 10**9) // INDEX

    def arb_trades(self):
        return [e for e in self.log.of_type("trade") if e["taker_account_id"] == ARB]


RICH_BIDS = [(10_040, 4), (10_030, 4), (10_020, 4), (10_010, 4), (10_000, 10)]
ASKS = [(10_050, 10)]


def test_sells_a_rich_perpetual_and_the_premium_shrinks():
    """Mid 10,045 is 0.45 % over the index. Clips of 5: 4@10,040 + 1@10,030 (mid 10,040), then
    3@10,030 + 2@10,020 (mid 10,035), then 2@10,020 up to the 12-lot limit (mid 10,030, 0.30 %)."""
    market = Market(RICH_BIDS, ASKS)
    assert market.mid_premium_ppb() == 4_500_000
    market.run(10 * S)
    fills = [(e["price_ticks"], e["size_lots"]) for e in market.arb_trades()]
    assert fills == [(10_040, 4), (10_030, 1), (10_030, 3), (10_020, 2), (10_020, 2)]
    assert market.mid_premium_ppb() == 3_000_000
    assert market.arb.position_lots == -12


def test_never_exceeds_max_position():
    """With the premium still above threshold after 12 lots, it stops: the ledger never shows it
    beyond -12 lots and it sends no order once the limit is reached."""
    market = Market(RICH_BIDS, ASKS)
    market.run(30 * S)
    assert min(market.positions) == -12
    assert market.ledger.accounts[ARB].size_lots == -12
    assert market.arb.orders_sent == 3


def test_sell_limit_is_half_the_threshold_over_the_index():
    """Bids 10,040 x 2 then 10,005 x 100: it sells only the 2 lots at or above 10,010; the rest of
    its IOC expires, and it does not sell into the 10,005 bid (mid 10,027.5 is still rich)."""
    market = Market([(10_040, 2), (10_005, 100)], [(10_050, 100)])
    market.run(5 * S)
    assert [(e["price_ticks"], e["size_lots"]) for e in market.arb_trades()] == [(10_040, 2)]
    assert all(e["price_ticks"] >= 10_010 for e in market.arb_trades())


def test_no_trade_inside_the_threshold():
    """Mid 10,015 (0.15 % < 0.2 %) and no position: it holds."""
    market = Market([(10_010, 10)], [(10_020, 10)])
    market.run(5 * S)
    assert market.arb.orders_sent == 0


def test_buys_a_cheap_perpetual():
    """Mirror image: mid 9,955 is -0.45 %; it buys at no more than 9,990, up to +12 lots."""
    market = Market([(9_950, 10)], [(9_960, 4), (9_970, 4), (9_980, 4), (9_990, 4), (10_000, 10)])
    market.run(10 * S)
    assert market.arb.position_lots == 12
    assert all(e["price_ticks"] <= 9_990 for e in market.arb_trades())


def test_unwinds_when_the_premium_returns_inside_half_the_threshold():
    """Short 12 after the rich book; at 10 s the book recentres on the index (mid 10,000): it buys
    back 5, 5, 2 with reduce-only IOCs (limit 10,010) at the 10,005 ask, ending flat."""
    market = Market(RICH_BIDS, ASKS)
    market.requote(10 * S, [(9_995, 100)], [(10_005, 100)])
    market.run(20 * S)
    buys = [e for e in market.arb_trades() if e["aggressor_side"] == BUY]
    assert [(e["price_ticks"], e["size_lots"]) for e in buys] == [
        (10_005, 5),
        (10_005, 5),
        (10_005, 2),
    ]
    assert market.arb.position_lots == 0
    assert market.ledger.accounts[ARB].size_lots == 0


def test_rejected_order_pauses_then_retries():
    """A deposit of 10 cents cannot margin 5 lots (IM = 5 x 10,010 x 10 / 5x = 100,100): the order
    comes back rejected, it sends nothing for the 10 s back-off, then tries again."""
    market = Market(RICH_BIDS, ASKS, arb_deposit=10)
    market.run(10 * S + 500 * MS)
    assert market.arb.rejections == 1
    assert market.arb.orders_sent == 1
    market.env.run_until(12 * S + 500 * MS)
    assert market.arb.orders_sent == 2
    assert market.arb.position_lots == 0
    rejected = market.log.of_type("order_rejected")
    assert {e["reason"] for e in rejected} == {"insufficient_margin"}
