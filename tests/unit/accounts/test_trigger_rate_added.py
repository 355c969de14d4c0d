"""A rate added to every maintenance rate for the liquidation trigger (``trigger_rate_added``).

OKX (exchange_mechanics.md §2.4, §3.4): liquidation when ``MarginRatio < MMR + LiquidationFeeRate``;
BitMEX (§2.2, §3.2, [3p]/[uncertain]): MM includes the exit taker fee. Both are
``MM' = MM + added x notional`` with the tier deductions unchanged and initial margin unchanged.

Cases: m = 1, one bracket of 1 % (50x), added 0.5 %. Long 100 at 1,000 with 6,000 of collateral:
equity(p) = 6,000 + 100 (p - 1,000). Without the added rate it is liquidatable below
99 p = 94,000, p < 949.49; with it below 98.5 p = 94,000, p < 954.31: at 954 equity 1,400 is
above MM 954 but below MM' = ceil(95,400 x 1.5 %) = 1,431.
"""

from __future__ import annotations

import pytest

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers, DeductionTiers, StepRiskLimit
from exchange_sim.accounts.margin_config import BracketTiersConfig, build_tiers
from exchange_sim.core.units import Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.scheduler import max_leverage_margin_rates_ppb
from tests.scenario.liquidation_harness import ONE_PERCENT, S, Venue

HALF_PERCENT = 5_000_000
ONE = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
# Two brackets: 1 % to 50,000, 2.5 % above (cum 750).
TWO = BracketTiers.from_brackets(
    [(0, 50_000, 50, 10_000_000, 0), (50_000, 10**15, 20, 25_000_000, None)]
)


def _ledger(tiers):
    ledger = Ledger(MemoryLog(), 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    account = ledger.open_account(1)
    ledger.deposit(0, 1, 6_000, None)
    ledger.apply_fill(0, 0, account, 1, 1_000, 100, 0)
    return ledger, account


def test_added_rate_raises_mm_by_that_rate_of_notional_in_every_tier():
    """MM' = ceil(notional x (MMR + 0.5 %) - cum), below and above the bracket floor."""
    added = TWO.with_maintenance_rate_added(HALF_PERCENT)
    cases = {10_000: 150, 49_999: 750, 50_000: 750, 80_000: 1_650, 1_000_000: 29_250}
    # e.g. 80,000 x 3 % - 750 = 1,650; 1,000,000 x 3 % - 750 = 29,250
    assert {n: added.maintenance_margin(n) for n in cases} == cases


def test_added_rate_keeps_mm_continuous_at_a_bracket_floor():
    """At the 50,000 floor both lines give the same MM' (1.5 % x 50,000 = 750)."""
    added = TWO.with_maintenance_rate_added(HALF_PERCENT)
    assert added.maintenance_margin(50_000) == 750
    assert added.maintenance_margin(49_999) == 750  # ceil(749.985)


def test_added_rate_leaves_initial_margin_and_leverage_alone():
    """Initial margin and the leverage caps are unchanged."""
    added = TWO.with_maintenance_rate_added(HALF_PERCENT)
    assert [added.initial_margin(n, 50) for n in (10_000, 80_000)] == [200, 4_000]
    assert added.max_leverage(80_000) == 20


def test_added_rate_on_deduction_tiers():
    """Hyperliquid-style tiers: 40x (MMR 1.25 %) plus 0.5 %: MM' of 100,000 is 1,750."""
    tiers = DeductionTiers.build([(0, 40), (10**9, 20)]).with_maintenance_rate_added(HALF_PERCENT)
    assert tiers.maintenance_margin(100_000) == 1_750


def test_added_rate_on_step_risk_limits():
    """BitMEX steps 1 % + 1 % per step, plus 0.5 %: 1.5 % in the base tier, 2.5 % one step up;
    the IM rates are unchanged."""
    steps = StepRiskLimit.build(50_000, 50_000, 10_000_000, 20_000_000)
    added = steps.with_maintenance_rate_added(HALF_PERCENT)
    assert [added.maintenance_rate_ppb(n) for n in (10_000, 60_000)] == [15_000_000, 25_000_000]
    assert added.maintenance_margin(60_000) == 1_500
    assert added.initial_rate_ppb(60_000) == steps.initial_rate_ppb(60_000)


def test_added_rate_that_reaches_the_initial_rate_is_rejected():
    """1 % + 1 % reaches 1/50 = 2 %: a position at max leverage would open liquidatable."""
    with pytest.raises(ValueError, match="initial rate"):
        ONE.with_maintenance_rate_added(10_000_000)
    with pytest.raises(ValueError, match="initial rate"):
        StepRiskLimit.build(50_000, 50_000, 10_000_000, 20_000_000).with_maintenance_rate_added(
            10_000_000
        )


def test_ledger_liquidates_at_mm_plus_the_added_rate():
    """At 954 equity 1,400 >= MM 954 but < MM' 1,431: liquidatable only with the added rate."""
    plain, plain_account = _ledger(ONE)
    added, added_account = _ledger(ONE.with_maintenance_rate_added(HALF_PERCENT))
    assert not plain.is_liquidatable(plain_account, 954)
    assert added.is_liquidatable(added_account, 954)
    assert not added.is_liquidatable(added_account, 955)
    assert added.maintenance_margin(added_account, 954) == 1_431


def test_liquidation_price_moves_with_the_added_rate():
    """The long's trigger price: 950 without (p < 949.49), 955 with the added rate (p < 954.31),
    each the first tick at or above the exact crossing; the short's falls from 1,049 to 1,044.
    The bankruptcy price (940) does not move."""
    assert _ledger(ONE)[1].liquidation_price == 950
    _, account = _ledger(ONE.with_maintenance_rate_added(HALF_PERCENT))
    assert (account.liquidation_price, account.bankruptcy_price) == (955, 940)
    ledger = Ledger(
        MemoryLog(),
        1,
        ONE.with_maintenance_rate_added(HALF_PERCENT),
        FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0),
    )
    short = ledger.open_account(2)
    ledger.deposit(0, 2, 6_000, None)
    ledger.apply_fill(0, 0, short, -1, 1_000, 100, 0)
    assert short.liquidation_price == 1_044
    assert ledger.is_liquidatable(short, 1_045) and not ledger.is_liquidatable(short, 1_044)


def test_build_tiers_applies_the_configured_rate_and_zero_is_the_same_model():
    """``margin.trigger_rate_added`` goes into the built model; 0 returns the plain model."""
    scale = Scale.build(1, 1, 0, "x")
    plain = build_tiers(BracketTiersConfig(), scale)
    added = build_tiers(BracketTiersConfig(trigger_rate_added=500_000), scale)
    assert added.maintenance_margin(10_000) == plain.maintenance_margin(10_000) + 5
    assert added.maintenance_rate_added_ppb == 500_000
    assert plain.maintenance_rate_added_ppb == 0


def test_funding_cap_inputs_ignore_the_added_rate():
    """The funding cap's MMR at max leverage (Binance k x MMR, dYdX IMF - MMF) is the tier's
    own rate, not the trigger's."""
    assert max_leverage_margin_rates_ppb(TWO.with_maintenance_rate_added(HALF_PERCENT)) == (
        max_leverage_margin_rates_ppb(TWO)
    )


def test_risk_monitor_triggers_at_mm_plus_the_added_rate():
    """Through the venue: mark 952, equity 6,000 - 4,800 = 1,200 >= MM 952 but < MM' =
    952 + 476 = 1,428: liquidation_triggered, its maintenance_margin the trigger's 1,428."""
    tiers = {**ONE_PERCENT, "trigger_rate_added": "0.005"}
    venue = Venue({"policy": {"kind": "market"}}, tiers=tiers)
    venue.account(10, 6_000)
    venue.account(11, 1_000_000)
    venue.pair(10, 11, 100, 1_000)
    venue.index_at(0, 952)
    venue.run(S // 2)
    (triggered,) = [e for e in venue.events("liquidation_triggered") if e["account_id"] == 10]
    assert (triggered["equity"], triggered["maintenance_margin"]) == (1_200, 1_428)
