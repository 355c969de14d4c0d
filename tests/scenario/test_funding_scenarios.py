"""Funding on the whole venue: index publisher, engine, ledger, mark service, risk monitor,
gateway, feed, the funding scheduler and the basis arbitrageur, wired as a run wires them.

Grid: tick 1, lot 0.1, cents (10 cents per tick-lot); one bracket 20x / MMR 2.5 %; index 10,000.
Funding: the Binance preset on a 1 h interval (5 s samples, linear weights, 15 s delay, at mark).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import attrs
import numpy as np

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.agents.arbitrageur import BasisArbitrageur
from exchange_sim.agents.config import BasisArbitrageurConfig
from exchange_sim.core.units import NS_PER_HOUR, NS_PER_S, Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.config import BINANCE
from exchange_sim.funding.scheduler import FundingScheduler
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler, LinkLatency
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.pricing.index import PointsPath
from exchange_sim.pricing.index_process import IndexPublisher
from exchange_sim.pricing.mark_config import BinanceMarkConfig, IndexMarkConfig, MarkConfig
from exchange_sim.risk.config import RiskConfig
from exchange_sim.risk.monitor import RiskMonitor
from exchange_sim.venue.feed import MarketDataFeed
from exchange_sim.venue.gateway import Gateway
from exchange_sim.venue.mark_service import MarkPriceService

H, S, MS = NS_PER_HOUR, NS_PER_S, 1_000_000
SCALE = Scale.build(Decimal(1), Decimal("0.1"), 2, "test")
INDEX = 10_000
WHALE, ARB, LONG = 1, 2, 3
RULE = attrs.evolve(BINANCE, interval=H)
RICH_BIDS = [(10_040, 4), (10_030, 4), (10_020, 4), (10_010, 4), (10_000, 10)]
ASKS = [(10_050, 10)]


def const(ns):
    return LatencySampler(ConstantLatency(value=ns), np.random.Generator(np.random.PCG64(0)))


class Venue:
    def __init__(self, mark_rule):
        self.env = env = PhasedEnvironment()
        self.log = log = MemoryLog()
        self.index = IndexPublisher(env, PointsPath([(0, INDEX)], False), S, const(0), log)
        self.engine = engine = MatchingEngine(log, MatchingConfig())
        self.tiers = BracketTiers.from_brackets([(0, 10**15, 20, 25_000_000)])
        self.ledger = ledger = Ledger(log, SCALE.money_per_tick_lot, self.tiers, FeeSchedule())
        engine.pre_trade_check = ledger.pre_trade_check
        engine.trade_listeners.append(ledger.on_trade)
        ledger.open_orders = engine.book.open_orders
        self.gateway = Gateway(env, engine)
        self.feed = MarketDataFeed(env, engine)
        self.mark = MarkPriceService(
            env, log, MarkConfig(rule=mark_rule, cadence=S), self.index, engine, self.feed
        )
        ledger.mark_price = lambda: self.mark.price
        engine.reference_price = ledger.mark_price
        self.risk = RiskMonitor(env, log, RiskConfig(), ledger, self.mark, const(0), const(0))
        self.funding = FundingScheduler(
            env, log, RULE, ledger, engine.book, self.index, self.mark, SCALE, self.tiers
        )
        engine.trade_listeners[:] = [
            ledger.on_trade,
            self.gateway.on_trade,
            self.feed.on_trade,
            self.mark.on_trade,
        ]
        engine.order_listeners[:] = [self.gateway.on_order_event, self.feed.on_order_event]
        self.index.listeners[:] = [self.mark.on_index, self.funding.on_index, self.feed.on_index]
        self.mark.listeners[:] = [self.risk.on_mark]
        ledger.change_listeners[:] = [self.risk.on_account_change]
        self.starts = [self.index, self.mark, self.risk, self.funding]
        self.account(WHALE, 10**12)
        for side, levels in ((BUY, RICH_BIDS), (SELL, ASKS)):
            for price, lots in levels:
                order = Order(len(engine.book.orders) + 1, WHALE, side, price, lots, tif=GTC)
                engine.submit(0, order, None)

    def account(self, account_id, deposit, leverage=20):
        self.ledger.open_account(account_id, leverage=leverage)
        self.ledger.deposit(0, account_id, deposit, None)

    def run(self, until):
        for component in self.starts:
            component.start()
        self.env.run_until(until)

    def money_identity(self):
        ledger = self.ledger
        held = ledger.money_in_accounts() + ledger.fees_collected + self.funding.residue_balance
        return held, ledger.total_deposits - ledger.total_withdrawals


def test_funding_payment_liquidates_through_the_risk_monitor():
    """The rich book makes impact bid 10,040 (4 lots = 401,600 cents >= IMN 400,000): P = 0.4 %,
    F_8h = 0.4 % - 0.05 % = 0.35 %, hourly 437,500 ppb. The long (10 lots at 10,000, wallet
    MM + 1 = 25,001) pays ceil(1,000,000 x 437,500 / 1e9) = 438 at 1 h + 15 s; the risk monitor
    checks it with that payment as cause and triggers its liquidation."""
    venue = Venue(IndexMarkConfig())
    venue.account(LONG, 25_001)
    ledger = venue.ledger
    ledger.apply_fill(0, 0, ledger.accounts[LONG], BUY, INDEX, 10, 0)
    ledger.apply_fill(0, 0, ledger.accounts[WHALE], SELL, INDEX, 10, 0)
    venue.run(H + 20 * S)
    (rate,) = venue.log.of_type("funding_rate")
    assert rate["rate_ppb"] == 437_500
    (payment,) = [e for e in venue.log.of_type("funding_payment") if e["account"] == LONG]
    assert (payment["ts"], payment["amount_minor"]) == (H + 15 * S, -438)
    (check,) = [e for e in venue.log.of_type("margin_check") if e["cause"] == payment["seq"]]
    assert check["outcome"] == "liquidate"
    (triggered,) = venue.log.of_type("liquidation_triggered")
    assert (triggered["account_id"], triggered["cause"]) == (LONG, check["seq"])
    held, put_in = venue.money_identity()
    assert held == put_in


def arb_venue():
    venue = Venue(BinanceMarkConfig())
    cfg = BasisArbitrageurConfig(
        threshold=2_000_000,
        clip_size=5,
        max_position=12,
        check_interval=10 * S,
        leverage=10,
        deposit=0,
        observation_latency=ConstantLatency(value=MS),
        latency=LinkLatency(request=ConstantLatency(value=MS), response=ConstantLatency(value=MS)),
    )
    ids = iter(range(1_000, 10**6))
    arb = BasisArbitrageur(venue.env, venue.gateway, cfg, ARB, ids.__next__)
    venue.account(ARB, 10**9, leverage=cfg.leverage)
    venue.gateway.connect(arb, const(MS), const(MS))
    venue.feed.subscribe(arb.on_snapshot, const(MS))
    venue.feed.subscribe_index(arb.on_index, const(MS))
    venue.starts.append(arb)
    return venue, arb


def test_arbitrageur_selling_shrinks_the_funding_premium():
    """The arbitrageur sells at 10 s, 20 s and 30 s; each 5 s premium sample is no higher than the
    one before, and the last is below the first (0.4 % before it sold)."""
    venue, arb = arb_venue()
    venue.run(2 * 60 * S)
    premiums = [e["premium_ppb"] for e in venue.log.of_type("premium_sample")]
    assert premiums[0] == 4_000_000
    assert all(later <= earlier for earlier, later in pairwise(premiums))
    assert premiums[-1] < premiums[0]
    assert venue.ledger.accounts[ARB].size_lots == -12
    assert arb.position_lots == -12


def test_arbitrageur_short_collects_funding_and_money_is_conserved():
    """With the book still rich the rate is positive: the long whale pays and the arbitrageur's
    short receives; accounts + fees + funding residue equal the deposits exactly."""
    venue, _ = arb_venue()
    venue.run(H + 20 * S)
    (rate,) = venue.log.of_type("funding_rate")
    assert rate["rate_ppb"] > 0
    paid = {e["account"]: e["amount_minor"] for e in venue.log.of_type("funding_payment")}
    assert paid[ARB] > 0
    assert paid[WHALE] < 0
    assert sum(paid.values()) + venue.funding.residue_balance == 0
    held, put_in = venue.money_identity()
    assert held == put_in
