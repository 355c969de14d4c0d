"""Properties of the scheduler's settlement: conservation, and only the positions at the timestamp
pay, whatever trading happens between the timestamp and a delayed settlement."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.core.units import NS_PER_MIN, NS_PER_S, Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.config import BINANCE
from exchange_sim.funding.scheduler import FundingScheduler
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.matching.book import Book
from exchange_sim.matching.orders import BUY, GTC, SELL, Order

S, MIN = NS_PER_S, NS_PER_MIN
SCALE = Scale.build(Decimal(1), Decimal("0.1"), 2, "test")
RULE = attrs.evolve(BINANCE, interval=MIN, sampling=10 * S, settlement_delay=15 * S)


class Prices:
    def __init__(self, price):
        self.price = price
        self.listeners = []
        self.rule = self

    def set_funding(self, *args):
        return None


@st.composite
def scenarios(draw):
    sizes = draw(st.lists(st.integers(-50, 50).filter(bool), min_size=1, max_size=6))
    if sum(sizes):
        sizes.append(-sum(sizes))
    accounts = list(range(1, len(sizes) + 1))
    # Trades after the timestamp: (seller, buyer, lots), buyers may be brand-new accounts.
    trades = draw(
        st.lists(
            st.tuples(st.sampled_from(accounts), st.integers(1, 12), st.integers(1, 30)),
            max_size=5,
        )
    )
    bid = draw(st.integers(9_800, 10_300))
    spread = draw(st.integers(1, 50))
    mark = draw(st.integers(9_800, 10_300))
    return sizes, trades, bid, bid + spread, mark


def run(sizes, trades, bid, ask, mark):
    env, log = PhasedEnvironment(), MemoryLog()
    tiers = BracketTiers.from_brackets([(0, 10**15, 20, 25_000_000)])
    ledger = Ledger(
        log, SCALE.money_per_tick_lot, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
    )
    ledger.mark_price = lambda: mark
    book = Book()
    book.add(Order(1, 999, BUY, bid, 100, tif=GTC))
    book.add(Order(2, 999, SELL, ask, 100, tif=GTC))
    funding = FundingScheduler(
        env, log, RULE, ledger, book, Prices(10_000), Prices(mark), SCALE, tiers
    )

    def fill(account_id, lots, now):
        if account_id not in ledger.accounts:
            ledger.open_account(account_id)
        side = BUY if lots > 0 else SELL
        ledger.apply_fill(now, 0, ledger.accounts[account_id], side, mark, abs(lots), 0)

    for account_id, lots in enumerate(sizes, start=1):
        fill(account_id, lots, 0)

    def trade_after_timestamp(_e):
        for seller, buyer, lots in trades:
            fill(seller, -lots, env.now)
            fill(buyer, lots, env.now)

    env.call_at(MIN + 5 * S, Phase.MATCH, trade_after_timestamp)
    before = ledger.money_in_accounts()
    funding.start()
    env.run_until(MIN + 16 * S)
    return log, ledger, funding, before


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_settlement_conserves_money_exactly(scenario):
    """Σ payments + residue == 0, the residue is in [0, positions), and the accounts' money moves
    by exactly the payments."""
    log, ledger, funding, before = run(*scenario)
    paid = [e["amount_minor"] for e in log.of_type("funding_payment")]
    assert sum(paid) + funding.residue_balance == 0
    assert 0 <= funding.residue_balance < max(len(paid), 1)
    assert ledger.money_in_accounts() - before == sum(paid)


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_only_positions_at_the_timestamp_pay(scenario):
    """The paying accounts and sizes are those held at the timestamp, not at settlement."""
    sizes = scenario[0]
    log, _, _, _ = run(*scenario)
    paid = {e["account"]: e["size_lots"] for e in log.of_type("funding_payment")}
    assert paid == {account: lots for account, lots in enumerate(sizes, start=1) if lots}
