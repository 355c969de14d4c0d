"""An inverse position's trigger prices are never late (Hypothesis): at any mark where the
account is past maintenance (or below its margin-call level) its trigger is crossed, or, under
a step schedule, its step re-check is; with continuous tiers the liquidation price is exact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.inverse_ledger import InverseLedger
from exchange_sim.accounts.ledger import FeeSchedule
from exchange_sim.accounts.margin import BracketTiers, DeductionTiers, StepRiskLimit
from exchange_sim.events.log import MemoryLog
from exchange_sim.risk.trigger_index import TriggerIndex

K = 10**8
NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
CONTINUOUS = (
    BracketTiers.from_brackets(
        [(0, 1_000_000, 50, 10_000_000, None), (1_000_000, 10**15, 20, 25_000_000, None)]
    ),
    DeductionTiers.build([(0, 50), (2_000_000, 20), (6_000_000, 10)]),
)
STEPS = StepRiskLimit.build(1_000_000, 500_000, 10_000_000, 20_000_000)
CROSSED = TriggerIndex().is_crossed

position_st = st.tuples(
    st.sampled_from((1, -1)),
    st.integers(1, 400),  # lots
    st.integers(2_000, 20_000),  # entry price, ticks
    st.integers(2, 60),  # wallet = value / this
    st.integers(-200, 200),  # current mark, per mille from entry
)


def _account(tiers, position, on_entry=False):
    side, lots, price, divisor, move = position
    ledger = InverseLedger(MemoryLog(), K, tiers, NO_FEES, maintenance_on_entry=on_entry)
    account = ledger.open_account(1, leverage=100)
    ledger.deposit(0, 1, max(1, lots * K // price // divisor), None)
    current = max(1, price + price * move // 1_000)
    ledger.mark_price = lambda: current
    ledger.apply_fill(0, 0, account, side, price, lots, 0)
    return ledger, account, current


def _side_of(side: int, price: int | None) -> int:
    """The monitor's reading of an inverse trigger: ``None`` is the other side's ``None``."""
    return -side if price is None else side


def _never_late(ledger, account, current) -> None:
    side = 1 if account.size_lots > 0 else -1
    liquidation, call, step = (
        account.liquidation_price,
        account.margin_call_price,
        account.tier_step_price,
    )
    for mark in range(max(1, current // 2), current * 2, max(1, current // 400)):
        stepped = step is not None and mark <= step
        if ledger.is_liquidatable(account, mark):
            assert CROSSED(_side_of(side, liquidation), liquidation, mark) or stepped, mark
        if ledger.equity(account, mark) < ledger.margin_call_level(account, mark):
            assert CROSSED(_side_of(side, call), call, mark) or stepped, mark


@settings(max_examples=150, deadline=None)
@given(position=position_st, tiers=st.sampled_from((*CONTINUOUS, STEPS)), on_entry=st.booleans())
def test_inverse_triggers_are_never_late(position, tiers, on_entry):
    """Brackets, deductions and BitMEX steps, MM on the value at the mark or at entry: wherever
    the exact check would fire, the trigger (or a short's step re-check) is crossed."""
    ledger, account, current = _account(tiers, position, on_entry)
    _never_late(ledger, account, current)


@settings(max_examples=150, deadline=None)
@given(position=position_st, tiers=st.sampled_from(CONTINUOUS))
def test_inverse_liquidation_price_is_exact_with_continuous_tiers(position, tiers):
    """With continuous tiers the account is safe at its liquidation price and past maintenance
    one tick beyond it (below for a long, above for a short)."""
    ledger, account, _ = _account(tiers, position)
    price = account.liquidation_price
    if price is None or price <= 1:
        return
    side = 1 if account.size_lots > 0 else -1
    assert not ledger.is_liquidatable(account, price)
    assert ledger.is_liquidatable(account, price - side)
