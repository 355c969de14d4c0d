"""The insurance fund ledger: liquidation fills, cover, deposits and the drawdown trigger."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.core.units import NS_PER_HOUR
from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation import event_types
from exchange_sim.liquidation.insurance_fund import InsuranceFund
from exchange_sim.runner.event_catalog import validate_record

REGISTRY = {event.name: event for event in event_types.EVENTS}
EIGHT_HOURS = 8 * NS_PER_HOUR
THIRTY_PERCENT = 300_000_000


def test_long_closed_above_bankruptcy_adds_the_surplus():
    """Long closed at 101 with bankruptcy 100: (101 - 100) * 3 lots * 10 * (+1) = +30."""
    fund = InsuranceFund(balance=1000)
    delta = fund.on_liquidation_fill(0, 1, 101, 100, 3, 10, 0)
    assert (delta, fund.balance) == (30, 1030)


def test_short_closed_below_bankruptcy_adds_the_surplus():
    """Short bought back at 99 with bankruptcy 100: (99 - 100) * 3 * 10 * (-1) = +30."""
    fund = InsuranceFund(balance=1000)
    delta = fund.on_liquidation_fill(0, -1, 99, 100, 3, 10, 0)
    assert (delta, fund.balance) == (30, 1030)


def test_fill_worse_than_bankruptcy_subtracts():
    """Long closed at 98 with bankruptcy 100: (98 - 100) * 3 * 10 = -60."""
    fund = InsuranceFund(balance=1000)
    delta = fund.on_liquidation_fill(0, 1, 98, 100, 3, 10, 0)
    assert (delta, fund.balance, fund.last_shortfall) == (-60, 940, 0)


def test_liquidation_fee_is_added():
    """A fill exactly at bankruptcy with a 7-unit fee adds 7."""
    fund = InsuranceFund(balance=1000)
    assert fund.on_liquidation_fill(0, 1, 100, 100, 3, 10, 7) == 7
    assert fund.balance == 1007


def test_fill_shortfall_beyond_the_balance_stops_at_zero():
    """A -60 fill against a balance of 50 pays 50 and leaves a shortfall of 10."""
    log = MemoryLog()
    fund = InsuranceFund(balance=50, log=log)
    assert fund.on_liquidation_fill(4, 1, 98, 100, 3, 10, 0, cause=2) == -60
    assert (fund.balance, fund.last_shortfall) == (0, 10)
    (event,) = log.of_type("insurance_fund")
    assert (event["delta"], event["balance"], event["shortfall"], event["cause"]) == (-50, 0, 10, 2)


def test_cover_never_goes_below_zero():
    """Asked for 150 with 100 in the fund, cover pays 100; a second request pays nothing."""
    fund = InsuranceFund(balance=100)
    assert fund.cover(1, 150) == 100
    assert fund.balance == 0
    assert fund.cover(2, 5) == 0
    assert (fund.balance, fund.last_shortfall) == (0, 5)


def test_cover_within_the_balance_pays_in_full():
    """Asked for 40 with 100 in the fund, cover pays 40 and leaves 60."""
    fund = InsuranceFund(balance=100)
    assert fund.cover(1, 40) == 40
    assert fund.balance == 60


def test_negative_deposit_is_refused():
    """A deposit cannot take money out (that is cover's job)."""
    with pytest.raises(ValueError, match="deposit"):
        InsuranceFund().deposit(0, -1)


def test_history_peak_and_events():
    """Every change is in the history and the log, with declared fields; the peak is kept."""
    log = MemoryLog()
    fund = InsuranceFund(fund_id="BTCUSDT", balance=100, log=log)
    fund.deposit(1, 50, cause=0, reason="fee")
    fund.cover(2, 120, cause=1)
    assert fund.history == [(1, 50, 150, "fee", 0), (2, -120, 30, "cover", 1)]
    assert fund.peak == 150
    events = log.of_type("insurance_fund")
    assert [(e["fund"], e["delta"], e["balance"], e["reason"]) for e in events] == [
        ("BTCUSDT", 50, 150, "fee"),
        ("BTCUSDT", -120, 30, "cover"),
    ]
    assert all(validate_record(e, REGISTRY) is None for e in events)


def test_exhausted():
    """Exhausted means empty, or unable to pay the amount required."""
    assert InsuranceFund(balance=0).exhausted()
    assert InsuranceFund(balance=10).exhausted(required=11)
    assert not InsuranceFund(balance=10).exhausted(required=10)


def test_drawdown_fires_at_exactly_the_threshold():
    """Peak 1000, then 700 one hour later: (1000 - 700)/1000 = 30 % exactly, fires."""
    fund = InsuranceFund(balance=1000)
    fund.cover(NS_PER_HOUR, 300)
    assert fund.drawdown_exceeded(NS_PER_HOUR, EIGHT_HOURS, THIRTY_PERCENT)


def test_drawdown_just_below_the_threshold_does_not_fire():
    """Peak 1000, then 701: a 29.9 % fall does not reach 30 %."""
    fund = InsuranceFund(balance=1000)
    fund.cover(NS_PER_HOUR, 299)
    assert not fund.drawdown_exceeded(NS_PER_HOUR, EIGHT_HOURS, THIRTY_PERCENT)


def test_drawdown_from_a_peak_outside_the_window_does_not_fire():
    """The 1000 peak (in force until 1 h) is in the 8 h window at 9 h - 1 ns, out of it at 9 h."""
    fund = InsuranceFund(balance=1000)
    fund.cover(NS_PER_HOUR, 300)
    assert fund.drawdown_exceeded(9 * NS_PER_HOUR - 1, EIGHT_HOURS, THIRTY_PERCENT)
    assert not fund.drawdown_exceeded(9 * NS_PER_HOUR, EIGHT_HOURS, THIRTY_PERCENT)


def test_drawdown_measures_from_the_highest_balance_in_the_window():
    """Balances 1000 -> 1500 (2 h) -> 1050 (3 h): 450/1500 = 30 % from the window's peak."""
    fund = InsuranceFund(balance=1000)
    fund.deposit(2 * NS_PER_HOUR, 500)
    fund.cover(3 * NS_PER_HOUR, 450)
    assert fund.drawdown_exceeded(3 * NS_PER_HOUR, EIGHT_HOURS, THIRTY_PERCENT)


def test_window_longer_than_the_fund_keeps_is_refused():
    """A fund built for 8 h windows cannot answer for 9 h."""
    with pytest.raises(ValueError, match="max_window_ns"):
        InsuranceFund(balance=1).window_peak(0, 9 * NS_PER_HOUR)


@settings(max_examples=200, deadline=None)
@given(
    initial=st.integers(0, 1000),
    steps=st.lists(
        st.tuples(st.integers(0, 50), st.integers(-400, 400), st.integers(0, 100)),
        max_size=40,
    ),
)
def test_window_peak_matches_a_full_history_scan(initial, steps):
    """The deque's windowed maximum equals a brute-force scan of the whole history.

    The brute force takes the balance in force at ``now - window`` and every balance set by a
    change after that instant, up to ``now``.
    """
    max_window = 100
    fund = InsuranceFund(balance=initial, max_window_ns=max_window)
    now = 0
    for gap, amount, window in steps:
        now += gap
        if amount >= 0:
            fund.deposit(now, amount)
        else:
            fund.cover(now, -amount)
        horizon = now - window
        at_horizon = initial
        later = []
        for ts, _delta, balance, _reason, _cause in fund.history:
            if ts <= horizon:
                at_horizon = balance
            else:
                later.append(balance)
        assert fund.window_peak(now, window) == max([at_horizon, *later])
    assert fund.balance == initial + sum(delta for _, delta, _, _, _ in fund.history)
    assert fund.balance >= 0
