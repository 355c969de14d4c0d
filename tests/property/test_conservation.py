"""Money conservation over random trading through the real engine and ledger (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import GTC, IOC, Order

TIERS = BracketTiers.from_brackets(
    [(0, 50_000, 50, 4_000_000, None), (50_000, 10**15, 20, 10_000_000, None)]
)

order_op = st.tuples(
    st.just("order"),
    st.integers(1, 4),  # account
    st.sampled_from((1, -1)),
    st.one_of(st.none(), st.integers(90, 110)),
    st.integers(1, 30),
    st.sampled_from((GTC, IOC)),
)
money_op = st.tuples(
    st.sampled_from(("deposit", "withdraw")), st.integers(1, 4), st.integers(-5, 3_000)
)
cancel_op = st.tuples(st.just("cancel"), st.integers(1, 4), st.integers(1, 80))


@settings(max_examples=150, deadline=None)
@given(
    ops=st.lists(st.one_of(order_op, money_op, cancel_op), min_size=1, max_size=80),
    maker=st.integers(-300_000, 300_000),
    taker=st.integers(0, 1_000_000),
    isolated=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_balances_plus_fees_equal_deposits_minus_withdrawals_after_every_event(
    ops, maker, taker, isolated
):
    """After every trade, fee, deposit and withdrawal, Σ account value + fees == in - out, and
    long open interest equals short open interest."""
    log = MemoryLog()
    ledger = Ledger(log, 3, TIERS, FeeSchedule(maker_fee_ppb=maker, taker_fee_ppb=taker))
    engine = MatchingEngine(log, MatchingConfig())
    engine.pre_trade_check = ledger.pre_trade_check
    engine.trade_listeners.append(ledger.on_trade)
    ledger.open_orders = engine.book.open_orders
    ledger.mark_price = lambda: 100
    for account in range(1, 5):
        ledger.open_account(account, isolated=isolated[account - 1], leverage=5 + account)
        ledger.deposit(0, account, 5_000, None)
    next_id = 1
    for now, op in enumerate(ops, start=1):
        kind, account = op[0], op[1]
        if kind == "order":
            _, _, side, price, size, tif = op
            engine.submit(now, Order(next_id, account, side, price, size, tif=tif), None)
            next_id += 1
        elif kind == "cancel":
            engine.cancel(now, account, op[2], None)
        elif kind == "deposit":
            ledger.deposit(now, account, op[2], None)
        else:
            ledger.withdraw(now, account, op[2], None)
        assert (
            ledger.money_in_accounts() + ledger.fees_collected
            == ledger.total_deposits - ledger.total_withdrawals
        )
        longs, shorts = ledger.open_interest_lots()
        assert longs == shorts
