"""Exact funding settlement: who pays, exchange-favour rounding, conservation (§6.1, W21)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.core.errors import SimulationError
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.event_types import EVENTS
from exchange_sim.funding.payments import FUNDING_RESIDUE_LEDGER, record_settlement, settle

PCT = 10_000_000  # 1 % in ppb
SAT_PER_XBT = 10**8


def test_positive_rate_longs_pay_shorts():
    """Notional 3 lots x 100 ticks x 1 = 300 at 1 %: the long pays 3, the short receives 3."""
    payments, residue = settle([(1, 3), (2, -3)], 100, PCT, 1)
    assert payments == [(1, -3), (2, 3)]
    assert residue == 0


def test_negative_rate_shorts_pay_longs():
    """At -1 % the short pays 3 and the long receives 3."""
    payments, residue = settle([(1, 3), (2, -3)], 100, -PCT, 1)
    assert payments == [(1, 3), (2, -3)]
    assert residue == 0


def test_payer_rounds_up_receiver_rounds_down():
    """Notional 1 at 50 %: exact 0.5 each way. The long owes ceil(0.5) = 1, the short receives
    floor(0.5) = 0, and the 1 left over is the residue."""
    payments, residue = settle([(1, 1), (2, -1)], 1, 500_000_000, 1)
    assert payments == [(1, -1), (2, 0)]
    assert residue == 1


def test_zero_positions_skipped():
    """A flat account neither pays nor appears."""
    payments, _ = settle([(1, 2), (3, 0), (2, -2)], 100, PCT, 1)
    assert [account for account, _ in payments] == [1, 2]


def test_unbalanced_positions_raise():
    """Positions that do not net to zero mean a position is missing: a bug, not a residue."""
    with pytest.raises(SimulationError):
        settle([(1, 2), (2, -1)], 100, PCT, 1)


def test_bitmex_w21_payment():
    """W21: 0.25 % on an entry value of 20 XBT is 0.05 XBT. Scale: satoshi money, one lot at one
    tick worth 1 XBT (a linear stand-in for the inverse contract's 20 XBT value), so the long of
    20 lots at 1 tick pays 20 x 1e8 x 0.0025 = 5,000,000 sat = 0.05 XBT, exactly."""
    payments, residue = settle([(1, 20), (2, -20)], 1, PCT // 4, SAT_PER_XBT)
    assert payments == [(1, -5 * SAT_PER_XBT // 100), (2, 5 * SAT_PER_XBT // 100)]
    assert residue == 0


def test_record_settlement_events():
    """One funding_payment per position and a funding_residue, with only declared fields."""
    log = MemoryLog()
    payments, residue = record_settlement(log, 7, 3, [(1, 1), (2, -1)], 1, 500_000_000, 1)
    declared = {e.name: e.field_names | {"seq", "ts", "type", "cause"} for e in EVENTS}
    for event in log.events:
        assert set(event) == declared[event["type"]]
    assert [e["amount_minor"] for e in log.of_type("funding_payment")] == [-1, 0]
    (res,) = log.of_type("funding_residue")
    assert (res["ledger"], res["residue_minor"], res["cause"]) == (FUNDING_RESIDUE_LEDGER, 1, 3)
    assert (payments, residue) == ([(1, -1), (2, 0)], 1)


@st.composite
def balanced_positions(draw):
    sizes = draw(st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=30))
    sizes.append(-sum(sizes))
    return list(enumerate(sizes, start=1))


@settings(max_examples=300, deadline=None)
@given(
    positions=balanced_positions(),
    price_ticks=st.integers(1, 10**8),
    rate_ppb=st.integers(-(10**8), 10**8),
    money_per_tick_lot=st.integers(1, 10**4),
)
def test_conservation(positions, price_ticks, rate_ppb, money_per_tick_lot):
    """For positions netting to zero: Σ payments + residue == 0, 0 <= residue < accounts, and each
    payment is at most 1 minor unit below its exact value (never above it)."""
    payments, residue = settle(positions, price_ticks, rate_ppb, money_per_tick_lot)
    assert sum(amount for _, amount in payments) + residue == 0
    assert 0 <= residue < max(1, len(payments))
    sizes = dict(positions)
    for account, amount in payments:
        exact_times_1e9 = -sizes[account] * price_ticks * money_per_tick_lot * rate_ppb
        assert 0 <= exact_times_1e9 - amount * 10**9 < 10**9
