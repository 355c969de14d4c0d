"""Liquidation, fund, ADL, funding and impact-price arithmetic of an inverse contract: the
functions that take ``money_per_tick_lot`` take an
:class:`~exchange_sim.core.contract.InverseContract` for an inverse instrument and value in coin.

``k = 10**8``: 100 lots at 10,000 ticks are worth 1,000,000 minor units.
"""

from __future__ import annotations

from exchange_sim.accounts.margin import StepRiskLimit
from exchange_sim.core.contract import InverseContract
from exchange_sim.funding.payments import settle_rows
from exchange_sim.funding.premium import impact_price_ticks
from exchange_sim.liquidation.adl_ratios import AdlCandidate, bitmex_ratio, hyperliquid_ratio
from exchange_sim.liquidation.insurance_fund import liquidation_fill_delta
from exchange_sim.liquidation.planners import fee_amount, tier_reduction_lots

C = InverseContract(10**8)


def test_fund_gets_what_a_long_closed_above_its_bankruptcy_price_leaves():
    """A long of 100 with bankruptcy price 9,091 sold at 9,500: the sell gives up ceil(10**10 /
    9,500) = 1,052,632 of value against ceil(10**10 / 9,091) = 1,099,990 at bankruptcy; the
    47,358 between them is the fund's (exchange_mechanics.md §5.1, in coin)."""
    assert liquidation_fill_delta(1, 9_500, 9_091, 100, C, 0) == 47_358


def test_fund_pays_what_a_short_bought_back_beyond_its_bankruptcy_price_costs():
    """A short of 100 with bankruptcy price 10,500 bought back at 10,900: floor(10**10 / 10,900)
    = 917,431 against floor(10**10 / 10,500) = 952,380; the fund owes 34,949."""
    assert liquidation_fill_delta(-1, 10_900, 10_500, 100, C, 0) == -34_949
    assert liquidation_fill_delta(-1, 10_500, 10_900, 100, C, 0) == 34_949


def test_liquidation_fee_is_on_the_value():
    """0.5 % of 100 lots at 8,000 (value 1,250,000) is 6,250."""
    assert fee_amount(8_000, 100, C, 5_000_000) == 6_250


def test_tier_reduction_closes_the_value_into_the_next_lower_step():
    """Steps of 500,000 above 1,000,000. A long of 290 at the mark 10,000 is worth 2,900,000
    (step 4); below 2,500,000 (step 3) means at most 249 lots: close 41. At the mark 8,000 the
    same position is worth 3,625,000 (step 6); step 5 ends below 3,500,000, 279 lots: close 11
    (the value, and so the step, rises as the price falls)."""
    steps = StepRiskLimit.build(1_000_000, 500_000, 10_000_000, 20_000_000)

    class Long:
        size_lots = 290
        entry_notional = 2_900_000

    assert tier_reduction_lots(Long(), 10_000, steps, C) == 41
    assert tier_reduction_lots(Long(), 8_000, steps, C) == 11


def test_inverse_funding_is_the_value_at_the_price_times_the_rate():
    """exchange_mechanics.md W21: long 15,000 XBTUSD at 750 is worth 20 XBT; at F = 0.25 % it pays
    0.05 XBT. Grid: tick 0.5 USD (750 = 1,500 ticks), 1-contract lots, satoshis: ``k = 2 x
    10**8``. The long pays 5,000,000 satoshis, the short receives them, no residue."""
    rows, residue = settle_rows(
        [(1, 15_000), (2, -15_000)], 1_500, 2_500_000, InverseContract(2 * 10**8)
    )
    assert rows == [(1, 15_000, -5_000_000), (2, -15_000, 5_000_000)]
    assert residue == 0


def test_inverse_funding_rounds_against_both_sides_into_the_residue():
    """7 lots at 3 ticks at 1 ppb: 7 x 10**8 x 10**-9 / 3 = 0.2333: the long pays 1, the short
    receives 0, the exchange keeps 1."""
    rows, residue = settle_rows([(1, 7), (2, -7)], 3, 1, C)
    assert [amount for _, _, amount in rows] == [-1, 0]
    assert residue == 1


def test_inverse_impact_price_is_the_harmonic_average_of_the_coin_it_fills():
    """Bids of 100 lots at 10,000 (1,000,000 of value) and 100 at 9,000: an impact value of
    1,500,000 takes the first level and 500,000 of the second (45 lots): 145 lots for 1,500,000,
    an average of 145 x 10**8 / 1,500,000 = 29,000 / 3 ticks."""
    levels = [(10_000, 100), (9_000, 100)]
    assert impact_price_ticks(levels, 1_500_000, C) == (29_000, 3)
    assert impact_price_ticks(levels, 3_000_000, C) is None


def test_inverse_bitmex_ranking_is_pnl_percent_times_effective_leverage_in_coin():
    """A short of 100 entered at value 1,000,000 (10,000), marked at 9,000 (value 1,111,111),
    bankrupt at 11,000 (value 909,090): PnL 111,111, PnL% = 111,111 / 1,000,000, effective
    leverage 1,111,111 / (1,111,111 - 909,090): the score is their product."""
    candidate = AdlCandidate(
        account_id=1,
        size_lots=-100,
        entry_notional=1_000_000,
        mark_price_ticks=9_000,
        wallet_balance=0,
        unrealised_pnl=111_111,
        maintenance_margin=0,
        bankruptcy_price_ticks=11_000,
        account_value=0,
    )
    num, den = bitmex_ratio(candidate, C)
    assert num * 1_000_000 * 202_021 == den * 111_111 * 1_111_111


def _hyperliquid_long(entry_price: int) -> AdlCandidate:
    """A long of 100 lots bought at ``entry_price`` (entry value ``10**10 / entry``), marked at
    50,000, account value 1,000,000."""
    entry_value = 100 * 10**8 // entry_price
    upnl = entry_value - C.position_value(1, 100, 50_000)
    return AdlCandidate(1, 100, entry_value, 50_000, 1_000_000 - upnl, upnl, 1, 1, 1_000_000)


def test_inverse_hyperliquid_ranking_puts_the_profitable_long_first():
    """§5.7 ranks by ``(mark / entry price) x (notional / account value)``. In coin ``mark /
    entry`` is ``E / M``, so a long scores ``E / AV``: the long bought at 40,000 (entry value
    250,000) scores 250,000 / 1,000,000 and ranks above the one bought at 60,000 (166,666)."""
    winner = hyperliquid_ratio(_hyperliquid_long(40_000), C)
    loser = hyperliquid_ratio(_hyperliquid_long(60_000), C)
    assert winner == (250_000, 1_000_000)
    assert winner[0] * loser[1] > loser[0] * winner[1]


def test_inverse_hyperliquid_ranking_scores_a_short_by_its_value_squared():
    """A short's ``(entry / mark price) x (M / AV)`` is ``M^2 / (E x AV)`` in coin: sold at 60,000
    (entry value 166,667, marked at 200,000) it outranks one sold at 40,000 (250,000)."""

    def short(entry_price: int) -> AdlCandidate:
        entry_value = -(-100 * 10**8 // entry_price)
        upnl = C.position_value(-1, 100, 50_000) - entry_value
        return AdlCandidate(1, -100, entry_value, 50_000, 0, upnl, 1, 1, 1_000_000)

    winner, loser = hyperliquid_ratio(short(60_000), C), hyperliquid_ratio(short(40_000), C)
    assert winner == (200_000 * 200_000, 166_667 * 1_000_000)
    assert winner[0] * loser[1] > loser[0] * winner[1]
