"""The funding term of BitMEX's maintenance margin (``funding.rule.in_maintenance_margin``).

BitMEX (exchange_mechanics.md §2.2 [3p], §3.2 [uncertain]): ``MM = 0.5 % + exit taker fee +
funding rate``. The latest fixed rate is added to the maintenance rate of the side paying it.

Cases: m = 1, one bracket of 1 % (50x). Long 100 at 1,000 with 6,000 of collateral:
equity(p) = 6,000 + 100 (p - 1,000), liquidatable below 99 p = 94,000, p < 949.49 (a long's
trigger rounds UP: 950). With a funding rate of +0.5 %, MM is 1.5 %: below 98.5 p = 94,000,
p < 954.31 (trigger 955).
A short 100 at 1,000 with 6,000: equity(p) = 6,000 - 100 (p - 1,000) >= 1 % x 100 p until
101 p = 106,000, p = 1,049.5; a +0.5 % rate (longs pay) leaves it there.
"""

from __future__ import annotations

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers, StepRiskLimit
from exchange_sim.accounts.side_margin import SideMargin, with_rate_added_below_initial
from exchange_sim.events.log import MemoryLog

HALF_PERCENT = 5_000_000
ONE = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])


def _ledger():
    ledger = Ledger(MemoryLog(), 1, ONE, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    changes = []
    ledger.change_listeners.append(lambda now, account, cause: changes.append((account, cause)))
    long, short = ledger.open_account(1), ledger.open_account(2)
    for account_id in (1, 2):
        ledger.deposit(0, account_id, 6_000, None)
    ledger.apply_fill(0, 0, long, 1, 1_000, 100, 0)
    ledger.apply_fill(0, 0, short, -1, 1_000, 100, 0)
    changes.clear()
    return ledger, long, short, changes


def test_a_positive_rate_raises_the_longs_mm_only():
    """+0.5 %: a long's MM at 954 is 1.5 % of 95,400 (1,431); a short's stays 1 % (954)."""
    margin = SideMargin(ONE, 1_000_000_000, False, HALF_PERCENT)
    assert margin.tiers[1].maintenance_margin(95_400) == 1_431
    assert margin.tiers[-1] is ONE and margin.tiers[0] is ONE


def test_a_negative_rate_raises_the_shorts_mm_only():
    """-0.5 %: shorts pay, so theirs is 1.5 %; the longs keep the venue's tiers."""
    margin = SideMargin(ONE, 1_000_000_000, False, -HALF_PERCENT)
    assert margin.tiers[-1].maintenance_margin(95_400) == 1_431
    assert margin.tiers[1] is ONE


def test_the_paying_sides_liquidation_price_moves_with_the_rate():
    """The long's trigger moves from 950 to 955 under +0.5 %; the short's stays at 1,049."""
    ledger, long, short, _ = _ledger()
    assert (long.liquidation_price, short.liquidation_price) == (950, 1_049)
    ledger.set_funding_maintenance(10, HALF_PERCENT, 7)
    assert (long.liquidation_price, short.liquidation_price) == (955, 1_049)
    assert ledger.is_liquidatable(long, 954) and not ledger.is_liquidatable(long, 955)
    ledger.set_funding_maintenance(20, -HALF_PERCENT, 8)
    assert long.liquidation_price == 950
    assert short.liquidation_price < 1_049


def test_a_new_rate_is_told_to_the_listeners_with_the_rate_as_cause():
    """Every position is re-priced and its listeners hear the ``funding_rate`` event's seq."""
    ledger, long, short, changes = _ledger()
    ledger.set_funding_maintenance(10, HALF_PERCENT, 7)
    assert changes == [(long, 7), (short, 7)]


def test_an_unchanged_added_rate_re_prices_nothing():
    """Another positive rate of the same size, or a receipt-only change, moves no one: a rate
    of 0 after a negative one changes only the shorts' term, so both are re-priced once; two
    equal rates in a row re-price nothing the second time."""
    ledger, _, _, changes = _ledger()
    ledger.set_funding_maintenance(10, 0, 7)
    assert changes == []
    ledger.set_funding_maintenance(10, HALF_PERCENT, 8)
    changes.clear()
    ledger.set_funding_maintenance(20, HALF_PERCENT, 9)
    assert changes == []


def test_new_tiers_keep_the_funding_term():
    """An intervention's new tiers (here MM x 1.2) still carry the rate for the paying side."""
    ledger, _, _, _ = _ledger()
    ledger.set_funding_maintenance(10, HALF_PERCENT, 7)
    ledger.set_tiers(20, ONE.with_maintenance_scaled(1_200_000_000), 8)
    assert ledger.margin.tiers[1].maintenance_margin(100_000) == 1_700  # 1.2 % + 0.5 %


def test_the_added_rate_is_capped_below_the_initial_rate():
    """1 % MM at 50x (2 % IM) with +5 %: the added rate stops at the largest that keeps MM below
    IM (just under 1 %), so a position at max leverage does not open liquidatable."""
    capped = with_rate_added_below_initial(ONE, 50_000_000)
    assert capped.maintenance_margin(10**9) < ONE.initial_margin(10**9, 50)
    assert capped.maintenance_margin(10**9) >= 19_999_000  # within a ppb of 2 %
    steps = StepRiskLimit.build(50_000, 50_000, 10_000_000, 20_000_000)
    assert with_rate_added_below_initial(steps, 50_000_000).maintenance_rate_ppb(1) == 19_999_999
