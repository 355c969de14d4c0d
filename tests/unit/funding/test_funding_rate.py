"""Averaging, the clamp's dead zone, caps, interval scaling (exchange_mechanics.md §6, W17, W21)."""

from __future__ import annotations

import attrs
import pytest

from exchange_sim.core.units import NS_PER_HOUR
from exchange_sim.funding.config import (
    BINANCE,
    BITMEX,
    DYDX,
    HYPERLIQUID,
    OKX,
    FixedCap,
    MaintenanceMultipleCap,
    MarginSpreadCap,
    NoCap,
)
from exchange_sim.funding.rate import (
    average_premium_ppb,
    bitmex_interest_ppb,
    cap_limit_ppb,
    clamped_interest_rate_ppb,
    funding_rate,
    linear_weighted_premium_ppb,
    mean_of_padded_medians_ppb,
    mean_premium_ppb,
    padded_mean_ppb,
    padded_median_ppb,
    scale_to_interval_ppb,
)

PCT = 10_000_000  # 1 % in ppb
BP = 100_000  # 0.01 % in ppb
I_8H = BP  # 0.01 % per 8 h
D = 5 * BP  # clamp 0.05 %

# --- averaging ------------------------------------------------------------------------------


def test_mean():
    """(3 + 4 + 8)/3 = 5."""
    assert mean_premium_ppb([3, 4, 8]) == 5


def test_mean_floors():
    """(1 + 2)/2 = 1.5 floors to 1; (-1 - 2)/2 = -1.5 floors to -2."""
    assert mean_premium_ppb([1, 2]) == 1
    assert mean_premium_ppb([-1, -2]) == -2


def test_mean_of_nothing_raises():
    """An interval without samples is a caller error for the plain mean."""
    with pytest.raises(ValueError):
        mean_premium_ppb([])


def test_linear_weighted():
    """(1*10 + 2*20 + 3*30 + 4*40)/(1+2+3+4) = 300/10 = 30 (the plain mean would be 25)."""
    assert linear_weighted_premium_ppb([10, 20, 30, 40]) == 30


def test_linear_weighted_floors():
    """(1*1 + 2*2)/3 = 5/3 = 1.67 floors to 1."""
    assert linear_weighted_premium_ppb([1, 2]) == 1


def test_rule_selects_linear_weights():
    """Binance's 8 h rule weights later samples more: [0, 30] gives 2*30/3 = 20, not 15."""
    assert average_premium_ppb(BINANCE, [0, 30]) == 20
    assert average_premium_ppb(HYPERLIQUID, [0, 30]) == 15


def test_padded_median_odd():
    """Median of [9, 5, 7] with no padding is 7."""
    assert padded_median_ppb([9, 5, 7], 0) == 7


def test_padded_median_pads_with_zeros():
    """[5, 7, 9] padded to 5 votes is [0, 0, 5, 7, 9]: median 5."""
    assert padded_median_ppb([5, 7, 9], 5) == 5


def test_padded_median_even_rounds_half_away_from_zero():
    """[0, 0, 0, 5, 7, 9]: (0 + 5)/2 = 2.5 -> 3; [-9, -7, -5, 0, 0, 0]: -2.5 -> -3 (dYdX Median)."""
    assert padded_median_ppb([5, 7, 9], 6) == 3
    assert padded_median_ppb([-5, -7, -9], 6) == -3


def test_padded_mean_rounds_toward_zero():
    """-7 padded to 2 samples: -7/2 = -3.5 -> -3 (dYdX AvgInt32 truncates)."""
    assert padded_mean_ppb([-7], 2) == -3
    assert padded_mean_ppb([7], 2) == 3


def test_mean_of_padded_medians():
    """Two samples of 15 votes (10 each, 20 each): medians 10, 20; padded to 4: 30/4 = 7.5 -> 7."""
    assert mean_of_padded_medians_ppb([[10] * 15, [20] * 15], 15, 4) == 7


def test_dydx_zero_padding_pulls_rate_toward_zero():
    """dYdX §6.6: 30 of the hour's 60 samples at 0.1 % average to 30 x 0.1 % / 60 = 0.05 %, so the
    hourly rate is 0.05 %/8 = 62,500 ppb instead of 0.1 %/8 = 125,000 with all 60 samples."""
    margins = {"maintenance_margin_rate_ppb": 3 * PCT, "initial_margin_rate_ppb": 5 * PCT}
    full = funding_rate(DYDX, [PCT // 10] * 60, **margins)
    half = funding_rate(DYDX, [PCT // 10] * 30, **margins)
    assert full.rate_ppb == 125_000
    assert half.average_premium_ppb == PCT // 20
    assert half.rate_ppb == 62_500


def test_dydx_min_samples_is_tick_over_sample():
    """dYdX pads to funding-tick / funding-sample = 3,600 s / 60 s = 60 samples (§6.6)."""
    assert DYDX.min_samples == 60


# --- formula and dead zone ------------------------------------------------------------------


@pytest.mark.parametrize("premium", [-4 * BP, -BP, 0, BP, 3 * BP, 6 * BP])
def test_dead_zone_gives_interest(premium):
    """§6.1: with I = 0.01 % and d = 0.05 %, any P from -0.04 % to +0.06 % gives F = I."""
    assert clamped_interest_rate_ppb(premium, I_8H, D) == I_8H


def test_just_below_dead_zone():
    """P = -0.04 % - 1 ppb: F = P + d = -400,001 + 500,000 = 99,999 ppb, just below I."""
    assert clamped_interest_rate_ppb(-4 * BP - 1, I_8H, D) == 99_999


def test_just_above_dead_zone():
    """P = +0.06 % + 1 ppb: F = P - d = 600,001 - 500,000 = 100,001 ppb, just above I."""
    assert clamped_interest_rate_ppb(6 * BP + 1, I_8H, D) == 100_001


def test_binance_faq_weighted_premium():
    """Binance FAQ (§6.2): weighted 8 h P = 0.0429 % gives F = 0.0100 %."""
    assert clamped_interest_rate_ppb(42_900, I_8H, D) == I_8H


def test_okx_rate_is_the_average_premium():
    """OKX §6.5: Interest 0 and no dead zone: F = MA(premium) = (2 bp + 4 bp)/2 = 3 bp."""
    assert funding_rate(OKX, [2 * BP, 4 * BP]).rate_ppb == 3 * BP


def test_premium_plus_interest():
    """dYdX isolated markets (§6.6): R_8h = premium + 1 bp: 200 + 100,000 = 100,200 ppb."""
    isolated = attrs.evolve(DYDX, interest=BP, cap=NoCap())
    assert funding_rate(isolated, [200] * 60).formula_rate_ppb == 100_200


# --- caps -----------------------------------------------------------------------------------


def test_fixed_cap_limits_both_sides():
    """BitMEX ±0.375 % per 8 h (§6.3): P = 1 % gives F = 1 % - 0.05 % = 0.95 %, capped at 0.375 %;
    P = -1 % gives -0.95 %, floored at -0.375 %."""
    up = funding_rate(BITMEX, [PCT])
    down = funding_rate(BITMEX, [-PCT])
    assert (up.uncapped_rate_ppb, up.rate_ppb, up.capped) == (9_500_000, 3_750_000, True)
    assert (down.uncapped_rate_ppb, down.rate_ppb, down.capped) == (-9_500_000, -3_750_000, True)


def test_fixed_cap_not_binding():
    """F = I = 0.01 % is well inside ±0.375 %: not capped."""
    result = funding_rate(BITMEX, [0])
    assert (result.rate_ppb, result.capped) == (I_8H, False)


def test_maintenance_multiple_cap_binance_ada():
    """Binance FAQ ADAUSDT (§6.2): 0.75 x MMR 0.65 % = 0.4875 %."""
    cap = MaintenanceMultipleCap(multiplier=750_000_000)
    assert cap_limit_ppb(cap, maintenance_margin_rate_ppb=650 * BP // 10) == 4_875_000


def test_maintenance_multiple_cap_binance_omg():
    """Binance OMG (§6.2): multiplier 1, 25x with MMR 2.4 % gives a ±2.4 % cap."""
    cap = MaintenanceMultipleCap(multiplier=1_000_000_000)
    assert cap_limit_ppb(cap, maintenance_margin_rate_ppb=24 * PCT // 10) == 24 * PCT // 10


def test_maintenance_multiple_cap_needs_mmr():
    """Binance's cap cannot be computed without the maintenance margin rate."""
    with pytest.raises(ValueError):
        cap_limit_ppb(MaintenanceMultipleCap())


@pytest.mark.parametrize(("imf_pct", "mmf_pct", "cap_pct"), [(5, 3, 12), (10, 5, 30), (20, 10, 60)])
def test_margin_spread_cap_w17(imf_pct, mmf_pct, cap_pct):
    """dYdX W17: 600 % x (IMF - MMF): 2 % -> 12 %, 5 % -> 30 %, 10 % -> 60 % per 8 h."""
    limit = cap_limit_ppb(
        MarginSpreadCap(factor=6_000_000_000),
        maintenance_margin_rate_ppb=mmf_pct * PCT,
        initial_margin_rate_ppb=imf_pct * PCT,
    )
    assert limit == cap_pct * PCT


def test_no_cap():
    """NoCap has no limit."""
    assert cap_limit_ppb(NoCap()) is None


def test_fixed_cap_limit():
    """FixedCap returns its limit unchanged."""
    assert cap_limit_ppb(FixedCap(limit=40_000_000)) == 40_000_000


def test_dydx_caps_the_8h_rate_then_pays_one_eighth():
    """W17 + §6.6: P = 20 % per 8 h on a 2 % IMF-MMF market is capped at 12 % per 8 h, then paid
    hourly as 12 % x 3,600/28,800 = 1.5 % (uncapped it would be 20 %/8 = 2.5 %)."""
    result = funding_rate(
        DYDX,
        [20 * PCT] * 60,
        maintenance_margin_rate_ppb=3 * PCT,
        initial_margin_rate_ppb=5 * PCT,
    )
    assert result.formula_rate_ppb == 20 * PCT
    assert result.cap_ppb == 12 * PCT
    assert (result.uncapped_rate_ppb, result.rate_ppb, result.capped) == (
        25 * PCT // 10,
        15 * PCT // 10,
        True,
    )


# --- interval scaling -----------------------------------------------------------------------


def test_hyperliquid_hourly_interest():
    """§6.7: P in the dead zone gives F_8h = I = 0.01 %, paid hourly at 1/8: 0.00125 %/h."""
    assert funding_rate(HYPERLIQUID, [3 * BP] * 720).rate_ppb == 12_500


def test_hyperliquid_doc_example_paid_at_one_eighth():
    """§6.7 example: P = 1 % gives F_8h = 1 % - 0.05 % = 0.95 %; hourly 0.95 %/8 = 0.11875 %."""
    result = funding_rate(HYPERLIQUID, [PCT])
    assert result.formula_rate_ppb == 9_500_000
    assert result.rate_ppb == 1_187_500


def test_hyperliquid_hourly_cap_four_percent():
    """§6.7: P = 50 % gives F_8h = 49.95 %, /8 = 6.24375 %/h, capped at 4 %/h."""
    result = funding_rate(HYPERLIQUID, [50 * PCT])
    assert (result.uncapped_rate_ppb, result.rate_ppb, result.capped) == (
        62_437_500,
        40 * PCT // 10,
        True,
    )


def test_hyperliquid_cap_applies_after_scaling():
    """P = 30 %: F_8h = 29.95 % exceeds 4 % but the hourly 29.95 %/8 = 3.74375 % does not."""
    result = funding_rate(HYPERLIQUID, [30 * PCT])
    assert (result.rate_ppb, result.capped) == (37_437_500, False)


def test_hyperliquid_doc_example_reading():
    """§8 item 3: with rate_period = interval = 1 h the 8 h formula is paid whole: 0.95 %."""
    literal = attrs.evolve(HYPERLIQUID, rate_period=NS_PER_HOUR)
    assert funding_rate(literal, [PCT]).rate_ppb == 9_500_000


@pytest.mark.parametrize(("hours", "expected"), [(8, 500_000), (4, 250_000), (1, 62_500)])
def test_binance_divides_by_8_over_n(hours, expected):
    """§6.2 since 2025: F = [P + clamp(I - P, ±0.05 %)]/(8/N). P = 0.1 % gives 0.05 % per 8 h;
    N = 4: 0.05 %/2 = 0.025 %; N = 1: 0.05 %/8 = 0.00625 %."""
    rule = attrs.evolve(BINANCE, interval=hours * NS_PER_HOUR)
    result = funding_rate(rule, [PCT // 10] * 4, maintenance_margin_rate_ppb=4 * PCT // 10)
    assert result.rate_ppb == expected


def test_scaling_floors():
    """7 ppb per 8 h over 1 h is 0.875 ppb: floors to 0; -7 ppb floors to -1."""
    assert scale_to_interval_ppb(7, NS_PER_HOUR, 8 * NS_PER_HOUR) == 0
    assert scale_to_interval_ppb(-7, NS_PER_HOUR, 8 * NS_PER_HOUR) == -1


def test_bitmex_w21_interest():
    """W21: quote 1.00 %/day, base 0.25 %/day: I = (1.00 % - 0.25 %)/3 = 0.25 % per 8 h."""
    assert bitmex_interest_ppb(PCT, PCT // 4) == PCT // 4


@pytest.mark.parametrize("premium", [2 * PCT // 10, PCT // 4, 3 * PCT // 10])
def test_bitmex_w21_rate(premium):
    """W21 states F = I = 0.25 % (it omits the premium); that holds for any P within ±0.05 % of I,
    i.e. 0.20 %, 0.25 % and 0.30 % here."""
    rule = attrs.evolve(BITMEX, interest=bitmex_interest_ppb(PCT, PCT // 4))
    assert funding_rate(rule, [premium]).rate_ppb == PCT // 4
