"""Index rules over several spot prices (exchange_mechanics.md §1.1 Binance, §1.6 Hyperliquid).

Exact values by hand; prices are ticks (a mid may be half a tick), weights exact. ``combine``
returns the exact value and the positions of the sources it came from; ``round_to_tick`` rounds
to the nearest tick, ties up.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from exchange_sim.markets.index_rule import combine, round_to_tick

BAND_5PCT = 50_000_000


def prices(*values):
    return [F(v) for v in values]


# -- weighted mean (Binance §1.1) ----------------------------------------------------------------


def test_weighted_mean_of_sources_within_the_band():
    """10,000 x 3 + 10,010 x 2 + 10,030 x 1 = 60,050 over weight 6: 10,008 1/3, from all three."""
    value, used = combine(prices(10_000, 10_010, 10_030), prices(3, 2, 1), "weighted_mean", 0)
    assert value == F(60_050, 6)
    assert used == [0, 1, 2]


def test_a_source_beyond_the_band_from_the_median_gets_weight_zero():
    """Median of 10,000, 10,100, 10,700 is 10,100; 5 % of it is 505; 10,700 is 600 away, so it
    gets weight 0 and the index is (10,000 + 10,100) / 2 = 10,050, from the first two."""
    value, used = combine(
        prices(10_000, 10_100, 10_700), prices(1, 1, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(10_050), [0, 1])


def test_a_source_exactly_at_the_band_edge_keeps_its_weight():
    """Median 10,000, band 5 % = 500: 10,500 is exactly 500 away (not more), so it keeps its
    weight: (9,900 + 10,000 + 10,500) / 3 = 10,133 1/3."""
    value, used = combine(
        prices(9_900, 10_000, 10_500), prices(1, 1, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(30_400, 3), [0, 1, 2])


def test_a_source_one_tick_past_the_band_edge_loses_its_weight():
    """Median 10,000, band 500: 10,501 is 501 away, weight 0: (9,900 + 10,000) / 2 = 9,950."""
    value, used = combine(
        prices(9_900, 10_000, 10_501), prices(1, 1, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(9_950), [0, 1])


def test_a_source_below_the_band_is_an_outlier_too():
    """Median 10,000, band 500: 9,499 is 501 below, weight 0: (10,000 + 10,100) / 2 = 10,050."""
    value, used = combine(
        prices(9_499, 10_000, 10_100), prices(1, 1, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(10_050), [1, 2])


def test_more_than_one_outlier_gives_the_median_of_all():
    """9,000, 10,000, 10,010, 11,000: median (10,000 + 10,010) / 2 = 10,005, band 500.25; 9,000
    and 11,000 are both beyond it, so the index is the median 10,005, from the middle two."""
    value, used = combine(
        prices(9_000, 10_000, 10_010, 11_000), prices(1, 1, 1, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(10_005), [1, 2])


def test_a_band_of_zero_turns_the_outlier_rule_off():
    """With outlier_band 0, 10,700 keeps its weight: (10,000 + 10,100 + 10,700) / 3 = 10,266 2/3."""
    value, used = combine(prices(10_000, 10_100, 10_700), prices(1, 1, 1), "weighted_mean", 0)
    assert (value, used) == (F(30_800, 3), [0, 1, 2])


def test_sources_of_weight_zero_are_left_out_of_the_mean():
    """Weights 1, 0, 1 on 10,000, 10,090, 10,010: (10,000 + 10,010) / 2 = 10,005 from sources 0
    and 2."""
    value, used = combine(prices(10_000, 10_090, 10_010), prices(1, 0, 1), "weighted_mean", 0)
    assert (value, used) == (F(10_005), [0, 2])


def test_a_source_of_weight_zero_still_counts_for_the_median_of_the_outlier_rule():
    """10,000 (weight 1), 10,020 (weight 0), 10,540 (weight 1): the median of all is 10,020, band
    501; 10,540 is 520 away and gets weight 0, so the index is 10,000 (source 0 alone). Without
    the weight-0 source the median would be 10,270 and neither would be an outlier."""
    value, used = combine(
        prices(10_000, 10_020, 10_540), prices(1, 0, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(10_000), [0])


def test_when_every_source_left_has_weight_zero_the_median_is_used():
    """10,000 (weight 0), 10,010 (weight 0), 10,900 (weight 1, an outlier: median 10,010, band
    500.5): nothing with weight is left, so the index is the median 10,010 (source 1)."""
    value, used = combine(
        prices(10_000, 10_010, 10_900), prices(0, 0, 1), "weighted_mean", BAND_5PCT
    )
    assert (value, used) == (F(10_010), [1])


def test_a_single_source_is_the_index():
    """One live source at 10,003 is the index whatever the method."""
    for method in ("weighted_mean", "weighted_median", "median"):
        assert combine(prices(10_003), prices(2), method, BAND_5PCT) == (F(10_003), [0])


# -- weighted median (Hyperliquid §1.6) ----------------------------------------------------------


def test_weighted_median_is_where_the_cumulative_weight_reaches_half():
    """Hyperliquid's weights 3, 2, 2, 1, 1 on 10,000, 10,004, 10,002, 9,990, 10,050. Sorted:
    9,990 (1), 10,000 (3), 10,002 (2), 10,004 (2), 10,050 (1); total 9; cumulative 1, 4, 6: 6 is
    the first to reach 4.5, so 10,002 (source 2)."""
    value, used = combine(
        prices(10_000, 10_004, 10_002, 9_990, 10_050), prices(3, 2, 2, 1, 1), "weighted_median", 0
    )
    assert (value, used) == (F(10_002), [2])


def test_weighted_median_at_exactly_half_takes_the_lower_price():
    """Four sources of weight 1 on 10,000, 10,001, 10,002, 10,003: cumulative weight 2 reaches
    exactly half of 4 at 10,001, which is the value (no averaging of the middle two)."""
    value, used = combine(
        prices(10_003, 10_001, 10_000, 10_002), prices(1, 1, 1, 1), "weighted_median", 0
    )
    assert (value, used) == (F(10_001), [1])


def test_weighted_median_of_equal_prices_names_the_first_source_to_reach_half():
    """Sources 0 and 1 both at 10,000 (weight 1 each), source 2 at 10,010 (weight 1): total 3,
    cumulative 1 then 2 at source 1, which reaches 1.5 first in (price, position) order."""
    value, used = combine(prices(10_000, 10_000, 10_010), prices(1, 1, 1), "weighted_median", 0)
    assert (value, used) == (F(10_000), [1])


def test_weighted_median_ignores_the_outlier_band():
    """A heavy far source decides the weighted median: weights 1, 1, 5 on 10,000, 10,001, 12,000
    give 12,000 even with a 5 % band (the band is Binance's rule, not Hyperliquid's)."""
    value, used = combine(
        prices(10_000, 10_001, 12_000), prices(1, 1, 5), "weighted_median", BAND_5PCT
    )
    assert (value, used) == (F(12_000), [2])


# -- plain median --------------------------------------------------------------------------------


def test_median_of_an_odd_count_is_the_middle_source():
    """10,020, 10,000, 10,010: the median is 10,010, source 2."""
    value, used = combine(prices(10_020, 10_000, 10_010), prices(1, 1, 1), "median", 0)
    assert (value, used) == (F(10_010), [2])


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    """10,000, 10,003, 9,990, 10,100: middle two 10,000 and 10,003, median 10,001.5, from
    sources 0 and 1; weights are ignored."""
    value, used = combine(prices(10_000, 10_003, 9_990, 10_100), prices(9, 1, 1, 1), "median", 0)
    assert (value, used) == (F(20_003, 2), [0, 1])


def test_median_names_every_source_at_the_median_price():
    """10,000, 10,000, 10,050: the median 10,000 came from sources 0 and 1."""
    value, used = combine(prices(10_000, 10_000, 10_050), prices(1, 1, 1), "median", 0)
    assert (value, used) == (F(10_000), [0, 1])


# -- rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ticks"),
    [
        (F(20_003, 2), 10_002),  # 10,001.5: a half tick rounds up
        (F(40_005, 4), 10_001),  # 10,001.25 rounds down
        (F(40_007, 4), 10_002),  # 10,001.75 rounds up
        (F(30_400, 3), 10_133),  # 10,133.33...
        (F(10_001), 10_001),
        (F(1, 2), 1),  # half a tick rounds up to one
        (F(1, 3), 1),  # never below one tick
        (F(0), 1),
    ],
)
def test_round_to_tick_is_nearest_with_ties_up_and_at_least_one(value, ticks):
    """Nearest tick, a half tick rounds up, never less than one tick."""
    assert round_to_tick(value) == ticks
